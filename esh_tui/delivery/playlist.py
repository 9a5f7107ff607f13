"""New releases in a private playlist of the user's own: made once, remembered, topped up, trimmed on request.

The playlist's id and the tracks esh-tui put in it are kept in the store's settings (one entry per playlist
name), after every change Spotify accepted, so an interrupted sync never adds a track twice nor forgets one.
A sync reads the playlist's items first: a track already in it (added by the user, or by an earlier sync) is not
added again, a track the user took out is not put back, and a playlist the user deleted (404) is made anew.
`replace` removes the tracks esh-tui added that are no longer among the releases; the user's own are never
touched. Spotify takes at most 100 items a request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from esh_tui.models import Release
from esh_tui.spotify.auth import PLAYLIST_SCOPE, granted_scopes
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.errors import BadResponseError, ForbiddenError, NotFoundError
from esh_tui.storage.store import Store

DEFAULT_NAME = "esh-tui: new releases"
DESCRIPTION = "New releases from the artists you track, kept by esh-tui."
SETTING = "playlists"  # {name: {"id": playlist id, "added": [track ids esh-tui put there]}}
MAX_ITEMS = 100  # per add or remove request
MAX_NAME = 100
LOGIN_HINT = "run 'esh-tui login --playlist'"
_ID = re.compile(r"[0-9A-Za-z]{22}")


class PlaylistAccessError(Exception):
    """No login, or a login without permission to change playlists: one line that names `esh-tui login`."""


@dataclass(frozen=True)
class SyncOutcome:
    name: str
    playlist_id: str
    added: int
    removed: int
    created: bool = False  # made by this sync
    recreated: bool = False  # the remembered playlist was gone (deleted by the user): made anew
    kept_back: int = 0  # tracks the user took out of the playlist, not put back

    @property
    def url(self) -> str:
        return f"https://open.spotify.com/playlist/{self.playlist_id}"

    def summary(self) -> str:
        added = f"added {self.added} track{'s' if self.added != 1 else ''}"
        return f"{added}, removed {self.removed} · {self.name} · {self.url}"


def check_name(name: str) -> str:
    """A playlist name as given on the command line: some visible text, not too long."""
    name = name.strip()
    if not name or not name.isprintable() or len(name) > MAX_NAME:
        raise ValueError(f"a playlist name is 1 to {MAX_NAME} printable characters (try --name \"New releases\")")
    return name


def access_problem(settings, offline: bool) -> str | None:
    """Why playlists cannot be changed with this login (one line naming `esh-tui login`), or None when they can.
    The offline Spotify's listener may always."""
    if offline:
        return None
    scopes = granted_scopes(settings)
    if scopes is None:
        return f"a playlist in your Spotify account needs you logged in: {LOGIN_HINT}"
    if PLAYLIST_SCOPE not in scopes:
        return f"your Spotify login does not allow changing playlists yet: {LOGIN_HINT} (it asks for that permission)"
    return None


def wanted_tracks(releases: Iterable[Release]) -> list[str]:
    """Each release's track (the earliest release of its recording, as reported), in order, once."""
    return list(dict.fromkeys(r.track_id for r in releases))


class PlaylistSync:
    def __init__(self, client: SpotifyClient, store: Store, name: str = DEFAULT_NAME):
        self.client, self.store, self.name = client, store, name

    async def sync(self, releases: Iterable[Release], replace: bool = False) -> SyncOutcome:
        """Add the releases' tracks that are not in the playlist yet; with `replace`, remove those esh-tui added
        that are not among them any more."""
        wanted = wanted_tracks(releases)
        remembered = self._remembered()
        created = recreated = False
        present: list[str] = []
        if remembered is not None:
            try:
                present = await self._items(remembered[0])
            except NotFoundError:
                recreated, remembered = True, None
        if remembered is None:
            remembered = (await self._create(), [])
            created = True
            self._remember(*remembered)
        playlist_id, added_before = remembered
        in_playlist, wanted_set = set(present), set(wanted)
        # What esh-tui added is worth remembering while it is in the playlist or still wanted (taken out by hand).
        added = [t for t in added_before if t in in_playlist or t in wanted_set]
        kept_back = {t for t in added if t not in in_playlist}
        to_add = [t for t in wanted if t not in in_playlist and t not in kept_back]
        for chunk in _chunks(to_add):
            await self._write("POST", playlist_id, {"uris": [f"spotify:track:{t}" for t in chunk]})
            added += chunk
            self._remember(playlist_id, added)
        removed = 0
        if replace:
            gone = [t for t in added if t in in_playlist and t not in wanted_set]
            for chunk in _chunks(gone):
                await self._write("DELETE", playlist_id, {"items": [{"uri": f"spotify:track:{t}"} for t in chunk]})
                taken = set(chunk)
                added = [t for t in added if t not in taken]
                removed += len(chunk)
                self._remember(playlist_id, added)
        self._remember(playlist_id, added)
        return SyncOutcome(self.name, playlist_id, len(to_add), removed, created and not recreated, recreated,
                           len(kept_back))

    # ----- Spotify ---------------------------------------------------------------------------------------

    async def _items(self, playlist_id: str) -> list[str]:
        tracks = []
        async for entry in self.client.pages(f"/playlists/{playlist_id}/items", {"limit": 50},
                                             template="GET /playlists/{id}/items"):
            item = entry.get("item") or entry.get("track") if isinstance(entry, dict) else None
            if isinstance(item, dict) and item.get("type", "track") == "track" and isinstance(item.get("id"), str):
                tracks.append(item["id"])
        return tracks

    async def _create(self) -> str:
        body = {"name": self.name, "public": False, "description": DESCRIPTION}
        made = await self._guarded(self.client.post("/me/playlists", body, template="POST /me/playlists"))
        playlist_id = made.get("id")
        if not isinstance(playlist_id, str) or not _ID.fullmatch(playlist_id):
            raise BadResponseError("Spotify's answer to creating the playlist had no usable id; try again later")
        return playlist_id

    async def _write(self, method: str, playlist_id: str, body: dict[str, Any]) -> None:
        path, template = f"/playlists/{playlist_id}/items", f"{method} /playlists/{{id}}/items"
        send = self.client.post if method == "POST" else self.client.delete
        await self._guarded(send(path, body, template=template))

    async def _guarded(self, request) -> dict[str, Any]:
        """A 403 for want of a scope (the login changed since it was checked) names `esh-tui login`."""
        try:
            return await request
        except ForbiddenError as exc:
            if "scope" in str(exc).lower():
                raise PlaylistAccessError(f"Spotify refused to change your playlists: {LOGIN_HINT}") from None
            raise

    # ----- the store ----------------------------------------------------------------------------------------

    def _remembered(self) -> tuple[str, list[str]] | None:
        entry = _entries(self.store).get(self.name)
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not _ID.fullmatch(entry["id"]):
            return None
        added = entry.get("added")
        return entry["id"], [t for t in added if isinstance(t, str)] if isinstance(added, list) else []

    def _remember(self, playlist_id: str, added: Sequence[str]) -> None:
        entries = _entries(self.store)
        entries[self.name] = {"id": playlist_id, "added": list(dict.fromkeys(added))}
        self.store.save_setting(SETTING, entries)


def _entries(store: Store) -> dict[str, Any]:
    entries = store.settings().get(SETTING)
    return dict(entries) if isinstance(entries, dict) else {}


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), MAX_ITEMS):
        yield items[start:start + MAX_ITEMS]
