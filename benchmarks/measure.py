"""One engine run, measured: calls by endpoint, redundancy, batching, cache tiers, connections, time,
memory, and correctness against the oracle."""

from __future__ import annotations

import os
import resource
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

from esh_tui.sim import oracle
from esh_tui.spotify.client import BATCH
from esh_tui.storage.memory import TierStats

from benchmarks.world import Session, World

BATCH_TEMPLATES = {f"GET /{kind}": (kind, size) for kind, size in BATCH.items()}


class PeakRss:
    """This process's resident memory, sampled every few milliseconds by a thread while a run goes on.

    (tracemalloc would see Python objects exactly, but it slows the engine down several times, and
    the wall times measured alongside would be wrong.)"""

    def __init__(self, every: float = 0.005):
        self.every, self.start = every, _rss()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="esh-bench-rss", daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):  # not Linux: the lifetime peak is the best there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def redundant(records) -> tuple[int, int]:
    """(requests, items): the same (method, URL) answered successfully more than once in the run, and ids
    fetched more than once through batch endpoints (a repeat hidden inside different batches)."""
    urls = Counter((r.template.split(" ", 1)[0], r.url) for r in records if r.status in (200, 201) and r.url)
    items: Counter[tuple[str, str]] = Counter()
    for r in records:
        if r.status == 200 and r.template in BATCH_TEMPLATES and r.url:
            for item_id in _ids(r.url):
                items[(r.template, item_id)] += 1
    return sum(n - 1 for n in urls.values()), sum(n - 1 for n in items.values())


def _ids(url: str) -> list[str]:
    raw = parse_qs(urlsplit(url).query).get("ids", [""])[-1]
    return [i for i in raw.split(",") if i]


def batching(records) -> dict[str, Any]:
    calls = items = capacity = 0
    for r in records:
        if r.status == 200 and r.template in BATCH_TEMPLATES and r.url:
            n = len(_ids(r.url))
            calls += 1
            items += n
            capacity += BATCH_TEMPLATES[r.template][1]
    return {"calls": calls, "items": items, "saved": items - calls, "fill_ratio": _rate(items, capacity)}


def tier(stats: TierStats) -> dict[str, Any]:
    snapshot = stats.snapshot()
    lookups = stats.hits + stats.misses
    return {"hits": stats.hits, "misses": stats.misses, "lookups": lookups, "hit_rate": _rate(stats.hits, lookups),
            "p50_ms": snapshot["p50_ms"], "p95_ms": snapshot["p95_ms"]}


def correctness(releases, expected: dict) -> dict[str, Any]:
    got = {r.key: r for r in releases}
    right = sum(1 for k, r in got.items() if k in expected and
                (r.track_id, r.album_id, r.release_date) == (expected[k].track_id, expected[k].album_id,
                                                             expected[k].release_date))
    return {"expected": len(expected), "found": len(got), "correct": right,
            "precision": right / len(got) if got else 1.0, "recall": right / len(expected) if expected else 1.0}


async def measure_run(world: World, session: Session, *, minimum: int | None, force: bool = False,
                      artist_ids: list[str] | None = None) -> dict[str, Any]:
    """Run the tracker once and return its figures. `minimum`: the oracle's fewest calls (None: not compared)."""
    cache = session.cache
    cache.memory.stats, cache.store_stats = TierStats(), TierStats()  # this run's lookups only
    client, tracker = session.client, session.tracker
    first_record = len(session.records)
    flights_before, shared_before = client.flights.saved, tracker.fetches_shared
    server_before = world.stats()
    ids = artist_ids or world.ids
    cutoff = world.cutoff
    with PeakRss() as rss:
        started = time.perf_counter()
        result = await tracker.run(cutoff, ids, force=force)
        wall = time.perf_counter() - started
    server_after = world.stats()
    records = session.records[first_record:]
    expected = oracle.expected_releases(world.catalog, ids, cutoff)
    calls = len(records)
    by_endpoint = Counter(r.template for r in records)
    by_status = Counter(str(r.status) for r in records)
    red_requests, red_items = redundant(records)
    batch = batching(records)
    memory, store = tier(cache.memory.stats), tier(cache.store_stats)
    lookups = memory["hits"] + store["lookups"]
    connections = (server_after["connections"] - server_before["connections"]
                   if server_after["connections"] is not None else None)
    return {
        "status": result.status,
        "today": world.catalog.today.isoformat(),
        "cutoff": cutoff.isoformat(),
        "artists": len(ids),
        "artists_fetched": result.artists_fetched,
        "artists_cached": result.artists_cached,
        "artists_failed": len(result.failed),
        "api_calls": calls,
        "api_calls_counted_by_simulator": server_after["api_calls"] - server_before["api_calls"],
        "calls_by_endpoint": dict(sorted(by_endpoint.items())),
        "calls_by_status": dict(sorted(by_status.items())),
        "retries": sum(r.retried for r in records),
        "faults_injected": server_after["faults_injected"] - server_before["faults_injected"],
        "oracle_minimum": minimum,
        "ratio_to_minimum": calls / minimum if minimum else None,
        "releases": len(result.releases),
        "calls_per_release": _rate(calls, len(result.releases)),
        "redundant_requests": red_requests,
        "redundant_items": red_items,
        "saved": {"single_flight": client.flights.saved - flights_before,
                  "shared_in_run": tracker.fetches_shared - shared_before,
                  "batching": batch["saved"]},
        "batch": batch,
        "cache": {"memory": memory if session.cache.memory.enabled else None, "store": store,
                  "hit_rate": _rate(memory["hits"] + store["hits"], lookups), "misses": store["misses"]},
        "connections_opened": connections,
        "wall_s": wall,
        "peak_rss_mb": rss.peak / 2**20,
        "rss_growth_mb": (rss.peak - rss.start) / 2**20,
        "correctness": correctness(result.releases, expected),
    }


def minimum_calls(world: World, knowledge: oracle.Knowledge | None = None) -> int:
    return oracle.minimum_calls(world.catalog, world.ids, world.cutoff, world.mode, knowledge).total


def learn(world: World, knowledge: oracle.Knowledge) -> None:
    knowledge.learn(world.catalog, world.ids, world.cutoff)
