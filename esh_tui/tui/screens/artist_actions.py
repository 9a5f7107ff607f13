"""The dashboard's artist keys: add (search or link), remove (after a yes; u undoes it), import (file, playlist,
liked, followed), and Enter on an artist: its details.

The work is the tracker's artist service, the same the CLI calls; this is how the dashboard asks and answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import on
from textual.screen import Screen
from textual.widgets import DataTable

from esh_tui.models import Release, TrackedArtist
from esh_tui.spotify.errors import SpotifyError
from esh_tui.text import clean
from esh_tui.tracker.artists import Added, ArtistInputError
from esh_tui.tui.errors import error_text
from esh_tui.tui.screens.add_artist import AddArtistScreen
from esh_tui.tui.screens.artist_detail import ArtistScreen
from esh_tui.tui.screens.confirm import ConfirmScreen
from esh_tui.tui.screens.import_artists import ImportScreen
from esh_tui.tui.widgets.releases import ReleasesTable
from esh_tui.tui.widgets.tables import ArtistsTable

if TYPE_CHECKING:
    from esh_tui.tui.app import EshApp


class ArtistActions(Screen):
    """Uses the dashboard's `show_status`."""

    app: EshApp

    def __init__(self) -> None:
        super().__init__()
        # Removals `u` undoes, last first: the artist as it was and the releases its removal took off the table.
        self.removals: list[tuple[TrackedArtist, list[tuple[Release, bool]]]] = []

    def show_artist(self, artist_id: str) -> None:
        """The artist's row as the store has it now."""
        row = self.app.runtime.store.artist(artist_id)
        if row is not None:
            self.query_one(ArtistsTable).show(row, now=self.app.clock())

    @on(DataTable.RowSelected, "#artists")
    def action_artist_details(self) -> None:
        """The artist on the Artists panel's cursor row in detail (Enter there, or the palette)."""
        artist_id = self.query_one(ArtistsTable).selected_key
        if artist_id is None:
            self.app.notify("No artist is tracked yet: a adds one")
        elif self.app.runtime.store.artist(artist_id) is not None:
            self.app.push_screen(ArtistScreen(artist_id))

    def action_add_artist(self) -> None:
        def added(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            artist_id, name = choice
            added = self.app.artists.track([choice], "manual")
            if artist_id in added.restored:  # removed earlier: back with what was learned, releases and all
                self.show_artist(artist_id)
                self.query_one(ArtistsTable).resort()
                self._show_releases_of(artist_id)
                self.app.notify(f"Tracking {clean(name)} again, with what was learned about it")
            elif added.added:
                self.show_artist(artist_id)
                self.app.notify(f"Tracking {clean(name)}; r fetches its releases")
            else:
                self.app.notify(f"{clean(name)} is already tracked")
            self.show_status()

        self.app.push_screen(AddArtistScreen(self.app.client), added)

    def action_remove_artist(self) -> None:
        """Acts only on the artist visibly selected: the cursor row of the Artists panel, when it has the focus."""
        table = self.query_one(ArtistsTable)
        artist_id = table.selected_key if self.focused is table else None
        row = self.app.runtime.store.artist(artist_id) if artist_id else None
        if row is None:
            self.app.notify("Choose the artist first: Tab to the Artists panel, select it, then d")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.artists.remove([row.id])
                table.drop(row.id)
                tracked = {artist.id for artist in self.app.runtime.store.artists()}
                dropped = self.query_one(ReleasesTable).drop_artist(row.id, tracked)
                self.removals.append((row, dropped))
                self.app.notify(f"Stopped tracking {clean(row.name)} · {self._key('undo_remove', 'u')} to undo",
                                timeout=10)
                self.show_status()

        self.app.push_screen(ConfirmScreen(f"Stop tracking {clean(row.name)}?"), answered)

    def action_undo_remove(self) -> None:
        """Track the artist removed last again, with everything the store learned about it: its row comes back as
        it was (fresh stays fresh: no API call), and so do the releases its removal took off the table."""
        if not self.removals:
            self.app.notify("Nothing to undo: no artist was removed since the dashboard started")
            return
        row, dropped = self.removals.pop()
        if not self.app.artists.restore([row]).added:
            self.app.notify(f"{clean(row.name)} is tracked already")
        else:
            self.app.notify(f"Tracking {clean(row.name)} again, with what was learned about it")
        self.show_artist(row.id)
        self.query_one(ArtistsTable).resort()
        self._show_releases_of(row.id, [release for release, _ in dropped])
        self.show_status()

    def _show_releases_of(self, artist_id: str, dropped: Iterable[Release] = ()) -> None:
        """An artist tracked again: back on the table go the releases its removal took off (`dropped`), and those
        the store has for it in the window (a run that went on scanning it after a removal mid-run found some,
        kept off the table), each ★ as the store has it now."""
        store, releases = self.app.runtime.store, self.query_one(ReleasesTable)
        back = {release.key: release for release in dropped}
        for release, _ in self.app.tracker.stored_releases(self.app.cutoff(), artist_ids=[artist_id]):
            back.setdefault(release.key, release)
        unseen = store.unseen(back)
        for key, release in back.items():
            releases.show(release, new=key in unseen)
        releases.resort()

    def _key(self, action: str, default: str) -> str:
        """The key of an action as the key map has it (config.toml may remap it)."""
        return dict(getattr(self.app, "_keymap", {})).get(action, default)

    def action_import_artists(self) -> None:
        def chosen(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                self.run_worker(self._import(*choice), group="import", exit_on_error=False)

        self.app.push_screen(ImportScreen(), chosen)

    async def _import(self, kind: str, where: str) -> None:
        artists = self.app.artists
        try:
            if kind == "file":
                added: Added = await artists.import_file(where, client=self.app.client)
            elif kind == "playlist":
                added = await artists.import_playlist(where)
            elif kind == "liked":
                added = await artists.import_liked()
            else:
                added = await artists.import_followed()
        except (ArtistInputError, SpotifyError) as exc:
            self.app.notify(f"Nothing imported: {error_text(exc)}", severity="error", timeout=10)
            return
        for artist_id, _ in added.found:
            self.show_artist(artist_id)
        self.query_one(ArtistsTable).resort()
        self.app.notify(f"{added.summary()}; r fetches their releases")
        self.show_status()
