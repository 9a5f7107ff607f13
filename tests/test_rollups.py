"""What runs cost, kept in the store as they go: per run, per endpoint and status, per minute; and the history."""

from __future__ import annotations

import datetime as dt

from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import SCHEMA_VERSION, Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.events import ArtistDone

from conftest import fresh_catalog
from reliability_support import FakeTime
from test_engine import World


def _sums(store: Store, run_id: int) -> tuple[int, int, int]:
    """A run's calls counted three ways: its cost row, by endpoint and status, per minute."""
    cost = store.run_cost(run_id)
    by_endpoint = sum(store.calls_by_endpoint(run_id).values())
    per_minute = store.db.execute("SELECT total(calls) FROM run_minutes WHERE run_id = ?", (run_id,)).fetchone()[0]
    return cost["calls"], by_endpoint, int(per_minute)


async def test_a_runs_cost_rollups_agree_with_its_calls_and_releases(tmp_path):
    world = World(fresh_catalog(1, 30), "development", tmp_path / "esh.db")
    result, calls, _ = await world.run()
    store = Store(world.path)
    run = store.runs(1)[0]
    assert _sums(store, run["id"]) == (calls, calls, calls) == (run["api_calls"],) * 3
    cost = store.run_cost(run["id"])
    assert cost["releases"] == len(result.releases) == run["releases"]
    statuses = dict(store.db.execute("SELECT status, sum(calls) FROM run_endpoints WHERE run_id = ? GROUP BY status",
                                     (run["id"],)).fetchall())
    assert sum(statuses.values()) == calls and statuses["200"] >= calls - 2
    assert statuses.get("403") == 1, "development mode: the one batch probe Spotify refuses is counted by status"
    assert cost["api_p50_ms"] is not None and cost["api_p95_ms"] >= cost["api_p50_ms"]
    minutes = store.db.execute("SELECT total(releases), total(store_misses) FROM run_minutes WHERE run_id = ?",
                               (run["id"],)).fetchone()
    assert minutes[0] == len(result.releases) and minutes[1] == store.cache_stats(run["id"])["store"]["misses"] > 0


async def test_each_runs_cache_figures_count_only_its_own_lookups(tmp_path):
    """A dashboard makes many runs in one process: the second run's hit rate is not the session's."""
    world = World(fresh_catalog(2, 30), "development", tmp_path / "esh.db")
    store = Store(world.path)
    ids = [a.id for a in world.catalog.real_artists()]
    store.add_artists((i, world.catalog.artists[i].name, "test") for i in ids)
    from esh_tui.config import Settings
    settings = Settings(data_dir=world.path.parent, client_id="test", client_secret="test-secret")
    async with SpotifyClient(settings, SimTransport(world.sim), clock=lambda: world.now) as client:
        tracker = Tracker(client, store, ReleaseCache(store, clock=lambda: world.now), today=lambda: world.catalog.today)
        cutoff = world.catalog.today - dt.timedelta(days=90)
        first = await tracker.run(cutoff, ids)
        world.now += 3600
        second = await tracker.run(cutoff, ids)
    one, two = store.cache_stats(first.run_id), store.cache_stats(second.run_id)
    assert one["memory"]["misses"] > 0 and one["memory"]["hits"] == 0
    assert two["memory"]["hits"] > 0 and two["memory"]["misses"] == 0, "the second run asked nothing it missed"
    assert store.run_cost(second.run_id)["calls"] == 0
    store.close()


async def test_a_run_writes_its_cost_as_it_goes_not_only_at_its_end(tmp_path):
    """Another process watching the store sees the run while it goes: after each finished artist the stored
    figures are the calls made so far, at most COST_EVERY seconds (on the tracker's clock) old."""
    import esh_tui.tracker.engine as engine
    catalog = fresh_catalog(3, 30)
    sim = SimSpotify(catalog, SimConfig(mode="development"))
    fake = FakeTime()
    path = tmp_path / "esh.db"
    store = Store(path)
    ids = [a.id for a in catalog.real_artists()]
    store.add_artists((i, catalog.artists[i].name, "test") for i in ids)
    seen: list[tuple[int, int]] = []  # (calls made so far, calls the store shows)

    def on_event(event):
        if isinstance(event, ArtistDone):
            fake.now += engine.COST_EVERY  # a second passes per artist: every artist's write carries the calls
            watcher = Store(path)
            try:
                run = watcher.runs(1)[0]
                shown = (watcher.run_cost(run["id"]) or {}).get("calls", 0)
            finally:
                watcher.close()
            seen.append((client.log.calls, shown))

    from esh_tui.config import Settings
    settings = Settings(data_dir=tmp_path, client_id="test", client_secret="test-secret")
    async with SpotifyClient(settings, SimTransport(sim), clock=fake.clock) as client:
        tracker = Tracker(client, store, ReleaseCache(store, clock=fake.clock), today=lambda: catalog.today,
                          on_event=on_event, artist_concurrency=1)
        await tracker.run(catalog.today - dt.timedelta(days=90), ids)
    store.close()
    assert len(seen) == len(ids)
    # what an artist's write carries is there when the next artist finishes (a write a second may carry more)
    assert all(made_before <= shown <= made for (made_before, _), (made, shown) in zip(seen, seen[1:])), seen


def test_a_store_from_before_the_rollups_gets_them_from_its_call_records(tmp_path):
    import sqlite_utils

    from esh_tui.storage.store import MIGRATIONS

    path = tmp_path / "esh.db"
    db = sqlite_utils.Database(path)  # a schema 4 store, as esh-tui left it before the rollups
    for version in range(1, 5):
        MIGRATIONS[version](db)
    db.execute("PRAGMA user_version = 4")
    run_id = db["runs"].insert({"started_at": 1_800_000_000.0, "finished_at": 1_800_000_090.0, "status": "ok",
                                "cutoff": "2026-01-01", "forced": 0, "mode": "development", "artists": 3,
                                "api_calls": 90, "releases": 9}).last_pk
    db.conn.executemany(
        "INSERT INTO api_calls (run_id, at, template, status, latency_ms, bytes, retried, new_connection) "
        "VALUES (?, ?, ?, ?, ?, 0, ?, 1)",
        [(run_id, 1_800_000_000 + i, "GET /artists/{id}/albums" if i % 3 else "GET /albums", "429" if i == 4 else "200",
          10.0, int(i == 5)) for i in range(90)])
    db.conn.commit()
    db.close()
    again = Store(path)
    assert again.schema_version == SCHEMA_VERSION
    cost = again.run_cost(run_id)
    assert (cost["calls"], cost["rate_limited"], cost["retries"], cost["opened"], cost["releases"]) == (90, 1, 1, 90, 9)
    assert again.calls_by_endpoint(run_id) == {"GET /artists/{id}/albums": 60, "GET /albums": 30}
    assert again.db.execute("SELECT minute, calls FROM run_minutes ORDER BY minute").fetchall() == [
        (1_800_000_000, 60), (1_800_000_060, 30)]
    again.close()


async def test_history_tells_calls_per_day_each_runs_cost_and_hit_rate_and_releases_per_week(tmp_path):
    world = World(fresh_catalog(2, 30), "development", tmp_path / "esh.db")
    cold, cold_calls, _ = await world.run()
    world.now += 3600
    await world.run()
    store = Store(world.path)
    history = store.history(days=30)
    assert sum(calls for _, calls in history.calls_per_day) == cold_calls
    assert [r["calls"] for r in history.runs] == [cold_calls, 0]
    assert history.runs[0]["calls_per_release"] == round(cold_calls / len(cold.releases), 2)
    assert history.runs[0]["hit_rate"] == 0.0 and history.runs[1]["hit_rate"] == 1.0
    assert sum(count for _, count in history.releases_per_week) == len(cold.releases)
    as_json = history.as_json()
    assert as_json["runs"][1]["calls_per_release"] == 0.0 and as_json["calls_per_day"][0]["calls"] == cold_calls
    store.close()


def test_stats_json_gives_each_runs_cost_and_the_history_the_dashboard_plots(capsys):
    import json

    from esh_tui.cli import main

    assert main(["track", "--format", "ids"]) == 0
    assert main(["track", "--format", "ids"]) == 0  # fresh: answered from the store
    capsys.readouterr()
    assert main(["stats", "--format", "json", "--runs", "2", "--days", "7"]) == 0
    figures = json.loads(capsys.readouterr().out)
    second, first = figures["runs"]
    assert first["api_calls"] > 0 and first["hit_rate"] == 0.0 and second["api_calls"] == 0 and second["hit_rate"] == 1.0
    assert sum(first["calls_by_endpoint"].values()) == first["api_calls"]
    assert first["calls_per_release"] == round(first["api_calls"] / first["releases"], 2)
    history = figures["history"]
    assert history["days"] == 7 and sum(d["calls"] for d in history["calls_per_day"]) == first["api_calls"]
    assert [r["id"] for r in history["runs"]] == [first["id"], second["id"]]
    assert sum(w["releases"] for w in history["releases_per_week"]) == first["releases"]
    assert figures["budget"]["used"] == first["api_calls"] and figures["next_run"].startswith("about 0 API calls")


async def test_a_run_waiting_out_a_rate_limit_still_writes_its_429s_to_the_store(tmp_path, monkeypatch):
    """No artist ends while the whole run waits for Spotify: its cost still reaches the store (every COST_EVERY, a
    tenth of a second here instead of a second), so a dashboard watching shows the 429 as it comes."""
    import asyncio

    from esh_tui.config import Settings
    from esh_tui.tracker import engine

    monkeypatch.setattr(engine, "COST_EVERY", 0.1)

    catalog = fresh_catalog(3, 30)
    fake = FakeTime()  # Spotify's and the client's: the wait is waited out at once, once the test lets it go
    sim = SimSpotify(catalog, SimConfig(mode="development", rate_limit=20), clock=fake.clock)
    path = tmp_path / "esh.db"
    store = Store(path)
    ids = [a.id for a in catalog.real_artists()]
    store.add_artists((i, catalog.artists[i].name, "test") for i in ids)
    waiting, release = asyncio.Event(), asyncio.Event()

    async def wait_for_the_test(seconds: float) -> None:  # the Retry-After wait lasts until the test says so
        waiting.set()
        await release.wait()
        await fake.sleep(seconds)

    settings = Settings(data_dir=tmp_path, client_id="test", client_secret="test-secret")
    async with SpotifyClient(settings, SimTransport(sim), sleep=wait_for_the_test, clock=fake.clock) as client:
        tracker = Tracker(client, store, ReleaseCache(store), today=lambda: catalog.today)  # the store's clock: real
        run = asyncio.ensure_future(tracker.run(catalog.today - dt.timedelta(days=90), ids))
        await waiting.wait()
        watcher = Store(path)
        try:
            for _ in range(60):  # at most 6 s: the run writes within COST_EVERY of the 429
                newest = watcher.runs(1)[0]
                if (watcher.run_cost(newest["id"]) or {}).get("rate_limited"):
                    break
                await asyncio.sleep(0.1)
            shown = watcher.run_cost(newest["id"]) or {}
        finally:
            watcher.close()
        assert not run.done(), "the run was still waiting"
        release.set()
        await run
    store.close()
    assert shown.get("rate_limited", 0) >= 1 and shown["calls"] >= 20, shown
