"""Reliability, tried on purpose: faults, a failing artist, an exhausted quota, SIGKILLs, two processes at once.

Nothing really sleeps: the simulator and the client share a fake clock (see
reliability_support), so a run through hundreds of faults takes moments.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import multiprocessing
import os
import random
import signal
import sqlite3
from functools import partial

import httpx
import pytest

from esh_tui.cli import main
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.storage.errors import StoreBusyError
from esh_tui.storage.store import SCHEMA_VERSION, Store

from conftest import TODAY, fresh_catalog
from reliability_support import (
    SECRET, FakeTime, FakeWorld, assert_matches_oracle, db_digest, expected, half_written_artists, hold_write_lock,
    PRELOADED, processes, run_until_killed, share_offline_spotify, track_in_a_process, tracked_ids,
)

# ----- faults --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode, seed", [("development", 3), ("extended", 3), ("extended", 1)])
async def test_faults_timeouts_and_429_bursts_leave_the_result_exactly_right(tmp_path, mode, seed):
    """5% server errors, timeouts and dropped connections, and a tight rolling rate limit (429 bursts,
    some without Retry-After): the run finds exactly the releases of a fault-free run, skipping no artist."""
    catalog = fresh_catalog(seed, 60)
    ids = tracked_ids(catalog)
    world = FakeWorld(catalog, tmp_path / "esh.db", mode=mode, fault_rate=0.05,
                      faults=("500", "502", "503", "timeout", "drop"), slow_seconds=60, rate_limit=25,
                      retry_after_missing=0.3)
    result, _ = await world.run()
    assert result.status == "ok" and not result.failed, result.failed
    assert result.artists_fetched == len(ids), "no artist silently skipped"
    assert_matches_oracle(result, expected(catalog, ids))
    injected = sum(world.sim.faults_injected.values())
    bursts = world.sim.calls(status=429)
    assert injected >= 15 and set(world.sim.faults_injected) == {"500", "502", "503", "timeout", "drop"}
    assert bursts >= 20, "the rate limit was hit, repeatedly"
    assert world.time.slept > 30, "waits happened on the fake clock"


async def test_429s_do_not_use_up_the_retries_meant_for_errors(tmp_path):
    """Waiting out a 429 is not a failure: a request meeting three 429s and three 503s still succeeds."""
    from esh_tui.config import Settings
    from esh_tui.spotify.client import SpotifyClient

    script = [429, 503, 429, 503, 429, 503, 200]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        status = script.pop(0)
        return httpx.Response(status, json={"ok": True} if status == 200 else {"error": {"status": status}},
                              headers={"retry-after": "2"} if status == 429 else {})

    time_ = FakeTime()
    settings = Settings(data_dir=tmp_path, client_id="id", client_secret=SECRET)
    async with SpotifyClient(settings, httpx.MockTransport(answer), sleep=time_.sleep, clock=time_.clock) as client:
        assert await client.get("/x", template="GET /x") == {"ok": True}
    assert script == [] and client.log.retries == 6


class FailingArtist(httpx.AsyncBaseTransport):
    """Every listing of one artist's albums answers 503, however often it is retried."""

    def __init__(self, inner: httpx.AsyncBaseTransport, artist_id: str):
        self.inner, self.artist_id, self.refused = inner, artist_id, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/v1/artists/{self.artist_id}/albums":
            self.refused += 1
            return httpx.Response(503, json={"error": {"status": 503, "message": "Service unavailable"}},
                                  request=request)
        return await self.inner.handle_async_request(request)


async def test_an_artist_that_keeps_failing_is_reported_kept_due_and_retried_next_run(tmp_path):
    catalog = fresh_catalog(1, 30)
    ids = tracked_ids(catalog)
    want = expected(catalog, ids)
    victim = next(a for r in want.values() for a in r.found_for)  # an artist with releases
    world = FakeWorld(catalog, tmp_path / "esh.db")
    failing = FailingArtist(world.transport(), victim)

    result, _ = await world.run(transport=failing)
    assert result.status == "partial" and list(result.failed) == [victim]
    assert "HTTP 503" in result.failed[victim]
    assert failing.refused == 6, "retried, then given up"
    only_theirs = {k for k, r in want.items() if set(r.found_for) == {victim}}
    assert only_theirs and not only_theirs & {r.key for r in result.releases}
    others = {k: r for k, r in want.items() if victim not in r.found_for}
    assert others.keys() <= {r.key for r in result.releases}, "every other artist is done"
    store = Store(world.path)
    try:
        assert victim in store.due_artist_ids(world.time.now), "it stays due"
        assert store.artist(victim).failed_reason == result.failed[victim]
        assert store.runs(1)[0]["status"] == "partial"
    finally:
        store.close()

    world.time.now += 60  # a minute later everyone else is still fresh: only the failed artist is asked for
    again, calls = await world.run()
    assert again.status == "ok" and not again.failed
    assert again.artists_fetched == 1 and again.artists_cached == len(ids) - 1
    assert_matches_oracle(again, want)
    store = Store(world.path)
    try:
        assert store.artist(victim).failed_reason is None
    finally:
        store.close()


def test_cli_reports_a_failed_artist_in_one_line_and_exits_1(monkeypatch, capsys):
    """The cron view of the same: releases of everyone else on stdout, one line for the artist, exit 1."""
    import esh_tui.runtime as runtime_module

    real_offline, real_client = runtime_module.offline_spotify, runtime_module.Runtime.client
    victims = []
    time_ = FakeTime()

    def offline(settings, **kw):
        spotify = real_offline(settings, **kw)
        victims.append(spotify.sample_artist_ids()[0])
        spotify.transport = FailingArtist(spotify.transport, victims[0])
        return spotify

    monkeypatch.setattr(runtime_module, "offline_spotify", offline)
    monkeypatch.setattr(runtime_module.Runtime, "client",
                        lambda self, user=False, **kw: real_client(self, user, sleep=time_.sleep, **kw))
    assert main(["track", "--format", "json"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out), "everyone else's releases are printed"
    lines = [line for line in err.splitlines() if victims[0] in line]
    assert len(lines) == 1 and "stays due and is retried next run" in lines[0] and "Traceback" not in err


class Recording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner, self.asked = inner, []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        query = {k: v for k, v in request.url.params.items()}
        self.asked.append((request.url.path, query))
        return await self.inner.handle_async_request(request)


# ----- quota ------------------------------------------------------------------------------------------------------

async def test_quota_exhausted_mid_run_keeps_what_was_learned_and_the_next_day_resumes(tmp_path):
    catalog = fresh_catalog(4, 40)
    ids = tracked_ids(catalog)
    want = expected(catalog, ids)
    cold, cold_calls = await FakeWorld(catalog, tmp_path / "cold.db").run()
    assert_matches_oracle(cold, want)

    sim_time = FakeTime()  # the simulator's day is its own: advancing it resets the quota, not the cache
    world = FakeWorld(catalog, tmp_path / "esh.db", quota=cold_calls // 2)
    world.sim.clock = sim_time.clock
    stopped, stopped_calls = await world.run()
    assert stopped.status == "quota" and "come back after" in stopped.message
    assert world.sim.calls(status=429) >= 1 and stopped_calls <= cold_calls // 2 + 1
    store = Store(world.path)
    try:
        saved = [a.id for a in store.artists() if a.next_due is not None]
        resolved = {row[0] for row in store.db.execute("SELECT isrc FROM isrc_earliest")}
        assert 0 < len(saved) < len(ids), "part of the work is kept"
        assert store.runs(1)[0]["status"] == "quota"
        assert store.db["releases"].count == len(stopped.releases) > 0, "the releases found so far are kept"
        assert half_written_artists(world.path) == []
    finally:
        store.close()

    sim_time.now += 86_400  # the next day: a fresh quota, as big as the cold run needed
    world.sim.config.quota = cold_calls
    recording = Recording(world.transport())
    resumed, resumed_calls = await world.run(transport=recording)
    assert resumed.status == "ok" and not resumed.failed
    assert resumed.artists_cached == len(saved), "artists whose scans were saved are not fetched again"
    assert resumed.artists_fetched == len(ids) - len(saved)
    assert not {f"/v1/artists/{a}/albums" for a in saved} & {path for path, _ in recording.asked}
    assert not {f"isrc:{isrc}" for isrc in resolved} & {query.get("q") for _, query in recording.asked}, \
        "no ISRC resolved before the quota ran out is searched again"
    assert_matches_oracle(resumed, want)
    assert resumed_calls < cold_calls * 0.75, (resumed_calls, cold_calls)
    # What is fetched twice is only the work of artists in flight when the quota ran out (never half-saved).
    assert stopped_calls + resumed_calls <= cold_calls * 1.25


def test_cli_quota_exit_3_says_when_to_come_back_and_the_next_run_resumes(tmp_path, monkeypatch, capsys):
    """Against the loopback simulator with a daily quota: exit 3, 'come back after', then a cheap resume."""
    from esh_tui.sim.server import SimServer

    catalog = fresh_catalog(5, 30)
    ids = tracked_ids(catalog)
    sim_time = FakeTime()
    sim = SimSpotify(catalog, SimConfig(mode="development"), clock=sim_time.clock)
    since = (TODAY - dt.timedelta(days=90)).isoformat()
    server = SimServer(sim).start_in_thread()
    try:
        monkeypatch.setenv("ESH_API_URL", server.api_url)
        monkeypatch.setenv("ESH_ACCOUNTS_URL", server.url)
        monkeypatch.setenv("SPOTIFY_CLIENT_ID", "esh-test-client")
        monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", SECRET)
        data = tmp_path / "data"
        store = Store(data / "esh.db")
        store.add_artists((i, catalog.artists[i].name, "test") for i in ids)
        store.close()
        cold = tmp_path / "cold"
        monkeypatch.setenv("ESH_DATA_DIR", str(cold))
        store = Store(cold / "esh.db")
        store.add_artists((i, catalog.artists[i].name, "test") for i in ids)
        store.close()
        assert main(["track", "--since", since, "--format", "ids"]) == 0
        cold_calls = sim.calls()
        cold_out = capsys.readouterr().out

        monkeypatch.setenv("ESH_DATA_DIR", str(data))
        sim.reset_counts()
        sim.config.quota = cold_calls // 2
        sim_time.now += 86_400  # today's quota starts now
        assert main(["track", "--since", since, "--format", "ids"]) == 3
        out, err = capsys.readouterr()
        assert "come back after" in err and "what was fetched is kept" in err and "Traceback" not in err
        assert [line for line in err.splitlines() if "quota" in line] == [err.strip().splitlines()[-1]]
        assert set(out.split()) <= set(cold_out.split()), "what was found before the quota ran out is printed"
        assert sim.calls(status=429) <= 32, "only requests already in flight (at most 32) meet the exhausted quota"
        store = Store(data / "esh.db")
        saved = len([a for a in store.artists() if a.next_due is not None])
        assert saved > 0 and store.runs(1)[0]["status"] == "quota"
        store.close()

        sim.reset_counts()
        sim.config.quota = None
        sim_time.now += 86_400  # the next day, with quota enough
        assert main(["track", "--since", since, "--format", "ids"]) == 0
        out, _ = capsys.readouterr()
        assert sorted(out.split()) == sorted(cold_out.split())
        assert sim.calls() < cold_calls
        store = Store(data / "esh.db")
        assert store.runs(1)[0]["artists_fetched"] == len(ids) - saved, "saved artists are not fetched again"
        store.close()
    finally:
        server.stop_thread()


# ----- SIGKILL at random points ---------------------------------------------------------------------------------

KILL_SEED, KILL_SIZE, KILLS = 11, 60, 9


async def test_sigkill_at_random_points_never_corrupts_and_the_next_run_resumes(tmp_path):
    path = tmp_path / "esh.db"
    catalog = Catalog.generate(KILL_SEED, KILL_SIZE, TODAY)
    ids = tracked_ids(catalog)
    store = Store(path)
    store.add_artists((i, catalog.artists[i].name, "test") for i in ids)
    artists_before = [(a.id, a.name, a.source, a.added_at) for a in store.artists()]
    store.close()
    rng = random.Random(20261123)
    context = processes()
    killed, corruptions, points = 0, [], []
    for _ in range(KILLS):
        # A resumed run still reads every artist (1,500 statements at least): each kill lands in the run.
        point = (rng.randrange(1, 1_400), rng.randrange(1, 3_000))
        points.append(point)
        process = context.Process(target=run_until_killed, args=(str(path), *point, catalog))
        process.start()
        process.join(60)
        assert process.exitcode == -signal.SIGKILL, f"the process was not killed at {point}"
        killed += 1
        store = Store(path)
        try:
            if not store.integrity_ok():
                corruptions.append(f"integrity at {point}")
            if [(a.id, a.name, a.source, a.added_at) for a in store.artists()] != artists_before:
                corruptions.append(f"artist list at {point}")
        finally:
            store.close()
        if half_written_artists(path):
            corruptions.append(f"half-written artists at {point}: {half_written_artists(path)}")
    assert corruptions == [], corruptions

    store = Store(path)
    scanned = {a.id for a in store.artists() if a.next_due is not None}
    store.close()
    world = FakeWorld(catalog, path)
    result, calls = await world.run()
    assert result.status == "ok" and not result.failed
    assert result.artists_cached == len(scanned) and result.artists_fetched == len(ids) - len(scanned), \
        "the next run resumes: what was saved before the kills is not fetched again"
    assert_matches_oracle(result, expected(catalog, ids))
    assert killed == KILLS


# ----- two processes on one store ------------------------------------------------------------------------------

def test_a_second_writer_waits_then_says_the_store_is_busy_and_nothing_is_corrupted(tmp_path, monkeypatch, capsys):
    import esh_tui.runtime as runtime_module

    assert main(["artists", "list", "--format", "json"]) == 0  # the offline store, with its sample artists
    listed = capsys.readouterr().out
    path = tmp_path / "data" / "offline.db"
    digest = db_digest(path)
    context = processes()
    locked, release = context.Event(), context.Event()
    holder = context.Process(target=hold_write_lock, args=(str(path), locked, release))
    holder.start()
    try:
        assert locked.wait(30)
        store = Store(path, busy_timeout_ms=100)
        try:
            assert "(half-done)" not in str(store.artists()), "readers never see another's unfinished write"
            with pytest.raises(StoreBusyError, match="busy: another esh-tui is writing to it; try again"):
                store.add_artists([("0TnOYISbd1XYRBk9myaseg", "X", "manual")])
        finally:
            store.close()
        monkeypatch.setattr(runtime_module, "Store", partial(Store, busy_timeout_ms=100))
        for argv in (["track", "--format", "json"], ["artists", "remove", json.loads(listed)[0]["id"]]):
            code = main(argv)
            out, err = capsys.readouterr()
            assert code == 1, argv
            assert err.strip().splitlines()[-1].startswith("esh-tui: error: the store") and "is busy" in err
            assert "Traceback" not in err and out == ""
    finally:
        release.set()
        holder.join(30)
    assert holder.exitcode == 0
    assert db_digest(path) == digest, "nothing changed"
    store = Store(path)
    assert store.integrity_ok()
    store.close()
    assert main(["artists", "list", "--format", "json"]) == 0
    assert capsys.readouterr().out == listed


def test_the_fork_server_preloads_modules_that_exist():
    """A name the server cannot import is passed over silently, and every process then imports it again."""
    assert [name for name in PRELOADED if importlib.util.find_spec(name) is None] == []


def _open_store_in_a_process(path: str, start, results) -> None:
    start.wait(30)
    try:
        Store(path).close()
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - the test reports what a process met
        results.put(repr(exc))


def test_processes_creating_one_new_store_at_once_all_open_it():
    """Switching a new store to WAL skips SQLite's busy handler: before the wait for it, about one process in
    four met "is busy" when three created the same store at once (CI saw it in the two-runs test below)."""
    context = multiprocessing.get_context("fork")
    outcomes = []
    for attempt in range(30):
        path = os.path.join(os.getcwd(), f"attempt{attempt}", "esh.db")
        start, results = context.Barrier(3), context.Queue()
        opens = [context.Process(target=_open_store_in_a_process, args=(path, start, results)) for _ in range(3)]
        for process in opens:
            process.start()
        outcomes += [results.get(timeout=30) for _ in opens]
        for process in opens:
            process.join(30)
    assert set(outcomes) == {"ok"}, [o for o in outcomes if o != "ok"][:3]


@pytest.mark.parametrize("fresh", [True, False], ids=["new data dir", "existing store"])
def test_two_track_runs_at_once_both_succeed_and_the_store_is_intact(tmp_path, fresh, capsys):
    data = tmp_path / "data"
    if not fresh:
        assert main(["artists", "list"]) == 0
    context = processes()
    start = context.Barrier(2)
    outs = [str(tmp_path / f"run{i}.json") for i in range(2)]
    runs = [context.Process(target=track_in_a_process, args=(dict(os.environ), str(data), out, start)) for out in outs]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    errors = [open(out + ".err").read() for out in outs]
    assert [run.exitcode for run in runs] == [0, 0], errors
    assert all("Traceback" not in e and "error" not in e for e in errors)
    results = [json.loads(open(out).read()) for out in outs]
    assert results[0] == results[1] and results[0], "both found the same releases"
    store = Store(data / "offline.db")
    try:
        assert store.integrity_ok()
        assert len(store.artists()) == 12 and len({a.id for a in store.artists()}) == 12
        assert [r["status"] for r in store.runs(2)] == ["ok", "ok"]
    finally:
        store.close()
    assert half_written_artists(data / "offline.db") == []


# ----- a damaged store ------------------------------------------------------------------------------------------

def _damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated to half":
        path.write_bytes(data[:len(data) // 2])
    elif how == "truncated inside the header":
        path.write_bytes(data[:60])
    elif how == "garbage file":
        path.write_bytes(os.urandom(len(data)))
    else:  # one table's root page overwritten: found only when a command reads that table
        conn = sqlite3.connect(path)
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'artist_tracks'").fetchone()[0]
        conn.close()
        garbage = random.Random(7).randbytes(page_size)
        path.write_bytes(data[:(root - 1) * page_size] + garbage + data[root * page_size:])


@pytest.mark.parametrize("how", ["truncated to half", "truncated inside the header", "garbage file",
                                 "a garbage page inside"])
def test_a_damaged_store_is_one_clear_line_never_overwritten_and_can_be_moved_aside(how, tmp_path, capsys,
                                                                                   monkeypatch):
    share_offline_spotify(monkeypatch)
    assert main(["track", "--format", "ids"]) == 0
    capsys.readouterr()
    path = tmp_path / "data" / "offline.db"
    assert not (tmp_path / "data" / "offline.db-wal").exists(), "closed cleanly: everything is in the file"
    _damage(path, how)
    damaged = path.read_bytes()
    for argv in (["track", "--format", "ids"], ["artists", "list"], ["artists", "add", "Moon 🌙 Child"], ["stats"]):
        code = main(argv)
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        if how == "a garbage page inside" and argv[0] != "track" and code == 0:
            continue  # this command never reads the damaged table
        assert code == 1, (argv, err)
        errors = [line for line in err.splitlines() if line.startswith("esh-tui")]
        assert len(errors) == 1 and "Traceback" not in err, err
        assert "is damaged" in errors[0] or "not an esh-tui database" in errors[0]
        assert f"mv '{path}' '{path}.broken'" in err, "it says how to move it aside"
    if how != "a garbage page inside":
        assert path.read_bytes() == damaged, "a damaged store is never written to"
    else:
        conn = sqlite3.connect(path)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            verdict = str(exc)
        finally:
            conn.close()
        assert verdict != "ok", "still damaged: not silently 'repaired' or replaced"
    path.rename(path.with_name("offline.db.broken"))  # what the message says to do
    assert main(["track", "--format", "ids"]) == 0, "a new store is started"
    assert (tmp_path / "data" / "offline.db.broken").exists()


def test_a_store_migrated_by_another_process_meanwhile_is_not_migrated_twice(tmp_path, monkeypatch):
    """Two esh-tui opening a brand-new store at once both read schema 0; the second must not create it again."""
    path = tmp_path / "esh.db"
    Store(path).close()  # the other process won the race
    real, reads = Store.schema_version.fget, []

    def version(self) -> int:
        reads.append(1)
        return 0 if len(reads) == 1 else real(self)  # 0 before the other's migration committed, current after

    monkeypatch.setattr(Store, "schema_version", property(version))
    store = Store(path)
    monkeypatch.undo()
    assert store.schema_version == SCHEMA_VERSION and store.integrity_ok()
    store.close()
