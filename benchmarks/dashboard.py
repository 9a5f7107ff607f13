"""The dashboard under load: time to first paint, the longest event-loop stall during a cold run of
1,000 artists on the in-process simulator, and peak memory.

The stall is measured inside the app: a 50 ms timer records how late it fires.

    python -m benchmarks.dashboard [--artists 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from esh_tui.config import load_settings
from esh_tui.runtime import Runtime
from esh_tui.sim.offline import offline_spotify
from esh_tui.storage.store import Store
from esh_tui.tui.app import WELCOME_SHOWN, EshApp

from benchmarks.world import TODAY



async def measure(artists: int, seed: int) -> dict:
    data = Path(tempfile.mkdtemp())
    settings = replace(load_settings({}, cwd=data), data_dir=data)
    offline = offline_spotify(settings, seed=seed, size=artists, today=TODAY)
    store = Store(data / "offline.db")
    catalog = offline.catalog
    store.add_artists((a.id, a.name, "bench") for a in catalog.real_artists())
    store.save_setting(WELCOME_SHOWN, True)  # the dashboard as it is used, not a first start's welcome over it
    runtime = Runtime(offline.settings, store, offline)
    started = time.perf_counter()
    app = EshApp(runtime, prefetch=False)
    app.started_at = started
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        first_paint = app.first_paint_s
        app.max_stall_ms = 0.0  # count the run only, not start-up
        run_started = time.perf_counter()
        await app.workers.wait_for_complete()
        run_seconds = time.perf_counter() - run_started
        await pilot.pause()
        app.dashboard.flush(all_rows=True)
        result = app.last_result
    return {"artists": artists, "first_paint_s": first_paint, "run_s": run_seconds,
            "api_calls": result.api_calls if result else None, "releases": len(result.releases) if result else None,
            "max_stall_ms": app.max_stall_ms, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artists", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    r = asyncio.run(measure(args.artists, args.seed))
    print(f"dashboard, cold run of {r['artists']} artists on the in-process simulator (development mode)")
    print("| first paint | cold run | API calls | releases | longest event-loop stall | peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {r['first_paint_s'] * 1000:.0f} ms | {r['run_s']:.1f} s | {r['api_calls']} | {r['releases']} | "
          f"{r['max_stall_ms']:.0f} ms | {r['peak_rss_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
