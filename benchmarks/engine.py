"""The engine's cost against the oracle: cold, hot (within the TTL) and weekly runs, per API mode.

API calls are counted by the simulator, so they are the same on every machine.
Wall time is measured on the loopback server with realistic latency.

    python -m benchmarks.engine [--artists 100] [--seed 1] [--weeks 4] [--latency-ms 50] [--jitter-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

from esh_tui.config import Settings
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.server import SimServer
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker

TODAY = dt.date(2026, 11, 23)
DAYS = 90


class Bench:
    def __init__(self, catalog: Catalog, mode: str, store_path: Path, server: SimServer | None = None):
        self.catalog, self.mode, self.path, self.server = catalog, mode, store_path, server
        self.now = 1_800_000_000.0
        self.sim = server.sim if server else SimSpotify(catalog, SimConfig(mode=mode))
        self.ids = [a.id for a in catalog.artists.values() if a.profile != "various"]

    async def run(self, force: bool = False) -> tuple[int, float, int, bool]:
        store = Store(self.path)
        store.add_artists((i, self.catalog.artists[i].name, "bench") for i in self.ids)
        if self.server:
            settings = Settings(data_dir=self.path.parent, api_url=self.server.api_url, accounts_url=self.server.url,
                                client_id="bench", client_secret="bench")
            client = SpotifyClient(settings, clock=lambda: self.now)
        else:
            settings = Settings(data_dir=self.path.parent, client_id="bench", client_secret="bench")
            client = SpotifyClient(settings, SimTransport(self.sim), clock=lambda: self.now)
        before = self.sim.calls()
        started = time.perf_counter()
        async with client:
            tracker = Tracker(client, store, ReleaseCache(store, clock=lambda: self.now), today=lambda: self.catalog.today)
            result = await tracker.run(self.catalog.today - dt.timedelta(days=DAYS), self.ids, force=force)
        wall = time.perf_counter() - started
        expected = oracle.expected_releases(self.catalog, self.ids, self.catalog.today - dt.timedelta(days=DAYS))
        correct = {r.key for r in result.releases} == set(expected)
        store.close()
        return self.sim.calls() - before, wall, len(result.releases), correct

    def advance(self, days: int) -> None:
        self.catalog.advance(days)
        self.now += days * 86_400


async def measure(seed: int, size: int, weeks: int) -> list[dict]:
    rows = []
    for mode in ("development", "extended"):
        catalog = Catalog.generate(seed, size, TODAY)
        bench = Bench(catalog, mode, Path(tempfile.mkdtemp()) / "esh.db")
        cutoff = catalog.today - dt.timedelta(days=DAYS)
        bound = oracle.minimum_calls(catalog, bench.ids, cutoff, mode).total
        calls, wall, releases, ok = await bench.run()
        rows.append({"mode": mode, "run": "cold", "calls": calls, "bound": bound, "releases": releases, "correct": ok})
        bench.now += 3600
        calls, wall, releases, ok = await bench.run()
        rows.append({"mode": mode, "run": "hot (1 h later)", "calls": calls, "bound": 0, "releases": releases, "correct": ok})
        knowledge = oracle.Knowledge().learn(catalog, bench.ids, cutoff)
        for week in range(2, weeks + 1):
            bench.advance(7)
            cutoff = catalog.today - dt.timedelta(days=DAYS)
            bound = oracle.minimum_calls(catalog, bench.ids, cutoff, mode, knowledge).total
            calls, wall, releases, ok = await bench.run(force=True)
            rows.append({"mode": mode, "run": f"week {week} (all artists)", "calls": calls, "bound": bound,
                         "releases": releases, "correct": ok})
            knowledge.learn(catalog, bench.ids, cutoff)
    return rows


def loopback_wall(seed: int, size: int, latency_ms: float, jitter_ms: float) -> list[dict]:
    rows = []
    for mode in ("development", "extended"):
        catalog = Catalog.generate(seed, size, TODAY)
        sim = SimSpotify(catalog, SimConfig(mode=mode, latency_ms=latency_ms, jitter_ms=jitter_ms, seed=seed))
        server = SimServer(sim).start_in_thread()
        try:
            bench = Bench(catalog, mode, Path(tempfile.mkdtemp()) / "esh.db", server)
            calls, wall, releases, ok = asyncio.run(bench.run())
            rows.append({"mode": mode, "calls": calls, "wall_s": wall, "connections": server.connections_accepted,
                         "releases": releases, "correct": ok})
        finally:
            server.stop_thread()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artists", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--jitter-ms", type=float, default=20.0)
    args = parser.parse_args()
    print(f"seed {args.seed}, {args.artists} artists, today {TODAY}, last {DAYS} days")
    print(f"| mode | run | API calls | oracle minimum | ratio | releases | correct |")
    print(f"|---|---|---:|---:|---:|---:|---|")
    for r in asyncio.run(measure(args.seed, args.artists, args.weeks)):
        ratio = f"{r['calls'] / r['bound']:.2f}" if r["bound"] else "-"
        print(f"| {r['mode']} | {r['run']} | {r['calls']} | {r['bound']} | {ratio} | {r['releases']} | {r['correct']} |")
    print()
    print(f"cold run on the loopback server, {args.latency_ms:g} ms ± {args.jitter_ms:g} ms latency:")
    print("| mode | API calls | wall s | TCP connections | releases | correct |")
    print("|---|---:|---:|---:|---:|---|")
    for r in loopback_wall(args.seed, args.artists, args.latency_ms, args.jitter_ms):
        print(f"| {r['mode']} | {r['calls']} | {r['wall_s']:.2f} | {r['connections']} | {r['releases']} | {r['correct']} |")


if __name__ == "__main__":
    main()
