"""Storage lookups: the memory tier vs the store's cached-release query, with and without its index.

For each size, fills a fresh store (a temp file) with that many cached releases
(rows in artist_tracks: --rows-per-artist per artist, albums of 10 tracks,
release dates over ten years, 22-character ids, 12-character ISRCs), then
times single lookups of random artists with time.perf_counter_ns around each
call: MemoryTier.get (one entry per artist), Store.cached_candidates with the
composite index idx_artist_tracks_lookup, the same query after DROP INDEX
(SQLite may still use the primary key for the artist_id prefix), and, if it
does, the same query on an unindexed copy of the table (a full scan). Prints
the query plans, the population time and size on disk, and Markdown tables.

    python -m benchmarks.storage [--sizes 100000,1000000] [--lookups 20000] [--scan-lookups 200]
                                 [--rows-per-artist 100] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import resource
import sqlite3
import string
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esh_tui.models import Candidate
from esh_tui.storage.memory import MemoryTier, percentile
from esh_tui.storage.store import CACHED_CANDIDATES_SQL, LOOKUP_INDEX, Store

from benchmarks.world import DAYS, TODAY

WINDOW_DAYS = DAYS
CUTOFF = TODAY - dt.timedelta(days=WINDOW_DAYS)
SPAN_DAYS = 3653  # release dates over ~10 years before TODAY
TRACKS_PER_ALBUM = 10
BASE62 = string.digits + string.ascii_letters
ISRC_CHARS = string.ascii_uppercase + string.digits
COUNTRIES = ("US", "GB", "DE", "FR", "SE", "JP", "NL", "CA", "AU", "BR", "KR", "QM")


@dataclass
class Timing:
    variant: str
    lookups: int
    rows: float  # mean rows returned per lookup
    p50_us: float
    p95_us: float


@dataclass
class SizeResult:
    releases: int
    artists: int
    populate_s: float
    file_bytes: int
    objects: dict[str, int]  # bytes per table/index (dbstat), if available
    plans: dict[str, str] = field(default_factory=dict)
    timings: list[Timing] = field(default_factory=list)
    copy_s: float | None = None

    def timing(self, variant: str) -> Timing | None:
        return next((t for t in self.timings if t.variant == variant), None)


# ----- data ------------------------------------------------------------------------------------------------

def _spotify_id(rng: random.Random) -> str:
    return "".join(rng.choices(BASE62, k=22))


def _isrc(rng: random.Random, year: int) -> str:
    return f"{rng.choice(COUNTRIES)}{''.join(rng.choices(ISRC_CHARS, k=3))}{year % 100:02d}{rng.randrange(100_000):05d}"


def _artist_rows(artists: Sequence[tuple[str, float]], next_due: float) -> Iterator[dict[str, Any]]:
    for n, (artist_id, fetched_at) in enumerate(artists):
        yield {"id": artist_id, "name": f"Artist {n}", "source": "benchmark", "added_at": "2026-01-01T00:00:00+00:00",
               "last_checked": fetched_at, "next_due": next_due, "listed_back_to": CUTOFF.isoformat()}


def _track_rows(rng: random.Random, artists: Sequence[tuple[str, float]], per_artist: int) -> Iterator[dict[str, Any]]:
    """Each artist's cached releases: albums of 10 tracks sharing an id and a date, as save_scan writes them."""
    for artist_id, fetched_at in artists:
        left = per_artist
        while left:
            tracks, left = min(TRACKS_PER_ALBUM, left), left - min(TRACKS_PER_ALBUM, left)
            album_id = _spotify_id(rng)
            released = TODAY - dt.timedelta(days=rng.randrange(SPAN_DAYS))
            date = released.isoformat()
            for _ in range(tracks):
                isrc = _isrc(rng, released.year)
                yield {"artist_id": artist_id, "track_id": _spotify_id(rng), "key": isrc, "isrc": isrc,
                       "album_id": album_id, "release_date": date, "fetched_at": fetched_at}


def populate(store: Store, releases: int, per_artist: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    now = time.time()
    artists = [(_spotify_id(rng), now - rng.uniform(0, 7 * 86_400)) for _ in range(math.ceil(releases / per_artist))]
    with store.transaction():
        store.db["artists"].insert_all(_artist_rows(artists, now + 7 * 86_400), batch_size=10_000)
        store.db["artist_tracks"].insert_all(_track_rows(rng, artists, per_artist), batch_size=10_000)
    return [artist_id for artist_id, _ in artists]


def _object_sizes(store: Store) -> dict[str, int]:
    try:
        return dict(store.db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
    except Exception:  # SQLite built without the dbstat table
        return {}


# ----- timing ----------------------------------------------------------------------------------------------

def time_calls(variant: str, call: Callable[..., Any], calls: Sequence[tuple[Any, ...]], warmup: int) -> Timing:
    for args in calls[:warmup]:
        call(*args)
    clock = time.perf_counter_ns
    elapsed, rows = [], 0
    for args in calls:
        started = clock()
        result = call(*args)
        elapsed.append(clock() - started)
        rows += len(result) if result is not None else 0
    elapsed.sort()
    return Timing(variant, len(calls), rows / len(calls), percentile(elapsed, 0.50) / 1e3, percentile(elapsed, 0.95) / 1e3)


def timer_floor(samples: int = 20_000) -> float:
    """p50 of two back-to-back perf_counter_ns calls: the smallest latency this benchmark can report."""
    clock = time.perf_counter_ns
    elapsed = []
    for _ in range(samples):
        started = clock()
        elapsed.append(clock() - started)
    elapsed.sort()
    return percentile(elapsed, 0.50) / 1e3


def _plan(store: Store, sql: str, params: Sequence[Any], label: str) -> str:
    """store.query_plan, with a comment naming the variant: Python's sqlite3 caches prepared statements by
    their text, and a cached EXPLAIN QUERY PLAN is not re-prepared after DROP INDEX (it shows the old plan)."""
    return store.query_plan(f"{sql} /* {label} */", params)


def _same(a: Sequence[Candidate], b: Sequence[Candidate]) -> bool:
    return sorted(a, key=lambda c: c.track_id) == sorted(b, key=lambda c: c.track_id)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(releases: int, lookups: int, scan_lookups: int, per_artist: int, seed: int, workdir: Path) -> SizeResult:
    path = workdir / f"store-{releases}.sqlite"
    store = Store(path)
    try:
        _progress(f"[{releases:,}] populating {path} ...")
        started = time.perf_counter()
        artist_ids = populate(store, releases, per_artist, seed)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        populate_s = time.perf_counter() - started
        result = SizeResult(releases, len(artist_ids), populate_s, path.stat().st_size, _object_sizes(store))

        sample_rng = random.Random(f"lookups-{seed}")
        sample = [sample_rng.choice(artist_ids) for _ in range(lookups)]
        warmup = min(1_000, lookups)
        sql = CACHED_CANDIDATES_SQL.format(table="artist_tracks")

        _progress(f"[{releases:,}] memory tier ...")
        memory = MemoryTier(max(50_000, len(artist_ids)))
        far = time.time() + 10 * 365 * 86_400
        for artist_id in artist_ids:
            memory.put(("artist", artist_id), tuple(store.cached_candidates(artist_id, dt.date.min)), far)
        keys = [(("artist", a),) for a in sample]
        result.timings.append(time_calls("memory tier get", memory.get, keys, warmup))
        plain = {key: memory.get(key) for key in {k for (k,) in keys}}
        result.timings.append(time_calls("reference: plain dict get", plain.get, keys, warmup))
        del memory, plain

        store_calls = [(a, CUTOFF) for a in sample]
        _progress(f"[{releases:,}] store, composite index ...")
        result.plans["composite index"] = _plan(store, sql, (sample[0], CUTOFF.isoformat()), "composite")
        result.timings.append(time_calls("store, composite index", store.cached_candidates, store_calls, warmup))

        _progress(f"[{releases:,}] store, DROP INDEX {LOOKUP_INDEX} ...")
        store.use_lookup_index(False)
        plan = _plan(store, sql, (sample[0], CUTOFF.isoformat()), f"after DROP INDEX {LOOKUP_INDEX}")
        uses_index = "INDEX" in plan.upper() or "PRIMARY KEY" in plan.upper()
        name = "store, PK prefix only" if uses_index else "store, no index (full scan)"
        result.plans[name.removeprefix("store, ")] = plan
        calls = store_calls if uses_index else store_calls[:scan_lookups]
        result.timings.append(time_calls(name, store.cached_candidates, calls, warmup if uses_index else 3))

        if uses_index:
            _progress(f"[{releases:,}] store, unindexed copy (full scan), {min(scan_lookups, lookups)} lookups ...")
            started = time.perf_counter()
            store.db.execute("CREATE TABLE artist_tracks_noindex AS SELECT * FROM artist_tracks")
            result.copy_s = time.perf_counter() - started
            copy_sql = CACHED_CANDIDATES_SQL.format(table="artist_tracks_noindex")

            def scan(artist_id: str, cutoff: dt.date) -> list[Candidate]:
                return store.cached_candidates(artist_id, cutoff, table="artist_tracks_noindex")

            for artist_id in sample[:3]:  # the copy answers exactly as the store does
                assert _same(scan(artist_id, CUTOFF), store.cached_candidates(artist_id, CUTOFF)), artist_id
            result.plans["no index (full scan)"] = _plan(store, copy_sql, (sample[0], CUTOFF.isoformat()), "copy")
            result.timings.append(time_calls("store, no index (full scan)", scan, store_calls[:scan_lookups], 3))
        return result
    finally:
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


# ----- report ----------------------------------------------------------------------------------------------

def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.1f}"


def _ratio(slow: Timing | None, fast: Timing | None) -> str:
    if slow is None or fast is None:
        return "-"
    return f"{slow.p50_us / fast.p50_us:,.1f}x / {slow.p95_us / fast.p95_us:,.1f}x"


def report(results: list[SizeResult], args: argparse.Namespace, floor_us: float) -> None:
    print(f"cutoff {CUTOFF} ({WINDOW_DAYS} days before {TODAY}); {args.rows_per_artist} cached releases per artist "
          f"(albums of {TRACKS_PER_ALBUM}, dates over ~10 years); {args.lookups:,} seeded random lookups "
          f"(full scan: {args.scan_lookups:,}); seed {args.seed}; SQLite {sqlite3.sqlite_version}; "
          f"timer floor {floor_us:.2f} µs")
    for r in results:
        print(f"\n{r.releases:,} releases, {r.artists:,} artists: populated in {r.populate_s:.1f} s "
              f"({r.releases / r.populate_s:,.0f} rows/s), {_mb(r.file_bytes)} MB on disk"
              + (f"; unindexed copy made in {r.copy_s:.1f} s" if r.copy_s is not None else ""))
        for name, plan in r.plans.items():
            print(f"  plan, {name:<28} {plan}")

    print("\n| releases | artists | lookup | n | rows/lookup | p50 µs | p95 µs | time vs composite (p50 / p95) |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        composite = r.timing("store, composite index")
        for t in r.timings:
            print(f"| {r.releases:,} | {r.artists:,} | {t.variant} | {t.lookups:,} | {t.rows:.2f} | {t.p50_us:,.1f} "
                  f"| {t.p95_us:,.1f} | {_ratio(t, composite)} |")

    print("\n| releases | composite vs PK prefix (p50 / p95) | composite vs full scan (p50 / p95) "
          "| memory vs composite (p50 / p95) |")
    print("|---:|---:|---:|---:|")
    for r in results:
        composite = r.timing("store, composite index")
        print(f"| {r.releases:,} | {_ratio(r.timing('store, PK prefix only'), composite)} "
              f"| {_ratio(r.timing('store, no index (full scan)'), composite)} "
              f"| {_ratio(composite, r.timing('memory tier get'))} |")

    print("\n| releases | populate s | rows/s | file MB | artist_tracks MB | PK autoindex MB | composite index MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.releases:,} | {r.populate_s:.1f} | {r.releases / r.populate_s:,.0f} | {_mb(r.file_bytes)} "
              f"| {_mb(r.objects.get('artist_tracks'))} | {_mb(r.objects.get('sqlite_autoindex_artist_tracks_1'))} "
              f"| {_mb(r.objects.get(LOOKUP_INDEX))} |")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="cached releases (artist_tracks rows), comma-separated")
    parser.add_argument("--lookups", type=int, default=20_000, help="timed lookups per variant")
    parser.add_argument("--scan-lookups", type=int, default=200, help="timed lookups for the full-scan variant")
    parser.add_argument("--rows-per-artist", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    floor_us = timer_floor()
    with tempfile.TemporaryDirectory(prefix="esh-bench-storage-") as workdir:
        results = [measure(n, args.lookups, args.scan_lookups, args.rows_per_artist, args.seed, Path(workdir))
                   for n in sizes]
    report(results, args, floor_us)


if __name__ == "__main__":
    main()
