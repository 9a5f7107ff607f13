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

This module runs those steps and records the run; the steps themselves are in
listing.py (2), scan.py (3) and resolve.py (ISRCs), a run's state in runstate.py.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from esh_tui.models import Candidate, KnownCapabilities, Release, RunEnd
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.errors import QuotaExceededError, RateLimitedError, SpotifyError, human_seconds
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.errors import StoreError
from esh_tui.storage.store import Store
from esh_tui.tracker.events import (
    ArtistDone, ArtistFailed, ArtistStarted, Event, Progress, RunFinished, RunStarted, logged,
)
from esh_tui.tracker.filters import NoiseFilter
from esh_tui.tracker.listing import FEATURES, OWN_GROUPS
from esh_tui.tracker.options import EngineOptions
from esh_tui.tracker.plan import BudgetSpentError, DailyBudget, Plan, plan_run
from esh_tui.tracker.release_filter import ReleaseFilter
from esh_tui.tracker.resolve import Resolver
from esh_tui.tracker.cost import CostMeter
from esh_tui.tracker.runstate import RunResult, RunState, SingleFlight
from esh_tui.tracker.scan import Scanner

__all__ = ["RunResult", "Tracker"]

CALLS_PER_WRITE = 200
COST_EVERY = 1.0  # seconds: how stale a run's cost in the store may get while calls go on
_current_artist: contextvars.ContextVar[str | None] = contextvars.ContextVar("esh_current_artist", default=None)


class Tracker:
    def __init__(self, client: SpotifyClient, store: Store, cache: ReleaseCache | None = None,
                 noise: NoiseFilter | None = None, today: Callable[[], dt.date] = dt.date.today,
                 artist_concurrency: int = 16, on_event: Callable[[Event], None] | None = None,
                 options: EngineOptions | None = None, budget: DailyBudget | None = None,
                 release_filter: ReleaseFilter | None = None):
        self.client, self.store = client, store
        self.options = options or EngineOptions()
        self.cache = cache or ReleaseCache(store, **self.options.cache_kwargs())
        self.noise = noise or NoiseFilter()
        self.today = today
        self.artist_concurrency = artist_concurrency if self.options.parallel_artists else 1
        if options is not None:
            options.apply_to_store(store)
        self.on_event = logged(on_event)  # the log file hears every run, from the CLI and the dashboard
        known = store.capabilities(client.settings.api_url)
        if known and client.capabilities.mode == "unknown":
            client.capabilities.batch, client.capabilities.page_max = known.batch, known.page_max
        self._saved_capabilities = known  # what the store knows: what is learned beyond it is saved at once
        self._calls_by_artist: Counter[str] = Counter()
        self._run: RunState | None = None  # the run going on, if any
        self.fetches_shared = 0  # albums and tracks one artist awaited from another's fetch in the same run
        self._unrecorded: list[RunResult] = []  # ends of runs the store was too busy to record
        self.stop_reason = "cancelled"  # how a cancelled run is recorded: the CLI says "interrupted" on a signal
        self.resolver = Resolver(client, store, self.cache, self.options.incremental, lambda e: self.on_event(e))
        self.scanner = Scanner(client, store, self.cache, self.noise, self.options, today, self.resolver)
        self.release_filter = release_filter or ReleaseFilter()  # what runs report (see set_filter)
        self.set_filter(self.release_filter)
        client.log.listeners.append(self._count_call)
        self.budget = budget  # the daily budget every run and prefetch draws from (None: no limit)
        if budget is not None:
            budget.attach(client)

    def _count_call(self, record) -> None:
        artist = _current_artist.get()
        if artist is not None:
            self._calls_by_artist[artist] += 1
        if self._run is not None:  # outside a run (prefetching, a search) nothing is recorded
            self._run.learned.calls.append(record)
            self._run.meter.observe(record)
        try:
            self._save_capabilities()
        except StoreError:
            pass  # the store is busy: the run's end saves them

    def _client_saved(self) -> tuple[int, int]:
        client = self.client  # not client.stats(): that copies the recent call records
        return client.flights.saved, sum(max(0, loader.items - loader.batches) for loader in client.loaders.values())

    def _save_capabilities(self) -> None:
        """Save what this app's credentials were found to allow as soon as it is learned (a call after the
        answer that told), so a run stopped by the quota, a kill or a crash does not make the next one ask again."""
        caps = self.client.capabilities
        known = KnownCapabilities(caps.batch, caps.page_max)
        if known != self._saved_capabilities and (caps.mode != "unknown" or caps.page_max):
            self.store.save_capabilities(self.client.settings.api_url, known)
            self._saved_capabilities = known

    def _write_learned(self, run: RunState, final: bool = False) -> None:
        """ISRCs' earliest releases and releases found go to the store once per finished artist, in one
        transaction, with what the run cost so far (so another process watching the store sees the run as it
        goes: at least every COST_EVERY seconds while it makes calls); call records join them every
        CALLS_PER_WRITE calls (and at the end), and so do what artists' checks cost (with the next write: one of
        its own for each artist would double a run's commits)."""
        learned, meter = run.learned, run.meter
        calls_due = final or len(learned.calls) >= CALLS_PER_WRITE
        cost_due = final or (meter.changed() and self.cache.clock() - run.written_at >= COST_EVERY)
        if (learned.earliest or learned.releases or (calls_due and (learned.calls or learned.artist_calls))
                or cost_due):
            taken = run.take_learned(with_calls=calls_due)
            taken.cost = meter.update(taken.releases, run.flights.shared if run.flights else run.shared)
            self.store.save_progress(run.result.run_id, taken, time.time())
            run.written_at = self.cache.clock()
        if self.budget is not None:
            self.budget.flush(force=final)

    async def _write_cost_while(self, run: RunState) -> None:
        """While a run waits (a 429's Retry-After, one slow artist), what it cost so far still reaches the store
        every COST_EVERY seconds: a dashboard watching it shows the 429s as they come, not when an artist ends."""
        while True:
            await asyncio.sleep(COST_EVERY)
            try:
                self._write_learned(run)
            except StoreError:
                pass  # the store is busy: the next artist's write carries it

    # ----- what is shown: the one place the release filter applies --------------------------------------

    def set_filter(self, release_filter: ReleaseFilter) -> None:
        """Show what this filter keeps, from now on: in runs' results and events, and in `stored_releases`.
        Features (appears_on) are listed from the next run on; turning them off hides those known at once."""
        self.release_filter = release_filter
        self.resolver.shows = release_filter.keeps
        self.scanner.groups = (*OWN_GROUPS, FEATURES) if release_filter.appears_on else OWN_GROUPS

    def _use_features_setting(self) -> None:
        """Make the store's listings fit this filter's appears_on (see Store.use_appears_on); at a run's start, as
        the market is (another process may have changed it since)."""
        if self.store.use_appears_on(self.release_filter.appears_on):
            self.cache.memory.clear()

    def _candidates(self, scan, artist_id: str, cutoff: dt.date) -> tuple[Candidate, ...]:
        """A scan's candidates in the window; without features, not those on other artists' albums (a store that
        listed them while features were on knows them: they are hidden, and not resolved)."""
        candidates = scan.since(cutoff)
        if self.release_filter.appears_on or not candidates:
            return candidates
        features = self.store.feature_album_ids(artist_id)
        return tuple(c for c in candidates if c.album_id not in features) if features else candidates

    def shown(self, releases: Iterable[Release]) -> list[Release]:
        return self.release_filter.apply(releases)

    def stored_releases(self, cutoff: dt.date, artist_ids: Iterable[str] | None = None) -> list[tuple[Release, bool]]:
        """Releases earlier runs found on or after the cutoff, as the filter shows them (with whether unseen)."""
        return list(self.iter_stored_releases(cutoff, artist_ids))

    def iter_stored_releases(self, cutoff: dt.date, artist_ids: Iterable[str] | None = None
                             ) -> Iterator[tuple[Release, bool]]:
        """As `stored_releases`, taken as they are needed (the dashboard's first paint takes a screenful), checked
        against the filter 500 at a time."""
        found = self.store.iter_releases_since(cutoff, artist_ids)
        while chunk := list(itertools.islice(found, 500)):
            yield from self._shown_stored(chunk)

    def artist_releases(self, artist_id: str, cutoff: dt.date | None = None) -> list[tuple[Release, bool]]:
        """One artist's releases found by runs (on or after the cutoff), as the filter shows them."""
        return self._shown_stored(self.store.artist_releases(artist_id, cutoff))

    def _shown_stored(self, found: list[tuple[Release, bool]]) -> list[tuple[Release, bool]]:
        hidden = set() if self.release_filter.appears_on else self.store.feature_only_keys(r.key for r, _ in found)
        return [(r, unseen) for r, unseen in found if r.key not in hidden and self.release_filter.keeps(r)]

    # ----- a run --------------------------------------------------------------------------------------

    def plan(self, cutoff: dt.date, artist_ids: Iterable[str] | None = None, force: bool = False) -> Plan:
        """What a run would cost, and how it meets the daily budget (see plan.py)."""
        return plan_run(self.store, cutoff, artist_ids, force=force, mode=self.client.capabilities.mode,
                        now=self.cache.clock(), today=self.today(), budget=self.budget)

    async def run(self, cutoff: dt.date, artist_ids: Iterable[str] | None = None, force: bool = False) -> RunResult:
        ids = list(dict.fromkeys(artist_ids if artist_ids is not None else (a.id for a in self.store.artists())))
        self.client.check_market()
        if self.store.use_market(self.client.market):  # listings learned for another market are not this one's
            self.cache.memory.clear()
        self._use_features_setting()
        budget = self.budget if self.budget is not None and self.budget.limit is not None else None
        estimates = {c.artist_id: c.calls for c in self.plan(cutoff, ids, force).costs} if budget else {}
        ids = list(estimates) or ids  # within a budget: most active first, then longest unchecked
        started_at = self.cache.clock()
        while self._unrecorded:
            self._record_end(self._unrecorded[0])
            self._unrecorded.pop(0)
        run_id = self.store.start_run(cutoff, force, self.client.capabilities.mode, len(ids), now=started_at)
        run = self._run = RunState(RunResult(run_id, cutoff), force, ids,
                                   SingleFlight() if self.options.single_flight else None,
                                   started=time.monotonic(), calls_before=self.client.log.calls,
                                   search_skipped_before=self.resolver.skipped,
                                   meter=CostMeter(self.cache.stats, self._client_saved, time.time),
                                   written_at=self.cache.clock())
        result = run.result
        self.on_event(RunStarted(run_id, len(ids), cutoff.isoformat()))
        gate = asyncio.Semaphore(self.artist_concurrency)

        async def one(artist_id: str) -> None:
            async with gate:
                if budget is None:
                    await self._artist(artist_id, run)
                elif ((result.deferred and estimates[artist_id] > 0)
                      or not await budget.admit(artist_id, estimates[artist_id], self._calls_by_artist.__getitem__)):
                    result.deferred.append(artist_id)  # it stays due, and so do those after it: tomorrow's run
                else:
                    try:
                        await self._artist(artist_id, run)
                    finally:
                        budget.release(artist_id)
            self._write_learned(run)
            run.done += 1
            self.on_event(Progress(run.done, len(ids)))

        tasks = [asyncio.ensure_future(one(a)) for a in ids]
        flusher = asyncio.ensure_future(self._write_cost_while(run))
        try:
            await asyncio.gather(*tasks)
            result.status = "budget" if result.deferred else "partial" if result.failed else "ok"
        except (QuotaExceededError, RateLimitedError) as exc:
            result.status = "quota" if isinstance(exc, QuotaExceededError) else "rate_limited"
            result.message = str(exc)
            result.retry_after = exc.retry_after
            if isinstance(exc, BudgetSpentError):
                result.status = "budget"
        except asyncio.CancelledError:
            result.status = self.stop_reason
            result.message = f"the run was {self.stop_reason}; what was fetched is kept"
            raise
        except BaseException as exc:
            result.status, result.message = "failed", str(exc) or type(exc).__name__
            raise
        finally:
            for task in (*tasks, flusher):
                task.cancel()
            await asyncio.gather(*tasks, flusher, return_exceptions=True)
            for future in run.resolutions.values():
                if not future.done():
                    future.cancel()
            if run.flights is not None:
                self.fetches_shared += run.flights.shared
                run.shared, run.flights = run.flights.shared, None
            result.releases = self.shown(run.releases())
            result.api_calls = self.client.log.calls - run.calls_before
            result.skipped_items += self.resolver.skipped - run.search_skipped_before
            if result.status == "budget":
                result.message, result.retry_after = self._budget_stop(cutoff, ids, force, started_at, result)
            self._finish(run)
        return result

    def _finish(self, run: RunState) -> None:
        """Write what is left and the run's record, however the run ended. When a failed run cannot write its
        record (another process holds the store), this tracker's next run writes it; if there is none, the
        record stays 'running' until a later run finds its process gone."""
        result = run.result
        try:
            self._save_capabilities()
            self._write_learned(run, final=True)
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

    def _budget_stop(self, cutoff: dt.date, ids: list[str], force: bool, started_at: float,
                     result: RunResult) -> tuple[str, float]:
        """What a run stopped by the daily budget says: what it did, what is left and its estimate, when to
        come back."""
        budget, checked = self.budget, {a.id for a in self.store.artists() if (a.last_checked or 0) >= started_at}
        left = self.plan(cutoff, [i for i in ids if i not in checked], force).due
        wait = budget.seconds_to_midnight()
        spent = ("daily budget reached" if budget.used >= budget.limit
                 else "the rest does not fit today's budget")  # the next artist's estimate is more than is left
        return (f"{spent} ({budget.used:,} of {budget.limit:,} API calls used today): "
                f"{result.artists_fetched} artists checked, {len(left)} stay due (about "
                f"{math.ceil(sum(c.calls for c in left)):,} calls) — run again tomorrow (in {human_seconds(wait)})"), wait

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
            self._use_features_setting()
            scan = await self.scanner.scan(artist_id, run)
            for candidate in self._candidates(scan, artist_id, cutoff):
                if candidate.isrc and self.cache.earliest(candidate.isrc, cutoff) is None:
                    found = await self.resolver.search_earliest(candidate, cutoff)
                    if found is not None:
                        self.cache.save_earliest([found])
        finally:
            _current_artist.reset(token)
            calls = self._calls_by_artist.pop(artist_id, 0)
            if calls:  # what it cost is kept, as a run's checks are (a prefetch's answers are kept too)
                try:
                    self.store.add_artist_calls({artist_id: calls})
                except StoreError:
                    pass  # the store is busy: this check goes uncounted

    def mark_seen(self, keys: Iterable[str]) -> None:
        """The user has seen these releases: they are no longer new, in this run or any later one."""
        self.store.mark_seen(keys)

    def mark_reported(self, keys: Iterable[str]) -> None:
        """These releases were printed by a `--delta-only` run (only once the output is written and flushed)."""
        self.store.mark_reported(keys)

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
                scan = await self.scanner.scan(artist_id, run)
                result.artists_fetched += 1
            else:
                result.artists_cached += 1
            candidates = self._candidates(scan, artist_id, cutoff)
            for candidate in candidates:
                run.claims.setdefault(candidate.key, set()).add(artist_id)
            # Options.incremental off: a fresh scan resolves its ISRCs again too (a cached scan is a cached answer).
            remembered = self.options.incremental or source == "cache"
            await asyncio.gather(*(self.resolver.resolve(c, run, artist_id, remembered) for c in candidates))
            self.on_event(ArtistDone(artist_id, source, self._take_calls(artist_id, run), len(candidates)))
        except (QuotaExceededError, RateLimitedError):
            raise
        except SpotifyError as exc:
            reason = str(exc)
            result.failed[artist_id] = reason
            self._take_calls(artist_id, run)
            self.store.mark_failed(artist_id, reason)
            self.cache.forget_artist(artist_id)
            self.on_event(ArtistFailed(artist_id, reason))
        finally:
            _current_artist.reset(token)
            self._take_calls(artist_id, run)  # stopped (quota, rate limit, cancel): what it spent counts too

    def _take_calls(self, artist_id: str, run: RunState) -> int:
        """The API calls an artist's check has spent since the last take; they go to the store with what the run
        writes next (not with the artist's scan: its ISRCs' searches come after that is saved)."""
        calls = self._calls_by_artist.pop(artist_id, 0)
        if calls:
            run.learned.artist_calls[artist_id] = run.learned.artist_calls.get(artist_id, 0) + calls
        return calls
