"""The dashboard's artist keys: add (search or link), remove (after a yes), import (file, playlist, liked, followed).

The base of DashboardScreen, kept apart because this logic moves to the tracker's artist service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from esh_tui.spotify.errors import AuthError, ForbiddenError, NotFoundError, SpotifyError
from esh_tui.text import clean
from esh_tui.tracker.artists import ArtistNotFound, resolve_artist
from esh_tui.tracker.imports import ImportFileError, followed_artists, liked_artists, playlist_artists, read_artist_file
from esh_tui.tui.errors import error_text
from esh_tui.tui.screens.add_artist import AddArtistScreen
from esh_tui.tui.screens.confirm import ConfirmScreen
from esh_tui.tui.screens.import_artists import ImportScreen
from esh_tui.tui.widgets.tables import ArtistsTable

if TYPE_CHECKING:
    from esh_tui.tui.app import EshApp


class ArtistActions(Screen):
    """Uses the dashboard's `show_status`."""

    app: EshApp

    def show_artist(self, artist_id: str) -> None:
        """The artist's row as the store has it now."""
        row = self.app.runtime.store.artist(artist_id)
        if row is not None:
            self.query_one(ArtistsTable).show(row, now=self.app.clock())

    def action_add_artist(self) -> None:
        store = self.app.runtime.store

        def added(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            artist_id, name = choice
            if store.add_artists([(artist_id, name, "manual")]):
                self.show_artist(artist_id)
                self.app.notify(f"Tracking {clean(name)}; r fetches its releases")
            else:
                self.app.notify(f"{clean(name)} is already tracked")
            self.show_status()

        self.app.push_screen(AddArtistScreen(self.app.client), added)

    def action_remove_artist(self) -> None:
        store = self.app.runtime.store
        table = self.query_one(ArtistsTable)
        artist_id = table.selected_key
        row = store.artist(artist_id) if artist_id else None
        if row is None:
            self.app.notify("Select an artist in the Artists panel first")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                store.remove_artists([row.id])
                self.app.tracker.cache.forget_artist(row.id)
                table.drop(row.id)
                self.app.notify(f"Stopped tracking {clean(row.name)}")
                self.show_status()

        self.app.push_screen(ConfirmScreen(f"Stop tracking {clean(row.name)}?"), answered)

    def action_import_artists(self) -> None:
        def chosen(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                self.run_worker(self._import(*choice), group="import", exit_on_error=False)

        self.app.push_screen(ImportScreen(), chosen)

    async def _import(self, kind: str, where: str) -> None:
        runtime = self.app.runtime
        try:
            if kind == "file":
                refs = read_artist_file(where)
                found = [await resolve_artist(self.app.client, ref) for _, ref in refs]
            else:
                reader = runtime.playlist_client() if kind == "playlist" else runtime.client(user=True)
                async with reader as client:
                    if kind == "playlist":
                        from esh_tui.models import parse_spotify_ref
                        playlist_id = parse_spotify_ref(where, "playlist")
                        if playlist_id is None:
                            raise ArtistNotFound(f"{clean(where)} is not a Spotify playlist link or ID")
                        found = await playlist_artists(client, playlist_id)
                    elif kind == "liked":
                        found = await liked_artists(client)
                    else:
                        found = await followed_artists(client)
        except (ImportFileError, ArtistNotFound, ValueError, AuthError, NotFoundError, ForbiddenError, SpotifyError) as exc:
            self.app.notify(f"Nothing imported: {error_text(exc)}", severity="error", timeout=10)
            return
        added = runtime.store.add_artists((i, name, kind) for i, name in found)
        for artist_id, _ in found:
            self.show_artist(artist_id)
        self.query_one(ArtistsTable).resort()
        self.app.notify(f"{added} artists added, {len(found) - added} already tracked; r fetches their releases")
        self.show_status()
