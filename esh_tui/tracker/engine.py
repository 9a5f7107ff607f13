"""The release engine: the right releases for the fewest API calls.

Per artist (concurrently, under the client's bound):
1. fresh scan in memory or the store (until the artist is due)? use it, no API call;
2. otherwise list its own albums newest first: one combined page, then per
   group only where the first page did not already settle it, stopping at the
   cutoff or at an album already known;
3. read the track lists of new, non-noise albums (batched where possible) and
   the ISRCs of new candidate tracks (batched where possible, known ones never
   again); write the whole scan in one transaction.
Each candidate's ISRC is resolved once per run, shared across artists, from
the forever cache or by search; releases are reported as they are resolved.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from typing import Any

from esh_tui.models import (
    Album, Candidate, Earliest, FoundRelease, Release, RunEnd, ScanFindings, Track, release_key,
)
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.errors import QuotaExceededError, RateLimitedError, SpotifyError
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store, StoreError
from esh_tui.tracker.events import (
    ArtistDone, ArtistFailed, ArtistStarted, Event, Progress, ReleaseFound, RunFinished, RunStarted,
)
from esh_tui.tracker.filters import NoiseFilter
from esh_tui.tracker.listing import Listing, album_date, album_group, list_albums
from esh_tui.spotify.paging import next_link, page_items
from esh_tui.tracker.validate import track_isrc, usable_track, usable_version
from esh_tui.tracker.options import EngineOptions
from esh_tui.tracker.runstate import RunResult, RunState, SingleFlight

CALLS_PER_WRITE = 200
_current_artist: contextvars.ContextVar[str | None] = contextvars.ContextVar("esh_current_artist", default=None)


class Tracker:
    def __init__(self, client: SpotifyClient, store: Store, cache: ReleaseCache | None = None,
                 noise: NoiseFilter | None = None, today: Callable[[], dt.date] = dt.date.today,
                 artist_concurrency: int = 16, on_event: Callable[[Event], None] | None = None,
                 options: EngineOptions | None = None):
        self.client, self.store = client, store
        self.options = options or EngineOptions()
        self.cache = cache or ReleaseCache(store, **self.options.cache_kwargs())
        self.noise = noise or NoiseFilter()
        self.today = today
        self.artist_concurrency = artist_concurrency if self.options.parallel_artists else 1
        if options is not None:
            options.apply_to_store(store)
        self.on_event = on_event or (lambda event: None)
        known = store.capabilities(client.settings.api_url)
        if known and client.capabilities.mode == "unknown":
            client.capabilities.batch, client.capabilities.page_max = known["batch"], known["page_max"]
        self._calls_by_artist: Counter[str] = Counter()
        self._run: RunState | None = None  # the run going on, if any
        self.fetches_shared = 0  # albums and tracks one artist awaited from another's fetch in the same run
        self._search_skipped = 0  # unusable search results (garbage from the network), added to each run's count
        self._unrecorded: list[RunResult] = []  # ends of runs the store was too busy to record
        self.stop_reason = "cancelled"  # how a cancelled run is recorded: the CLI says "interrupted" on a signal
        client.log.listeners.append(self._count_call)

    def _count_call(self, record) -> None:
        artist = _current_artist.get()
        if artist is not None:
            self._calls_by_artist[artist] += 1
        if self._run is not None:  # outside a run (prefetching, a search) nothing is recorded
            self._run.learned.calls.append(record)

    def _write_learned(self, run: RunState, final: bool = False) -> None:
        """ISRCs' earliest releases and releases found go to the store once per finished artist, in one
        transaction; call records join them every CALLS_PER_WRITE calls (and at the end)."""
        learned = run.learned
        calls_due = final or len(learned.calls) >= CALLS_PER_WRITE
        if learned.earliest or learned.releases or (calls_due and learned.calls):
            self.store.save_progress(run.result.run_id, run.take_learned(with_calls=calls_due), time.time())

    # ----- a run --------------------------------------------------------------------------------------

    async def run(self, cutoff: dt.date, artist_ids: Iterable[str] | None = None, force: bool = False) -> RunResult:
        ids = list(dict.fromkeys(artist_ids if artist_ids is not None else (a.id for a in self.store.artists())))
        while self._unrecorded:
            self._record_end(self._unrecorded[0])
            self._unrecorded.pop(0)
        run_id = self.store.start_run(cutoff, force, self.client.capabilities.mode, len(ids))
        run = self._run = RunState(RunResult(run_id, cutoff), force, ids,
                                   SingleFlight() if self.options.single_flight else None,
                                   started=time.monotonic(), calls_before=self.client.log.calls,
                                   search_skipped_before=self._search_skipped)
        result = run.result
        self.on_event(RunStarted(run_id, len(ids), cutoff.isoformat()))
        gate = asyncio.Semaphore(self.artist_concurrency)

        async def one(artist_id: str) -> None:
            async with gate:
                await self._artist(artist_id, run)
            self._write_learned(run)
            run.done += 1
            self.on_event(Progress(run.done, len(ids)))

        tasks = [asyncio.ensure_future(one(a)) for a in ids]
        try:
            await asyncio.gather(*tasks)
            result.status = "partial" if result.failed else "ok"
        except (QuotaExceededError, RateLimitedError) as exc:
            result.status = "quota" if isinstance(exc, QuotaExceededError) else "rate_limited"
            result.message = str(exc)
            result.retry_after = exc.retry_after
        except asyncio.CancelledError:
            result.status = self.stop_reason
            result.message = f"the run was {self.stop_reason}; what was fetched is kept"
            raise
        except BaseException as exc:
            result.status, result.message = "failed", str(exc) or type(exc).__name__
            raise
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for future in run.resolutions.values():
                if not future.done():
                    future.cancel()
            if run.flights is not None:
                self.fetches_shared += run.flights.shared
                run.flights = None
            result.releases = run.releases()
            result.api_calls = self.client.log.calls - run.calls_before
            result.skipped_items += self._search_skipped - run.search_skipped_before
            self._finish(run)
        return result

    def _finish(self, run: RunState) -> None:
        """Write what is left and the run's record, however the run ended. When a failed run cannot write its
        record (another process holds the store), this tracker's next run writes it; if there is none, the
        record stays 'running' until a later run finds its process gone."""
        caps, result = self.client.capabilities, run.result
        try:
            if caps.mode != "unknown" or caps.page_max:
                self.store.save_capabilities(self.client.settings.api_url, caps.batch, caps.page_max)
            self._write_learned(run, final=True)
            self.store.record_cache_stats(result.run_id, {t: s.snapshot() for t, s in self.cache.stats.items()})
            self._record_end(result)
        except StoreError:
            if result.status != "failed":
                raise
            self._unrecorded.append(result)  # written at the start of this tracker's next run
        finally:
            self._run = None
        self.on_event(RunFinished(result.run_id, result.status, len(result.releases), len(result.new_keys),
                                  result.api_calls, result.artists_fetched, time.monotonic() - run.started,
                                  result.message))

    def _record_end(self, result: RunResult) -> None:
        self.store.finish_run(RunEnd(result.run_id, result.status, self.client.capabilities.mode, result.message,
                                     api_calls=result.api_calls, releases=len(result.releases),
                                     new_releases=len(result.new_keys), artists_fetched=result.artists_fetched))

    async def prefetch(self, artist_id: str, cutoff: dt.date) -> None:
        """Refresh one artist ahead of time: its scan and its releases' ISRCs, with no run recorded."""
        # A run's state of its own, recorded nowhere; it shares the fetches of a run going on, as one of its artists.
        run = RunState(RunResult(0, cutoff), flights=self._run.flights if self._run is not None else None)
        token = _current_artist.set(artist_id)
        try:
            scan = await self._scan(artist_id, run)
            for candidate in scan.since(cutoff):
                if candidate.isrc and self.cache.earliest(candidate.isrc, cutoff) is None:
                    found = await self._search_earliest(candidate, cutoff)
                    if found is not None:
                        self.cache.save_earliest([found])
        finally:
            _current_artist.reset(token)
            self._calls_by_artist.pop(artist_id, None)

    def mark_seen(self, keys: Iterable[str]) -> None:
        """The user has seen these releases: they are no longer new, in this run or any later one."""
        self.store.mark_seen(keys)

    # ----- one artist ------------------------------------------------------------------------------------

    async def _artist(self, artist_id: str, run: RunState) -> None:
        cutoff, result = run.cutoff, run.result
        token = _current_artist.set(artist_id)
        self.on_event(ArtistStarted(artist_id))
        try:
            scan = None if run.force else self.cache.artist_scan(artist_id, cutoff)
            source = "cache"
            if scan is None:
                source = "api"
                scan = await self._scan(artist_id, run)
                result.artists_fetched += 1
            else:
                result.artists_cached += 1
            candidates = scan.since(cutoff)
            for candidate in candidates:
                run.claims.setdefault(candidate.key, set()).add(artist_id)
            # Options.incremental off: a fresh scan resolves its ISRCs again too (a cached scan is a cached answer).
            remembered = self.options.incremental or source == "cache"
            await asyncio.gather(*(self._resolve(c, run, artist_id, remembered) for c in candidates))
            self.on_event(ArtistDone(artist_id, source, self._calls_by_artist.pop(artist_id, 0), len(candidates)))
        except (QuotaExceededError, RateLimitedError):
            raise
        except SpotifyError as exc:
            reason = str(exc)
            result.failed[artist_id] = reason
            self.store.mark_failed(artist_id, reason)
            self.cache.forget_artist(artist_id)
            self.on_event(ArtistFailed(artist_id, reason))
        finally:
            _current_artist.reset(token)

    async def _scan(self, artist_id: str, run: RunState):
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
        albums, tracks_read, new_candidates = [], [], []
        to_read = []
        for album in listing.found:
            noise = self.noise.is_noise(str(album.get("name", "")))
            albums.append(Album(album["id"], str(album.get("name", "")), str(album.get("album_type", "")),
                                album_date(album), _artist_ids(album), album_group(album), noise))
            if not noise:
                to_read.append(album)
        performed: list[tuple[dict[str, Any], dict[str, Any]]] = []
        # Albums of several artists (splits, collaborations) may be asked for by another tracked artist too.
        shared = {a["id"] for a in to_read if len(a.get("artists") or ()) > 1}
        for album, tracks in zip(to_read, await self._album_tracks([a["id"] for a in to_read], shared, run)):
            for track in tracks:
                if not usable_track(track):
                    result.skipped_items += 1
                elif artist_id in {a.get("id") for a in track["artists"]} and not self.noise.is_noise(track["name"]):
                    performed.append((album, track))
        isrcs = self.store.track_isrcs([t["id"] for _, t in performed]) if self.options.incremental else {}
        missing = [t["id"] for _, t in performed if t["id"] not in isrcs]
        shared_tracks = {t["id"] for a, t in performed if a["id"] in shared}
        fetched = await run.once("tracks", missing, shared_tracks,
                                 lambda ids: self.client.load("tracks", ids)) if missing else {}
        for album, track in performed:
            full = fetched.get(track["id"])
            if track["id"] in fetched:
                usable, isrcs[track["id"]] = track_isrc(full)
                if not usable:
                    result.skipped_items += 1
                    continue
                tracks_read.append(Track(track["id"], str(track.get("name", "")), _artist_ids(track), album["id"],
                                         isrcs[track["id"]], _artist_names(track)))
            isrc = isrcs.get(track["id"])
            new_candidates.append(Candidate(release_key(isrc, track["id"]), isrc, track["id"], album["id"], album_date(album)))
        return self.cache.save_artist_scan(ScanFindings(artist_id, covered, tuple(albums), tuple(tracks_read),
                                                        tuple(new_candidates), total), self.today())

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

    # ----- releases -----------------------------------------------------------------------------------------

    async def _resolve(self, candidate: Candidate, run: RunState, artist_id: str, remembered: bool = True) -> None:
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
            found_before, seen = self.store.release_state(candidate.key)
            run.learned.releases.append(FoundRelease(release, time.time()))
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
                found = await self._search_earliest(candidate, cutoff)
                if found is not None:
                    run.learned.earliest.append(found)  # written when the artist is done
                    self.cache.remember_earliest([found])
                release = found.release if found is not None else None
        if release is None or release.release_date < cutoff:
            return None
        return release

    async def _search_earliest(self, candidate: Candidate, cutoff: dt.date) -> Earliest | None:
        isrc = candidate.isrc
        best: tuple | None = None
        page = await self.client.page("/search", {"q": f"isrc:{isrc}", "type": "track"}, template="GET /search",
                                      key="tracks")
        while True:
            for version in page_items(page, "GET /search"):
                usable, version_isrc = track_isrc(version)
                if not usable or not usable_version(version):
                    self._search_skipped += 1
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


def _release_of(version: dict[str, Any], isrc: str) -> Release:
    album = version["album"]
    return Release(key=isrc, isrc=isrc, track_id=version["id"], track_name=str(version.get("name", "")),
                   artist_names=_artist_names(version),
                   album_id=album["id"], album_name=str(album.get("name", "")), album_type=str(album.get("album_type", "")),
                   release_date=album_date(album),
                   popularity=version["popularity"] if isinstance(version.get("popularity"), int) else None)


def _artist_names(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(a.get("name", "")) for a in item.get("artists") or [] if isinstance(a, dict))


def _artist_ids(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(a["id"] for a in item.get("artists") or [] if isinstance(a, dict) and isinstance(a.get("id"), str))

