"""The memory tier: per-item expiry in front of the store, bounded, with its own statistics."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from cachetools import TLRUCache

_MISSING = object()


class TierStats:
    """Hits, misses, evictions and lookup latency of one tier."""

    def __init__(self, keep: int = 20_000):
        self.hits = self.misses = self.evictions = 0
        self.latencies_ms: deque[float] = deque(maxlen=keep)

    def observe(self, hit: bool, started_ns: int) -> None:
        self.latencies_ms.append((time.perf_counter_ns() - started_ns) / 1e6)
        if hit:
            self.hits += 1
        else:
            self.misses += 1

    @property
    def hit_rate(self) -> float | None:
        total = self.hits + self.misses
        return self.hits / total if total else None

    def snapshot(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {"hits": self.hits, "misses": self.misses, "evictions": self.evictions,
                "p50_ms": percentile(ordered, 0.50), "p95_ms": percentile(ordered, 0.95)}


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """The q-quantile of sorted values (the nearest rank at or below it); None for no values."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


class _CountingTLRU(TLRUCache):
    def __init__(self, maxsize: int, ttu, timer, on_evict: Callable[[], None]):
        super().__init__(maxsize, ttu, timer)
        self._on_evict = on_evict

    def popitem(self):
        item = super().popitem()
        self._on_evict()
        return item


class MemoryTier:
    """A bounded map whose items expire at the time each carries (`expires_at`, seconds on `clock`)."""

    def __init__(self, maxsize: int, clock: Callable[[], float] = time.time):
        self.stats, self.maxsize = TierStats(), maxsize
        self.enabled = maxsize > 0  # a size of 0 turns the tier off: no lookups, nothing kept, no statistics
        self._cache = _CountingTLRU(max(1, maxsize), lambda key, value, now: value[0], clock, self._evicted)

    def _evicted(self) -> None:
        self.stats.evictions += 1

    def get(self, key: Any, usable: Callable[[Any], bool] | None = None) -> Any:
        """The value, or None when absent, expired or not `usable` for this lookup (a miss)."""
        if not self.enabled:
            return None
        started = time.perf_counter_ns()
        entry = self._cache.get(key, _MISSING)
        hit = entry is not _MISSING and (usable is None or usable(entry[1]))
        self.stats.observe(hit, started)
        return entry[1] if hit else None

    def put(self, key: Any, value: Any, expires_at: float) -> None:
        if self.enabled:
            self._cache[key] = (expires_at, value)

    def drop(self, key: Any) -> None:
        self._cache.pop(key, None)

    def clear(self) -> None:
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)
