"""Behaviour of the offline Spotify (`esh_tui.sim`) as a client sees it over HTTP.

Everything goes through `SimTransport` and `httpx.AsyncClient`, except the three server tests,
which talk to the loopback `SimServer` on 127.0.0.1. Time is a fake clock and sleeping is a
recording coroutine, so nothing here waits for real.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import functools
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.server import SimServer
from esh_tui.sim.transport import SimTransport

from conftest import catalog_copy

DATE = dt.date(2026, 11, 23)
SEED, SIZE = 1, 20
MODES = ("development", "extended")
API = "https://api.spotify.com/v1"
ACCOUNTS = "https://accounts.spotify.com"
TOKEN_URL = f"{ACCOUNTS}/api/token"
AUTHORIZE_URL = f"{ACCOUNTS}/authorize"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
READ_SCOPES = "user-library-read user-follow-read playlist-read-private"
VERIFIER = "esh-sim-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
UNKNOWN_ID = "0" * 22  # well-formed base62, never generated
CORE_GROUPS = ("album", "single", "compilation")


# ----- fakes and harness ------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSleep:
    """Stands in for asyncio.sleep: remembers each wait and returns at once."""

    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Harness:
    """One simulator with a fake clock, a recording sleep and an httpx client on SimTransport."""

    def __init__(self, catalog: Catalog, mode: str = "development", timeout: float = 5.0, **knobs):
        self.catalog = catalog
        self.clock = FakeClock()
        self.sleep = RecordingSleep()
        self.sim = SimSpotify(catalog, SimConfig(mode=mode, **knobs), clock=self.clock)
        self.client = httpx.AsyncClient(transport=SimTransport(self.sim, sleep=self.sleep), timeout=timeout)
        self.token: str | None = None

    async def app_token(self) -> str:
        r = await self.client.post(TOKEN_URL, data={"grant_type": "client_credentials"},
                                   auth=("client-id", "client-secret"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["token_type"] == "Bearer" and body["access_token"]
        return body["access_token"]

    def _headers(self, token: str | None) -> dict[str, str]:
        token = token if token is not None else self.token
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def get(self, path: str, *, token: str | None = None, **params) -> httpx.Response:
        url = path if path.startswith("http") else API + path
        return await self.client.get(url, params=params or None, headers=self._headers(token))

    async def post(self, path: str, *, token: str | None = None, json=None, **params) -> httpx.Response:
        url = path if path.startswith("http") else API + path
        return await self.client.post(url, params=params or None, json=json, headers=self._headers(token))

    async def delete(self, path: str, *, token: str | None = None, json=None) -> httpx.Response:
        return await self.client.request("DELETE", API + path, json=json, headers=self._headers(token))

    async def walk(self, path: str, *, token: str | None = None, key: str | None = None, **params):
        """Follow `next` links from the first page; return (pages, all items)."""
        pages, items = [], []
        r = await self.get(path, token=token, **params)
        while True:
            assert r.status_code == 200, r.text
            page = r.json()[key] if key else r.json()
            pages.append(page)
            items.extend(page["items"])
            if not page.get("next"):
                return pages, items
            assert page["next"].startswith(API + "/"), page["next"]  # absolute links
            assert len(pages) < 500, "paging does not end"
            r = await self.get(page["next"], token=token)


@functools.lru_cache(maxsize=None)
def shared_catalog() -> Catalog:
    """The read-only catalog most tests share; tests that change a catalog build their own."""
    return Catalog.generate(SEED, SIZE, DATE)


def fresh_catalog() -> Catalog:
    return catalog_copy(SEED, SIZE, DATE)


@pytest.fixture
async def make():
    made: list[Harness] = []

    async def factory(catalog: Catalog | None = None, mode: str = "development", *, login: bool = True,
                      **kw) -> Harness:
        harness = Harness(catalog or shared_catalog(), mode, **kw)
        if login:
            harness.token = await harness.app_token()
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        await harness.client.aclose()


@pytest.fixture(params=MODES)
def mode(request) -> str:
    return request.param


def page_max(mode: str) -> int:
    return 50 if mode == "extended" else 10


def real_artists(catalog: Catalog):
    return [a for a in catalog.real_artists()]


def busiest_artist(catalog: Catalog) -> str:
    return max(real_artists(catalog), key=lambda a: (len(catalog.artist_albums(a.id)), a.id)).id


def artist_with_appears_on(catalog: Catalog) -> str:
    def count(a):
        return sum(1 for _, g in catalog.artist_albums(a.id) if g == "appears_on")
    best = max(real_artists(catalog), key=lambda a: (count(a), a.id))
    assert count(best) > 0
    return best.id


def visible_tracks(catalog: Catalog):
    return [t for t in catalog.tracks.values() if catalog.visible_track(t.id)]


def visible_albums(catalog: Catalog):
    return [a for a in catalog.albums.values() if catalog.is_visible(a)]


def assert_error(r: httpx.Response, status: int, *fragments: str) -> str:
    """The Spotify error shape: {"error": {"status": N, "message": "..."}}."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["error"]
    assert body["error"]["status"] == status
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message
    return message


def code_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def authorize(h: Harness, *, scope: str = READ_SCOPES, redirect_uri: str = REDIRECT_URI,
                    state: str = "S", verifier: str = VERIFIER) -> httpx.Response:
    return await h.client.get(AUTHORIZE_URL, params={
        "client_id": "x", "response_type": "code", "redirect_uri": redirect_uri, "state": state,
        "code_challenge": code_challenge(verifier), "code_challenge_method": "S256", "scope": scope,
    })


async def get_code(h: Harness, scope: str = READ_SCOPES) -> str:
    r = await authorize(h, scope=scope)
    assert r.status_code == 302, r.text
    return parse_qs(urlsplit(r.headers["location"]).query)["code"][0]


async def exchange(h: Harness, code: str, verifier: str = VERIFIER) -> httpx.Response:
    return await h.client.post(TOKEN_URL, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "client_id": "x", "code_verifier": verifier,
    })


async def user_token(h: Harness, scope: str = READ_SCOPES) -> str:
    r = await exchange(h, await get_code(h, scope))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


# ----- artist albums: paging, limits, groups ----------------------------------------------


async def test_artist_albums_walk_next_collects_catalog_order(make, mode):
    h = await make(mode=mode)
    artist_id = busiest_artist(h.catalog)
    expected = h.catalog.artist_albums(artist_id)
    limit = page_max(mode)
    assert len(expected) > 3 * limit  # several pages

    pages, items = await h.walk(f"/artists/{artist_id}/albums", limit=limit)

    ids = [item["id"] for item in items]
    assert ids == [album.id for album, _ in expected]
    assert len(set(ids)) == len(ids)
    assert len(pages) == -(-len(expected) // limit)
    for number, page in enumerate(pages):
        assert page["total"] == len(expected)
        assert page["limit"] == limit and page["offset"] == number * limit
        assert len(page["items"]) == min(limit, len(expected) - number * limit)
        assert (page["previous"] is None) == (number == 0)
    if mode == "extended":
        assert [item["album_group"] for item in items] == [group for _, group in expected]


async def test_artist_albums_default_page_size(make, mode):
    h = await make(mode=mode)
    r = await h.get(f"/artists/{busiest_artist(h.catalog)}/albums")
    assert r.status_code == 200
    expected_limit = 20 if mode == "extended" else 5
    assert r.json()["limit"] == expected_limit and len(r.json()["items"]) == expected_limit


@pytest.mark.parametrize(("mode_", "limit", "status"), [
    ("development", 10, 200), ("development", 11, 400), ("development", 50, 400), ("development", 0, 400),
    ("extended", 11, 200), ("extended", 50, 200), ("extended", 51, 400), ("extended", 0, 400),
])
async def test_artist_albums_limit_bounds(make, mode_, limit, status):
    h = await make(mode=mode_)
    r = await h.get(f"/artists/{busiest_artist(h.catalog)}/albums", limit=limit)
    if status == 200:
        assert r.status_code == 200 and len(r.json()["items"]) == limit
    else:
        assert_error(r, 400, "limit")


@pytest.mark.parametrize("groups", [("single",), ("album", "compilation"), CORE_GROUPS, ("appears_on",)])
async def test_include_groups_filters(make, mode, groups):
    h = await make(mode=mode)
    artist_id = busiest_artist(h.catalog) if groups != ("appears_on",) else artist_with_appears_on(h.catalog)
    expected = h.catalog.artist_albums(artist_id, groups)
    assert expected
    pages, items = await h.walk(f"/artists/{artist_id}/albums", limit=page_max(mode), include_groups=",".join(groups))
    assert [i["id"] for i in items] == [a.id for a, _ in expected]
    assert pages[0]["total"] == len(expected)
    assert {g for _, g in expected} <= set(groups)
    if mode == "extended":
        assert {i["album_group"] for i in items} <= set(groups)
    if pages[0]["next"]:
        assert "include_groups" in pages[0]["next"]  # the filter survives paging


async def test_appears_on_excluded_when_not_asked(make, mode):
    h = await make(mode=mode)
    artist_id = artist_with_appears_on(h.catalog)
    appears_on = {a.id for a, g in h.catalog.artist_albums(artist_id) if g == "appears_on"}
    _, items = await h.walk(f"/artists/{artist_id}/albums", limit=page_max(mode), include_groups=",".join(CORE_GROUPS))
    ids = {i["id"] for i in items}
    assert ids and not ids & appears_on
    _, everything = await h.walk(f"/artists/{artist_id}/albums", limit=page_max(mode))
    assert appears_on <= {i["id"] for i in everything}  # without include_groups they are there


@pytest.mark.parametrize("groups", ["album,bogus", "appears-on", "ALBUM"])
async def test_bad_include_group_is_400(make, mode, groups):
    h = await make(mode=mode)
    r = await h.get(f"/artists/{busiest_artist(h.catalog)}/albums", include_groups=groups)
    assert_error(r, 400, "include_groups")


# ----- development mode versus extended -----------------------------------------------------


@pytest.mark.parametrize("path", ["/albums", "/tracks", "/artists"])
async def test_batch_endpoints_forbidden_in_development(make, path):
    h = await make(mode="development")
    catalog = h.catalog
    some_id = {"/albums": visible_albums(catalog)[0].id, "/tracks": visible_tracks(catalog)[0].id,
               "/artists": real_artists(catalog)[0].id}[path]
    assert_error(await h.get(path, ids=some_id), 403, "development")


async def test_popularity_and_album_group_only_in_extended(make, mode):
    h = await make(mode=mode)
    extended = mode == "extended"
    catalog = h.catalog
    artist_id = busiest_artist(catalog)
    album = visible_albums(catalog)[0]
    track = visible_tracks(catalog)[0]

    artist = (await h.get(f"/artists/{artist_id}")).json()
    assert ("popularity" in artist) is extended
    full_track = (await h.get(f"/tracks/{track.id}")).json()
    assert ("popularity" in full_track) is extended
    assert full_track["external_ids"].get("isrc") == track.isrc
    full_album = (await h.get(f"/albums/{album.id}")).json()
    assert ("popularity" in full_album) is extended
    discography = (await h.get(f"/artists/{artist_id}/albums", limit=10)).json()["items"]
    assert discography and all(("album_group" in a) is extended for a in discography)
    found = (await h.get("/search", q=artist["name"], type="artist,track", limit=10)).json()
    assert found["artists"]["items"]
    assert all(("popularity" in a) is extended for a in found["artists"]["items"])
    assert all(("popularity" in t) is extended for t in found["tracks"]["items"])
    if extended:
        assert artist["popularity"] == catalog.artists[artist_id].popularity
        assert full_track["popularity"] == track.popularity
        assert full_album["popularity"] == album.popularity


@pytest.mark.parametrize(("path", "key", "maximum"), [("/albums", "albums", 20), ("/tracks", "tracks", 50),
                                                       ("/artists", "artists", 50)])
async def test_batch_endpoints_in_extended(make, path, key, maximum):
    h = await make(mode="extended")
    catalog = h.catalog
    pool = {"albums": [a.id for a in visible_albums(catalog)], "tracks": [t.id for t in visible_tracks(catalog)],
            "artists": list(catalog.artists)}[key]
    ids = (pool * (maximum // len(pool) + 1))[:maximum]  # 21 artists: repeat to reach 50

    r = await h.get(path, ids=",".join(ids))
    assert r.status_code == 200, r.text
    assert [obj["id"] for obj in r.json()[key]] == ids

    assert_error(await h.get(path, ids=",".join(pool[: maximum + 1] if len(pool) > maximum else ids + ids[:1])), 400)

    r = await h.get(path, ids=f"{pool[0]},{UNKNOWN_ID},{pool[1]}")
    assert r.status_code == 200
    assert [obj and obj["id"] for obj in r.json()[key]] == [pool[0], None, pool[1]]

    assert_error(await h.get(path, ids=f"{pool[0]},not-an-id"), 400, "base62")
    assert_error(await h.get(path), 400, "ids")


async def test_batch_albums_and_tracks_hide_future_releases(make):
    h = await make(mode="extended")
    future = next(a for a in h.catalog.albums.values() if not h.catalog.is_visible(a))
    r = await h.get("/albums", ids=future.id)
    assert r.status_code == 200 and r.json()["albums"] == [None]
    r = await h.get("/tracks", ids=future.track_ids[0])
    assert r.status_code == 200 and r.json()["tracks"] == [None]


# ----- search -------------------------------------------------------------------------------


def isrc_with_future_versions(catalog: Catalog) -> str:
    by_isrc = collections.defaultdict(list)
    for track in catalog.tracks.values():
        if track.isrc:
            by_isrc[track.isrc].append(track)
    mixed = [isrc for isrc, tracks in sorted(by_isrc.items())
             if 1 < sum(1 for t in tracks if catalog.visible_track(t.id)) < len(tracks)]
    assert mixed
    return mixed[0]


@functools.lru_cache(maxsize=None)
def many_versions() -> tuple[Catalog, str]:
    """The first small catalog (seed 1, 2, ... of size 20) with an ISRC on more than 10 visible tracks,
    so an ISRC search at limit 10 needs two pages. Generation is deterministic, so is the pick; if no
    seed in range has one, the ISRC with the most versions is used (the paging test then pages smaller).
    """
    best: tuple[int, Catalog | None, str] = (0, None, "")
    for seed in range(1, 41):
        catalog = shared_catalog() if seed == SEED else Catalog.generate(seed, SIZE, DATE)
        counts = collections.Counter(t.isrc for t in visible_tracks(catalog) if t.isrc)
        isrc, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if n > best[0]:
            best = (n, catalog, isrc)
        if n > 10:
            break
    return best[1], best[2]


async def test_search_isrc_returns_exactly_the_visible_versions(make, mode):
    h = await make(mode=mode)
    catalog = h.catalog
    isrc = isrc_with_future_versions(catalog)
    visible = {t.id for t in catalog.tracks.values() if t.isrc == isrc and catalog.visible_track(t.id)}
    hidden = {t.id for t in catalog.tracks.values() if t.isrc == isrc} - visible
    assert visible and hidden

    r = await h.get("/search", q=f"isrc:{isrc}", type="track", limit=10)
    assert r.status_code == 200
    page = r.json()["tracks"]
    assert {t["id"] for t in page["items"]} == visible
    assert [t["id"] for t in page["items"]] == [t.id for t in catalog.isrc_versions(isrc)]
    assert page["total"] == len(visible)
    assert all(t["external_ids"]["isrc"] == isrc for t in page["items"])


async def test_search_isrc_pages_through_many_versions(make, mode):
    catalog, isrc = many_versions()
    h = await make(catalog, mode=mode)
    expected = [t.id for t in catalog.isrc_versions(isrc)]
    assert len(expected) > 2
    limit = 10 if len(expected) > 10 else len(expected) // 2
    pages, items = await h.walk("/search", key="tracks", q=f"isrc:{isrc}", type="track", limit=limit)
    assert len(pages) == -(-len(expected) // limit) >= 2
    assert [t["id"] for t in items] == expected
    assert pages[0]["total"] == len(expected)
    assert "isrc" in pages[0]["next"]


async def test_search_artist_exact_name_comes_first(make, mode):
    h = await make(mode=mode)
    catalog = h.catalog
    # an artist whose name is part of more popular artists' names ("Saint" vs "The Desert Saint")
    candidates = [a for a in real_artists(catalog)
                  if any(o.id != a.id and a.name.casefold() in o.name.casefold() and o.popularity > a.popularity
                         for o in catalog.artists.values())]
    assert candidates
    artist = candidates[0]
    r = await h.get("/search", q=artist.name, type="artist", limit=10)
    assert r.status_code == 200
    items = r.json()["artists"]["items"]
    assert len(items) > 1 and items[0]["id"] == artist.id and items[0]["name"] == artist.name


@pytest.mark.parametrize("params", [{"type": "track"}, {"q": "   ", "type": "track"}, {"q": "love"},
                                    {"q": "love", "type": "song"}])
async def test_search_needs_q_and_a_valid_type(make, mode, params):
    h = await make(mode=mode)
    assert_error(await h.get("/search", **params), 400)


@pytest.mark.parametrize(("mode_", "limit", "status"), [
    ("development", 10, 200), ("development", 11, 400), ("extended", 50, 200), ("extended", 51, 400),
])
async def test_search_limit_bounds(make, mode_, limit, status):
    h = await make(mode=mode_)
    r = await h.get("/search", q="a", type="album", limit=limit)
    if status == 200:
        assert r.status_code == 200 and r.json()["albums"]["limit"] == limit
    else:
        assert_error(r, 400, "limit")


# ----- errors -------------------------------------------------------------------------------


async def test_no_authorization_header_is_401(make, mode):
    h = await make(mode=mode, login=False)
    assert_error(await h.get(f"/artists/{busiest_artist(h.catalog)}"), 401)


async def test_bogus_bearer_is_401(make, mode):
    h = await make(mode=mode, login=False)
    assert_error(await h.get(f"/artists/{busiest_artist(h.catalog)}", token="sim-not-a-real-token"), 401, "invalid")


async def test_expired_token_is_401(make, mode):
    h = await make(mode=mode, token_ttl=10)
    path = f"/artists/{busiest_artist(h.catalog)}"
    h.clock.advance(9)
    assert (await h.get(path)).status_code == 200
    h.clock.advance(1)
    assert_error(await h.get(path), 401, "expired")
    h.token = await h.app_token()  # a new token works again
    assert (await h.get(path)).status_code == 200


@pytest.mark.parametrize("path", ["/artists/{bad}", "/artists/{bad}/albums", "/albums/{bad}",
                                  "/albums/{bad}/tracks", "/tracks/{bad}"])
@pytest.mark.parametrize("bad", ["short", "0" * 21 + "!", "0" * 23])
async def test_bad_base62_id_is_400(make, mode, path, bad):
    h = await make(mode=mode)
    assert_error(await h.get(path.format(bad=bad)), 400, "base62")


@pytest.mark.parametrize("path", ["/artists/{id}", "/artists/{id}/albums", "/albums/{id}", "/albums/{id}/tracks",
                                  "/tracks/{id}"])
async def test_unknown_id_is_404(make, mode, path):
    h = await make(mode=mode)
    assert_error(await h.get(path.format(id=UNKNOWN_ID)), 404)


@pytest.mark.parametrize("path", ["/nothing-here", "/artists/x/y/z", "/v2/artists", "https://api.spotify.com/v2/me"])
async def test_unknown_path_is_404(make, path):
    h = await make()
    assert_error(await h.get(path), 404)


# ----- rate limit and quota -----------------------------------------------------------------


async def test_rate_limit_answers_429_with_retry_after_until_the_window_frees(make, mode):
    h = await make(mode=mode, rate_limit=5)
    path = f"/artists/{busiest_artist(h.catalog)}"
    for _ in range(5):
        assert (await h.get(path)).status_code == 200
        h.clock.advance(1)
    r = await h.get(path)  # 6th request, 5 s after the first: the first frees the window at 30 s
    assert_error(r, 429)
    assert r.headers["Retry-After"] == "25"
    h.clock.advance(int(r.headers["Retry-After"]) - 1)
    r = await h.get(path)
    assert_error(r, 429)
    assert r.headers["Retry-After"] == "1"
    h.clock.advance(1)
    assert (await h.get(path)).status_code == 200
    r = await h.get(path)  # the second request (at +1 s) frees the next slot
    assert_error(r, 429)
    assert r.headers["Retry-After"] == "1"
    assert h.sim.counts[("GET /artists/{id}", 429)] == 3
    assert h.sim.counts[("GET /artists/{id}", 200)] == 6
    assert h.sleep.waits == []  # nothing slept


async def test_rate_limit_sometimes_omits_retry_after(make):
    h = await make(rate_limit=1, retry_after_missing=1.0)
    path = f"/artists/{busiest_artist(h.catalog)}"
    assert (await h.get(path)).status_code == 200
    r = await h.get(path)
    assert_error(r, 429, "rate limit")
    assert "retry-after" not in r.headers


async def test_daily_quota(make, mode):
    h = await make(mode=mode, quota=3, token_ttl=10 * 86_400)
    path = f"/artists/{busiest_artist(h.catalog)}"
    for _ in range(3):
        assert (await h.get(path)).status_code == 200
        h.clock.advance(100)
    r = await h.get(path)
    assert_error(r, 429, "QUOTA_EXCEEDED")
    assert r.headers["Retry-After"] == str(86_400 - 300)  # until a day after the first request
    h.clock.advance(86_400 - 301)
    assert_error(await h.get(path), 429, "QUOTA_EXCEEDED")
    h.clock.advance(1)
    assert (await h.get(path)).status_code == 200


async def test_daily_quota_can_be_marked_in_the_error_reason_instead_of_the_message(make):
    h = await make(quota=1, quota_reason_field=True)
    path = f"/artists/{busiest_artist(h.catalog)}"
    assert (await h.get(path)).status_code == 200
    r = await h.get(path)
    message = assert_error(r, 429, "quota")
    assert "QUOTA_EXCEEDED" not in message and r.json()["error"]["reason"] == "QUOTA_EXCEEDED"
    assert int(r.headers["Retry-After"]) > 86_000


# ----- faults and latency -------------------------------------------------------------------


async def test_fault_503_gives_json_error(make, mode):
    h = await make(mode=mode, fault_rate=1.0, faults=("503",))
    for artist_id in list(h.catalog.artists)[:3]:
        assert_error(await h.get(f"/artists/{artist_id}"), 503)
    assert h.sim.counts[("GET /artists/{id}", 503)] == 3
    assert h.sim.faults_injected["503"] == 3


async def test_fault_drop_raises_remote_protocol_error(make):
    h = await make(fault_rate=1.0, faults=("drop",))
    with pytest.raises(httpx.RemoteProtocolError):
        await h.get(f"/artists/{busiest_artist(h.catalog)}")
    assert h.sim.counts[("GET /artists/{id}", "dropped")] == 1


async def test_fault_timeout_raises_read_timeout_after_the_client_timeout(make):
    h = await make(fault_rate=1.0, faults=("timeout",), slow_seconds=5, timeout=0.05)
    with pytest.raises(httpx.ReadTimeout):
        await h.get(f"/artists/{busiest_artist(h.catalog)}")
    assert h.sleep.waits == [pytest.approx(0.05)]  # waited out the read timeout, not 5 s
    assert h.sim.counts[("GET /artists/{id}", "timeout")] == 1


async def test_slow_reply_within_the_client_timeout_arrives(make):
    h = await make(fault_rate=1.0, faults=("timeout",), slow_seconds=5, timeout=10)
    r = await h.get(f"/artists/{busiest_artist(h.catalog)}")
    assert r.status_code == 200
    assert h.sleep.waits == [5]


async def _statuses(h: Harness, requests: list[str]) -> list[int]:
    return [(await h.get(path)).status_code for path in requests]


async def test_faults_are_deterministic_and_near_the_rate(make):
    catalog = shared_catalog()
    requests = [f"/artists/{artist_id}" for artist_id in list(catalog.artists) * 10][:200]
    first = await make(fault_rate=0.3, faults=("503",))
    second = await make(fault_rate=0.3, faults=("503",))
    other_seed = await make(fault_rate=0.3, faults=("503",), seed=2)

    pattern = await _statuses(first, requests)
    assert await _statuses(second, requests) == pattern
    assert await _statuses(other_seed, requests) != pattern
    assert set(pattern) == {200, 503}
    faults = pattern.count(503)
    assert 40 <= faults <= 80  # 30 % of 200, give or take
    assert first.sim.counts[("GET /artists/{id}", 503)] == faults
    assert first.sim.counts[("GET /artists/{id}", 200)] == 200 - faults
    assert first.sim.faults_injected == {"503": faults}
    assert first.sim.calls("GET /artists/{id}") == 200


async def test_fault_kinds_are_mixed_and_counted(make):
    h = await make(fault_rate=1.0, faults=("500", "502", "503"))
    statuses = collections.Counter(await _statuses(h, [f"/artists/{a}" for a in list(h.catalog.artists) * 3]))
    assert set(statuses) == {500, 502, 503}
    for status, n in statuses.items():
        assert h.sim.counts[("GET /artists/{id}", status)] == n
        assert h.sim.faults_injected[str(status)] == n


async def test_fault_precedes_request_errors(make):
    """A 5xx fault fails the request before it is looked at: every drawn fault is delivered and counted.

    (Before 8662838 the handler's own 404/400 won and faults_injected counted a fault never sent.)
    """
    h = await make(fault_rate=1.0, faults=("503",))
    assert_error(await h.get(f"/artists/{UNKNOWN_ID}"), 503)
    assert_error(await h.get("/artists/not-base62"), 503)
    assert h.sim.faults_injected["503"] == 2 == h.sim.counts[("GET /artists/{id}", 503)]


async def test_fault_5xx_has_no_side_effects(make):
    """A 5xx fault means nothing was done, so a client retry cannot add tracks twice.

    (Before 8662838 the handler ran first and the playlist changed behind a 503.)
    """
    catalog = fresh_catalog()
    h = await make(catalog, fault_rate=1.0, faults=("503",))
    token = await user_token(h, scope=f"{READ_SCOPES} playlist-modify-private")
    playlist = next(p for p in catalog.playlists.values() if p.owner_id == catalog.user.id)
    before = list(playlist.track_ids)
    r = await h.post(f"/playlists/{playlist.id}/items", token=token,
                     json={"uris": [f"spotify:track:{visible_tracks(catalog)[0].id}"]})
    assert_error(r, 503)
    assert playlist.track_ids == before


async def test_latency_with_jitter(make):
    h = await make(latency_ms=50, jitter_ms=20)
    paths = [f"/artists/{artist_id}" for artist_id in h.catalog.artists]
    for path in paths:
        assert (await h.get(path)).status_code == 200
    assert len(h.sleep.waits) == len(paths)
    assert all(0.03 <= w <= 0.07 for w in h.sleep.waits), h.sleep.waits
    assert len(set(h.sleep.waits)) > 1


async def test_no_latency_means_no_sleep(make):
    h = await make()
    assert (await h.get(f"/artists/{busiest_artist(h.catalog)}")).status_code == 200
    assert h.sleep.waits == []


# ----- user login and the user's library --------------------------------------------------


@pytest.mark.parametrize(("method", "path", "params"), [
    ("GET", "/me", {}), ("GET", "/me/tracks", {}), ("GET", "/me/following", {"type": "artist"}),
    ("GET", "/me/playlists", {}), ("POST", "/me/playlists", {}),
])
async def test_user_endpoints_reject_app_tokens(make, mode, method, path, params):
    h = await make(mode=mode)
    if method == "GET":
        r = await h.get(path, **params)
    else:
        r = await h.post(path, json={"name": "nope"}, **params)
    assert_error(r, 401, "user")


async def test_authorize_redirects_with_code_and_state(make):
    h = await make(login=False)
    r = await authorize(h, state="S-42")
    assert r.status_code == 302
    location = urlsplit(r.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["S-42"] and query["code"][0]


@pytest.mark.parametrize("redirect_uri", ["http://localhost:8765/callback", "https://example.com/callback"])
async def test_authorize_rejects_non_loopback_redirects(make, redirect_uri):
    h = await make(login=False)
    r = await authorize(h, redirect_uri=redirect_uri)
    assert r.status_code == 400
    assert "location" not in r.headers
    assert "redirect" in r.text.lower()


async def test_code_exchange_refresh_and_reuse(make):
    h = await make(login=False)
    code = await get_code(h)
    r = await exchange(h, code)
    assert r.status_code == 200
    body = r.json()
    assert body["access_token"] and body["refresh_token"] and body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == set(READ_SCOPES.split())
    me = await h.get("/me", token=body["access_token"])
    assert me.status_code == 200 and me.json()["id"] == h.catalog.user.id

    reused = await exchange(h, code)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"

    r = await h.client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                                            "client_id": "x"})
    assert r.status_code == 200
    refreshed = r.json()["access_token"]
    assert refreshed != body["access_token"]
    assert (await h.get("/me/tracks", token=refreshed)).status_code == 200

    r = await h.client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": "sim-refresh-bogus"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = await h.client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client", "a PKCE refresh names its client"


async def test_wrong_verifier_is_invalid_grant(make):
    h = await make(login=False)
    r = await exchange(h, await get_code(h), verifier="a-different-verifier-of-decent-length-0123456789")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


async def test_code_belongs_to_its_client_and_redirect(make):
    h = await make(login=False)
    r = await h.client.post(TOKEN_URL, data={
        "grant_type": "authorization_code", "code": await get_code(h), "redirect_uri": REDIRECT_URI,
        "client_id": "someone-else", "code_verifier": VERIFIER})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"
    r = await h.client.post(TOKEN_URL, data={
        "grant_type": "authorization_code", "code": await get_code(h), "redirect_uri": "http://127.0.0.1:9999/cb",
        "client_id": "x", "code_verifier": VERIFIER})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


async def test_saved_tracks_pages(make, mode):
    h = await make(mode=mode)
    token = await user_token(h)
    expected = [i for i in h.catalog.user.saved_track_ids if h.catalog.visible_track(i)]
    assert len(expected) > 50
    pages, items = await h.walk("/me/tracks", token=token, limit=50)
    assert [item["track"]["id"] for item in items] == expected
    assert len(pages) == -(-len(expected) // 50) and pages[0]["total"] == len(expected)
    assert all(item["added_at"] for item in items)


async def test_followed_artists_cursor_pages(make, mode):
    h = await make(mode=mode)
    token = await user_token(h)
    expected = h.catalog.user.followed_artist_ids
    pages, items = await h.walk("/me/following", token=token, key="artists", type="artist", limit=7)
    assert [a["id"] for a in items] == expected
    assert len(pages) == -(-len(expected) // 7)
    assert all(p["total"] == len(expected) for p in pages)
    assert [p["cursors"].get("after") for p in pages[:-1]] == [p["items"][-1]["id"] for p in pages[:-1]]
    assert_error(await h.get("/me/following", token=token, type="user"), 400)


async def test_my_playlists(make, mode):
    h = await make(mode=mode)
    token = await user_token(h)
    r = await h.get("/me/playlists", token=token)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [p["id"] for p in items] == list(h.catalog.playlists)
    owners = {p["name"]: p["owner"]["id"] for p in items}
    assert owners["New Music Friday"] == "spotify" and owners["Road Trip"] == h.catalog.user.id


async def test_playlist_items_own_and_foreign(make, mode):
    h = await make(mode=mode)
    token = await user_token(h)
    catalog = h.catalog
    own = next(p for p in catalog.playlists.values() if p.owner_id == catalog.user.id)
    spotify = next(p for p in catalog.playlists.values() if p.owner_id == "spotify")

    pages, items = await h.walk(f"/playlists/{own.id}/items", token=token, limit=10)
    assert [i["item"]["id"] for i in items] == [t for t in own.track_ids if catalog.visible_track(t)]
    assert all(i["item"] == i["track"] for i in items)

    r = await h.get(f"/playlists/{spotify.id}/items", token=token)
    if mode == "development":
        assert_error(r, 403)
    else:
        assert r.status_code == 200
        assert r.json()["total"] == len(spotify.track_ids)
    assert_error(await h.get(f"/playlists/{UNKNOWN_ID}/items", token=token), 404)


async def test_create_playlist_and_add_items(make, mode):
    catalog = fresh_catalog()
    h = await make(catalog, mode=mode)
    reader = await user_token(h)
    assert_error(await h.post("/me/playlists", token=reader, json={"name": "New finds"}), 403, "playlist-modify")

    writer = await user_token(h, scope=f"{READ_SCOPES} playlist-modify-private")
    r = await h.post("/me/playlists", token=writer, json={"name": "New finds", "public": False})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["name"] == "New finds" and created["public"] is False
    assert created["owner"]["id"] == catalog.user.id and created["id"] in catalog.playlists
    assert_error(await h.post("/me/playlists", token=writer, json={"public": False}), 400)

    tracks = [t.id for t in visible_tracks(catalog)[:3]]
    r = await h.post(f"/playlists/{created['id']}/items", token=writer,
                     json={"uris": [f"spotify:track:{t}" for t in tracks]})
    assert r.status_code == 201, r.text
    snapshot = r.json()["snapshot_id"]
    assert snapshot != created["snapshot_id"]
    _, items = await h.walk(f"/playlists/{created['id']}/items", token=writer)
    assert [i["item"]["id"] for i in items] == tracks

    too_many = [f"spotify:track:{t.id}" for t in visible_tracks(catalog)[:101]]
    assert_error(await h.post(f"/playlists/{created['id']}/items", token=writer, json={"uris": too_many}), 400)
    r = await h.post(f"/playlists/{created['id']}/items", token=writer, json={"uris": too_many[:100]})
    assert r.status_code == 201 and r.json()["snapshot_id"] != snapshot

    spotify = next(p for p in catalog.playlists.values() if p.owner_id == "spotify")
    assert_error(await h.post(f"/playlists/{spotify.id}/items", token=writer, json={"uris": too_many[:1]}), 403)
    assert_error(await h.post(f"/playlists/{created['id']}/items", token=writer,
                              json={"uris": [f"spotify:track:{UNKNOWN_ID}"]}), 400)


def _removal(track_ids) -> dict:
    return {"items": [{"uri": f"spotify:track:{t}"} for t in track_ids]}


async def test_remove_items_takes_every_occurrence_and_answers_a_new_snapshot(make, mode):
    catalog = fresh_catalog()
    h = await make(catalog, mode=mode)
    writer = await user_token(h, scope=f"{READ_SCOPES} playlist-modify-private")
    created = (await h.post("/me/playlists", token=writer, json={"name": "New finds", "public": False})).json()
    tracks = [t.id for t in visible_tracks(catalog)[:4]]
    await h.post(f"/playlists/{created['id']}/items", token=writer,
                 json={"uris": [f"spotify:track:{t}" for t in [*tracks, tracks[0]]]})
    before = catalog.playlists[created["id"]].snapshot

    r = await h.delete(f"/playlists/{created['id']}/items", token=writer, json=_removal([tracks[0], tracks[2]]))
    assert r.status_code == 200, r.text
    assert r.json() == {"snapshot_id": f"sim-snapshot-{before + 1}"}
    assert catalog.playlists[created["id"]].track_ids == [tracks[1], tracks[3]]


async def test_remove_items_refuses_without_scope_on_anothers_playlist_above_100_and_unknown(make, mode):
    catalog = fresh_catalog()
    h = await make(catalog, mode=mode)
    reader = await user_token(h)
    writer = await user_token(h, scope=f"{READ_SCOPES} playlist-modify-private")
    own = next(p for p in catalog.playlists.values() if p.owner_id == catalog.user.id and not p.public)
    spotify = next(p for p in catalog.playlists.values() if p.owner_id == "spotify")
    some = own.track_ids[:1]
    assert_error(await h.delete(f"/playlists/{own.id}/items", token=reader, json=_removal(some)), 403,
                 "playlist-modify-private")
    assert_error(await h.delete(f"/playlists/{spotify.id}/items", token=writer, json=_removal(some)), 403)
    many = [t.id for t in visible_tracks(catalog)[:101]]
    assert_error(await h.delete(f"/playlists/{own.id}/items", token=writer, json=_removal(many)), 400, "100")
    assert_error(await h.delete(f"/playlists/{own.id}/items", token=writer, json={}), 400)
    assert_error(await h.delete(f"/playlists/{UNKNOWN_ID}/items", token=writer, json=_removal(some)), 404)
    assert own.track_ids[:1] == some, "nothing was removed by a refused request"


async def test_a_public_playlist_needs_the_public_scope_and_a_private_one_the_private_scope(make, mode):
    catalog = fresh_catalog()
    h = await make(catalog, mode=mode)
    public_writer = await user_token(h, scope=f"{READ_SCOPES} playlist-modify-public")
    assert_error(await h.post("/me/playlists", token=public_writer, json={"name": "Mine", "public": False}), 403,
                 "playlist-modify-private")
    r = await h.post("/me/playlists", token=public_writer, json={"name": "Mine", "public": True})
    assert r.status_code == 201 and r.json()["public"] is True


async def test_a_deleted_playlist_answers_404_and_its_id_is_never_given_again(make, mode):
    catalog = fresh_catalog()
    h = await make(catalog, mode=mode)
    writer = await user_token(h, scope=f"{READ_SCOPES} playlist-modify-private")
    first = (await h.post("/me/playlists", token=writer, json={"name": "New", "public": False})).json()["id"]
    catalog.delete_playlist(first)
    assert_error(await h.get(f"/playlists/{first}/items", token=writer), 404)
    second = (await h.post("/me/playlists", token=writer, json={"name": "New", "public": False})).json()["id"]
    assert second != first


# ----- the catalog clock --------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _seed_with_album_due(days: int) -> int:
    for seed in range(SEED, SEED + 20):
        catalog = shared_catalog() if seed == SEED else Catalog.generate(seed, SIZE, DATE)
        if any(DATE < a.date <= DATE + dt.timedelta(days=days) for a in catalog.albums.values()):
            return seed
    raise AssertionError(f"no album due within {days} days in twenty seeds")


def catalog_with_album_due(days: int) -> tuple[Catalog, object]:
    """A fresh catalog (the test moves its clock) and an album released within `days` of today."""
    catalog = catalog_copy(_seed_with_album_due(days), SIZE, DATE)
    due = [a for a in catalog.albums.values() if DATE < a.date <= DATE + dt.timedelta(days=days)]
    return catalog, min(due, key=lambda a: (a.date, a.id))


async def test_advance_makes_new_releases_visible(make, mode):
    catalog, album = catalog_with_album_due(7)
    h = await make(catalog, mode=mode)
    artist_id = album.artist_ids[0]

    assert_error(await h.get(f"/albums/{album.id}"), 404)
    assert_error(await h.get(f"/tracks/{album.track_ids[0]}"), 404)
    _, before = await h.walk(f"/artists/{artist_id}/albums", limit=page_max(mode))
    assert album.id not in {a["id"] for a in before}

    catalog.advance(7)

    r = await h.get(f"/albums/{album.id}")
    assert r.status_code == 200 and r.json()["release_date"] == album.release_date
    assert (await h.get(f"/tracks/{album.track_ids[0]}")).status_code == 200
    _, after = await h.walk(f"/artists/{artist_id}/albums", limit=page_max(mode))
    assert album.id in {a["id"] for a in after}
    assert len(after) == len(before) + sum(1 for a in catalog.albums.values()
                                           if DATE < a.date <= catalog.today
                                           and a.id in {x.id for x, _ in catalog.artist_albums(artist_id)})


# ----- the loopback server ------------------------------------------------------------------


async def _server_token(client: httpx.AsyncClient, server: SimServer) -> str:
    r = await client.post(f"{server.url}/api/token", data={"grant_type": "client_credentials"}, auth=("id", "secret"))
    assert r.status_code == 200
    return r.json()["access_token"]


async def test_server_keeps_one_connection_per_client():
    sim = SimSpotify(shared_catalog(), SimConfig())
    artist_id = busiest_artist(sim.catalog)
    async with SimServer(sim) as server:
        assert server.url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
            headers = {"Authorization": f"Bearer {await _server_token(client, server)}"}
            for _ in range(50):
                r = await client.get(f"{server.api_url}/artists/{artist_id}", headers=headers)
                assert r.status_code == 200
            r = await client.get(f"{server.api_url}/artists/{artist_id}/albums", headers=headers, params={"limit": 2})
            assert r.json()["next"].startswith(f"{server.api_url}/artists/")  # links point back at the server
        assert server.connections_accepted == 1
    assert sim.counts[("GET /artists/{id}", 200)] == 50


async def test_server_new_client_new_connection():
    sim = SimSpotify(shared_catalog(), SimConfig())
    artist_id = busiest_artist(sim.catalog)
    async with SimServer(sim) as server:
        async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
            token = await _server_token(client, server)
        before = server.connections_accepted
        for _ in range(10):
            async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
                r = await client.get(f"{server.api_url}/artists/{artist_id}",
                                     headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200
        assert server.connections_accepted - before == 10


async def test_server_stats_and_advance():
    catalog = fresh_catalog()
    sim = SimSpotify(catalog, SimConfig(mode="extended"))
    artist_id = busiest_artist(catalog)
    async with SimServer(sim) as server:
        async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
            headers = {"Authorization": f"Bearer {await _server_token(client, server)}"}
            for _ in range(3):
                assert (await client.get(f"{server.api_url}/artists/{artist_id}", headers=headers)).status_code == 200
            assert (await client.get(f"{server.api_url}/artists/{UNKNOWN_ID}", headers=headers)).status_code == 404

            stats = (await client.get(f"{server.url}/_sim/stats")).json()
            assert stats["requests"]["GET /artists/{id}"] == {"200": 3, "404": 1}
            assert stats["mode"] == "extended" and stats["today"] == DATE.isoformat()
            assert stats["connections_accepted"] == 1

            r = await client.post(f"{server.url}/_sim/advance", params={"days": 7})
            assert r.status_code == 200
            assert catalog.today == DATE + dt.timedelta(days=7)
            assert r.json()["today"] == (DATE + dt.timedelta(days=7)).isoformat()
            assert (await client.post(f"{server.url}/_sim/advance", params={"days": "-1"})).status_code == 400
            assert catalog.today == DATE + dt.timedelta(days=7)
    assert sim.calls() == 4  # control requests are not API calls


# ----- the catalog itself -------------------------------------------------------------------


def _fingerprint(catalog: Catalog):
    return [(a.id, a.name, a.release_date, a.precision, tuple(catalog.tracks[t].isrc for t in a.track_ids))
            for a in catalog.albums.values()]


def test_catalog_is_deterministic():
    first, second = Catalog.generate(3, 50, DATE), Catalog.generate(3, 50, DATE)
    assert _fingerprint(first) == _fingerprint(second)
    assert list(first.artists) == list(second.artists)
    assert first.user.followed_artist_ids == second.user.followed_artist_ids
    other = Catalog.generate(4, 50, DATE)
    assert _fingerprint(other) != _fingerprint(first)
    assert not set(other.albums) & set(first.albums)


@pytest.mark.parametrize("size", [-1, 0, 9, 10_001])
def test_catalog_size_bounds(size):
    with pytest.raises(ValueError, match="size"):
        Catalog.generate(1, size, DATE)


def test_catalog_smallest_size_is_allowed():
    catalog = Catalog.generate(1, 10, DATE)
    assert len(real_artists(catalog)) == 10
