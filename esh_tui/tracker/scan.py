"""One artist's scan: list its albums, read the new ones, keep the tracks it performs, and add what it learned."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

from esh_tui.models import Album, ScanFindings
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.paging import next_link
from esh_tui.storage.cache import ArtistScan, ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.filters import NoiseFilter
from esh_tui.tracker.listing import Listing, album_date, album_group, list_albums
from esh_tui.tracker.options import EngineOptions
from esh_tui.tracker.resolve import Performed, Resolver, artist_ids
from esh_tui.tracker.runstate import RunState
from esh_tui.tracker.validate import usable_track


class Scanner:
    def __init__(self, client: SpotifyClient, store: Store, cache: ReleaseCache, noise: NoiseFilter,
                 options: EngineOptions, today: Callable[[], dt.date], resolver: Resolver):
        self.client, self.store, self.cache, self.noise = client, store, cache, noise
        self.options, self.today, self.resolver = options, today, resolver

    async def scan(self, artist_id: str, run: RunState) -> ArtistScan:
        """List the artist's albums back to the cutoff, read the ones not known yet, and add what was
        learned to what is known (nothing known is ever dropped, whatever the window)."""
        cutoff, result = run.cutoff, run.result
        row = self.store.artist(artist_id)
        # Options.incremental off: every scan starts from nothing (all albums listed and read again).
        known = self.store.known_album_ids(artist_id) if self.options.incremental else set()
        listed_back_to = (dt.date.fromisoformat(row.listed_back_to)
                          if self.options.incremental and row and row.listed_back_to else None)
        # Within what earlier listings covered, a group's listing may stop at its first known album: older
        # ones were seen already. Wider than that, the listing goes on to the cutoff, skipping known albums.
        within = listed_back_to is not None and listed_back_to <= cutoff
        listing = Listing(cutoff, known, listed_back_to if within else None)
        try:
            total = await list_albums(self.client, artist_id, listing, row.listing_total if within and row else None,
                                      by_group=self.options.listing_cutoff)
        finally:
            result.skipped_items += listing.skipped
        covered = listed_back_to if within and not listing.gap else cutoff
        albums, to_read = [], []
        for album in listing.found:
            noise = self.noise.is_noise(str(album.get("name", "")))
            albums.append(Album(album["id"], str(album.get("name", "")), str(album.get("album_type", "")),
                                album_date(album), artist_ids(album), album_group(album), noise))
            if not noise:
                to_read.append(album)
        performed: Performed = []
        # Albums of several artists (splits, collaborations) may be asked for by another tracked artist too.
        shared = {a["id"] for a in to_read if len(a.get("artists") or ()) > 1}
        for album, tracks in zip(to_read, await self._album_tracks([a["id"] for a in to_read], shared, run)):
            for track in tracks:
                if not usable_track(track):
                    result.skipped_items += 1
                elif artist_id in {a.get("id") for a in track["artists"]} and not self.noise.is_noise(track["name"]):
                    performed.append((album, track))
        tracks_read, candidates = await self.resolver.candidates(performed, shared, run)
        return self.cache.save_artist_scan(ScanFindings(artist_id, covered, tuple(albums), tuple(tracks_read),
                                                        tuple(candidates), total), self.today())

    async def _album_tracks(self, album_ids: list[str], shared: Collection[str],
                           run: RunState) -> list[list[dict[str, Any]]]:
        """Track lists of albums: in batches of 20 where possible, else one call each; long albums paged.
        A `shared` album is read once per run, whichever of its artists asks first."""
        if not album_ids:
            return []
        lists = await run.once("albums", album_ids, shared, self._read_albums)
        return [lists[a] for a in album_ids]

    async def _read_albums(self, album_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        albums = await self.client.load("albums", album_ids)

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
