"""Building the dashboard for tests: a fixed date, a fixed clock, an isolated data directory."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from esh_tui.config import load_settings
from esh_tui.runtime import open_runtime
from esh_tui.sim.transport import SimTransport
from esh_tui.tui.app import EshApp
from esh_tui.metrics import Snapshot

TODAY = dt.date(2026, 11, 23)
NOW = 1_795_478_400.0  # 2026-11-23 20:00 UTC


class GatedTransport(SimTransport):
    """Holds every request whose URL contains `hold` until `gate` is set (a run frozen mid-way)."""

    def __init__(self, sim, hold: str):
        super().__init__(sim)
        self.hold, self.gate, self.reached = hold, asyncio.Event(), asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.hold in str(request.url):
            self.reached.set()
            await self.gate.wait()
        return await super().handle_async_request(request)


def runtime(gate_artist_index: int | None = None):
    rt = open_runtime(load_settings(), today=TODAY)
    gated = None
    if gate_artist_index is not None:
        artist_id = rt.store.artists()[gate_artist_index].id
        gated = GatedTransport(rt.offline.sim, f"/artists/{artist_id}/albums")
        rt.offline.transport = gated
    return rt, gated


class FrozenMetricsApp(EshApp):
    """Latency figures, the ETA and a running run's call counts vary run to run; snapshots show fixed ones (the real
    ones are tested elsewhere)."""

    SHOW_ETA = False

    def snapshot(self) -> Snapshot:
        real = super().snapshot()
        if self.running:  # how far a run has got when the snapshot is taken depends on the machine's load
            real.api_calls, real.by_endpoint = 36, [("GET /artists/{id}/albums", 12)]
        return Snapshot(tiers={"memory": {"hits": 0, "misses": 118, "evictions": 0, "p50_ms": 0.004, "p95_ms": 0.009},
                               "store": {"hits": 0, "misses": 118, "evictions": 0, "p50_ms": 0.05, "p95_ms": 0.2}},
                        recent_hit_rates=["0%"], scope=real.scope, mode=real.mode, api_calls=real.api_calls,
                        by_endpoint=real.by_endpoint, connections_seen=real.connections_seen,
                        releases=real.releases, batching_saved=real.batching_saved, coalesced=real.coalesced,
                        retries=0, rate_limited=0, in_flight=0, bound=8, connections_opened=0,
                        connections_reused=0, api_p50_ms=1.0, api_p95_ms=2.0)


def make_app(gate_artist_index: int | None = None, frozen: bool = False, **options) -> tuple[EshApp, GatedTransport | None]:
    rt, gated = runtime(gate_artist_index)
    cls = FrozenMetricsApp if frozen else EshApp
    app = cls(rt, prefetch=False, clock=lambda: NOW, **options)
    if gate_artist_index is not None:
        app.tracker.artist_concurrency = 1  # one artist at a time: everything before the gate is done
    return app, gated


async def settle(app, pilot):
    """Wait for the app's workers, then apply queued engine events."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.dashboard.flush(all_rows=True)
    await pilot.pause()


def seed_history(store, days: int = 12) -> None:
    """Runs of the `days` days before NOW, one a day, each with its cost: a cold start, then cheap refreshes."""
    from esh_tui.storage import rollups

    for day in range(days):
        started = NOW - (days - day) * 86400 + 3600
        calls = 900 if day == 0 else 40 + 7 * (day % 4)
        releases = 300 if day == 0 else day % 3
        run_id = store.db["runs"].insert({"started_at": started, "finished_at": started + 60, "cutoff": "2026-08-25",
                                          "forced": 0, "status": "ok", "mode": "development", "artists": 12,
                                          "api_calls": calls, "releases": releases}).last_pk
        hits = 0 if day == 0 else 100 - 5 * (day % 3)
        with store.transaction():
            rollups.write(store.db, run_id, rollups.CostUpdate(
                run={"calls": calls, "releases": releases},
                tiers={"memory": {"hits": hits, "misses": 100 - hits, "evictions": 0, "p50_ms": None, "p95_ms": None},
                       "store": {"hits": 0, "misses": 100 - hits, "evictions": 0, "p50_ms": None, "p95_ms": None}},
                endpoints={("GET /artists/{id}/albums", "200"): (calls, 30.0 * calls)},
                minutes={int(started // 60 * 60): {"calls": calls, "releases": releases}}))
            store.db.conn.executemany(
                "INSERT INTO releases (key, track_id, release_date, first_seen_run, first_seen_at) VALUES (?, ?, ?, ?, ?)",
                [(f"seed-{run_id}-{i}", f"t{run_id}-{i}", "2026-11-01", run_id, started) for i in range(releases)])
