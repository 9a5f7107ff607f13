"""The benchmark suite: scenarios (cold, hot, weekly, faulty) and the ablation of every optimization.

Scenarios run the engine as shipped (every optimization on) against a
simulated Spotify, both API modes. The ablation runs one workload per
configuration: the naive baseline (every `EngineOptions` switch off), each
optimization switched on alone, and all together. The workload exercises every
switch:

1. cold: an empty store, every artist fetched (pooling, batching, parallelism, single-flight);
2. hot: an hour later in the same process (memory tier, composite index: lookups only);
3. an idle day with the dashboard open (prefetching, within its budget, once a simulated minute),
   then an interactive refresh 25 hours after the cold run (prefetch, activity-based TTL);
4. weekly: four weekly runs, each in a new process, the first 8 days after the cold run, every artist
   due each time (incremental runs, listing only down to the cutoff).

A month of use, as a weekly cron job plus a day with the dashboard open would see it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from dataclasses import asdict
from typing import Any, Callable

from esh_tui.sim import oracle
from esh_tui.tracker.options import EngineOptions
from esh_tui.tracker.prefetch import Prefetcher

from benchmarks.measure import learn, measure_run, minimum_calls
from benchmarks.world import DAY, DAYS, HOUR, Session, TODAY, World, catalog_for, make_world, tracked_ids

SIZES = {"small": 10, "medium": 100, "large": 1_000, "scale": 10_000}
MODES = ("development", "extended")
SCENARIOS = ("cold", "hot", "weekly", "faulty")
ABLATION_WEEKS = 4
FAULTY_TIMEOUT_S = 2.0  # the client's timeout in the faulty scenario (the simulator holds a "timeout" for 30 s)


def faulty_rate_limit(minimum: int) -> int:
    """A rate limit that bites: per rolling 30 s, half of what even a perfect cold run needs."""
    return max(30, minimum // 2)


def configurations() -> list[tuple[str, EngineOptions]]:
    rows = [("naive", EngineOptions.naive())]
    rows += [(f"+ {name}", EngineOptions.only(name)) for name in EngineOptions.names()]
    rows.append(("all (default)", EngineOptions()))
    return rows


# ----- scenarios: the engine as shipped ------------------------------------------------------------------

async def run_scenarios(size: str, mode: str, *, transport: str, latency_ms: float, jitter_ms: float,
                        weeks: int, scenarios: tuple[str, ...], seed: int, log: Callable[[str], None]) -> dict:
    catalog = catalog_for(seed, SIZES[size])
    options = EngineOptions()
    out: dict[str, Any] = {}
    if {"cold", "hot", "weekly"} & set(scenarios):
        with make_world(transport, catalog, mode, latency_ms=latency_ms, jitter_ms=jitter_ms) as world:
            knowledge = oracle.Knowledge()
            async with Session(world, options) as first:
                log(f"{size} {mode}: cold")
                out["cold"] = await measure_run(world, first, minimum=minimum_calls(world))
                learn(world, knowledge)
                if "hot" in scenarios:
                    world.wait(HOUR)
                    log(f"{size} {mode}: hot, same process")
                    out["hot_same_process"] = await measure_run(world, first, minimum=0)
            if "hot" in scenarios:
                world.wait(HOUR)
                async with Session(world, options) as second:
                    log(f"{size} {mode}: hot, new process")
                    out["hot"] = await measure_run(world, second, minimum=0)
            if "weekly" in scenarios:
                out["weekly"] = []
                for week in range(1, weeks + 1):
                    world.advance(7)
                    async with Session(world, options) as session:
                        log(f"{size} {mode}: week {week}")
                        out["weekly"].append(await measure_run(world, session, minimum=minimum_calls(world, knowledge)))
                    learn(world, knowledge)
                out["weekly_total"] = _totals(out["weekly"])
    return out


async def run_faulty(size: str, mode: str, *, transport: str, latency_ms: float, jitter_ms: float, seed: int,
                     log: Callable[[str], None]) -> dict:
    """A cold run while 5% of requests fail (500, 502, 503, timeouts, dropped connections) under a tight rate limit."""
    catalog = catalog_for(seed, SIZES[size])
    minimum = oracle.minimum_calls(catalog, tracked_ids(catalog), catalog.today - dt.timedelta(days=DAYS), mode).total
    knobs = dict(latency_ms=latency_ms, jitter_ms=jitter_ms, rate_limit=faulty_rate_limit(minimum), fault_rate=0.05)
    with make_world(transport, catalog, mode, **knobs) as world:
        async with Session(world, EngineOptions(), timeout=FAULTY_TIMEOUT_S) as session:
            log(f"{size} {mode}: faulty cold run (5% faults, {knobs['rate_limit']} requests / 30 s)")
            out = await measure_run(world, session, minimum=minimum)
            out["world"] = world.describe() | {"client_timeout_s": FAULTY_TIMEOUT_S}
    return out


def _totals(runs: list[dict]) -> dict[str, Any]:
    calls = sum(r["api_calls"] for r in runs)
    minimum = sum(r["oracle_minimum"] or 0 for r in runs)
    releases = sum(r["releases"] for r in runs)
    return {"runs": len(runs), "api_calls": calls, "oracle_minimum": minimum,
            "ratio_to_minimum": calls / minimum if minimum else None,
            "redundant_requests": sum(r["redundant_requests"] for r in runs),
            "wall_s": sum(r["wall_s"] for r in runs),
            "precision": min(r["correctness"]["precision"] for r in runs),
            "recall": min(r["correctness"]["recall"] for r in runs),
            "releases": releases}


# ----- the ablation -----------------------------------------------------------------------------------------

async def run_workload(world: World, options: EngineOptions) -> dict[str, Any]:
    """The ablation workload (see the module docstring) for one configuration; figures per phase."""
    phases: dict[str, Any] = {}
    knowledge = oracle.Knowledge()
    start = world.now
    async with Session(world, options) as session:
        phases["cold"] = await measure_run(world, session, minimum=minimum_calls(world))
        learn(world, knowledge)
        world.wait(HOUR)
        phases["hot"] = await measure_run(world, session, minimum=0)
        # An idle day with the dashboard open: the prefetcher gets a turn every simulated minute.
        prefetcher = Prefetcher(session.tracker, lambda: world.cutoff, clock=world.clock)
        first_record, started = len(session.records), time.perf_counter()
        while world.now + 60 < start + 25 * HOUR:
            world.wait(60)
            if world.now >= start + DAY and world.catalog.today == TODAY:
                world.advance(1, clock=False)  # a day's new releases appear
            if options.prefetch:
                await prefetcher.run_once()
        prefetch_records = session.records[first_record:]
        phases["prefetch"] = {"api_calls": len(prefetch_records), "artists_refreshed": prefetcher.refreshed,
                              "wall_s": time.perf_counter() - started}
        world.now = start + 25 * HOUR
        phases["refresh"] = await measure_run(world, session, minimum=None)
        learn(world, knowledge)
    for week in range(1, ABLATION_WEEKS + 1):
        world.advance(7)  # the first a week after the refresh: day 8, every artist due whatever its freshness
        async with Session(world, options) as session:
            phases[f"week {week}"] = await measure_run(world, session, minimum=minimum_calls(world, knowledge))
        learn(world, knowledge)
    return phases


def ablation_row(label: str, options: EngineOptions, phases: dict[str, Any]) -> dict[str, Any]:
    runs = {k: v for k, v in phases.items() if k != "prefetch"}
    calls = {k: v["api_calls"] for k, v in phases.items()}
    weekly = _totals([v for k, v in runs.items() if k.startswith("week ")])
    hot_cache = phases["hot"]["cache"]
    return {
        "config": label,
        "options": asdict(options),
        "api_calls": calls | {"weekly": weekly["api_calls"]},
        "api_calls_total": sum(calls.values()),
        "oracle_minimum": {k: v["oracle_minimum"] for k, v in runs.items()},
        "weekly": weekly,
        "wall_s": {k: v["wall_s"] for k, v in phases.items()} | {"weekly": weekly["wall_s"]},
        "connections_opened": _sum_or_none(v["connections_opened"] for v in runs.values()),
        "redundant_requests": sum(v["redundant_requests"] for v in runs.values()),
        "redundant_items": sum(v["redundant_items"] for v in runs.values()),
        "saved": {key: sum(v["saved"][key] for v in runs.values()) for key in ("single_flight", "shared_in_run", "batching")},
        "batch_fill_ratio": phases["cold"]["batch"]["fill_ratio"],
        "hot_lookups": {"memory_p50_ms": (hot_cache["memory"] or {}).get("p50_ms"),
                        "memory_p95_ms": (hot_cache["memory"] or {}).get("p95_ms"),
                        "store_p50_ms": hot_cache["store"]["p50_ms"], "store_p95_ms": hot_cache["store"]["p95_ms"],
                        "hit_rate": hot_cache["hit_rate"]},
        "refresh_artists_fetched": phases["refresh"]["artists_fetched"],
        "prefetch_artists_refreshed": phases["prefetch"]["artists_refreshed"],
        "peak_rss_mb": max(v["peak_rss_mb"] for v in runs.values()),
        "precision": min(v["correctness"]["precision"] for v in runs.values()),
        "recall": min(v["correctness"]["recall"] for v in runs.values()),
        "recall_by_phase": {k: v["correctness"]["recall"] for k, v in runs.items()},
        "phases": phases,
    }


def _sum_or_none(values) -> int | None:
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


async def run_configuration(size: str, mode: str, label: str, *, transport: str, latency_ms: float,
                            jitter_ms: float, seed: int, log: Callable[[str], None]) -> dict[str, Any]:
    """One row of the ablation: the workload for one configuration, on a fresh simulator."""
    options = dict(configurations())[label]
    catalog = catalog_for(seed, SIZES[size])
    with make_world(transport, catalog, mode, latency_ms=latency_ms, jitter_ms=jitter_ms) as world:
        started = time.perf_counter()
        log(f"{size} {mode}: ablation, {label}")
        row = ablation_row(label, options, await run_workload(world, options))
        log(f"{size} {mode}: ablation, {label}: {row['api_calls_total']:,} calls, {time.perf_counter() - started:.0f} s")
    return row


def ablation_table(rows: list[dict[str, Any]], *, transport: str, latency_ms: float, jitter_ms: float,
                   jobs: int) -> dict[str, Any]:
    order = [label for label, _ in configurations()]
    rows = sorted(rows, key=lambda r: order.index(r["config"]))
    naive = next((r for r in rows if r["config"] == "naive"), None)
    for row in rows:
        after_cold = row["api_calls_total"] - row["api_calls"]["cold"]
        row["api_calls_after_cold"] = after_cold
        if naive:
            naive_after = naive["api_calls_total"] - naive["api_calls"]["cold"]
            row["fewer_calls_than_naive"] = naive["api_calls_total"] / row["api_calls_total"] if row["api_calls_total"] else None
            row["fewer_calls_than_naive_after_cold"] = naive_after / after_cold if after_cold else None
    return {"workload": __doc__.split("switch:", 1)[1].strip(),
            "transport": {"kind": transport, "latency_ms": latency_ms, "jitter_ms": jitter_ms},
            "concurrent_jobs": jobs, "rows": rows}


def is_sequential(label: str) -> bool:
    """A configuration that sends one request at a time: waiting dominates, so several can run side by side."""
    return not dict(configurations())[label].parallel_artists


def header(size: str, mode: str, *, transport: str, latency_ms: float, jitter_ms: float, seed: int) -> dict[str, Any]:
    catalog = catalog_for(seed, SIZES[size])
    return {"suite": "esh-tui benchmarks", "format": 1, "size": size, "catalog_artists": SIZES[size],
            "tracked_artists": len(tracked_ids(catalog)), "mode": mode, "seed": seed, "today": TODAY.isoformat(),
            "days": DAYS, "transport": {"kind": transport, "latency_ms": latency_ms, "jitter_ms": jitter_ms}}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def job(kind: str, size: str, mode: str, label: str | None, knobs: dict) -> tuple[tuple, dict]:
    """One piece of the results, in this process or a worker process: (its key, its figures)."""
    if kind == "scenarios":
        result = asyncio.run(run_scenarios(size, mode, log=log, **knobs))
    elif kind == "faulty":
        result = asyncio.run(run_faulty(size, mode, log=log, **knobs))
    else:
        result = asyncio.run(run_configuration(size, mode, label, log=log, **knobs))
    return (kind, size, mode, label), result
