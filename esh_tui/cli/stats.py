"""`esh-tui stats`: what recent runs cost, from the store."""

from __future__ import annotations

import argparse
import datetime as dt

from esh_tui.cli.errors import EXIT_OK
from esh_tui.cli.runtime import open_runtime
from esh_tui.runtime import Runtime
from esh_tui.spotify.capabilities import Capabilities
from esh_tui.tracker.plan import plan_run

DEFAULT_DAYS = 90  # the window of a run without --days


def cmd_stats(args: argparse.Namespace) -> int:
    with open_runtime() as runtime:
        _print_budget(runtime)
        runs = runtime.store.runs(args.runs)
        if not runs:
            print("no runs yet: run 'esh-tui track' first")
            return EXIT_OK
        for run in runs:
            calls, releases = run["api_calls"] or 0, run["releases"] or 0
            when = dt.datetime.fromtimestamp(run["started_at"]).strftime("%Y-%m-%d %H:%M")
            per = f"{calls / releases:.2f}" if releases else "n/a"
            print(f"run {run['id']} · {when} · {run['status']} · {run['mode']} mode · {releases} releases "
                  f"({run['new_releases'] or 0} new) · {calls} API calls · {per} calls/release · "
                  f"{run['artists_fetched'] or 0}/{run['artists'] or 0} artists fetched")
            for tier, st in runtime.store.cache_stats(run["id"]).items():
                total = (st["hits"] or 0) + (st["misses"] or 0)
                rate = f"{100 * st['hits'] / total:.0f}%" if total else "n/a"
                p50 = f"{st['p50_ms']:.3f}" if st["p50_ms"] is not None else "n/a"
                p95 = f"{st['p95_ms']:.3f}" if st["p95_ms"] is not None else "n/a"
                print(f"    cache {tier:<6} hit rate {rate:>4} ({st['hits']} hits, {st['misses']} misses, "
                      f"{st['evictions']} evictions) · lookup p50 {p50} ms, p95 {p95} ms")
            for template, count in runtime.store.calls_by_endpoint(run["id"]).items():
                print(f"    {count:>6}  {template}")
    return EXIT_OK


def _print_budget(runtime: Runtime) -> None:
    """Today's API calls against the daily budget, and what the next run (the default 90-day window) would cost."""
    budget = runtime.budget()
    limit = f"of the daily budget of {budget.limit:,}" if budget.limit else "(no daily budget: [network] daily_budget)"
    print(f"budget: {budget.used:,} API calls used today ({budget.today()}, local time) {limit}")
    known = runtime.store.capabilities(runtime.settings.api_url)
    mode = Capabilities(known.batch, known.page_max).mode if known else "unknown"
    cutoff = runtime.today() - dt.timedelta(days=DEFAULT_DAYS)
    plan = plan_run(runtime.store, cutoff, mode=mode, today=runtime.today(), budget=budget)
    print(f"next run: {plan.describe()}")
