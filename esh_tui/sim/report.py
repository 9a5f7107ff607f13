"""The oracle's report for a generated catalog (`esh-tui sim oracle`): the dict, and its pretty text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from esh_tui.sim import oracle
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.config import MODES


def oracle_report(seed: int, artists: int, today: dt.date, days: int = 90) -> dict[str, Any]:
    """What a correct tracker must find in the last `days`, and its fewest API calls, cold and a week later."""
    catalog = Catalog.generate(seed, artists, today)
    ids = [a.id for a in catalog.real_artists()]
    cutoff = catalog.today - dt.timedelta(days=days)
    report: dict[str, Any] = {
        "seed": seed, "artists": len(ids), "today": catalog.today.isoformat(), "days": days,
        "catalog": catalog.summary(), "expected_releases": len(oracle.expected_releases(catalog, ids, cutoff)),
        "minimum_calls": {}, "minimum_calls_next_week": {},
    }
    knowledge = oracle.Knowledge().learn(catalog, ids, cutoff)
    for mode in MODES:
        bound = oracle.minimum_calls(catalog, ids, cutoff, mode)
        report["minimum_calls"][mode] = {"total": bound.total, **bound.by_endpoint}
    # A week later, a tracker that kept what it learned pays only for what changed.
    catalog.advance(7)
    later_cutoff = catalog.today - dt.timedelta(days=days)
    for mode in MODES:
        bound = oracle.minimum_calls(catalog, ids, later_cutoff, mode, knowledge)
        report["minimum_calls_next_week"][mode] = {"total": bound.total, **bound.by_endpoint}
    return report


def pretty_report(report: dict[str, Any]) -> str:
    """The report as lines for a person (no trailing newline)."""
    c = report["catalog"]
    lines = [f"catalog: seed {report['seed']}, {c['artists']} artists, {c['albums']} albums, {c['tracks']} tracks "
             f"visible on {report['today']} ({c['future_albums']} albums still to come)",
             f"expected releases, last {report['days']} days: {report['expected_releases']}"]
    for label, key in (("minimum API calls, cold", "minimum_calls"), ("minimum API calls, a week later", "minimum_calls_next_week")):
        for mode, calls in report[key].items():
            detail = ", ".join(f"{k} {v}" for k, v in calls.items() if k != "total")
            lines.append(f"{label}, {mode}: {calls['total']} ({detail})")
    return "\n".join(lines)
