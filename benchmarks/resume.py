"""A cold run stopped by the daily quota, then resumed the next day: what the stop costs, against one clean run.

A user's first run over a large library meets the daily quota about half way
(`SimConfig(quota=...)`), and the next day's run finishes the job. Both runs'
calls together are compared with one clean cold run's; the resumed output is
checked against the clean run's and the oracle's.

    python -m benchmarks.resume [--artists 100] [--seed 1] [--out benchmarks/results]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from pathlib import Path

from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog

from benchmarks import widening
from benchmarks.widening import _run
from benchmarks.world import DAY, DAYS, TODAY


def measure(mode: str, artists: int, seed: int, share: float = 0.5, latency_ms: float = 20.0,
            sleep=asyncio.sleep) -> dict:
    """Calls of a clean cold run, and of a cold run stopped by a quota of `share` of that, plus its resumption.
    With answers taking `latency_ms` (± half), many requests and artists are in flight when the quota runs out;
    `sleep` waits out that latency (tests pass one that only yields, so nothing really waits)."""
    knobs = {"mode": mode, "latency_ms": latency_ms, "jitter_ms": latency_ms / 2}
    catalog = Catalog.generate(seed, artists, TODAY)
    ids = [a.id for a in catalog.real_artists()]
    want = oracle.expected_releases(catalog, ids, catalog.today - dt.timedelta(days=DAYS))
    with tempfile.TemporaryDirectory() as tmp:
        clean, clean_calls = asyncio.run(_run(SimSpotify(catalog, SimConfig(**knobs)), catalog,
                                              Path(tmp) / "clean.db", ids, DAYS, False, sleep))
        sim_now = [0.0]  # the simulator's day is its own: a day later its quota is fresh, the store's clock is not moved
        quota = int(clean_calls * share)
        sim = SimSpotify(catalog, SimConfig(**knobs, quota=quota), clock=lambda: sim_now[0])
        stopped, stopped_calls = asyncio.run(_run(sim, catalog, Path(tmp) / "esh.db", ids, DAYS, False, sleep))
        refused = sim.calls(status=429)  # on the wire when the quota ran out: asked again the next day
        sim_now[0] += DAY
        sim.config.quota = None  # the next day, with quota enough
        resumed, resumed_calls = asyncio.run(_run(sim, catalog, Path(tmp) / "esh.db", ids, DAYS, False, sleep))
    keys = {r.key for r in resumed.releases}
    total = stopped_calls + resumed_calls
    return {"mode": mode, "artists": len(ids), "seed": seed, "quota": quota, "clean_calls": clean_calls,
            "stopped_status": stopped.status, "stopped_calls": stopped_calls, "refused": refused,
            "resumed_status": resumed.status, "resumed_calls": resumed_calls, "total_calls": total,
            "overhead": round(total / clean_calls - 1, 4),
            "answered_overhead": round((total - refused) / clean_calls - 1, 4),
            "same_as_clean": keys == {r.key for r in clean.releases}, "exact": keys == set(want),
            "releases": len(keys), "expected": len(want)}


def report(results: list[dict]) -> str:
    lines = ["# A cold run stopped by the daily quota, then resumed",
             "", "`python -m benchmarks.resume`: the quota is half a clean cold run's calls; "
                 "the resumed output is checked against the clean run and the oracle.", "",
             "Calls are every request the simulator saw; the stopped run's include those it refused with the",
             "quota's 429 (they were on the wire when it ran out). The overhead of the calls answered leaves those out.",
             "",
             "| mode | artists | clean run | stopped run (429s) | resumed run | together | overhead | answered overhead "
             "| exact |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    lines += [f"| {r['mode']} | {r['artists']} | {r['clean_calls']} | {r['stopped_calls']} ({r['refused']}) | "
              f"{r['resumed_calls']} | {r['total_calls']} | {r['overhead']:+.1%} | {r['answered_overhead']:+.1%} | "
              f"{'yes' if r['exact'] and r['same_as_clean'] else 'NO'} |" for r in results]
    return "\n".join(lines)


def main() -> None:
    widening.main("resume", __doc__, measure, report)


if __name__ == "__main__":
    main()
