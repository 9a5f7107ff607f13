"""What the fetching costs, without Textual: the figures the panels show, from the client's stats and the store."""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field

from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.memory import percentile
from esh_tui.storage.store import Store


@dataclass
class Snapshot:
    """Everything the panels show, gathered in one place so a refresh is one pass."""

    tiers: dict[str, dict] = field(default_factory=dict)  # memory/store: hits, misses, evictions, p50_ms, p95_ms
    recent_hit_rates: list[str] = field(default_factory=list)
    scope: str = "since start"  # what the API figures cover: "this run", "last run" or "since start"
    mode: str = "unknown"  # the app's API mode: batching exists only in extended mode
    api_calls: int = 0
    by_endpoint: list[tuple[str, int]] = field(default_factory=list)
    releases: int | None = None  # found by the run the figures cover (None: no run yet)
    batching_saved: int = 0
    coalesced: int = 0
    retries: int = 0
    rate_limited: int = 0
    in_flight: int = 0
    bound: int = 0
    connections_opened: int = 0
    connections_reused: int = 0
    connections_seen: bool = False  # the transport tells about connections (the in-process simulator has none)
    api_p50_ms: float | None = None
    api_p95_ms: float | None = None
    latencies: deque = field(default_factory=lambda: deque(maxlen=60))
    stall_ms: float = 0.0


class Metrics:
    """Snapshots of the fetching: calls, endpoints, latency and connections count from the start of the current
    run; cache tiers, savings, retries and the pool's load as they stand; hit rates of the last runs."""

    def __init__(self, client: SpotifyClient, store: Store, cache: ReleaseCache) -> None:
        self.client, self.store, self.cache = client, store, cache
        self.run_started_at_call = 0  # the client's call count when the current run started
        self.run_ended_at_call: int | None = None  # and when it ended (calls after, such as searches, are not its)
        self.scope = "since start"
        self.own_run_started_at: float | None = None  # wall time this dashboard's last run began

    def start_run(self) -> None:
        self.run_started_at_call, self.run_ended_at_call = self.client.stats().calls, None
        self.scope = "this run"
        self.own_run_started_at = time.time()

    def end_run(self) -> None:
        self.run_ended_at_call, self.scope = self.client.stats().calls, "last run"

    def snapshot(self, releases: int | None, stall_ms: float) -> Snapshot:
        """`releases`: how many the run the figures cover found; `stall_ms`: the longest event-loop stall.
        When the newest run in the store is another process's (a `track` from cron), the API figures are its,
        read from the store as it writes them."""
        other = self._other_process_run()
        if other is not None:
            return self._stored_run_snapshot(other, stall_ms)
        stats = self.client.stats()
        records = stats.since(self.run_started_at_call)
        if self.run_ended_at_call is not None:
            records = records[:max(0, len(records) - (stats.calls - self.run_ended_at_call))]
        latencies = sorted(r.latency_ms for r in records)
        by_endpoint: dict[str, int] = {}
        for record in records:
            by_endpoint[record.template] = by_endpoint.get(record.template, 0) + 1
        return Snapshot(
            tiers={tier: tier_stats.snapshot() for tier, tier_stats in self.cache.stats.items()},
            recent_hit_rates=self.recent_hit_rates(), scope=self.scope, mode=stats.mode,
            api_calls=(self.run_ended_at_call if self.run_ended_at_call is not None else stats.calls)
            - self.run_started_at_call,
            by_endpoint=sorted(by_endpoint.items(), key=lambda kv: -kv[1]), releases=releases,
            batching_saved=stats.batching_saved, coalesced=stats.coalesced, retries=stats.retries,
            rate_limited=stats.rate_limited, in_flight=stats.in_flight, bound=stats.bound,
            connections_opened=sum(1 for r in records if r.new_connection),
            connections_reused=sum(1 for r in records if r.new_connection is False),
            connections_seen=any(r.new_connection is not None for r in records),
            api_p50_ms=percentile(latencies, 0.50), api_p95_ms=percentile(latencies, 0.95),
            latencies=deque((r.latency_ms for r in records[-60:]), maxlen=60), stall_ms=stall_ms,
        )

    def recent_hit_rates(self, runs: int = 5) -> list[str]:
        """The cache hit rate of each of the last runs, newest first ("—" for a run that asked nothing)."""
        rates = []
        for run in self.store.runs(runs):
            tiers = self.store.cache_stats(run["id"])
            memory, disk = tiers.get("memory", {}), tiers.get("store", {})
            asked = (memory.get("hits") or 0) + (memory.get("misses") or 0)
            hits = (memory.get("hits") or 0) + (disk.get("hits") or 0)
            rates.append(f"{100 * hits / asked:.0f}%" if asked else "—")
        return rates

    def _other_process_run(self) -> dict | None:
        """The newest run in the store if another process made it, after this dashboard's own last run began."""
        newest = self.store.runs(1)
        if not newest or newest[0].get("pid") in (None, os.getpid()):
            return None
        run = newest[0]
        return run if self.own_run_started_at is None or run["started_at"] >= self.own_run_started_at else None

    def _stored_run_snapshot(self, run: dict, stall_ms: float) -> Snapshot:
        figures = self.store.run_calls(run["id"])
        latencies = figures["latencies"]
        return Snapshot(
            tiers={tier: tier_stats.snapshot() for tier, tier_stats in self.cache.stats.items()},
            recent_hit_rates=self.recent_hit_rates(), scope=f"pid {run['pid']}'s run (live)" if run["status"] == "running" else f"pid {run['pid']}'s last run",
            mode=run.get("mode") or "unknown", api_calls=figures["calls"],
            by_endpoint=list(figures["by_endpoint"].items()), releases=run.get("releases") or None,
            retries=figures["retries"], rate_limited=figures["rate_limited"],
            connections_opened=figures["opened"], connections_reused=figures["reused"],
            connections_seen=figures["connections_seen"], api_p50_ms=percentile(latencies, 0.50),
            api_p95_ms=percentile(latencies, 0.95), stall_ms=stall_ms,
        )
