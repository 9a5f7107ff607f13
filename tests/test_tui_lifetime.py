"""The dashboard over a store that lives through many runs: the same releases after any run, stars that
last until the user clears them, no ⟳ left behind, and a cron run beside it on the same store."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

from esh_tui.config import load_settings
from esh_tui.runtime import open_runtime
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.server import SimServer
from esh_tui.storage.store import Store
from esh_tui.tui.app import EshApp
from esh_tui.tui.widgets.releases import ReleasesTable
from esh_tui.tui.widgets.tables import STATE_GLYPHS, ArtistsTable

from reliability_support import simulator_environment, store_tracking, tracked_ids
from tui_support import NOW, make_app, settle as _settle

SIZE = (110, 34)


def _stars(app) -> set[str]:
    table = app.query_one(ReleasesTable)
    return {key for key in table.releases if str(table.get_row(key)[0]) == "★"}


async def test_a_narrower_forced_run_in_between_leaves_the_dashboard_showing_every_release_after_R():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        ids = [a.id for a in app.runtime.store.artists()]
        catalog = app.runtime.offline.catalog
        want = set(oracle.expected_releases(catalog, ids, app.cutoff()))
        assert set(app.query_one(ReleasesTable).releases) == want
        narrow = await app.tracker.run(catalog.today - dt.timedelta(days=14), force=True)  # a cron job's window
        assert {r.key for r in narrow.releases} == set(oracle.expected_releases(
            catalog, ids, catalog.today - dt.timedelta(days=14)))
        await pilot.press("R")
        await _settle(app, pilot)
        assert app.last_result.status == "ok"
        assert set(app.query_one(ReleasesTable).releases) == want, "nothing forgotten"


async def test_stars_survive_a_cancelled_run_and_marking_seen_survives_a_restart():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        found = set(app.query_one(ReleasesTable).releases)
        assert found and _stars(app) == found, "everything the first run found is new"
    app.runtime.close()

    app, gated = make_app(gate_artist_index=3, autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        assert _stars(app) == found, "a restart keeps the stars"
        await pilot.press("R")
        await gated.reached.wait()
        await pilot.press("x")
        await _settle(app, pilot)
        assert "cancelled" in app.state
        assert _stars(app) == found, "a cancelled run clears no star"
        artists = app.query_one(ArtistsTable)
        glyphs = {str(artists.get_row(a.id)[0]) for a in app.runtime.store.artists()}
        assert STATE_GLYPHS["fetching"] not in glyphs, "no ⟳ after the run ended"
        assert app.runtime.store.runs(1)[0]["status"] == "cancelled"
        table = app.query_one(ReleasesTable)
        table.focus()
        table.move_cursor(row=0)
        first = table.selected_key
        await pilot.press("m")
        assert _stars(app) == found - {first}
    app.runtime.close()

    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        assert _stars(app) == found - {first}, "marked seen, for good"
        await pilot.press("M")
        assert _stars(app) == set()
    app.runtime.close()
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        assert _stars(app) == set() and set(app.query_one(ReleasesTable).releases) == found
    app.runtime.close()


async def test_the_dashboard_and_a_cron_track_on_one_store_both_finish_with_the_oracles_releases(tmp_path, monkeypatch):
    today = dt.date.today()  # a store with credentials follows the real date: so does this simulator
    catalog = Catalog.generate(4, 40, today)
    ids = tracked_ids(catalog)
    sim = SimSpotify(catalog, SimConfig(mode="development", latency_ms=15, jitter_ms=5))
    data = tmp_path / "data"
    store_tracking(data / "esh.db", catalog, ids)
    server = SimServer(sim).start_in_thread()
    try:
        for name, value in simulator_environment(server, data).items():
            monkeypatch.setenv(name, value)
        cron = subprocess.Popen([sys.executable, "-m", "esh_tui", "track", "--days", "90", "--format", "ids"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while sim.calls() < 20 and cron.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)  # until the cron run is under way: the dashboard's run starts in the middle of it
        app = EshApp(open_runtime(load_settings()), prefetch=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await _settle(app, pilot)
            shown = {r.track_id for r in app.query_one(ReleasesTable).releases.values()}
            assert app.last_result.status == "ok"
        app.runtime.close()
        out, err = cron.communicate(timeout=120)
    finally:
        server.stop_thread()
    assert cron.returncode == 0, err
    want = {r.track_id for r in oracle.expected_releases(catalog, ids, today - dt.timedelta(days=90)).values()}
    assert set(out.split()) == want and shown == want
    runs = sorted(store_runs(data), key=lambda r: r["started_at"])
    assert runs[1]["started_at"] < runs[0]["finished_at"], "the two runs overlapped"
    store = Store(data / "esh.db")
    try:
        assert store.integrity_ok()
        assert [r["status"] for r in store.runs(2)] == ["ok", "ok"]
    finally:
        store.close()


def store_runs(data) -> list[dict]:
    store = Store(data / "esh.db")
    try:
        return store.runs(2)
    finally:
        store.close()


async def test_a_track_run_by_another_process_shows_in_the_open_dashboards_api_panel(tmp_path, monkeypatch):
    from esh_tui.tui.widgets.metrics import ApiPanel

    today = dt.date.today()
    catalog = Catalog.generate(5, 30, today)
    ids = tracked_ids(catalog)
    data = tmp_path / "data"
    store_tracking(data / "esh.db", catalog, ids)
    server = SimServer(SimSpotify(catalog, SimConfig(mode="development"))).start_in_thread()
    try:
        for name, value in simulator_environment(server, data).items():
            monkeypatch.setenv(name, value)
        app = EshApp(open_runtime(load_settings()), autostart=False, prefetch=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            cron = subprocess.run([sys.executable, "-m", "esh_tui", "track", "--format", "ids"],
                                  capture_output=True, text=True, timeout=120)
            app.dashboard.refresh_metrics(reschedule=False)  # what the panels' one-second timer does
            await pilot.pause()
            text = str(app.dashboard.query_one(ApiPanel).render())
        app.runtime.close()
    finally:
        server.stop_thread()
    assert cron.returncode == 0, cron.stderr
    run = store_runs(data)[0]
    assert f"pid {run['pid']}'s last run" in text and f"{run['api_calls']} calls" in text


async def test_a_track_run_by_another_process_shows_live_in_the_open_dashboards_panels_while_it_goes(tmp_path, monkeypatch):
    """The panels' own timer reads the other process's run from the store while it goes: its calls, labelled
    live, and its cache lookups (a forced run over a warm store answers ISRC dates from the store). The timer
    ticks every quarter second here instead of every second, so a run four times shorter is watched as long."""
    from esh_tui.tui.screens import dashboard
    from esh_tui.tui.widgets.metrics import ApiPanel, CachePanel

    monkeypatch.setattr(dashboard, "METRICS_EVERY", dashboard.METRICS_EVERY / 4)

    today = dt.date.today()
    catalog = Catalog.generate(6, 30, today)
    ids = tracked_ids(catalog)
    data = tmp_path / "data"
    store_tracking(data / "esh.db", catalog, ids)
    spotify = SimSpotify(catalog, SimConfig(mode="development"))
    server = SimServer(spotify).start_in_thread()
    seen: list[tuple[str, str]] = []
    try:
        for name, value in simulator_environment(server, data).items():
            monkeypatch.setenv(name, value)
        config = tmp_path / "config"
        config.mkdir()
        (config / "config.toml").write_text("[network]\nmax_connections = 2\n")
        monkeypatch.setenv("ESH_CONFIG_DIR", str(config))
        warm = subprocess.run([sys.executable, "-m", "esh_tui", "track", "--format", "ids"],
                              capture_output=True, text=True, timeout=120)
        assert warm.returncode == 0, warm.stderr
        spotify.config.latency_ms = 250 / 4  # the watched run: about 30 calls on 2 connections, several ticks long
        app = EshApp(open_runtime(load_settings()), autostart=False, prefetch=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            cron = subprocess.Popen([sys.executable, "-m", "esh_tui", "track", "--force-refresh", "--format", "ids"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            while cron.poll() is None:  # what the panels show each tenth of a second while the other run goes
                await pilot.pause(0.1)
                seen.append((str(app.dashboard.query_one(ApiPanel).render()),
                             str(app.dashboard.query_one(CachePanel).render())))
            stderr = cron.stderr.read()
        app.runtime.close()
    finally:
        server.stop_thread()
    assert cron.returncode == 0, stderr
    run = store_runs(data)[0]
    live = [(api, cache) for api, cache in seen if f"pid {run['pid']}'s run (live)" in api]
    assert live, seen[-1]
    calls_shown = {int(api.splitlines()[1].split(" calls")[0]) for api, _ in live}
    assert len(calls_shown - {0}) >= 2, f"the calls went up while the run went on: {sorted(calls_shown)}"
    assert any("· live" in cache and not cache.startswith("Cache 0%") and "—" not in cache.splitlines()[0]
               for _, cache in live), live[-1][1]
