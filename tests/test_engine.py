"""The engine with its store and cache: right releases, zero calls when fresh, cheap weekly runs."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from esh_tui.config import Settings
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker

from conftest import TODAY, fresh_catalog


class World:
    """A simulated Spotify with a clock of its own, and an esh-tui store that outlives processes."""

    def __init__(self, catalog, mode, path):
        self.catalog, self.mode, self.path = catalog, mode, path
        self.now = 1_800_000_000.0
        self.sim = SimSpotify(catalog, SimConfig(mode=mode), clock=lambda: self.now)
        self.sleep = asyncio.sleep  # the client's waits (backoff, 429 pauses): real ones unless a test says

    async def run(self, days=90, force=False, ids=None):
        """One process: a fresh client, store and cache over the same files."""
        store = Store(self.path)
        ids = ids or [a.id for a in self.catalog.real_artists()]
        store.add_artists((i, self.catalog.artists[i].name, "test") for i in ids)
        settings = Settings(data_dir=self.path.parent, client_id="test", client_secret="test-secret")
        before = self.sim.calls()
        async with SpotifyClient(settings, SimTransport(self.sim), clock=lambda: self.now, sleep=self.sleep) as client:
            tracker = Tracker(client, store, ReleaseCache(store, clock=lambda: self.now), today=lambda: self.catalog.today)
            result = await tracker.run(self.catalog.today - dt.timedelta(days=days), ids, force=force)
        store.close()
        return result, self.sim.calls() - before, ids

    def advance(self, days):
        self.catalog.advance(days)
        self.now += days * 86400


def _check(result, catalog, ids, days):
    expected = oracle.expected_releases(catalog, ids, catalog.today - dt.timedelta(days=days))
    got = {r.key: r for r in result.releases}
    assert set(got) == set(expected), f"missing {len(set(expected) - set(got))}, extra {len(set(got) - set(expected))}"
    for key, release in expected.items():
        assert (got[key].track_id, got[key].album_id, got[key].release_date) == (
            release.track_id, release.album_id, release.release_date)
        assert set(got[key].found_for) == set(release.found_for)


@pytest.mark.parametrize("mode", ["development", "extended"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("days", [30, 90, 365])
async def test_cold_run_matches_oracle(tmp_path, mode, seed, days):
    world = World(fresh_catalog(seed, 30), mode, tmp_path / "esh.db")
    result, calls, ids = await world.run(days)
    assert result.status == "ok"
    _check(result, world.catalog, ids, days)
    bound = oracle.minimum_calls(world.catalog, ids, world.catalog.today - dt.timedelta(days=days), mode)
    assert calls >= bound.total


@pytest.mark.parametrize("mode", ["development", "extended"])
async def test_second_run_within_ttl_makes_zero_calls_and_same_releases(tmp_path, mode):
    world = World(fresh_catalog(2, 30), mode, tmp_path / "esh.db")
    cold, cold_calls, ids = await world.run()
    world.now += 3600  # an hour later: every artist is still fresh (TTL is at least 6 h)
    hot, hot_calls, _ = await world.run()
    assert cold_calls > 0 and hot_calls == 0
    assert [r.key for r in hot.releases] == [r.key for r in cold.releases]
    assert hot.artists_cached == len(ids) and hot.artists_fetched == 0
    assert not hot.new_keys, "nothing is new the second time"


async def test_expiry_follows_activity(tmp_path):
    world = World(fresh_catalog(1, 30), "development", tmp_path / "esh.db")
    await world.run()
    store = Store(world.path)
    rows = {a.id: a for a in store.artists()}
    for artist in rows.values():
        last = dt.date.fromisoformat(artist.last_release) if artist.last_release else None
        age = (world.catalog.today - last).days if last else None
        expected = 6 if age is not None and age <= 30 else 24 if age is not None and age <= 180 else 168
        assert artist.interval_hours == expected, artist
        assert artist.next_due == pytest.approx(world.now + expected * 3600)
    assert {6, 24, 168} <= {a.interval_hours for a in rows.values()}, "the sample covers every activity class"
    store.close()
    world.now += 7 * 3600  # 7 hours later: only the artists with a release in the last 30 days are due
    result, calls, _ = await world.run()
    recent = [a for a in rows.values() if a.interval_hours == 6]
    assert 0 < calls and result.artists_fetched == len(recent) and Store(world.path).due_artist_ids(world.now) == []
    result, _, _ = await world.run()
    assert result.artists_fetched == 0


@pytest.mark.parametrize("mode", ["development", "extended"])
async def test_four_weekly_runs_cost_what_new_content_requires(tmp_path, mode):
    world = World(fresh_catalog(3, 30), mode, tmp_path / "esh.db")
    result, cold_calls, ids = await world.run()
    knowledge = oracle.Knowledge().learn(world.catalog, ids, world.catalog.today - dt.timedelta(days=90))
    for week in range(2, 5):
        world.advance(7)
        cutoff = world.catalog.today - dt.timedelta(days=90)
        bound = oracle.minimum_calls(world.catalog, ids, cutoff, mode, knowledge)
        result, calls, _ = await world.run(force=True)
        _check(result, world.catalog, ids, 90)
        assert calls <= bound.total * 1.10 + 3, f"week {week}: {calls} calls, new content needs {bound.total}"
        knowledge.learn(world.catalog, ids, cutoff)


async def test_restart_serves_from_the_store(tmp_path):
    world = World(fresh_catalog(1, 30), "development", tmp_path / "esh.db")
    await world.run()
    store = Store(world.path)
    cache = ReleaseCache(store, clock=lambda: world.now)
    artist_id = store.artists()[0].id
    assert cache.artist_scan(artist_id, world.catalog.today - dt.timedelta(days=90)) is not None
    assert cache.stats["memory"].misses == 1 and cache.stats["store"].hits == 1
    assert cache.artist_scan(artist_id, world.catalog.today - dt.timedelta(days=90)) is not None
    assert cache.stats["memory"].hits == 1
    assert cache.artist_scan(artist_id, world.catalog.today - dt.timedelta(days=400)) is None, "a wider window is a miss"


async def test_faults_and_rate_limits_change_nothing_in_the_result(tmp_path):
    catalog = fresh_catalog(2, 30)
    ids = [a.id for a in catalog.real_artists()]
    world = World(catalog, "development", tmp_path / "esh.db")
    world.sim.config.fault_rate, world.sim.config.faults = 0.08, ("500", "503", "drop")

    async def backoff_on_the_worlds_clock(seconds: float) -> None:
        world.now += seconds
        await asyncio.sleep(0)

    world.sleep = backoff_on_the_worlds_clock
    result, _, _ = await world.run()
    assert result.status == "ok" and not result.failed
    _check(result, catalog, ids, 90)
    assert sum(world.sim.faults_injected.values()) > 10


@pytest.mark.parametrize("mode", ["development", "extended"])
async def test_cold_run_over_loopback_with_latency_matches_oracle(tmp_path, mode):
    """Real TCP and latency reorder answers: what the in-process transport hides must still hold."""
    from esh_tui.sim.server import SimServer

    catalog = fresh_catalog(4, 30)
    sim = SimSpotify(catalog, SimConfig(mode=mode, latency_ms=10, jitter_ms=8))
    ids = [a.id for a in catalog.real_artists()]
    async with SimServer(sim) as server:
        settings = Settings(data_dir=tmp_path, api_url=server.api_url, accounts_url=server.url,
                            client_id="test", client_secret="test-secret")
        store = Store(tmp_path / "esh.db")
        async with SpotifyClient(settings) as client:
            result = await Tracker(client, store, today=lambda: catalog.today).run(TODAY - dt.timedelta(days=90), ids)
    assert result.status == "ok", result.failed
    _check(result, catalog, ids, 90)
    assert server.connections_accepted <= 16


async def test_a_run_commits_once_or_twice_per_artist_not_once_per_release(tmp_path):
    """Every commit costs and runs on the dashboard's event loop: ISRC dates, releases and call records are
    written with each finished artist, and everything is in the store once the run is over."""
    catalog = fresh_catalog(1, 30)
    ids = [a.id for a in catalog.real_artists()]
    store = Store(tmp_path / "esh.db")
    store.add_artists((i, i, "test") for i in ids)
    commits: list[str] = []  # COMMITs, and writes outside a transaction (each commits on its own)

    def trace(sql: str) -> None:
        statement = sql.strip().upper()
        if statement == "COMMIT" or (statement.startswith(("INSERT", "UPDATE", "DELETE"))
                                     and not store.db.conn.in_transaction):
            commits.append(statement)

    store.db.conn.set_trace_callback(trace)
    sim = SimSpotify(catalog, SimConfig(mode="development"))
    async with SpotifyClient(Settings(data_dir=tmp_path, client_id="t", client_secret="t"), SimTransport(sim)) as client:
        result = await Tracker(client, store, today=lambda: catalog.today).run(catalog.today - dt.timedelta(days=90), ids)
    store.db.conn.set_trace_callback(None)
    searched = sim.calls("GET /search")
    assert len(result.releases) > len(ids) and searched > len(ids)
    assert len(commits) <= 2 * len(ids) + 4, f"{len(commits)} commits for {len(ids)} artists"
    stored = {row[0] for row in store.db.execute("SELECT key FROM releases")}
    assert stored == {r.key for r in result.releases}
    assert store.db.execute("SELECT count(*) FROM api_calls").fetchone()[0] == result.api_calls
    assert store.db.execute("SELECT count(*) FROM isrc_earliest").fetchone()[0] > 0
    store.close()


async def _tracked_run(tmp_path, catalog, store, force=False, sim=None, **client_options):
    """One run over every real artist of the catalog; returns the result and each ArtistDone/ArtistFailed event."""
    from esh_tui.tracker.events import ArtistDone, ArtistFailed

    ids = [a.id for a in catalog.real_artists()]
    store.add_artists((i, i, "test") for i in ids)
    events: list = []
    sim = sim or SimSpotify(catalog, SimConfig(mode="development"))
    settings = Settings(data_dir=tmp_path, client_id="t", client_secret="t")
    async with SpotifyClient(settings, SimTransport(sim), **client_options) as client:
        tracker = Tracker(client, store, today=lambda: catalog.today,
                          on_event=lambda e: events.append(e) if isinstance(e, (ArtistDone, ArtistFailed)) else None)
        result = await tracker.run(catalog.today - dt.timedelta(days=90), ids, force=force)
    return result, events


async def test_each_artist_keeps_what_its_last_check_cost_and_the_total_of_its_checks(tmp_path):
    catalog = fresh_catalog(1, 30)
    store = Store(tmp_path / "esh.db")
    cold, events = await _tracked_run(tmp_path, catalog, store)
    first = {e.artist_id: e.api_calls for e in events}
    assert cold.status == "ok" and all(calls > 0 for calls in first.values())
    for artist_id, calls in first.items():
        artist = store.artist(artist_id)
        assert (artist.last_scan_calls, artist.total_calls) == (calls, calls)
    assert sum(first.values()) == cold.api_calls, "every call of the run is some artist's"

    fresh, events = await _tracked_run(tmp_path, catalog, store)
    assert fresh.api_calls == 0 and {e.source for e in events} == {"cache"}
    assert all(store.artist(a).total_calls == first[a] for a in first), "a check that asked nothing changes nothing"

    forced, events = await _tracked_run(tmp_path, catalog, store, force=True)
    second = {e.artist_id: e.api_calls for e in events}
    for artist_id, calls in second.items():
        artist = store.artist(artist_id)
        assert (artist.last_scan_calls, artist.total_calls) == (calls, first[artist_id] + calls)
    store.close()


async def test_a_failed_artist_keeps_its_reason_and_the_calls_its_check_spent(tmp_path):
    async def no_wait(seconds):
        return None

    catalog = fresh_catalog(1, 30)
    store = Store(tmp_path / "esh.db")
    sim = SimSpotify(catalog, SimConfig(mode="development", fault_rate=1.0, faults=("503",)))
    result, events = await _tracked_run(tmp_path, catalog, store, sim=sim, sleep=no_wait)
    assert result.failed and len(events) == len(result.failed)
    for artist_id in result.failed:
        artist = store.artist(artist_id)
        assert artist.failed_reason and artist.next_due is None
        assert artist.last_scan_calls == artist.total_calls > 0
    assert sum(store.artist(a).total_calls for a in result.failed) == result.api_calls
    store.close()


async def test_an_artists_releases_from_the_store_are_those_the_run_found_for_it(tmp_path):
    """Also a release another artist's scan reported first: each artist whose scans have it counts it."""
    catalog = fresh_catalog(4, 30)
    store = Store(tmp_path / "esh.db")
    result, _ = await _tracked_run(tmp_path, catalog, store)
    shared = [r for r in result.releases if len(r.found_for) > 1]
    assert shared, "the catalog has releases of two tracked artists"
    for artist in catalog.real_artists():
        found = store.artist_releases(artist.id, result.cutoff)
        assert {r.key for r, _ in found} == {r.key for r in result.releases if artist.id in r.found_for}
        assert [r.release_date for r, _ in found] == sorted((r.release_date for r, _ in found), reverse=True)
        assert all(unseen for _, unseen in found)
    assert store.use_market("JP"), "another market: what the scans learned is forgotten until they list again"
    found_for = {a.id: {r.key for r, _ in store.artist_releases(a.id, result.cutoff)} for a in catalog.real_artists()}
    assert set().union(*found_for.values()) == {r.key for r in result.releases}, "each one still found for its artist"
    assert all(keys <= {r.key for r in result.releases if a in r.found_for} for a, keys in found_for.items())
    store.close()
