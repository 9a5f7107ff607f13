"""Engine options: each optimization is a real switch, off gives the naive behaviour, and the defaults are unchanged."""

from __future__ import annotations

import datetime as dt

import pytest

from esh_tui.config import Settings
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.memory import MemoryTier
from esh_tui.storage.store import CACHED_CANDIDATES_SQL, Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.options import EngineOptions

from conftest import fresh_catalog

LOOKUP = CACHED_CANDIDATES_SQL.format(table="artist_tracks")


class World:
    def __init__(self, tmp_path, mode="development", latency_ms=0.0):
        self.catalog = fresh_catalog(2, 12)
        self.now = 1_800_000_000.0
        self.sim = SimSpotify(self.catalog, SimConfig(mode=mode, latency_ms=latency_ms), clock=lambda: self.now)
        self.path = tmp_path / "esh.db"
        self.ids = [a.id for a in self.catalog.real_artists()]

    async def run(self, options: EngineOptions):
        store = Store(self.path)
        store.add_artists((i, i, "test") for i in self.ids)
        settings = Settings(data_dir=self.path.parent, client_id="t", client_secret="t")
        before = self.sim.calls()
        async with SpotifyClient(settings, SimTransport(self.sim), **options.client_kwargs()) as client:
            cache = ReleaseCache(store, clock=lambda: self.now, **options.cache_kwargs())
            tracker = Tracker(client, store, cache, today=lambda: self.catalog.today, options=options)
            result = await tracker.run(self.catalog.today - dt.timedelta(days=90), self.ids)
            peak = client.limit.peak_in_flight
        plan = store.query_plan(LOOKUP, (self.ids[0], "2026-01-01"))
        store.close()
        expected = oracle.expected_releases(self.catalog, self.ids, self.catalog.today - dt.timedelta(days=90))
        assert {r.key for r in result.releases} == set(expected), "every configuration finds the same releases"
        return result, self.sim.calls() - before, peak, plan


def test_defaults_are_every_optimization_and_naive_is_none():
    assert all(getattr(EngineOptions(), name) for name in EngineOptions.names())
    assert not any(getattr(EngineOptions.naive(), name) for name in EngineOptions.names())
    assert EngineOptions.only("batching").enabled() == ("batching",)
    assert EngineOptions().client_kwargs() == {"pooling": True, "batching": True, "single_flight": True}
    assert EngineOptions.naive().ttl_policy().ttl_hours(dt.date(2026, 1, 1), dt.date(2026, 1, 2)) == 24
    with pytest.raises(ValueError, match="unknown engine options"):
        EngineOptions.only("turbo")


def test_a_memory_tier_of_size_zero_is_off():
    tier = MemoryTier(0)
    tier.put("k", "v", float("inf"))
    assert tier.get("k") is None and len(tier) == 0 and tier.stats.hits == tier.stats.misses == 0


async def test_naive_runs_one_request_at_a_time_without_the_index_and_from_scratch(tmp_path):
    world = World(tmp_path, latency_ms=1)
    _, cold, peak, plan = await world.run(EngineOptions.naive())
    assert peak == 1, "one request at a time"
    assert "idx_artist_tracks_lookup" not in plan
    world.catalog.advance(7)
    world.now += 7 * 86400
    _, weekly, _, _ = await world.run(EngineOptions.naive())
    assert weekly >= cold * 0.9, "not incremental: a weekly run costs about what a cold one does"


async def test_the_default_is_incremental_concurrent_and_indexed(tmp_path):
    world = World(tmp_path, latency_ms=1)
    _, cold, peak, plan = await world.run(EngineOptions())
    assert peak > 1 and "idx_artist_tracks_lookup" in plan
    world.catalog.advance(7)
    world.now += 7 * 86400
    _, weekly, _, _ = await world.run(EngineOptions())
    assert weekly < cold / 3


async def test_batching_off_uses_no_batch_endpoint_in_extended_mode(tmp_path):
    world = World(tmp_path, "extended")
    await world.run(EngineOptions(batching=False))
    assert world.sim.calls("GET /albums") == world.sim.calls("GET /tracks") == 0
    assert world.sim.calls("GET /albums/{id}") > 0 and world.sim.calls("GET /tracks/{id}") > 0


async def test_a_fresh_artist_costs_nothing_even_when_not_incremental(tmp_path):
    """The naive baseline keeps a 24 h answer per artist: a hot run is free in every configuration."""
    world = World(tmp_path)
    await world.run(EngineOptions.naive())
    world.now += 3600
    result, calls, _, _ = await world.run(EngineOptions.naive())
    assert calls == 0 and result.artists_cached == len(world.ids)


@pytest.mark.parametrize("mode", ["development", "extended"])
async def test_no_request_is_sent_twice_in_a_run(tmp_path, mode):
    """Albums shared by two tracked artists (splits) are read once, whichever artist asks first, even when
    the first answer arrived before the second artist asked (single-flight alone would not catch that)."""
    from collections import Counter
    from urllib.parse import parse_qs, urlsplit

    catalog = fresh_catalog(1, 100)
    sim = SimSpotify(catalog, SimConfig(mode=mode, latency_ms=2, jitter_ms=2))
    ids = [a.id for a in catalog.real_artists()]
    store = Store(tmp_path / "esh.db")
    store.add_artists((i, i, "test") for i in ids)
    async with SpotifyClient(Settings(data_dir=tmp_path, client_id="t", client_secret="t"), SimTransport(sim)) as client:
        tracker = Tracker(client, store, today=lambda: catalog.today)
        result = await tracker.run(catalog.today - dt.timedelta(days=90), ids)
        answered = [r for r in client.log.records if r.status == 200]
    store.close()
    assert result.status == "ok" and tracker.fetches_shared > 0, "the catalog has albums of two tracked artists"
    assert [u for u, n in Counter(r.url for r in answered).items() if n > 1] == []
    items = Counter(i for r in answered if "ids=" in r.url
                    for i in parse_qs(urlsplit(r.url).query)["ids"][0].split(","))
    assert [i for i, n in items.items() if n > 1] == [], "nor an id inside two different batches"


async def test_listing_cutoff_off_pages_through_every_album_and_finds_the_same(tmp_path):
    """The naive listing reads every page of every artist's albums; the default stops at the cutoff."""
    import math

    world = World(tmp_path)
    own = ("album", "single", "compilation")
    every_page = sum(max(1, math.ceil(len(world.catalog.artist_albums(i, own)) / 10)) for i in world.ids)
    await world.run(EngineOptions(listing_cutoff=False, incremental=False))
    listed = world.sim.calls("GET /artists/{id}/albums")
    assert listed == every_page + 1, "every page, and the first request that learns the page size is 10"
    (tmp_path / "default").mkdir()
    default = World(tmp_path / "default")
    await default.run(EngineOptions())
    assert default.sim.calls("GET /artists/{id}/albums") < listed / 2
