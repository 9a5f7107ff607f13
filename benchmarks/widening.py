"""Windows over one store: what narrowing and widening cost, against the oracle.

A user runs `track --days 14` (cold), then `--days 90` (widening), then
`--days 14 --force-refresh` (narrowing, asking Spotify again), then `--days 90`
once more. Each run's output is checked against the oracle; the widening run's
calls are compared with the fewest a perfect tracker needs knowing what the
14-day run learned, and with the oracle's cold cost for 90 days.

    python -m benchmarks.widening [--artists 100] [--seed 1] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import tempfile
from pathlib import Path

from esh_tui.config import Settings
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker

from benchmarks.world import TODAY

NOW = 1_800_000_000.0
STEPS = (("cold, 14 days", 14, False), ("widen to 90 days", 90, False), ("narrow to 14, forced", 14, True),
         ("90 days again", 90, False))


async def _run(sim: SimSpotify, catalog: Catalog, path: Path, ids: list[str], days: int, force: bool,
               sleep=asyncio.sleep):
    store = Store(path)
    store.add_artists((i, catalog.artists[i].name, "bench") for i in ids)
    settings = Settings(data_dir=path.parent, client_id="bench", client_secret="bench-secret")
    before = sim.calls()
    try:
        async with SpotifyClient(settings, SimTransport(sim, sleep=sleep), clock=lambda: NOW) as client:
            tracker = Tracker(client, store, ReleaseCache(store, clock=lambda: NOW), today=lambda: catalog.today)
            result = await tracker.run(catalog.today - dt.timedelta(days=days), ids, force=force)
    finally:
        store.close()
    return result, sim.calls() - before


def measure(mode: str, artists: int, seed: int) -> dict:
    catalog = Catalog.generate(seed, artists, TODAY)
    ids = [a.id for a in catalog.real_artists()]
    sim = SimSpotify(catalog, SimConfig(mode=mode))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, days, force in STEPS:
            result, calls = asyncio.run(_run(sim, catalog, Path(tmp) / "esh.db", ids, days, force))
            want = oracle.expected_releases(catalog, ids, catalog.today - dt.timedelta(days=days))
            rows.append({"run": label, "days": days, "forced": force, "releases": len(result.releases),
                         "expected": len(want), "exact": {r.key for r in result.releases} == set(want), "calls": calls})
    cutoff14, cutoff90 = (catalog.today - dt.timedelta(days=d) for d in (14, 90))
    knew = oracle.Knowledge().learn(catalog, ids, cutoff14)
    widen_min = oracle.minimum_calls(catalog, ids, cutoff90, mode, knew).total
    cold90 = oracle.minimum_calls(catalog, ids, cutoff90, mode).total
    widen = rows[1]["calls"]
    return {"mode": mode, "artists": len(ids), "seed": seed, "runs": rows, "widening_calls": widen,
            "widening_minimum": widen_min, "cold_90_minimum": cold90,
            "widening_vs_minimum": round(widen / widen_min, 3), "widening_vs_cold_90": round(widen / cold90, 3)}


def report(results: list[dict]) -> str:
    lines = ["# Windows over one store", "",
             "`python -m benchmarks.widening`: one store, four runs; every output checked against the oracle.", ""]
    for r in results:
        lines += [f"## {r['mode']} mode, {r['artists']} artists, seed {r['seed']}", "",
                  "| run | releases | oracle | exact | API calls |", "|---|---:|---:|---|---:|"]
        lines += [f"| {row['run']} | {row['releases']} | {row['expected']} | {'yes' if row['exact'] else 'NO'} | "
                  f"{row['calls']} |" for row in r["runs"]]
        lines += ["", f"Widening 14 → 90 days: {r['widening_calls']} calls; the fewest a perfect tracker needs "
                      f"knowing the 14-day run: {r['widening_minimum']} ({r['widening_vs_minimum']:.2f}x); "
                      f"the oracle's cold minimum for 90 days: {r['cold_90_minimum']} "
                      f"({r['widening_vs_cold_90']:.2f}x).", ""]
    return "\n".join(lines)


def main(name: str = "widening", doc: str = __doc__, measure=measure, report=report) -> None:
    """The command line of this benchmark, and of others measuring both modes the same way: `name`.json and .md."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--artists", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    results = [measure(mode, args.artists, args.seed) for mode in ("development", "extended")]
    text = report(results)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / f"{name}.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
