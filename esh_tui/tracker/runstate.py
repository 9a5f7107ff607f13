"""One run's state: its window and artists, what it found so far, and what it learned but has not written yet."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any

from esh_tui.models import Learned, Release
from esh_tui.tracker.cost import CostMeter


@dataclass
class RunResult:
    run_id: int
    cutoff: dt.date
    status: str = "ok"
    message: str = ""
    retry_after: float | None = None  # with status quota or rate_limited: seconds until Spotify answers again
    releases: list[Release] = field(default_factory=list)  # newest first
    new_keys: set[str] = field(default_factory=set)  # found for the first time by this run
    failed: dict[str, str] = field(default_factory=dict)
    artists_fetched: int = 0
    artists_cached: int = 0
    api_calls: int = 0
    skipped_items: int = 0
    deferred: list[str] = field(default_factory=list)  # artists left due: they did not fit in the daily budget


class SingleFlight:
    """Within a run, the same request is never sent twice: a shared album or track another artist fetched,
    or is fetching, is awaited instead of asked for again."""

    def __init__(self) -> None:
        self._futures: dict[tuple[str, str], asyncio.Future] = {}
        self.shared = 0  # albums and tracks one artist awaited from another's fetch

    async def once(self, kind: str, ids: list[str], shared: Collection[str],
                   fetch: Callable[[list[str]], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """`fetch(ids)`, except that `shared` ids already claimed are awaited. Only shared ids are remembered
        (a few)."""
        memo = self._futures
        ids = list(dict.fromkeys(ids))
        if not shared:
            return await fetch(ids) if ids else {}
        others = {i: memo[(kind, i)] for i in ids if i in shared and (kind, i) in memo}
        self.shared += len(others)
        mine = [i for i in ids if i not in others]
        loop = asyncio.get_running_loop()
        claimed = {i: loop.create_future() for i in mine if i in shared}
        memo.update({(kind, i): future for i, future in claimed.items()})
        try:
            found = dict(await fetch(mine)) if mine else {}
        except BaseException as exc:
            for i, future in claimed.items():
                if memo.get((kind, i)) is future:
                    del memo[(kind, i)]  # the next asker tries again
                if isinstance(exc, Exception):
                    future.set_exception(exc)
                    future.exception()
                else:
                    future.cancel()
            raise
        for i, future in claimed.items():
            future.set_result(found.get(i))
        for i, future in others.items():
            try:
                found[i] = await asyncio.shield(future)
            except asyncio.CancelledError:
                if not future.cancelled():
                    raise  # this task was cancelled
                found.update(await fetch([i]))  # the artist that asked first was cancelled: ask now
        return found


@dataclass(eq=False)
class RunState:
    """Everything one run keeps while it goes; a prefetch uses one too, recorded nowhere."""

    result: RunResult
    force: bool = False
    artist_ids: list[str] = field(default_factory=list)
    flights: SingleFlight | None = None  # with single-flight on: shared fetches asked once per run
    resolutions: dict[str, asyncio.Future] = field(default_factory=dict)  # release key -> its one decision
    seen: dict[str, Release] = field(default_factory=dict)  # release key -> the release found
    claims: dict[str, set[str]] = field(default_factory=dict)  # release key -> tracked artists whose scans have it
    learned: Learned = field(default_factory=Learned)  # not written yet
    started: float = 0.0  # time.monotonic()
    calls_before: int = 0
    search_skipped_before: int = 0
    done: int = 0  # artists finished
    meter: CostMeter | None = None  # what the run cost so far (a prefetch has none: it is recorded nowhere)
    shared: int = 0  # what single-flight saved, once the run is over (flights is let go)
    written_at: float = 0.0  # when (the tracker's clock) the run last wrote to the store

    @property
    def cutoff(self) -> dt.date:
        return self.result.cutoff

    async def once(self, kind: str, ids: list[str], shared: Collection[str],
                   fetch: Callable[[list[str]], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """`fetch(ids)`, shared ids asked once per run (with single-flight on)."""
        if self.flights is None:
            ids = list(dict.fromkeys(ids))
            return await fetch(ids) if ids else {}
        return await self.flights.once(kind, ids, shared, fetch)

    def take_learned(self, with_calls: bool) -> Learned:
        """What to write now (call records only `with_calls`); the rest waits for a later write."""
        learned = self.learned
        if with_calls:
            self.learned = Learned()
            return learned
        self.learned = Learned(calls=learned.calls)
        return replace(learned, calls=[])

    def releases(self) -> list[Release]:
        """The releases found, newest first, each for every tracked artist whose scan has it."""
        return sorted((replace(r, found_for=tuple(sorted(self.claims[k]))) for k, r in self.seen.items()),
                      key=lambda r: (r.release_date, r.key), reverse=True)
