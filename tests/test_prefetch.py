"""Prefetching: soonest-due artists refreshed within a budget, and the next run costs nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

from esh_tui.config import Settings
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.prefetch import Prefetcher

from conftest import fresh_catalog


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def _setup(tmp_path, clock, latency_ms=0):
    catalog = fresh_catalog(1, 30)
    sim = SimSpotify(catalog, SimConfig(mode="development", latency_ms=latency_ms), clock=clock)
    store = Store(tmp_path / "esh.db")
    ids = [a.id for a in catalog.real_artists()]
    store.add_artists((i, catalog.artists[i].name, "test") for i in ids)
    client = SpotifyClient(Settings(data_dir=tmp_path, client_id="t", client_secret="t"), SimTransport(sim), clock=clock)
    tracker = Tracker(client, store, ReleaseCache(store, clock=clock), today=lambda: catalog.today)
    return catalog, sim, store, client, tracker


async def test_prefetch_refreshes_soonest_due_within_budget_and_the_next_run_is_free(tmp_path):
    clock = Clock()
    catalog, sim, store, client, tracker = _setup(tmp_path, clock)
    cutoff = catalog.today - dt.timedelta(days=90)
    async with client:
        await tracker.run(cutoff)
        clock.now += 5 * 3600  # the 6-hour artists are due within the next hour
        soon = store.soon_due_artist_ids(clock.now, clock.now + 6 * 3600)
        active = [a.id for a in store.artists() if a.interval_hours == 6]
        assert active and set(soon[:len(active)]) == set(active), "most active first"
        prefetcher = Prefetcher(tracker, lambda: cutoff, budget_per_minute=3, horizon_hours=6, clock=clock)
        refreshed = await prefetcher.run_once()
        assert 0 < refreshed < len(soon), "the budget stops it before the queue is empty"
        assert prefetcher.calls >= 3 and await prefetcher.run_once() == 0, "nothing more within the same minute"
        for _ in range(10):  # a refreshed artist leaves the queue: it empties in a few budget windows
            if not prefetcher.next_up():
                break
            clock.now += 61
            await prefetcher.run_once()
        assert not prefetcher.next_up(), "refreshed artists must not be prefetched again at once"
        clock.now += 2 * 3600  # past the time the active artists would have been due
        before = sim.calls()
        result = await tracker.run(cutoff)
    assert sim.calls() == before, "everything was fresh: the interactive refresh made no call"
    assert result.artists_cached == len(store.artists())


async def test_a_user_run_cancels_prefetch_at_once_and_nothing_is_half_written(tmp_path):
    clock = Clock()
    catalog, sim, store, client, tracker = _setup(tmp_path, clock, latency_ms=5)
    cutoff = catalog.today - dt.timedelta(days=90)
    async with client:
        await tracker.run(cutoff)
        clock.now += 7 * 86400 - 60  # everyone is due within the horizon
        prefetcher = Prefetcher(tracker, lambda: cutoff, budget_per_minute=10_000, horizon_hours=24 * 8, clock=clock)
        task = asyncio.ensure_future(prefetcher.run_once())
        for _ in range(10_000):  # until the first artist is prefetched (a condition, not a fixed wait)
            if prefetcher.calls:
                break
            await asyncio.sleep(0.001)
        assert prefetcher.busy
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled() and 0 < prefetcher.calls
        assert not prefetcher.busy, "a cancelled prefetch does not leave the dashboard saying 'prefetching'"
        assert store.integrity_ok()
        clock.now += 60  # the run serves prefetched artists from the store and fetches the rest
        result = await tracker.run(cutoff)
    assert result.status == "ok" and 0 < result.artists_cached < len(store.artists())
    ids = [a.id for a in store.artists()]
    expected = oracle.expected_releases(catalog, ids, cutoff)
    assert {r.key: (r.track_id, r.release_date) for r in result.releases} == \
        {k: (r.track_id, r.release_date) for k, r in expected.items()}, "nothing half-written"


async def test_a_prefetched_artist_keeps_what_its_refresh_cost_added_to_its_total(tmp_path):
    clock = Clock()
    catalog, sim, store, client, tracker = _setup(tmp_path, clock)
    cutoff = catalog.today - dt.timedelta(days=90)
    async with client:
        await tracker.run(cutoff)
        before = {a.id: a.total_calls for a in store.artists()}
        clock.now += 5 * 3600
        artist_id = store.soon_due_artist_ids(clock.now, clock.now + 6 * 3600)[0]
        calls = client.log.calls
        await tracker.prefetch(artist_id, cutoff)
        spent = client.log.calls - calls
    artist = store.artist(artist_id)
    assert spent > 0 and (artist.last_scan_calls, artist.total_calls) == (spent, before[artist_id] + spent)
    store.close()
