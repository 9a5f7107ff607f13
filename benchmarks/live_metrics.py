"""How far behind the store a watching dashboard sees another process's run: the lag of the cost rollups.

A `track` subprocess makes a cold run against the loopback simulator (in this process, in a thread, so every
answered call is counted as it is answered). Every 50 ms this process reads the run's calls from the store, as
the dashboard's panels do, and notes how old that figure is: the time since the simulator had answered one call
more than the store shows. The panels refresh once a second on top of that.

    python -m benchmarks.live_metrics [--artists 60] [--latency-ms 30] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.server import SimServer
from esh_tui.storage.store import Store

PANEL_REFRESH_S = 1.0  # tui/screens/dashboard.py METRICS_EVERY


def measure(artists: int, latency_ms: float, mode: str = "development") -> dict:
    catalog = Catalog.generate(1, artists, dt.date.today())
    ids = [a.id for a in catalog.real_artists()]
    spotify = SimSpotify(catalog, SimConfig(mode=mode, latency_ms=latency_ms, jitter_ms=latency_ms / 2))
    server = SimServer(spotify).start_in_thread()
    answered: list[tuple[float, int]] = []  # (when, calls answered by then), sampled with the store
    staleness: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            store = Store(data / "esh.db")
            store.add_artists((i, catalog.artists[i].name, "benchmark") for i in ids)
            env = dict(os.environ, ESH_API_URL=server.api_url, ESH_ACCOUNTS_URL=server.url, ESH_DATA_DIR=str(data),
                       ESH_CONFIG_DIR=str(data / "config"), SPOTIFY_CLIENT_ID="esh-benchmark",
                       SPOTIFY_CLIENT_SECRET="esh-benchmark-secret")
            started = time.time()
            track = subprocess.Popen([sys.executable, "-m", "esh_tui", "track", "--format", "ids"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            while track.poll() is None:
                now, made = time.time(), spotify.calls()
                answered.append((now, made))
                runs = store.runs(1)
                shown = ((store.run_cost(runs[0]["id"]) or {}).get("calls", 0) if runs else 0)
                # the store misses the calls answered after the first one it does not show
                behind = next((when for when, count in answered if count > shown), None)
                staleness.append(now - behind if behind is not None else 0.0)
                time.sleep(0.05)
            wall = time.time() - started
            run = store.runs(1)[0]
            final = store.run_cost(run["id"])["calls"]
            store.close()
            if track.returncode != 0:
                raise SystemExit(track.stderr.read())
    finally:
        server.stop_thread()
    ordered = sorted(staleness)
    return {"mode": mode, "artists": len(ids), "latency_ms": latency_ms, "calls": final, "wall_s": round(wall, 2),
            "samples": len(ordered), "store_lag_p50_s": round(ordered[len(ordered) // 2], 3),
            "store_lag_p95_s": round(ordered[int(len(ordered) * 0.95)], 3), "store_lag_max_s": round(ordered[-1], 3),
            "panel_lag_max_s": round(ordered[-1] + PANEL_REFRESH_S, 3)}


def report(result: dict) -> str:
    return "\n".join([
        "# How far behind a watching dashboard sees another process's run",
        "", "`python -m benchmarks.live_metrics`: a `track` subprocess's cold run against the loopback simulator;",
        "the store's figure of its calls is sampled every 50 ms. Lag: how long ago the first call the store does",
        "not show yet was answered. The panels read the store once a second, so they lag by at most one second more.",
        "", "| mode | artists | latency | calls | wall | store lag p50 | p95 | max | panels, at most |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {result['mode']} | {result['artists']} | {result['latency_ms']:.0f} ms | {result['calls']} | "
        f"{result['wall_s']} s | {result['store_lag_p50_s']} s | {result['store_lag_p95_s']} s | "
        f"{result['store_lag_max_s']} s | {result['panel_lag_max_s']} s |"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artists", type=int, default=60)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    result = measure(args.artists, args.latency_ms)
    text = report(result)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "live_metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "live_metrics.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
