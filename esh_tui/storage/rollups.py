"""What the fetching costs, kept in the store as it goes: a row per run, per run and endpoint, per run and minute.

The process making a run adds to them with each artist's transaction (never a write per call). The dashboard's
panels, `stats` and the history view read them, so a run in another process (a `track` from cron) shows in an
open dashboard while it goes, and cost can be followed over days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

MINUTE_COUNTERS = ("calls", "rate_limited", "retries", "latency_ms", "memory_hits", "memory_misses",
                   "store_hits", "store_misses", "releases")


@dataclass
class CostUpdate:
    """What one write adds: the run's figures so far (they replace the stored ones), its cache tiers so far,
    and the calls by endpoint and status and the counters per minute since the last write (added)."""

    run: dict[str, Any]
    tiers: dict[str, dict[str, Any]]
    endpoints: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)  # -> (calls, latency ms)
    minutes: dict[int, dict[str, float]] = field(default_factory=dict)  # minute (epoch s) -> MINUTE_COUNTERS


def create_tables(db: sqlite_utils.Database) -> None:
    db["run_cost"].create({
        "run_id": int, "calls": int, "rate_limited": int, "server_errors": int, "retries": int,
        "api_p50_ms": float, "api_p95_ms": float, "opened": int, "reused": int, "connections_seen": int,
        "coalesced": int, "batching_saved": int, "releases": int, "updated_at": float}, pk="run_id")
    db["run_endpoints"].create({"run_id": int, "template": str, "status": str, "calls": int, "latency_ms": float},
                               pk=("run_id", "template", "status"))
    db["run_minutes"].create({"run_id": int, "minute": int, **{name: float for name in MINUTE_COUNTERS}},
                             pk=("run_id", "minute"))
    db["run_minutes"].create_index(["minute"], index_name="idx_run_minutes_minute")


def backfill(db: sqlite_utils.Database) -> None:
    """Runs recorded before the rollups existed get theirs from their call records."""
    db.execute("INSERT OR IGNORE INTO run_endpoints SELECT run_id, template, status, count(*), total(latency_ms) "
               "FROM api_calls WHERE run_id IS NOT NULL GROUP BY run_id, template, status")
    db.execute("INSERT OR IGNORE INTO run_minutes (run_id, minute, calls, rate_limited, retries, latency_ms) "
               "SELECT run_id, CAST(at / 60 AS INTEGER) * 60, count(*), total(status = '429'), total(retried), "
               "total(latency_ms) FROM api_calls WHERE run_id IS NOT NULL GROUP BY 1, 2")
    db.execute("INSERT OR IGNORE INTO run_cost (run_id, calls, rate_limited, server_errors, retries, opened, reused, "
               "connections_seen, releases, updated_at) SELECT runs.id, coalesce(runs.api_calls, count(api_calls.id)), "
               "total(api_calls.status = '429'), total(api_calls.status LIKE '5%'), total(retried), "
               "total(new_connection = 1), total(new_connection = 0), max(new_connection IS NOT NULL), runs.releases, "
               "runs.finished_at "
               "FROM runs LEFT JOIN api_calls ON api_calls.run_id = runs.id GROUP BY runs.id")


def write(db: sqlite_utils.Database, run_id: int, update: CostUpdate) -> None:
    """Add one write's figures (inside the caller's transaction)."""
    conn = db.conn
    columns = ["run_id", *update.run]
    conn.execute(f"INSERT OR REPLACE INTO run_cost ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                 [run_id, *update.run.values()])
    conn.executemany("INSERT OR REPLACE INTO cache_stats (run_id, tier, hits, misses, evictions, p50_ms, p95_ms) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(run_id, tier, s["hits"], s["misses"], s["evictions"], s["p50_ms"], s["p95_ms"])
                      for tier, s in update.tiers.items()])
    conn.executemany("INSERT INTO run_endpoints VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                     "calls = calls + excluded.calls, latency_ms = latency_ms + excluded.latency_ms",
                     [(run_id, template, status, calls, ms) for (template, status), (calls, ms) in update.endpoints.items()])
    added = ", ".join(f"{name} = coalesce({name}, 0) + excluded.{name}" for name in MINUTE_COUNTERS)
    conn.executemany(f"INSERT INTO run_minutes (run_id, minute, {', '.join(MINUTE_COUNTERS)}) "
                     f"VALUES (?, ?, {', '.join('?' * len(MINUTE_COUNTERS))}) ON CONFLICT DO UPDATE SET {added}",
                     [(run_id, minute, *(counts.get(name, 0) for name in MINUTE_COUNTERS))
                      for minute, counts in update.minutes.items()])


def run_cost(db: sqlite_utils.Database, run_id: int) -> dict[str, Any] | None:
    """A run's figures as far as it has written them, with its calls by endpoint (busiest first)."""
    rows = list(db.query("SELECT * FROM run_cost WHERE run_id = ?", (run_id,)))
    if not rows:
        return None
    cost = rows[0]
    cost["by_endpoint"] = calls_by_endpoint(db, run_id)
    return cost


def calls_by_endpoint(db: sqlite_utils.Database, run_id: int) -> dict[str, int]:
    sql = "SELECT template, sum(calls) FROM run_endpoints WHERE run_id = ? GROUP BY template ORDER BY 2 DESC, 1"
    return {template: int(calls) for template, calls in db.execute(sql, (run_id,)).fetchall()}


def calls_by_status(db: sqlite_utils.Database, run_id: int) -> dict[str, int]:
    sql = "SELECT status, sum(calls) FROM run_endpoints WHERE run_id = ? GROUP BY status ORDER BY 2 DESC, 1"
    return {status: int(calls) for status, calls in db.execute(sql, (run_id,)).fetchall()}


@dataclass
class History:
    """Cost over time, for the history view and `stats --format json`."""

    calls_per_day: list[tuple[str, int]]  # (local day, API calls made by runs)
    runs: list[dict[str, Any]]  # oldest first: id, started (local time), status, calls, releases, calls_per_release, hit_rate
    releases_per_week: list[tuple[str, int]]  # (Monday of the local week, releases first found)

    def as_json(self) -> dict[str, Any]:
        return {"calls_per_day": [{"day": day, "calls": calls} for day, calls in self.calls_per_day],
                "runs": self.runs,
                "releases_per_week": [{"week_of": week, "releases": count} for week, count in self.releases_per_week]}


def history(db: sqlite_utils.Database, days: int, now: float) -> History:
    """The last `days` local days: calls per day, each run's cost and hit rate, releases first found per week."""
    since = now - days * 86400
    per_day: dict[str, int] = {}
    for minute, calls in db.execute("SELECT minute, calls FROM run_minutes WHERE minute >= ?", (since,)):
        day = _local(minute).date().isoformat()
        per_day[day] = per_day.get(day, 0) + int(calls or 0)
    sql = ("SELECT runs.id, runs.started_at, runs.status, coalesce(run_cost.calls, runs.api_calls, 0), "
           "coalesce(run_cost.releases, runs.releases, 0) FROM runs LEFT JOIN run_cost ON run_cost.run_id = runs.id "
           "WHERE runs.started_at >= ? ORDER BY runs.id")
    runs = [{"id": run_id, "started": _local(started).isoformat(timespec="minutes"), "status": status,
             "calls": int(calls), "releases": int(releases),
             "calls_per_release": round(calls / releases, 2) if releases else None,
             "hit_rate": _hit_rate(db, run_id)}
            for run_id, started, status, calls, releases in db.execute(sql, (since,)).fetchall()]
    per_week: dict[str, int] = {}
    for (found_at,) in db.execute("SELECT first_seen_at FROM releases WHERE first_seen_at >= ?", (since,)):
        day = _local(found_at).date()
        week = (day - dt.timedelta(days=day.weekday())).isoformat()
        per_week[week] = per_week.get(week, 0) + 1
    return History(sorted(per_day.items()), runs, sorted(per_week.items()))


def hit_rate(tiers: dict[str, dict[str, Any]]) -> float | None:
    """The share of lookups either tier answered (a store hit follows a memory miss); None when none was asked."""
    memory, disk = tiers.get("memory", {}), tiers.get("store", {})
    asked = (memory.get("hits") or 0) + (memory.get("misses") or 0)
    if not asked:
        return None
    return round(((memory.get("hits") or 0) + (disk.get("hits") or 0)) / asked, 4)


def cache_stats(db: sqlite_utils.Database, run_id: int) -> dict[str, dict[str, Any]]:
    return {row.pop("tier"): row for row in db.query("SELECT * FROM cache_stats WHERE run_id = ?", (run_id,))}


def _hit_rate(db: sqlite_utils.Database, run_id: int) -> float | None:
    return hit_rate(cache_stats(db, run_id))


def _local(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch)


def minutes_of(records: Iterable[Any]) -> dict[int, dict[str, float]]:
    """Call records (CallRecord) counted per minute."""
    minutes: dict[int, dict[str, float]] = {}
    for record in records:
        counts = minutes.setdefault(int(record.at // 60) * 60, dict.fromkeys(MINUTE_COUNTERS, 0))
        counts["calls"] += 1
        counts["rate_limited"] += str(record.status) == "429"
        counts["retries"] += bool(record.retried)
        counts["latency_ms"] += record.latency_ms or 0.0
    return minutes
