"""Shared by the reliability, untrusted-data and secrets tests: a simulated Spotify on a fake clock.

Nothing here really sleeps: every wait (backoff, Retry-After, a slow answer)
moves the fake clock instead, so a run full of faults finishes in moments.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import multiprocessing
import os
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import httpx

from esh_tui.config import Settings
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import SCANNED_SOURCE, Store
from esh_tui.storage.ttl import TtlPolicy
from esh_tui.tracker.engine import RunResult, Tracker

SECRET = "esh-reliability-secret-7f3a9c1e"


class FakeTime:
    """A clock that moves only when somebody sleeps: waits are counted, never spent."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.slept = 0.0
        self.sleeps = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.slept += max(0.0, seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


_OFFLINE: dict[tuple, object] = {}


def share_offline_spotify(monkeypatch) -> None:
    """Every CLI command builds the offline Spotify (half a second); with this it is built once per test
    session and shared, with each data directory's settings. For commands that never change its catalog."""
    import esh_tui.runtime as runtime_module
    from esh_tui.sim import offline

    def shared(settings, seed=offline.SAMPLE_SEED, size=offline.SAMPLE_SIZE, today=None, mode="development"):
        key = (seed, size, today or dt.date.today(), mode)
        if key not in _OFFLINE:
            _OFFLINE[key] = offline.offline_spotify(settings, seed, size, today, mode)
        spotify = _OFFLINE[key]
        return replace(spotify, settings=replace(settings, client_id=offline.OFFLINE_CLIENT_ID,
                                                 client_secret=offline.OFFLINE_CLIENT_SECRET))

    monkeypatch.setattr(runtime_module, "offline_spotify", shared)


def tracked_ids(catalog: Catalog) -> list[str]:
    return [a.id for a in catalog.real_artists()]


class FakeWorld:
    """A simulated Spotify and an esh-tui store on one fake clock; each `run` is a fresh 'process'."""

    def __init__(self, catalog: Catalog, path: Path, mode: str = "development", time_: FakeTime | None = None,
                 freshness: TtlPolicy | None = None, **knobs) -> None:
        self.catalog, self.path, self.mode, self.freshness = catalog, path, mode, freshness
        self.time = time_ or FakeTime()
        self.sim = SimSpotify(catalog, SimConfig(mode=mode, **knobs), clock=self.time.clock)
        self.settings = Settings(data_dir=path.parent, client_id="esh-test-client", client_secret=SECRET)

    def transport(self) -> httpx.AsyncBaseTransport:
        return SimTransport(self.sim, sleep=self.time.sleep)

    async def run(self, days: int = 90, ids: list[str] | None = None, force: bool = False,
                  transport: httpx.AsyncBaseTransport | None = None) -> tuple[RunResult, int]:
        """One run in a new client and store over the same files; returns the result and the API calls it cost."""
        ids = ids or tracked_ids(self.catalog)
        store = Store(self.path)
        try:
            store.add_artists((i, self.catalog.artists[i].name, "test") for i in ids)
            before = self.sim.calls()
            async with SpotifyClient(self.settings, transport or self.transport(), sleep=self.time.sleep,
                                     clock=self.time.clock) as client:
                tracker = Tracker(client, store, ReleaseCache(store, self.freshness, clock=self.time.clock),
                                  today=lambda: self.catalog.today)
                result = await tracker.run(self.cutoff(days), ids, force=force)
        finally:
            store.close()
        return result, self.sim.calls() - before

    def cutoff(self, days: int = 90) -> dt.date:
        return self.catalog.today - dt.timedelta(days=days)


def expected(catalog: Catalog, ids: list[str], days: int = 90) -> dict:
    return oracle.expected_releases(catalog, ids, catalog.today - dt.timedelta(days=days))


def precision_recall(result: RunResult, want: dict) -> tuple[float, float]:
    """Judged on key, track, album, date and the artists it was found for."""
    got = {r.key: r for r in result.releases}

    def same(key: str) -> bool:
        a, b = got[key], want[key]
        return ((a.track_id, a.album_id, a.release_date) == (b.track_id, b.album_id, b.release_date)
                and set(a.found_for) == set(b.found_for))

    right = sum(1 for key in got if key in want and same(key))
    return (right / len(got) if got else 1.0), (right / len(want) if want else 1.0)


def assert_matches_oracle(result: RunResult, want: dict) -> None:
    got = {r.key: r for r in result.releases}
    assert set(got) == set(want), f"missing {sorted(set(want) - set(got))[:5]}, extra {sorted(set(got) - set(want))[:5]}"
    assert precision_recall(result, want) == (1.0, 1.0)


def db_digest(path: Path) -> str:
    """A checksum of every row of every table (not of the file: pages move without the data changing)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            digest.update(table.encode())
            for row in sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"')):
                digest.update(row.encode())
        return digest.hexdigest()
    finally:
        conn.close()


def orphan_rows(path: Path) -> list[str]:
    """Artist ids with albums or candidates filed under them (artist_albums, artist_tracks) but no artist row:
    rows nothing says how complete they are, nor ever purges."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return sorted({row[0] for table in ("artist_albums", "artist_tracks") for row in conn.execute(
            f"SELECT DISTINCT artist_id FROM {table} WHERE artist_id NOT IN (SELECT id FROM artists)")})
    finally:
        conn.close()


def _listed_again(conn: sqlite3.Connection, artist_id: str) -> bool:
    """Features (appears_on) were turned on at some time: every artist is to be listed again, its knowledge kept
    (Store.use_appears_on: listed_back_to, listing_total and next_due forgotten, nothing else). Turning them off
    again lists nobody, so an artist no run has listed since stays so (one not tracked, or not reached)."""
    row = conn.execute("SELECT listed_back_to, listing_total, next_due FROM artists WHERE id = ?", (artist_id,)).fetchone()
    toggled = conn.execute("SELECT 1 FROM settings WHERE key = 'knowledge_appears_on'").fetchone()
    return row == (None, None, None) and toggled is not None


def half_written_artists(path: Path) -> list[str]:
    """Artists whose stored scan is not whole: every artist, tracked or not (removed, its knowledge kept; or
    scanned by a run over artists not in the list), is either never scanned, or scanned completely, or has the
    albums a stopped scan finished marked as such (`partial_back_to`); and no scan's rows are filed under an
    artist that has no row."""
    bad = set(orphan_rows(path))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for artist_id, last_checked, next_due, listed_back_to, failed, partial, source, removed_at in conn.execute(
                "SELECT id, last_checked, next_due, listed_back_to, failed_reason, partial_back_to, source, removed_at "
                "FROM artists"):
            if source == SCANNED_SOURCE and removed_at is None:
                bad.add(artist_id)  # a row made for a scan's rows, tracked without anybody adding it
            albums = conn.execute("SELECT count(*) FROM artist_albums WHERE artist_id = ?", (artist_id,)).fetchone()[0]
            tracks = conn.execute("SELECT count(*) FROM artist_tracks WHERE artist_id = ?", (artist_id,)).fetchone()[0]
            if last_checked is None and ((albums or tracks) and partial is None
                                         or next_due is not None or listed_back_to is not None):
                bad.add(artist_id)  # rows of a scan that never finished, not kept as a stopped scan's
            partial_albums = conn.execute(
                "SELECT count(*) FROM artist_albums aa JOIN albums al ON al.id = aa.album_id "
                "WHERE aa.artist_id = ? AND al.release_date < ?", (artist_id, partial)).fetchone()[0]
            if partial is not None and last_checked is None and partial_albums:
                bad.add(artist_id)  # a stopped scan kept albums from before its cutoff
            if last_checked is not None and (next_due is None and failed is None or listed_back_to is None) \
                    and not _listed_again(conn, artist_id):
                bad.add(artist_id)  # a scan without its bookkeeping
        orphans = conn.execute(
            "SELECT DISTINCT at.artist_id FROM artist_tracks at LEFT JOIN artist_albums aa "
            "ON aa.artist_id = at.artist_id AND aa.album_id = at.album_id "
            "LEFT JOIN albums al ON al.id = at.album_id WHERE aa.album_id IS NULL OR al.id IS NULL").fetchall()
        bad |= {row[0] for row in orphans}
        missing_tracks = conn.execute(
            "SELECT DISTINCT at.artist_id FROM artist_tracks at LEFT JOIN tracks t ON t.id = at.track_id "
            "WHERE t.id IS NULL").fetchall()
        bad |= {row[0] for row in missing_tracks}
        return sorted(bad)
    finally:
        conn.close()


def sigkill_inside_sqlite(statement: int, instructions: int) -> None:
    """In a process of its own: every Store opened from now on SIGKILLs the process `instructions` SQLite VM
    steps after its `statement`-th statement (often mid-transaction, sometimes mid-commit)."""
    import os
    import signal

    from esh_tui.storage import store as store_module

    counted = {"statements": 0}
    original = store_module.Store.__init__

    def die() -> int:
        os.kill(os.getpid(), signal.SIGKILL)
        return 1  # pragma: no cover

    def opened(self, *args, **kwargs):
        original(self, *args, **kwargs)
        conn = self.db.conn

        def trace(sql: str) -> None:
            counted["statements"] += 1
            if counted["statements"] == statement:
                conn.set_progress_handler(die, instructions)

        conn.set_trace_callback(trace)

    store_module.Store.__init__ = opened


def simulator_environment(server, data) -> dict[str, str]:
    """What an esh-tui process needs to use the loopback simulator `server` and the store in `data`."""
    return {"ESH_API_URL": server.api_url, "ESH_ACCOUNTS_URL": server.url, "ESH_DATA_DIR": str(data),
            "SPOTIFY_CLIENT_ID": "esh-test-client", "SPOTIFY_CLIENT_SECRET": SECRET}


def store_tracking(path: Path, catalog: Catalog, ids: list[str]) -> None:
    """A store at `path` that tracks these artists of the catalog."""
    store = Store(path)
    try:
        store.add_artists((i, catalog.artists[i].name, "test") for i in ids)
    finally:
        store.close()


# ----- the processes of the reliability and store-lifetime tests, and what they run

# What the processes' targets import, in packages a fork server can import from wherever it starts (its path does
# not have this folder on Python 3.11, whose servers leave out the path they are given)
PRELOADED = ["httpx", "esh_tui.cli", "esh_tui.sim.api", "esh_tui.sim.catalog", "esh_tui.sim.oracle",
             "esh_tui.sim.transport", "esh_tui.spotify.client", "esh_tui.storage.cache", "esh_tui.storage.store",
             "esh_tui.storage.ttl", "esh_tui.tracker.engine"]


def processes() -> multiprocessing.context.BaseContext:
    """Where those tests start their processes: a fork server that imported esh-tui's engine, store, simulator
    and command line once, so that each process starts in milliseconds instead of importing them again (0.3 s
    a process with "spawn"). Each is still a process of its own, killed or racing for real.

    A process starts in the test's working directory, with its import path, but with the environment the
    server started with (another test's): a target that reads the environment is given the test's."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOADED)
    return context


def run_until_killed(path: str, kill_at_statement: int, then_instructions: int, catalog: Catalog) -> None:
    """A run in a process of its own that SIGKILLs itself inside SQLite: after `kill_at_statement`
    statements, within the next `then_instructions` VM steps (often mid-transaction, sometimes mid-commit).
    The catalog comes pickled from the test: half the CPU of generating it again (95 ms against 183)."""
    sigkill_inside_sqlite(kill_at_statement, then_instructions)
    asyncio.run(FakeWorld(catalog, Path(path)).run())


def hold_write_lock(path: str, locked, release) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE artists SET name = name || ' (half-done)'")  # uncommitted: must never be seen
    locked.set()
    release.wait(30)
    conn.execute("ROLLBACK")
    conn.close()


def track_in_a_process(environ: dict[str, str], data_dir: str, out_path: str, start) -> None:
    """`esh-tui track --format json` in the test's environment, on the store in `data_dir`."""
    os.environ.clear()
    os.environ.update(environ)
    os.environ["ESH_DATA_DIR"] = data_dir
    for name in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "ESH_API_URL", "ESH_ACCOUNTS_URL"):
        os.environ.pop(name, None)
    from esh_tui.cli import main as cli_main

    with open(out_path, "w") as out, open(out_path + ".err", "w") as err:
        sys.stdout, sys.stderr = out, err
        start.wait(30)
        code = cli_main(["track", "--format", "json"])
        out.flush()
        err.flush()
    os._exit(code)


def run_killed_at(path: str, seed: int, size: int, today: dt.date, days_passed: int, now: float, mode: str,
                  freshness: TtlPolicy, cutoff: str, ids: list[str], force: bool, statement: int,
                  instructions: int) -> None:
    """A run of the store-lifetime tests on the same catalog and clock, and a SIGKILL `instructions` SQLite steps
    after the `statement`-th statement (often mid-transaction, sometimes mid-commit), if the run gets that far."""
    catalog = Catalog.generate(seed, size, today)
    catalog.advance(days_passed)
    world = FakeWorld(catalog, Path(path), mode=mode, time_=FakeTime(now), freshness=freshness)
    sigkill_inside_sqlite(statement, instructions)
    days = (catalog.today - dt.date.fromisoformat(cutoff)).days
    asyncio.run(world.run(days, ids, force=force))
