"""Release filters: the tracker reports exactly what the oracle, given the same filter settings, says it should.

The oracle judges from the catalog's ground truth (which albums are EPs, which titles are which versions), never
from the tracker's title rules; the catalog here has the version releases (`Catalog.generate(versions=True)`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import lru_cache

import pytest
from hypothesis import given, settings, strategies as st

from esh_tui.config import Settings
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.release_filter import RELEASE_TYPES, VERSIONS, FilterError, ReleaseFilter, release_type

from conftest import TODAY

SIZE = 20
PATTERNS = ("^neon", "harbor|velvet", r"\bghost\b", "remix", r"[^\x00-\x7f]", "edition$", "a{2,}")


@lru_cache(maxsize=4)
def versions_catalog(seed: int) -> Catalog:
    """Shared, never advanced: a catalog with EPs, remixes, sped-up, slowed... releases and look-alike titles."""
    return Catalog.generate(seed, SIZE, TODAY, versions=True)


class World:
    """A simulated Spotify on a clock of its own, and one store that outlives each run's 'process'."""

    def __init__(self, catalog: Catalog, mode: str, path, ids: list[str] | None = None):
        self.catalog, self.path, self.now = catalog, path, 1_800_000_000.0
        self.sim = SimSpotify(catalog, SimConfig(mode=mode), clock=lambda: self.now)
        self.ids = ids or [a.id for a in catalog.real_artists()]

    def run(self, release_filter: ReleaseFilter, days: int = 90):
        """One run in a fresh client, store and cache (a new process, as far as the store can tell)."""
        return asyncio.run(self._run(release_filter, days))

    async def _run(self, release_filter: ReleaseFilter, days: int):
        store = Store(self.path)
        try:
            store.add_artists((i, self.catalog.artists[i].name, "test") for i in self.ids)
            settings = Settings(data_dir=self.path.parent, client_id="test", client_secret="test-secret")
            before = self.sim.calls()
            async with SpotifyClient(settings, SimTransport(self.sim), clock=lambda: self.now) as client:
                tracker = Tracker(client, store, ReleaseCache(store, clock=lambda: self.now),
                                  today=lambda: self.catalog.today, release_filter=release_filter)
                result = await tracker.run(self.catalog.today - dt.timedelta(days=days), self.ids)
                stored = tracker.stored_releases(self.catalog.today - dt.timedelta(days=days), self.ids)
            return result, self.sim.calls() - before, stored
        finally:
            store.close()


def assert_exactly_the_oracles(world: World, result, release_filter: ReleaseFilter, days: int = 90) -> dict:
    want = oracle.expected_releases(world.catalog, world.ids, world.catalog.today - dt.timedelta(days=days),
                                    filters=oracle.Filters.like(release_filter))
    got = {r.key: r for r in result.releases}
    assert set(got) == set(want), f"missing {sorted(set(want) - set(got))[:5]}, extra {sorted(set(got) - set(want))[:5]}"
    for key, expected in want.items():
        release = got[key]
        assert (release.track_id, release.album_id, release.release_date, release.album_type) == (
            expected.track_id, expected.album_id, expected.release_date, expected.album_type), key
        assert set(release.found_for) == set(expected.found_for), key
    return want


def filters(names: list[str]):
    return st.builds(
        ReleaseFilter,
        types=st.frozensets(st.sampled_from(RELEASE_TYPES)),
        appears_on=st.booleans(),
        exclude=st.frozensets(st.sampled_from(tuple(VERSIONS))),
        block=st.lists(st.sampled_from(PATTERNS), max_size=2, unique=True).map(tuple),
        block_artists=st.lists(st.sampled_from(names), max_size=2, unique=True).map(tuple))


def _names(seed: int) -> list[str]:
    return [a.name for a in versions_catalog(seed).real_artists()][:8]


# ----- the catalog has what the filters are about ------------------------------------------------------------

def test_versions_catalog_has_eps_versions_features_and_look_alikes():
    catalog = versions_catalog(1)
    albums = list(catalog.albums.values())
    assert any(a.kind == "ep" and a.album_type == "single" and len(a.track_ids) >= 4 for a in albums)
    versions = {v for a in albums for v in a.versions} | {v for t in catalog.tracks.values() for v in t.versions}
    assert versions == set(VERSIONS)
    assert any(a.name in ("Coverage", "Undercover", "Remixer", "Reverberation") for a in albums), \
        "titles that only look like one"
    assert any(catalog.artist_albums(a.id, ("appears_on",)) for a in catalog.real_artists())


def test_the_plain_catalog_is_unchanged_by_the_versions_option():
    plain, with_versions = Catalog.generate(2, 10, TODAY), Catalog.generate(2, 10, TODAY, versions=True)
    assert set(plain.albums) < set(with_versions.albums)
    assert all(with_versions.albums[i].name == a.name for i, a in plain.albums.items())


# ----- the tracker and the oracle agree, in both modes, for any filter --------------------------------------

@pytest.mark.parametrize("mode", ["development", "extended"])
@pytest.mark.parametrize("seed", [1, 2])
@settings(max_examples=8)
@given(data=st.data())
def test_any_filter_reports_exactly_what_the_oracle_says(tmp_path_factory, mode, seed, data):
    release_filter = data.draw(filters(_names(seed)), label="filter")
    days = data.draw(st.sampled_from([30, 90, 365]), label="days")
    world = World(versions_catalog(seed), mode, tmp_path_factory.mktemp("store") / "esh.db")
    result, _, stored = world.run(release_filter, days)
    assert result.status == "ok", result.message
    assert_exactly_the_oracles(world, result, release_filter, days)
    assert {r.key for r, _ in stored} == {r.key for r in result.releases}, "the dashboard lists what the run reports"


@pytest.mark.parametrize("mode", ["development", "extended"])
@settings(max_examples=6)
@given(data=st.data())
def test_changing_the_filter_hides_and_shows_without_refetching(tmp_path_factory, mode, data):
    """One store, a run, then another filter an hour later (every artist fresh): exactly the oracle's for it, and
    no API call unless features were just turned on (listing them costs calls; knowledge is never lost)."""
    names = _names(1)
    first, second = data.draw(filters(names), label="first"), data.draw(filters(names), label="second")
    world = World(versions_catalog(1), mode, tmp_path_factory.mktemp("store") / "esh.db")
    world.run(first)
    world.now += 3600
    result, calls, stored = world.run(second)
    assert_exactly_the_oracles(world, result, second)
    assert {r.key for r, _ in stored} == {r.key for r in result.releases}, "the dashboard lists the same"
    if second.appears_on and not first.appears_on:
        assert calls > 0, "features are listed once asked for"
    else:
        assert calls == 0, "a filter only hides: nothing is fetched again"


@pytest.mark.parametrize("mode", ["development", "extended"])
def test_features_are_counted_once_and_cost_calls_only_when_asked_for(tmp_path, mode):
    catalog = versions_catalog(1)
    ids = [a.id for a in catalog.real_artists()][::2]  # half the artists: features on albums of artists not tracked
    off, on = ReleaseFilter(), ReleaseFilter(appears_on=True)
    without = World(catalog, mode, tmp_path / "off.db", ids)
    result_off, calls_off, _ = without.run(off)
    with_features = World(catalog, mode, tmp_path / "on.db", ids)
    result_on, calls_on, _ = with_features.run(on)
    want = assert_exactly_the_oracles(with_features, result_on, on)
    assert calls_on > calls_off, "features cost calls"
    assert len(result_on.releases) > len(result_off.releases), "features add releases"
    shared = [r for r in want.values() if len(r.found_for) > 1]
    assert shared and all(sum(1 for x in result_on.releases if x.key == r.key) == 1 for r in shared), \
        "a feature shared by two tracked artists is one release"
    assert_exactly_the_oracles(without, result_off, off)


# ----- the rules themselves --------------------------------------------------------------------------------

def test_an_ep_is_a_single_of_four_tracks_or_more():
    assert release_type({"album_type": "single", "total_tracks": 4}) == "ep"
    assert release_type({"album_type": "single", "total_tracks": 3}) == "single"
    assert release_type({"album_type": "album", "total_tracks": 5}) == "album"
    assert release_type({"album_type": "single", "total_tracks": "9"}) == "single", "garbage counts are not counts"


@pytest.mark.parametrize("title, version, hidden", [
    ("Song (Sped Up)", "sped-up", True), ("Song - sped-up", "sped-up", True), ("Speed Up", "sped-up", False),
    ("Song (Slowed + Reverb)", "slowed", True), ("Slow Motion", "slowed", False),
    ("Song (Reverbed)", "reverb", True), ("Reverberation", "reverb", False),
    ("Song - A Cappella", "acapella", True), ("Capella Nights", "acapella", False),
    ("Song (Remixes)", "remix", True), ("Remixer", "remix", False), ("Remixology", "remix", False),
    ("Song (Radio Edit)", "radio-edit", True), ("Radio Days", "radio-edit", False),
    ("Song (Cover)", "cover", True), ("Coverage", "cover", False), ("Undercover", "cover", False),
])
def test_version_words_match_whole_words_only(title, version, hidden):
    from esh_tui.models import Release

    release = Release("K", None, "t", title, ("A",), "a", "Album", "single", TODAY)
    assert ReleaseFilter(exclude=frozenset({version})).keeps(release) is not hidden
    assert ReleaseFilter().keeps(release), "nothing is hidden unless asked"


def test_a_bad_title_pattern_names_itself():
    with pytest.raises(FilterError) as caught:
        ReleaseFilter(block=("(unclosed",))
    assert "'(unclosed'" in str(caught.value) and "not a regular expression" in str(caught.value)
