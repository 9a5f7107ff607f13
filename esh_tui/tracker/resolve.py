"""ISRC resolution: tracks' ISRCs, each ISRC's earliest release, and which candidates are new releases."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import replace
from typing import Any

from esh_tui.models import Candidate, Earliest, FoundRelease, Release, Track, is_popularity, release_key
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.errors import QuotaExceededError, RateLimitedError, SpotifyError
from esh_tui.spotify.paging import next_link, page_items
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.events import Event, ReleaseFound
from esh_tui.tracker.listing import album_date
from esh_tui.tracker.release_filter import release_type
from esh_tui.tracker.runstate import RunState
from esh_tui.tracker.validate import track_isrc, usable_version

Performed = list[tuple[dict[str, Any], dict[str, Any]]]  # (album, simplified track) an artist performs
RUN_STOPPERS = (QuotaExceededError, RateLimitedError)  # errors that end a run, not only an artist's scan


class Resolver:
    def __init__(self, client: SpotifyClient, store: Store, cache: ReleaseCache, incremental: bool,
                 on_event: Callable[[Event], None]):
        self.client, self.store, self.cache = client, store, cache
        self.incremental, self.on_event = incremental, on_event
        self.skipped = 0  # unusable search results (garbage from the network), added to each run's count
        self.shows: Callable[[Release], bool] = lambda release: True  # the tracker's filter: what is reported

    async def candidates(self, performed: Performed, shared_albums: Collection[str], run: RunState,
                         kept: list[Track]) -> list[Candidate]:
        """The performed tracks as candidates, with their ISRCs: known ones from the store (never asked for
        again), the others fetched (batched where possible; a shared album's tracks once per run). The tracks
        whose ISRCs were fetched go into `kept` as they arrive, also when another fetch fails."""
        # Options.incremental off: every ISRC is fetched again.
        isrcs = self.store.track_isrcs([t["id"] for _, t in performed]) if self.incremental else {}
        missing = [t["id"] for _, t in performed if t["id"] not in isrcs]
        shared_tracks = {t["id"] for a, t in performed if a["id"] in shared_albums}
        fetched: dict[str, Any] = {}
        unusable: set[str] = set()
        try:
            if missing:
                fetched.update(await run.once("tracks", missing, shared_tracks,
                                              lambda ids: load_each(self.client, "tracks", ids, fetched)))
        finally:
            for album, track in performed:
                if track["id"] in fetched:
                    usable, isrcs[track["id"]] = track_isrc(fetched[track["id"]])
                    if not usable:
                        run.result.skipped_items += 1
                        unusable.add(track["id"])
                        continue
                    kept.append(Track(track["id"], str(track.get("name", "")), artist_ids(track), album["id"],
                                      isrcs[track["id"]], artist_names(track)))
        return [Candidate(release_key(isrcs.get(t["id"]), t["id"]), isrcs.get(t["id"]), t["id"], album["id"], album_date(album))
                for album, t in performed if t["id"] not in unusable]

    async def resolve(self, candidate: Candidate, run: RunState, artist_id: str, remembered: bool = True) -> None:
        """Decide a candidate once per run (shared by every artist who has it) and report it when found."""
        future = run.resolutions.get(candidate.key)
        if future is not None:
            await asyncio.shield(future)
            return
        future = run.resolutions[candidate.key] = asyncio.ensure_future(self._earliest(candidate, run, remembered))
        release = await future
        if release is not None:
            release = replace(release, key=candidate.key, found_for=(artist_id,))
            run.seen[candidate.key] = release
            run.learned.releases.append(FoundRelease(release, time.time()))  # kept, shown or not: a filter only hides
            if self.shows(release):
                found_before, seen = self.store.release_state(candidate.key)
                if not found_before:
                    run.result.new_keys.add(candidate.key)
                self.on_event(ReleaseFound(release, new=not seen))

    async def _earliest(self, candidate: Candidate, run: RunState, remembered: bool = True) -> Release | None:
        """The release a candidate stands for, or None when it is a re-release of older material
        (`remembered`: what earlier runs learned of its ISRC may be used)."""
        cutoff = run.cutoff
        if candidate.isrc is None:
            release = self.store.track_release(candidate.track_id)
        else:
            release = self.cache.earliest(candidate.isrc, cutoff) if remembered else None
            if release is None:
                found = await self.search_earliest(candidate, cutoff)
                if found is not None:
                    run.learned.earliest.append(found)  # written when the artist is done
                    self.cache.remember_earliest([found])
                release = found.release if found is not None else None
        if release is None or release.release_date < cutoff:
            return None
        return release

    async def search_earliest(self, candidate: Candidate, cutoff: dt.date) -> Earliest | None:
        isrc = candidate.isrc
        best: tuple | None = None
        page = await self.client.page("/search", {"q": f"isrc:{isrc}", "type": "track"}, template="GET /search",
                                      key="tracks")
        while True:
            for version in page_items(page, "GET /search"):
                usable, version_isrc = track_isrc(version)
                if not usable or not usable_version(version):
                    self.skipped += 1
                    continue
                if version_isrc != isrc:
                    continue
                album = version["album"]
                date = album_date(album)
                rank = (date, album["id"], version["id"])
                if best is None or rank < best[0]:
                    best = (rank, version)
                if date < cutoff:  # proof enough: a re-release, whatever the true earliest is
                    return Earliest(_release_of(best[1], isrc), False)
            if next_link(page) is None:
                break
            page = (await self.client.get(next_link(page), template="GET /search")).get("tracks")
        if best is None:  # search does not know it: the candidate itself is the earliest we can see
            release = self.store.track_release(candidate.track_id)
            return Earliest(release, False) if release is not None else None
        return Earliest(_release_of(best[1], isrc), True)


async def load_each(client: SpotifyClient, kind: str, ids: list[str], into: dict[str, Any]) -> dict[str, Any]:
    """Albums or tracks by id (batched where batch endpoints exist), each put `into` as soon as it arrives, so
    that when one request fails what the others fetched is kept; then the failure is raised. Without batch
    endpoints each id is a call of its own, not one of a batch that fails whole with any of its calls."""
    async def one(item_id: str) -> None:
        alone = client.capabilities.batch is False
        into[item_id] = (await (client.several if alone else client.load)(kind, [item_id])).get(item_id)

    await gather_all(one(i) for i in ids)
    return {i: into[i] for i in ids}


async def gather_all(aws: Iterable[Awaitable[Any]]) -> list[Any]:
    """Await all (none is left behind when another fails), then raise the failure that matters most: one that
    stops the run (quota, rate limit, cancel) before one that fails only this artist."""
    results = await asyncio.gather(*aws, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise min(failures, key=lambda e: isinstance(e, SpotifyError) and not isinstance(e, RUN_STOPPERS))
    return results


def _release_of(version: dict[str, Any], isrc: str) -> Release:
    album = version["album"]
    return Release(key=isrc, isrc=isrc, track_id=version["id"], track_name=str(version.get("name", "")),
                   artist_names=artist_names(version),
                   album_id=album["id"], album_name=str(album.get("name", "")), album_type=release_type(album),
                   release_date=album_date(album),
                   popularity=version["popularity"] if is_popularity(version.get("popularity")) else None)


def artist_names(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(a.get("name", "")) for a in item.get("artists") or [] if isinstance(a, dict))


def artist_ids(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(a["id"] for a in item.get("artists") or [] if isinstance(a, dict) and isinstance(a.get("id"), str))
