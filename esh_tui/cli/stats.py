"""`esh-tui stats`: what recent runs cost, and how cost went over days, from the store."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from esh_tui.cli.errors import EXIT_OK
from esh_tui.cli.runtime import open_runtime
from esh_tui.runtime import Runtime
from esh_tui.spotify.capabilities import Capabilities
from esh_tui.storage.rollups import hit_rate
from esh_tui.text import safe_json
from esh_tui.tracker.plan import plan_run

DEFAULT_DAYS = 90  # the window of a run without --days


def cmd_stats(args: argparse.Namespace) -> int:
    with open_runtime(read_only=True) as runtime:
        if args.format == "json":
            print(safe_json(stats_json(runtime, args.runs, args.days)))
            return EXIT_OK
        budget, next_run = _budget(runtime)
        print(f"budget: {budget['used']:,} API calls used today ({budget['day']}, local time) "
              + (f"of the daily budget of {budget['limit']:,}" if budget["limit"]
                 else "(no daily budget: [network] daily_budget)"))
        print(f"next run: {next_run}")
        runs = [_run(runtime, run) for run in runtime.store.runs(args.runs)]
        if not runs:
            print("no runs yet: run 'esh-tui track' first")
        for run in runs:
            _print_run(run)
    return EXIT_OK


def stats_json(runtime: Runtime, runs: int, days: int) -> dict[str, Any]:
    """The same figures as the text and the dashboard's history view, for scripts."""
    budget, next_run = _budget(runtime)
    return {"budget": budget, "next_run": next_run,
            "runs": [_run(runtime, run) for run in runtime.store.runs(runs)],
            "history": {"days": days, **runtime.store.history(days).as_json()}}


def _run(runtime: Runtime, run: dict[str, Any]) -> dict[str, Any]:
    """One run's record and its cost as the store's rollups have it."""
    store = runtime.store
    cost = store.run_cost(run["id"]) or {}
    calls, releases = cost.get("calls", run["api_calls"]) or 0, cost.get("releases", run["releases"]) or 0
    tiers = {tier: {k: v for k, v in figures.items() if k != "run_id"} for tier, figures in store.cache_stats(run["id"]).items()}
    return {
        "id": run["id"], "started": _local(run["started_at"]), "finished": _local(run["finished_at"]),
        "status": run["status"], "message": run["message"], "mode": run["mode"], "artists": run["artists"] or 0,
        "artists_fetched": run["artists_fetched"] or 0, "releases": releases, "new_releases": run["new_releases"] or 0,
        "api_calls": calls, "calls_per_release": round(calls / releases, 2) if releases else None,
        "rate_limited": cost.get("rate_limited") or 0, "retries": cost.get("retries") or 0,
        "server_errors": cost.get("server_errors") or 0, "api_p50_ms": _ms(cost.get("api_p50_ms")),
        "api_p95_ms": _ms(cost.get("api_p95_ms")), "hit_rate": hit_rate(tiers), "cache": tiers,
        "calls_by_endpoint": cost.get("by_endpoint", {}),
    }


def _print_run(run: dict[str, Any]) -> None:
    per = f"{run['calls_per_release']:.2f}" if run["calls_per_release"] is not None else "n/a"
    print(f"run {run['id']} · {run['started']} · {run['status']} · {run['mode']} mode · {run['releases']} releases "
          f"({run['new_releases']} new) · {run['api_calls']} API calls · {per} calls/release · "
          f"{run['artists_fetched']}/{run['artists']} artists fetched")
    if run["rate_limited"] or run["retries"] or run["server_errors"]:
        print(f"    429s {run['rate_limited']} · retries {run['retries']} · server errors {run['server_errors']}")
    for tier, st in run["cache"].items():
        total = (st["hits"] or 0) + (st["misses"] or 0)
        rate = f"{100 * st['hits'] / total:.0f}%" if total else "n/a"
        p50 = f"{st['p50_ms']:.3f}" if st["p50_ms"] is not None else "n/a"
        p95 = f"{st['p95_ms']:.3f}" if st["p95_ms"] is not None else "n/a"
        print(f"    cache {tier:<6} hit rate {rate:>4} ({st['hits']} hits, {st['misses']} misses, "
              f"{st['evictions']} evictions) · lookup p50 {p50} ms, p95 {p95} ms")
    for template, count in run["calls_by_endpoint"].items():
        print(f"    {count:>6}  {template}")


def _budget(runtime: Runtime) -> tuple[dict[str, Any], str]:
    """Today's API calls against the daily budget, and what the next run (the default 90-day window) would cost."""
    budget = runtime.budget()
    known = runtime.store.capabilities(runtime.settings.api_url)
    mode = Capabilities(known.batch, known.page_max).mode if known else "unknown"
    cutoff = runtime.today() - dt.timedelta(days=DEFAULT_DAYS)
    plan = plan_run(runtime.store, cutoff, mode=mode, today=runtime.today(), budget=budget)
    return {"day": str(budget.today()), "used": budget.used, "limit": budget.limit or None}, plan.describe()


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _local(epoch: float | None) -> str | None:
    return dt.datetime.fromtimestamp(epoch).isoformat(timespec="seconds") if epoch else None
