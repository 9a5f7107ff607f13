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


# ----- the tracker with a market -----------------------------------------------------------------------------

from esh_tui.config import ConfigError, Settings  # noqa: E402
from esh_tui.sim.offline import OfflineUserToken  # noqa: E402
from esh_tui.sim.transport import SimTransport  # noqa: E402
from esh_tui.spotify.client import SpotifyClient  # noqa: E402
from esh_tui.storage.cache import ReleaseCache  # noqa: E402
from esh_tui.storage.store import Store  # noqa: E402
from esh_tui.tracker.engine import Tracker  # noqa: E402

LISTING = "GET /artists/{id}/albums"


class MarketWorld:
    """A simulated Spotify over a catalog, and an esh-tui store that outlives runs."""

    def __init__(self, catalog: Catalog, mode: str, path):
        self.catalog, self.path, self.now = catalog, path, 1_800_000_000.0
        self.sim = SimSpotify(catalog, SimConfig(mode=mode), clock=lambda: self.now)
        self.ids = [a.id for a in catalog.real_artists()]

    async def run(self, market: str | None, days: int = 90, user: bool = False):
        store = Store(self.path)
        store.add_artists((i, self.catalog.artists[i].name, "test") for i in self.ids)
        settings = Settings(data_dir=self.path.parent, client_id="test", client_secret="test-secret", market=market)
        token = (lambda http: OfflineUserToken(settings, http)) if user else None
        self.sim.reset_counts()
        try:
            async with SpotifyClient(settings, SimTransport(self.sim), token=token, clock=lambda: self.now) as client:
                tracker = Tracker(client, store, ReleaseCache(store, clock=lambda: self.now),
                                  today=lambda: self.catalog.today)
                return await tracker.run(self.catalog.today - dt.timedelta(days=days), self.ids)
        finally:
            store.close()

    def expected(self, market: str | None, days: int = 90):
        return oracle.expected_releases(self.catalog, self.ids, self.catalog.today - dt.timedelta(days=days), market)


def _same(result, expected) -> None:
    got = {r.key: r for r in result.releases}
    assert result.status == "ok"
    assert set(got) == set(expected), f"missing {len(set(expected) - set(got))}, extra {len(set(got) - set(expected))}"
    for key, release in expected.items():
        assert (got[key].track_id, got[key].album_id, got[key].release_date) == (
            release.track_id, release.album_id, release.release_date), key
        assert set(got[key].found_for) == set(release.found_for)


@pytest.mark.parametrize("mode", ["development", "extended"])
@pytest.mark.parametrize("market", ["SE", "JP", None])
@pytest.mark.parametrize(("seed", "days"), [(1, 90), (2, 365)])
async def test_outputs_equal_the_oracles_for_each_market(tmp_path, mode, market, seed, days):
    world = MarketWorld(edition_catalog(seed), mode, tmp_path / "esh.db")
    result = await world.run(market, days)
    _same(result, world.expected(market, days))
    bound = oracle.minimum_calls(world.catalog, world.ids, world.catalog.today - dt.timedelta(days=days), mode,
                                 market=market)
    assert world.sim.calls() >= bound.total


@pytest.mark.parametrize("mode", ["development", "extended"])
async def test_listing_calls_with_a_market_do_not_grow_with_editions(tmp_path, mode):
    listing = {}
    for editions in (False, True):
        for market in ("SE", "JP", None):
            world = MarketWorld(edition_catalog(1, editions=editions), mode, tmp_path / f"{editions}-{market}.db")
            await world.run(market, 365)
            listing[editions, market] = world.sim.calls(LISTING)
    for market in ("SE", "JP"):
        assert listing[True, market] <= listing[False, market] == listing[False, None]
    assert listing[True, None] > listing[False, None], "without a market every edition is listed"
    bound = {e: oracle.minimum_calls(edition_catalog(1, editions=e), [a.id for a in edition_catalog(1).real_artists()],
                                     TODAY - dt.timedelta(days=365), mode, market="SE").by_endpoint[LISTING]
             for e in (False, True)}
    assert bound[True] <= bound[False]


async def test_a_release_not_in_the_market_is_reported_only_when_asked(tmp_path):
    world = MarketWorld(edition_catalog(2), "development", tmp_path / "esh.db")
    elsewhere = set(world.expected(None, 365)) - set(world.expected("SE", 365))
    assert elsewhere, "the catalog has releases not available in SE"
    in_se = await world.run("SE", 365)
    assert not elsewhere & {r.key for r in in_se.releases}
    everywhere = await world.run(None, 365)  # --all-markets: no market sent, every edition listed
    assert elsewhere <= {r.key for r in everywhere.releases}
    _same(everywhere, world.expected(None, 365))


async def test_a_new_market_is_not_answered_from_another_markets_knowledge(tmp_path):
    world = MarketWorld(edition_catalog(1), "development", tmp_path / "esh.db")
    _same(await world.run("SE", 365), world.expected("SE", 365))
    world.now += 3600  # every artist still fresh for SE ...
    again = await world.run("SE", 365)
    assert world.sim.calls() == 0 and again.artists_cached == len(world.ids)
    _same(await world.run("JP", 365), world.expected("JP", 365))  # ... but not for JP
    assert world.sim.calls(LISTING) >= len(world.ids)
    _same(await world.run("SE", 365), world.expected("SE", 365))


async def test_from_token_uses_the_accounts_country_and_needs_a_user_token(tmp_path):
    world = MarketWorld(edition_catalog(1), "development", tmp_path / "esh.db")
    with pytest.raises(ConfigError, match="only a user token carries"):
        await world.run("from_token")
    assert world.sim.calls() == 0
    _same(await world.run("from_token", user=True), world.expected(world.catalog.user.country))


# ----- the setting and the command line ----------------------------------------------------------------------

from esh_tui.cli import main  # noqa: E402
from esh_tui.config import MARKET_KEY, MARKET_VARIABLE, describe, load_settings  # noqa: E402

MARKET_LINE = f"market ({MARKET_KEY}, {MARKET_VARIABLE})"


@pytest.fixture
def market_dirs(tmp_path):
    data, config = tmp_path / "data", tmp_path / "config"
    data.mkdir(exist_ok=True)
    config.mkdir(exist_ok=True)
    return config, {"ESH_DATA_DIR": str(data), "ESH_CONFIG_DIR": str(config)}


def test_market_from_config_toml_else_unset_and_the_environment_overrides(market_dirs, tmp_path):
    config, env = market_dirs
    unset = load_settings(env, cwd=tmp_path)
    assert unset.market is None
    assert {line.name: line for line in describe(unset)}[MARKET_LINE].value == "unset: every market"
    (config / "config.toml").write_text('[spotify]\nmarket = "SE"\n')
    settings = load_settings(env, cwd=tmp_path)
    line = {line.name: line for line in describe(settings)}[MARKET_LINE]
    assert settings.market == "SE" and (line.value, line.source) == ("SE", f"config.toml ({config / 'config.toml'})")
    overridden = load_settings({**env, MARKET_VARIABLE: "from_token"}, cwd=tmp_path)
    line = {line.name: line for line in describe(overridden)}[MARKET_LINE]
    assert overridden.market == "from_token" and (line.value, line.source) == ("from_token", "environment")


@pytest.mark.parametrize("toml", ['market = "se"', 'market = "SWE"', "market = 46", 'country = "SE"'])
def test_a_wrong_market_in_config_toml_is_one_clear_line(market_dirs, tmp_path, toml):
    config, env = market_dirs
    (config / "config.toml").write_text(f"[spotify]\n{toml}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(env, cwd=tmp_path)
    assert "[spotify]" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("value", ["se ", "S1", "from-token", "Sweden"])
def test_a_wrong_market_in_the_environment_is_one_clear_line(market_dirs, tmp_path, value):
    _, env = market_dirs
    with pytest.raises(ConfigError, match=f"{MARKET_VARIABLE} = .* is not a market; set it to a country code"):
        load_settings({**env, MARKET_VARIABLE: value}, cwd=tmp_path)


def test_config_command_shows_the_market_and_its_source(monkeypatch, capsys):
    monkeypatch.setenv(MARKET_VARIABLE, "JP")
    assert main(["config"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(MARKET_LINE))
    assert line.split()[-2:] == ["JP", "environment"]


@pytest.mark.parametrize(("argv", "needle"), [
    (["track", "--market", "SWE"], "is not a market"),
    (["track", "--market", "SE", "--all-markets"], "not allowed with argument"),
])
def test_bad_market_options_are_one_line_and_exit_2(argv, needle, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and needle in err and err.count("\n") == 1


def test_track_with_a_market_prints_that_markets_releases(capsys):
    assert main(["track", "--days", "365", "--market", "se", "--format", "ids"]) == 0
    assert capsys.readouterr().out  # the offline Spotify has no market editions: the same releases as always
    assert main(["track", "--days", "365", "--all-markets", "--format", "ids"]) == 0


def test_from_token_with_the_apps_token_says_so_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "id")
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "secret")
    monkeypatch.setenv("ESH_API_URL", "http://127.0.0.1:9/v1")  # never asked: the run stops before any request
    store = Store(tmp_path / "data" / "esh.db")
    store.add_artists([("0" * 22, "Someone", "test")])
    store.close()
    assert main(["track", "--market", "from_token"]) == 2
    err = capsys.readouterr().err
    assert "from_token means your account's country, which only a user token carries" in err
    assert "esh-tui login" in err and err.count("\n") == 1


def test_the_knowledge_market_is_the_stores_own_and_no_backup_carries_it(tmp_path):
    store = Store(tmp_path / "esh.db")
    assert not store.use_market(None), "a store that never heard of markets knows every market's editions"
    assert store.use_market("SE") and not store.use_market("SE")
    assert store.settings() == {}
    store.replace_artists_and_settings([], {"knowledge_market": "JP", "theme": "dark"})
    assert store.settings() == {"theme": "dark"} and not store.use_market("SE")
    store.close()
