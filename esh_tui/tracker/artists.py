"""The artists a user tracks: adding, removing and importing them, the same way from the CLI and the dashboard.

Every operation resolves or reads everything first and writes the store once at
the end, so a bad line or a refusal from Spotify changes nothing. What the user
got wrong is an `ArtistInputError` with one line that says what and what to do.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from esh_tui.models import TrackedArtist, clean_ref, is_name, is_spotify_id, parse_spotify_ref
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.errors import AuthError, ForbiddenError, NotFoundError
from esh_tui.spotify.paging import page_items
from esh_tui.storage.backup import BackupError, read_backup, restore_data, write_backup
from esh_tui.storage.store import SCANNED_SOURCE, Store
from esh_tui.text import clean
from esh_tui.tracker.imports import ImportFileError, followed_artists, liked_artists, playlist_artists, read_artist_file

Found = list[tuple[str, str]]  # (artist id, name)
IMPORT_WORKERS = 16  # names searched at once by an import
IMPORT_ID_CHUNK = 500  # ids asked about per step of an import (batched within it where the app may batch)


class ArtistInputError(ValueError):
    """What the user named cannot be used; nothing was changed."""


class ArtistNotFound(ArtistInputError):
    """The input names no artist; the message says what was tried."""


async def resolve_artist(client: SpotifyClient, ref: str) -> tuple[str, str]:
    """(id, name) for an artist ID, URI, URL or an exact name (the most popular of that name)."""
    text = ref.strip()
    if not text:
        raise ArtistNotFound("an empty line is not an artist")
    if not is_name(text) and len(text) <= 200:  # bytes that were not UTF-8 (a lone surrogate escape)
        raise ArtistNotFound(f"{clean_ref(text)} is not valid text (not UTF-8)")
    try:
        artist_id = parse_spotify_ref(text, "artist")
    except ValueError as exc:
        raise ArtistNotFound(str(exc)) from None
    if artist_id is not None:
        try:
            artist = await client.get(f"/artists/{artist_id}", template="GET /artists/{id}")
        except NotFoundError:
            raise ArtistNotFound(f"Spotify has no artist with id {artist_id}") from None
        if not is_name(artist.get("name")):
            raise ArtistNotFound(f"Spotify's answer for artist {artist_id} has no usable name; try again later")
        return artist_id, artist["name"]
    if len(text) > 200:
        raise ArtistNotFound(f"{clean_ref(text)} is too long for an artist name")
    page = await client.page("/search", {"q": text, "type": "artist"}, template="GET /search", key="artists")
    artists = [a for a in page_items(page, "GET /search")
               if isinstance(a, dict) and is_spotify_id(a.get("id")) and is_name(a.get("name"))]
    exact = [a for a in artists if a["name"].casefold() == text.casefold()]
    if exact:
        return exact[0]["id"], exact[0]["name"]
    if artists:
        hints = ", ".join(f"{clean(a.get('name', ''))} ({a['id']})" for a in artists[:3])
        raise ArtistNotFound(f"no artist is named exactly {clean_ref(text)}; did you mean: {hints}?")
    raise ArtistNotFound(f"Spotify finds no artist named {clean_ref(text)}")


def playlist_id(ref: str) -> str:
    """The playlist ID in an ID, URI or URL."""
    try:
        found = parse_spotify_ref(ref, "playlist")
    except ValueError as exc:
        raise ArtistInputError(str(exc)) from None
    if found is None:
        raise ArtistInputError(f"{clean_ref(ref.strip())} is not a Spotify playlist ID or URL")
    return found


@contextlib.contextmanager
def _backup_errors() -> Iterator[None]:
    try:
        yield
    except BackupError as exc:
        raise ArtistInputError(str(exc)) from None


def check_backup(path: Path) -> dict:
    """A backup read whole and checked (`-`: standard input), before any store is opened."""
    with _backup_errors():
        return read_backup(path)


@dataclass(frozen=True)
class Added:
    """What an add or an import found, and how many of those were not tracked before."""

    found: Found
    added: int
    source: str  # "manual", "import", "playlist", "liked songs", "followed artists"
    origin: str = ""  # where they came from, for the summary: a file name, "your liked songs"
    repeated: int = 0  # lines of an import file that named an artist an earlier line already named
    restored: frozenset[str] = frozenset()  # ids among those added that came back with what was learned before

    @property
    def already(self) -> int:
        return len(self.found) - self.added

    def summary(self) -> str:
        origin = f" from {self.origin}" if self.origin else ""
        repeated = f", {self.repeated} repeated line{'s' if self.repeated != 1 else ''} in the file" \
            if self.repeated else ""
        return (f"{self.added} artist{'s' if self.added != 1 else ''} added{origin}, "
                f"{self.already} already tracked{repeated}")


class ArtistService:
    """Adds, removes and imports tracked artists. `runtime` gives the store and Spotify clients
    (`client()`, `client(user=True)`, `playlist_client()`); `forget` drops an artist from a memory tier;
    `clock` dates removals (what was learned about a removed artist is kept REMOVED_KEPT_DAYS from then)."""

    def __init__(self, runtime, forget: Callable[[str], None] | None = None, clock: Callable[[], float] = time.time):
        self.runtime = runtime
        self.store: Store = runtime.store
        self._forget = forget
        self.clock = clock

    # ----- by name or ID ----------------------------------------------------------------------------------

    async def add(self, refs: Sequence[str], client: SpotifyClient | None = None) -> Added:
        """Resolve every reference, then track them all; one that names no artist adds nothing. An ID the store
        knows (tracked, or removed with its knowledge kept) needs no API call: its name is known."""
        known = [self._known(ref) for ref in refs]

        async def resolve(reader: SpotifyClient) -> Found:
            return [hit or await resolve_artist(reader, ref) for ref, hit in zip(refs, known)]

        found = [hit for hit in known if hit] if all(known) else await self._with_client(resolve, client)
        return self.track(found, "manual")

    def _known(self, ref: str) -> tuple[str, str] | None:
        """(id, name) of an artist ID, URI or URL the store knows by name; None: ask Spotify."""
        try:
            artist_id = parse_spotify_ref(ref, "artist")
        except ValueError:
            return None  # resolve_artist says what is wrong with it
        row = self.store.artist(artist_id, include_removed=True) if artist_id else None
        if row is None or row.source == SCANNED_SOURCE:  # only scanned by a run: its name was never asked
            return None
        return row.id, row.name

    def remove(self, refs: Iterable[str]) -> list[TrackedArtist]:
        """Stop tracking artists named by ID, URI, URL or exact name (every artist of that name)."""
        tracked = self.store.artists()
        chosen: dict[str, TrackedArtist] = {}
        for ref in refs:
            try:
                artist_id = parse_spotify_ref(ref, "artist")
            except ValueError as exc:
                raise ArtistInputError(str(exc)) from None
            wanted = ref.strip().casefold()
            matches = [a for a in tracked if a.id == artist_id or (artist_id is None and a.name.casefold() == wanted)]
            if not matches:
                raise ArtistInputError(f"{clean_ref(ref.strip())} is not among the artists you track "
                                       "(see 'esh-tui artists list')")
            chosen.update((a.id, a) for a in matches)
        self.store.remove_artists(chosen, now=self.clock())
        for artist_id in chosen:
            if self._forget:
                self._forget(artist_id)
        return list(chosen.values())

    def restore(self, artists: Iterable[TrackedArtist]) -> Added:
        """Undo a removal: track these artists again as they were, with what was learned about them (no API call:
        while they are fresh, a run answers them from the store). Returns what was tracked again."""
        chosen = list(artists)
        restored = self.store.removed_artist_ids(a.id for a in chosen)
        added = self.store.add_artists((a.id, a.name, a.source) for a in chosen)
        return Added([(a.id, a.name) for a in chosen], added, "undo", restored=frozenset(restored))

    # ----- imports ----------------------------------------------------------------------------------------

    async def import_file(self, name: str, client: SpotifyClient | None = None,
                          on_progress: Callable[[int, int], None] | None = None) -> Added:
        """Track the artists in a file (`-`: standard input); a bad line names its number and imports nothing.

        Repeated lines are asked about once; IDs go in batches where the app may batch, names are searched
        IMPORT_WORKERS at a time (the client's bound and single-flight apply). `on_progress(done, total)`
        counts distinct lines resolved."""
        try:
            refs = read_artist_file(name)
        except ImportFileError as exc:
            raise ArtistInputError(str(exc)) from None
        ids, names = _distinct_refs(refs, clean(name))
        total, done = len(ids) + len(names), 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if on_progress:
                on_progress(done, total)

        async def resolve(reader: SpotifyClient) -> Found:
            found = await _resolve_ids(reader, ids, clean(name), advance)
            found.update(await _resolve_names(reader, names, clean(name), advance))
            return list(dict(found[number] for number in sorted(found)).items())  # file order, each artist once

        found = await self._with_client(resolve, client)
        added = self.track(found, "import", origin=clean(name))
        return replace(added, repeated=len(refs) - total)

    async def playlist_artists(self, ref: str) -> Found:
        """The artists on a playlist, without tracking them (for a run over a playlist)."""
        wanted = playlist_id(ref)
        found = await self._read_spotify("playlist", lambda client: playlist_artists(client, wanted),
                                         self.runtime.playlist_client)
        if not found:
            raise ArtistInputError("that playlist has no artists to track")
        return found

    async def import_playlist(self, ref: str) -> Added:
        wanted = playlist_id(ref)
        return await self._import("playlist", lambda client: playlist_artists(client, wanted),
                                  self.runtime.playlist_client, origin="your playlist")

    async def import_liked(self, min_tracks: int = 1) -> Added:
        return await self._import("liked songs", lambda client: liked_artists(client, min_tracks), self._user_client)

    async def import_followed(self) -> Added:
        return await self._import("followed artists", followed_artists, self._user_client)

    # ----- backups -----------------------------------------------------------------------------------------

    def export_backup(self, path: Path) -> int:
        """Write the artist list and settings as JSON (`-`: standard output); returns how many artists."""
        with _backup_errors():
            return write_backup(self.store, path)

    def restore_backup(self, backup: dict) -> int:
        """Track the artists of a checked backup (see `check_backup`) and take its settings; returns how many."""
        return restore_data(self.store, backup)

    # ----- the parts --------------------------------------------------------------------------------------

    async def _import(self, source: str, fetch: Callable[[SpotifyClient], Awaitable[Found]],
                      reader: Callable[[], SpotifyClient], origin: str = "") -> Added:
        found = await self._read_spotify(source, fetch, reader)
        if not found:
            raise ArtistInputError(f"no artists found in that {source}")
        return self.track(found, source, origin=origin or f"your {source}")

    @staticmethod
    async def _read_spotify(source: str, fetch: Callable[[SpotifyClient], Awaitable[Found]],
                            reader: Callable[[], SpotifyClient]) -> Found:
        """Spotify refusing what the user named, or no login, becomes an input error that says why."""
        try:
            async with reader() as client:
                return await fetch(client)
        except NotFoundError:
            raise ArtistInputError(f"Spotify has no such {source} (check the ID or URL)") from None
        except ForbiddenError:
            raise ArtistInputError(f"Spotify does not let this app read that {source}: development-mode apps may "
                                   "only read playlists you own (log in with 'esh-tui login' as the owner)") from None
        except AuthError as exc:
            raise ArtistInputError(str(exc)) from None

    def _user_client(self) -> SpotifyClient:
        return self.runtime.client(user=True)

    async def _with_client(self, work: Callable[[SpotifyClient], Awaitable[Found]],
                           client: SpotifyClient | None) -> Found:
        if client is not None:  # the dashboard's long-lived client
            return await work(client)
        async with self.runtime.client() as own:
            return await work(own)

    def track(self, found: Found, source: str, origin: str = "") -> Added:
        """Track artists already resolved (picked in the dashboard's search, say). One removed earlier comes
        back with what was learned about it (`Added.restored`)."""
        restored = self.store.removed_artist_ids(artist_id for artist_id, _ in found)
        added = self.store.add_artists((artist_id, name, source) for artist_id, name in found)
        return Added(found, added, source, origin, restored=frozenset(restored))


# ----- resolving an import file's lines ------------------------------------------------------------------------

def _distinct_refs(refs: list[tuple[int, str]], where: str) -> tuple[dict[str, int], dict[str, tuple[int, str]]]:
    """({artist id: first line}, {casefolded name: (first line, name)}): each artist asked about once.
    A line that is a link of another kind, or a malformed one, is refused here, before any call."""
    ids: dict[str, int] = {}
    names: dict[str, tuple[int, str]] = {}
    for number, ref in refs:
        try:
            artist_id = parse_spotify_ref(ref, "artist")
        except ValueError as exc:
            raise ArtistInputError(f"{where} line {number}: {exc}") from None
        if artist_id is not None:
            ids.setdefault(artist_id, number)
        else:
            names.setdefault(ref.strip().casefold(), (number, ref))
    return ids, names


async def _resolve_ids(client: SpotifyClient, ids: dict[str, int], where: str,
                       advance: Callable[[int], None]) -> dict[int, tuple[str, str]]:
    found: dict[int, tuple[str, str]] = {}
    wanted = list(ids)
    for start in range(0, len(wanted), IMPORT_ID_CHUNK):
        chunk = wanted[start:start + IMPORT_ID_CHUNK]
        artists = await client.several("artists", chunk)
        for artist_id in chunk:
            artist = artists.get(artist_id)
            if artist is None:
                raise ArtistInputError(f"{where} line {ids[artist_id]}: Spotify has no artist with id {artist_id}")
            if not is_name(artist.get("name")):
                raise ArtistInputError(f"{where} line {ids[artist_id]}: Spotify's answer for artist {artist_id} "
                                       "has no usable name; try again later")
            found[ids[artist_id]] = (artist_id, artist["name"])
        advance(len(chunk))
    return found


async def _resolve_names(client: SpotifyClient, names: dict[str, tuple[int, str]], where: str,
                         advance: Callable[[int], None]) -> dict[int, tuple[str, str]]:
    """Search IMPORT_WORKERS names at a time; the first that names no artist stops the rest."""
    found: dict[int, tuple[str, str]] = {}
    queue = collections.deque(names.values())

    async def worker() -> None:
        while queue:
            number, ref = queue.popleft()
            try:
                found[number] = await resolve_artist(client, ref)
            except ArtistNotFound as exc:
                queue.clear()
                raise ArtistInputError(f"{where} line {number}: {exc}") from None
            advance(1)

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(IMPORT_WORKERS, len(queue)))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    return found
