"""Markets (issue 14): the simulator's market editions, the oracle with a market, and a tracker that sends one.

Without `market`, Spotify lists every market's edition of an album (the same ISRCs under other album ids);
with one, only the editions available there, and tracks say whether they are playable there.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pytest

from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import MARKETS, Catalog

from conftest import TODAY
from test_sim_schema import Client, describe, errors_for


@lru_cache(maxsize=8)
def edition_catalog(seed: int = 1, size: int = 30, editions: bool = True) -> Catalog:
    """Shared, read-only: never advance its clock."""
    return Catalog.generate(seed, size, TODAY, market_editions=editions)


def _group(catalog: Catalog, album_id: str) -> str:
    album = catalog.albums[album_id]
    return album.edition_of or album.id


def _busiest_with_editions(catalog: Catalog):
    return max(catalog.real_artists(), key=lambda a: (
        sum(1 for album, _ in catalog.artist_albums(a.id) if album.edition_of), a.id))


# ----- the simulator -----------------------------------------------------------------------------------------


def test_editions_are_off_by_default_and_add_to_the_same_catalog():
    plain, editions = edition_catalog(editions=False), edition_catalog()
    assert all(a.markets == MARKETS and a.edition_of is None for a in plain.albums.values())
    assert set(plain.albums) < set(editions.albums) and set(plain.tracks) < set(editions.tracks)
    assert all(editions.tracks[t].isrc == plain.tracks[t].isrc for t in plain.tracks)
    copies = [a for a in editions.albums.values() if a.edition_of]
    assert copies, "some albums come in market editions"
    for copy in copies:
        original = editions.albums[copy.edition_of]
        assert not set(copy.markets) & set(original.markets), "editions share out the markets"
        isrcs = {editions.tracks[t].isrc for t in original.track_ids}
        assert isrcs <= {editions.tracks[t].isrc for t in copy.track_ids}, "the same recordings"
        assert not set(copy.track_ids) & set(original.track_ids), "under other track ids"
    assert any(len(a.markets) < len(MARKETS) and a.edition_of is None
               and not any(c.edition_of == a.id for c in copies) for a in editions.albums.values()), \
        "some albums are only in a few markets"


@pytest.fixture(scope="module")
def sim_client():
    catalog = edition_catalog()
    client = Client(SimSpotify(catalog, SimConfig(mode="extended")))
    yield catalog, client
    client.http.close()


def _valid(response, path: str) -> dict:
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    errors = errors_for(body, path, "GET", 200, strict=True)
    assert not errors, describe(errors)
    return body


def test_artist_albums_list_one_edition_per_market_and_every_edition_without(sim_client):
    catalog, c = sim_client
    artist = _busiest_with_editions(catalog)
    path = f"/artists/{artist.id}/albums"
    everything = _valid(c.call("GET", path, c.app, limit=50), "/artists/{id}/albums")
    assert everything["total"] == len(catalog.artist_albums(artist.id))
    for market in MARKETS:
        page = _valid(c.call("GET", path, c.app, limit=50, market=market), "/artists/{id}/albums")
        listed = [a["id"] for a in page["items"]]
        assert page["total"] < everything["total"]
        assert all(market in a["available_markets"] for a in page["items"])
        assert len({_group(catalog, i) for i in listed}) == len(listed), "one edition per release"
        if page["next"]:
            assert f"market={market}" in page["next"]


def test_tracks_say_where_they_play_and_are_relinked_to_an_edition_that_does(sim_client):
    catalog, c = sim_client
    copy = next(a for a in catalog.albums.values() if a.edition_of and catalog.is_visible(a))
    original = catalog.albums[copy.edition_of]
    elsewhere = next(m for m in MARKETS if m not in copy.markets and m in original.markets)
    track_id = copy.track_ids[0]
    relinked = _valid(c.call("GET", f"/tracks/{track_id}", c.app, market=elsewhere), "/tracks/{id}")
    assert relinked["linked_from"]["id"] == track_id and relinked["id"] in original.track_ids
    assert relinked["is_playable"] is True
    album = _valid(c.call("GET", f"/albums/{copy.id}/tracks", c.app, market=elsewhere), "/albums/{id}/tracks")
    assert all(t["is_playable"] is False and t["restrictions"] == {"reason": "market"} for t in album["items"])
    home = _valid(c.call("GET", f"/albums/{copy.id}/tracks", c.app, market=copy.markets[0]), "/albums/{id}/tracks")
    assert all(t["is_playable"] is True and "restrictions" not in t for t in home["items"])
    only_here = next(a for a in catalog.albums.values() if catalog.is_visible(a) and len(a.markets) < len(MARKETS)
                     and a.edition_of is None and not any(e.edition_of == a.id for e in catalog.albums.values()))
    nowhere = next(m for m in MARKETS if m not in only_here.markets)
    stuck = _valid(c.call("GET", f"/tracks/{only_here.track_ids[0]}", c.app, market=nowhere), "/tracks/{id}")
    assert stuck["is_playable"] is False and stuck["restrictions"] == {"reason": "market"}
    assert "linked_from" not in stuck


def test_search_by_isrc_finds_only_what_the_market_has(sim_client):
    catalog, c = sim_client
    copy = next(a for a in catalog.albums.values() if a.edition_of and catalog.is_visible(a)
                and catalog.tracks[a.track_ids[0]].isrc)
    isrc = catalog.tracks[copy.track_ids[0]].isrc
    everywhere = _valid(c.call("GET", "/search", c.app, q=f"isrc:{isrc}", type="track", limit=50), "/search")
    ids = {t["album"]["id"] for t in everywhere["tracks"]["items"]}
    assert {copy.id, copy.edition_of} <= ids
    for market in MARKETS:
        found = _valid(c.call("GET", "/search", c.app, q=f"isrc:{isrc}", type="track", limit=50, market=market),
                       "/search")
        assert all(market in t["album"]["available_markets"] for t in found["tracks"]["items"])
        assert {t["album"]["id"] for t in found["tracks"]["items"]} < ids


def test_from_token_needs_a_user_token_whose_country_wins(sim_client):
    catalog, c = sim_client
    artist = _busiest_with_editions(catalog)
    path = f"/artists/{artist.id}/albums"
    refused = c.call("GET", path, c.app, market="from_token")
    assert refused.status_code == 400 and "user access token" in refused.json()["error"]["message"]
    assert c.call("GET", path, c.app, market="se").status_code == 400
    mine = c.call("GET", path, c.user, market="from_token", limit=50).json()
    assert mine["items"] == c.call("GET", path, c.app, market=catalog.user.country, limit=50).json()["items"]
    assert c.call("GET", path, c.user, market="JP", limit=50).json()["total"] == mine["total"]


# ----- the oracle ------------------------------------------------------------------------------------------


def test_oracle_with_a_market_reports_only_what_plays_there():
    catalog = edition_catalog()
    ids = [a.id for a in catalog.real_artists()]
    cutoff = catalog.today - dt.timedelta(days=365)
    everywhere = oracle.expected_releases(catalog, ids, cutoff)
    for market in MARKETS:
        here = oracle.expected_releases(catalog, ids, cutoff, market)
        assert all(market in catalog.albums[r.album_id].markets for r in here.values())
        assert set(here) != set(everywhere), "markets differ"
    plain = edition_catalog(editions=False)
    for market in MARKETS:
        assert oracle.expected_releases(plain, ids, cutoff, market) == oracle.expected_releases(plain, ids, cutoff)
