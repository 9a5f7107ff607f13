"""One run's cost as it goes, measured from the run's start: what each write adds to the store's rollups."""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any

from esh_tui.models import FoundRelease
from esh_tui.storage.memory import TierStats, percentile
from esh_tui.storage.rollups import MINUTE_COUNTERS, CostUpdate, minutes_of


class CostMeter:
    """Counts a run's calls and cache lookups from its start (the client and the cache count for the whole
    process: a dashboard makes many runs), and hands each write the figures since the last one.

    `saved` tells what the client saved so far: (requests coalesced, batching saved)."""

    def __init__(self, tiers: dict[str, TierStats], saved: Callable[[], tuple[int, int]],
                 clock: Callable[[], float] = time.time) -> None:
        self.tiers, self._saved, self._clock = tiers, saved, clock
        self._base = {name: _counts(stats) for name, stats in tiers.items()}
        self._written = dict(self._base)
        self._saved_base = saved()
        self._latencies: list[float] = []
        self._calls = self._rate_limited = self._server_errors = self._retries = self._opened = self._reused = 0
        self._connections_seen = False
        self._releases = 0
        self._endpoints: dict[tuple[str, str], tuple[int, float]] = {}  # counted since the last write
        self._pending_calls: list[Any] = []  # calls since the last write, for the per-minute counts

    def changed(self) -> bool:
        """Calls or lookups were made since the last write."""
        return bool(self._pending_calls) or any(_counts(stats)[:2] != self._written[name][:2] for name, stats in self.tiers.items())

    def observe(self, record: Any) -> None:
        """One call of the run (a CallRecord), counted as it is made: every write carries all calls so far."""
        status = str(record.status)
        self._calls += 1
        self._rate_limited += status == "429"
        self._server_errors += status.startswith("5")
        self._retries += bool(record.retried)
        self._opened += record.new_connection is True
        self._reused += record.new_connection is False
        self._connections_seen |= record.new_connection is not None
        bisect.insort(self._latencies, record.latency_ms)  # kept sorted: a write reads its percentiles
        key = (record.template, status)
        count, ms = self._endpoints.get(key, (0, 0.0))
        self._endpoints[key] = (count + 1, ms + (record.latency_ms or 0.0))
        self._pending_calls.append(record)

    def update(self, releases: Sequence[FoundRelease], shared: int) -> CostUpdate:
        """The figures to write now: the run's so far, and what was counted since the last write (`releases`
        found since then; `shared`: what the run's single-flight saved so far)."""
        self._releases += len(releases)
        minutes = minutes_of(self._pending_calls)
        for found in releases:
            minutes.setdefault(int(found.found_at // 60) * 60, dict.fromkeys(MINUTE_COUNTERS, 0))["releases"] += 1
        lookups = self._lookups_since_write()
        if any(lookups.values()):
            now_minute = minutes.setdefault(int(self._clock() // 60) * 60, dict.fromkeys(MINUTE_COUNTERS, 0))
            for name, count in lookups.items():
                now_minute[name] += count
        ordered = self._latencies
        coalesced, batching = (now - base for now, base in zip(self._saved(), self._saved_base))
        run = {"calls": self._calls, "rate_limited": self._rate_limited, "server_errors": self._server_errors,
               "retries": self._retries, "api_p50_ms": percentile(ordered, 0.50),
               "api_p95_ms": percentile(ordered, 0.95), "opened": self._opened, "reused": self._reused,
               "connections_seen": int(self._connections_seen), "coalesced": coalesced + shared,
               "batching_saved": batching, "releases": self._releases, "updated_at": self._clock()}
        update = CostUpdate(run, self._tier_figures(), self._endpoints, minutes)
        self._endpoints, self._pending_calls = {}, []
        return update

    def _lookups_since_write(self) -> dict[str, int]:
        out = {}
        for name, stats in self.tiers.items():
            hits, misses, evictions = _counts(stats)
            before = self._written[name]
            out[f"{name}_hits"], out[f"{name}_misses"] = hits - before[0], misses - before[1]
            self._written[name] = (hits, misses, evictions)
        return {name: count for name, count in out.items() if name in MINUTE_COUNTERS}

    def _tier_figures(self) -> dict[str, dict[str, Any]]:
        """Each tier's lookups since the run began, with the latency of those still remembered."""
        figures = {}
        for name, stats in self.tiers.items():
            hits, misses, evictions = _counts(stats)
            base = self._base[name]
            asked = hits + misses - base[0] - base[1]
            ordered = sorted(itertools.islice(reversed(stats.latencies_ms), asked))
            figures[name] = {"hits": hits - base[0], "misses": misses - base[1], "evictions": evictions - base[2],
                             "p50_ms": percentile(ordered, 0.50), "p95_ms": percentile(ordered, 0.95)}
        return figures


def _counts(stats: TierStats) -> tuple[int, int, int]:
    return stats.hits, stats.misses, stats.evictions
