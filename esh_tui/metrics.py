"""What the fetching costs, without Textual: the figures the panels show, read from the store's rollups.

A run writes its cost as it goes (storage/rollups.py), whichever process makes it, so the panels show a `track`
from cron in another process the same way as the dashboard's own run. Only what exists in this process alone
comes from its client: the requests in flight now and the latency of its last calls.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field

from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.rollups import hit_rate
from esh_tui.storage.store import Store, process_alive


@dataclass
class Snapshot:
    """Everything the panels show, gathered in one place so a refresh is one pass."""

    tiers: dict[str, dict] = field(default_factory=dict)  # memory/store: hits, misses, evictions, p50_ms, p95_ms
    recent_hit_rates: list[str] = field(default_factory=list)
    scope: str = "no run yet"  # which run the figures cover: "this run", "last run", "pid N's run (live)"…
    mode: str = "unknown"  # the app's API mode: batching exists only in extended mode
    api_calls: int = 0
    by_endpoint: list[tuple[str, int]] = field(default_factory=list)
    releases: int | None = None  # found by the run the figures cover (None: no run yet)
    batching_saved: int = 0
    coalesced: int = 0
    retries: int = 0
    rate_limited: int = 0
    in_flight: int | None = 0  # None: the run is another process's, whose pool this one cannot see
    bound: int = 0
    connections_opened: int = 0
    connections_reused: int = 0
    connections_seen: bool = False  # the transport tells about connections (the in-process simulator has none)
    api_p50_ms: float | None = None
    api_p95_ms: float | None = None
    latencies: deque = field(default_factory=lambda: deque(maxlen=60))
    stall_ms: float = 0.0


class Metrics:
    """Snapshots of the newest run's cost as the store has it, whoever makes it."""

    def __init__(self, client: SpotifyClient, store: Store, opened_at: float | None = None) -> None:
        self.client, self.store = client, store
        self.opened_at = time.time() if opened_at is None else opened_at  # runs begun since are "live" news

    def snapshot(self, stall_ms: float) -> Snapshot:
        """`stall_ms`: the longest event-loop stall, shown beside the figures."""
        newest = self.store.runs(1)
        if not newest:
            return Snapshot(mode=self.client.capabilities.mode, bound=self.client.limit.bound, stall_ms=stall_ms,
                            in_flight=self.client.limit.in_flight)
        run = newest[0]
        own = run.get("pid") in (None, os.getpid())
        cost = self.store.run_cost(run["id"]) or {}
        stats = self.client.stats() if own else None
        return Snapshot(
            tiers=self.store.cache_stats(run["id"]), recent_hit_rates=self.recent_hit_rates(),
            scope=self._scope(run, own), mode=run.get("mode") or self.client.capabilities.mode,
            api_calls=cost.get("calls") or 0, by_endpoint=list(cost.get("by_endpoint", {}).items()),
            releases=cost.get("releases"), batching_saved=cost.get("batching_saved") or 0,
            coalesced=cost.get("coalesced") or 0, retries=cost.get("retries") or 0,
            rate_limited=cost.get("rate_limited") or 0, in_flight=stats.in_flight if stats else None,
            bound=stats.bound if stats else 0, connections_opened=cost.get("opened") or 0,
            connections_reused=cost.get("reused") or 0, connections_seen=bool(cost.get("connections_seen")),
            api_p50_ms=cost.get("api_p50_ms"), api_p95_ms=cost.get("api_p95_ms"),
            latencies=deque((r.latency_ms for r in stats.recent[-60:]), maxlen=60) if stats else deque(maxlen=60),
            stall_ms=stall_ms,
        )

    def _scope(self, run: dict, own: bool) -> str:
        if run["status"] == "running":
            if own:
                return "this run"
            return f"pid {run['pid']}'s run (live)" if process_alive(run["pid"]) else f"pid {run['pid']}'s run (ended)"
        if own or run["started_at"] < self.opened_at:
            return "last run"
        return f"pid {run['pid']}'s last run"  # made while this dashboard was open, by another process

    def recent_hit_rates(self, runs: int = 5) -> list[str]:
        """The cache hit rate of each of the last runs, newest first ("—" for a run that asked nothing)."""
        rates = (hit_rate(self.store.cache_stats(run["id"])) for run in self.store.runs(runs))
        return [f"{100 * rate:.0f}%" if rate is not None else "—" for rate in rates]
