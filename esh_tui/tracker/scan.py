"""One artist's scan: list its albums, read the new ones, keep the tracks it performs, and add what it learned."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from esh_tui.models import Album, Candidate, ScanFindings, Track
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.paging import next_link
from esh_tui.storage.cache import ArtistScan, ReleaseCache
from esh_tui.storage.errors import StoreError
from esh_tui.storage.store import Store
from esh_tui.tracker.filters import NoiseFilter
from esh_tui.tracker.listing import FEATURES, OWN_GROUPS, Listing, album_date, album_group, list_albums
from esh_tui.tracker.options import EngineOptions
from esh_tui.tracker.release_filter import release_type
from esh_tui.tracker.resolve import Performed, Resolver, artist_ids, gather_all, load_each
from esh_tui.tracker.runstate import RunState
from esh_tui.tracker.validate import usable_track


class Scanner:
    def __init__(self, client: SpotifyClient, store: Store, cache: ReleaseCache, noise: NoiseFilter,
                 options: EngineOptions, today: Callable[[], dt.date], resolver: Resolver):
        self.client, self.store, self.cache, self.noise = client, store, cache, noise
        self.options, self.today, self.resolver = options, today, resolver
        self.groups: tuple[str, ...] = OWN_GROUPS  # the groups listed (with appears_on when features are asked for)

    async def scan(self, artist_id: str, run: RunState) -> ArtistScan:
        """List the artist's albums back to the cutoff, read the ones not known yet, and add what was
        learned to what is known (nothing known is ever dropped, whatever the window)."""
        cutoff, result = run.cutoff, run.result
        row = self.store.artist(artist_id, include_removed=True)  # a run may scan an artist not tracked
        # Options.incremental off: every scan starts from nothing (all albums listed and read again).
        known = self.store.known_album_ids(artist_id) if self.options.incremental else set()
        listed_back_to, partial_back_to = (
            dt.date.fromisoformat(date) if self.options.incremental and date else None
            for date in ((row.listed_back_to, row.partial_back_to) if row else (None, None)))
        # Within what earlier listings covered, a group's listing may stop at its first known album: older
        # ones were seen already (but not at one a stopped scan kept: see Listing.partial_back_to). Wider than
        # that, the listing goes on to the cutoff, skipping known albums.
        within = listed_back_to is not None and listed_back_to <= cutoff
        listing = Listing(cutoff, known, listed_back_to if within else None, partial_back_to)
        try:
            total = await list_albums(self.client, artist_id, listing, row.listing_total if within and row else None,
                                      by_group=self.options.listing_cutoff, groups=self.groups)
        finally:
            result.skipped_items += listing.skipped
        covered = listed_back_to if within and not listing.gap else cutoff
        albums, to_read = [], []
        for album in listing.found:
            noise = self.noise.is_noise(str(album.get("name", "")))
            albums.append(Album(album["id"], str(album.get("name", "")), release_type(album),
                                album_date(album), artist_ids(album),
                                listing.groups.get(album["id"]) or album_group(album), noise))
            if not noise:
                to_read.append(album)
        # Albums of several artists (splits, collaborations) may be asked for by another tracked artist too, and so
        # may an album the artist only appears on (its own artists' scans list it).
        shared = {a["id"] for a in to_read if len(a.get("artists") or ()) > 1 or listing.groups.get(a["id"]) == FEATURES}
        stored = self.store.album_track_lists([a["id"] for a in to_read]) if self.options.incremental and to_read else {}
        progress = _Progress(stored)
        try:
            await gather_all(self._album(artist_id, album, shared, run, progress) for album in to_read)
        except BaseException:
            # Stopped part way (quota, rate limit, a failure, a cancel): keep the albums finished, the ISRCs fetched
            # and the track lists read, so the next scan asks only for the rest; the listing was not finished (or
            # is a day old when the next scan comes), so that one lists again.
            self._keep_partial(artist_id, cutoff, albums, progress)
            raise
        candidates = [c for album in to_read for c in progress.finished[album["id"]]]
        return self.cache.save_artist_scan(ScanFindings(artist_id, covered, tuple(albums), tuple(progress.tracks),
                                                        tuple(candidates), total), self.today())

    def _keep_partial(self, artist_id: str, cutoff: dt.date, albums: list[Album], progress: "_Progress") -> None:
        finished = progress.finished
        done = [a for a in albums if a.noise or a.id in finished]
        read = {album_id: items for album_id, items in progress.read.items() if album_id not in finished}
        if not (done or progress.tracks or read):
            return
        found = ScanFindings(artist_id, cutoff, tuple(done), tuple(progress.tracks),
                             tuple(c for a in done for c in finished.get(a.id, ())))
        try:
            self.cache.save_partial_scan(found, albums, read)
        except StoreError:
            pass  # the store is busy: the next scan fetches it again

    async def _album(self, artist_id: str, album: dict[str, Any], shared: Collection[str], run: RunState,
                     progress: "_Progress") -> None:
        """Read one album's track list (unless a stopped scan did) and the ISRCs of the tracks the artist performs
        on it; its candidates go into `progress.finished` when all is read. Albums are still read in batches of
        20 where possible (the client batches what is asked at once); a `shared` album is read once per run,
        whichever artist asks first."""
        album_id = album["id"]
        items = progress.stored.get(album_id)
        if items is None:
            items = progress.read[album_id] = (await run.once("albums", [album_id], shared, self._read_albums))[album_id]
        performed: Performed = []
        for track in items:
            if not usable_track(track):
                run.result.skipped_items += 1
            elif artist_id in {a.get("id") for a in track["artists"]} and not self.noise.is_noise(track["name"]):
                performed.append((album, track))
        progress.finished[album_id] = await self.resolver.candidates(performed, shared, run, progress.tracks)

    async def _read_albums(self, album_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        albums = await load_each(self.client, "albums", album_ids, {})

        async def tracks_of(album_id: str) -> list[dict[str, Any]]:
            album = albums.get(album_id)
            page = album.get("tracks") if isinstance(album, dict) else None
            if not isinstance(page, dict) or not isinstance(page.get("items") or [], list):
                return [None]  # a missing or unusable album: one item the scan skips and counts
            tracks = list(page.get("items") or [])  # each one checked (and counted if unusable) by the scan
            if next_link(page):
                async for track in self.client.pages(next_link(page), template="GET /albums/{id}/tracks"):
                    tracks.append(track)
            return tracks

        return dict(zip(album_ids, await asyncio.gather(*(tracks_of(a) for a in album_ids))))


@dataclass
class _Progress:
    """How far one artist's scan got: all of it is saved when the scan ends, what is done so far when it stops."""

    stored: dict[str, list[Any]]  # album id -> its track list, read by an earlier scan that stopped
    read: dict[str, list[Any]] = field(default_factory=dict)  # album id -> its track list, read now
    finished: dict[str, list[Candidate]] = field(default_factory=dict)  # album id -> its candidates, all read
    tracks: list[Track] = field(default_factory=list)  # tracks whose ISRCs were fetched, as they arrive
