"""The release engine against the oracle, through the real client and the in-process simulator."""

from __future__ import annotations

import datetime as dt

import pytest

from esh_tui.config import Settings
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.tracker.pipeline import find_releases

from conftest import TODAY


def _settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, client_id="test-client", client_secret="test-secret")


async def _run(catalog, mode, ids, cutoff, tmp_path, **knobs):
    sim = SimSpotify(catalog, SimConfig(mode=mode, **knobs))
    async with SpotifyClient(_settings(tmp_path), SimTransport(sim, sleep=_no_wait)) as client:
        return await find_releases(client, ids, cutoff), sim


async def _no_wait(seconds: float) -> None:
    return None


@pytest.mark.parametrize("mode", ["development", "extended"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("days", [30, 90, 365])
async def test_engine_matches_oracle(catalog_factory, tmp_path, mode, seed, days):
    catalog = catalog_factory(seed, 30)
    ids = [a.id for a in catalog.artists.values() if a.profile != "various"]
    cutoff = TODAY - dt.timedelta(days=days)
    result, _ = await _run(catalog, mode, ids, cutoff, tmp_path)
    expected = oracle.expected_releases(catalog, ids, cutoff)
    got = {r.key: r for r in result.releases}
    missing, extra = set(expected) - set(got), set(got) - set(expected)
    assert not missing and not extra, f"recall {1 - len(missing) / len(expected):.3f}, extra {len(extra)}"
    for key, release in expected.items():
        assert (got[key].track_id, got[key].album_id, got[key].release_date) == (
            release.track_id, release.album_id, release.release_date), key
        assert got[key].artist_names == release.artist_names


async def test_engine_survives_faults_and_rate_limits(catalog_factory, tmp_path):
    catalog = catalog_factory(2, 30)
    ids = [a.id for a in catalog.artists.values() if a.profile != "various"][:10]
    cutoff = TODAY - dt.timedelta(days=90)
    result, sim = await _run(catalog, "development", ids, cutoff, tmp_path, fault_rate=0.1, faults=("500", "503", "drop"))
    expected = oracle.expected_releases(catalog, ids, cutoff)
    assert {r.key for r in result.releases} == set(expected)
    assert sum(sim.faults_injected.values()) > 0
