"""The Spotify client against the simulator: pooling, retries, single-flight, capabilities, auth."""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import stat

import httpx
import pytest

from esh_tui.config import Settings
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.server import SimServer
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.auth import TOKEN_FILE
from esh_tui.spotify.capabilities import Capabilities
from esh_tui.spotify.client import RATE_LIMIT_PATIENCE, SpotifyClient
from esh_tui.spotify.errors import AuthError, LoginExpiredError, NotFoundError, QuotaExceededError, RateLimitedError

SECRET = "do-not-leak-this-secret"


class FakeTime:
    """A clock that only moves when somebody sleeps: waits are measured, never spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class VirtualTime(FakeTime):
    """Time that passes only when nothing else can run: the earliest sleeper moves the clock to its deadline.

    Unlike `FakeTime`, a long sleep does not move the clock for everybody the moment it starts, so what other
    tasks do during a pause happens during the pause."""

    TURNS = 50  # loop turns a sleeper lets pass before it takes time forward

    def __init__(self) -> None:
        super().__init__()
        self._deadlines: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        deadline = self.now + seconds
        self._deadlines.append(deadline)
        try:
            while self.now < deadline:
                for _ in range(self.TURNS):
                    await asyncio.sleep(0)
                if deadline <= min(self._deadlines):
                    self.now = deadline
        finally:
            self._deadlines.remove(deadline)


async def _wire_turns(seconds: float) -> None:
    """The simulator's latency as a few loop turns: requests overlap on the wire without time passing."""
    for _ in range(3):
        await asyncio.sleep(0)


class _Wire(httpx.AsyncBaseTransport):
    """The simulator behind a wire that notes each 429: when it was answered, until when it asked for a pause,
    and how many requests the client had in flight then; and each API request sent while a pause ran."""

    def __init__(self, inner: httpx.AsyncBaseTransport, time_: VirtualTime) -> None:
        self.inner, self.time = inner, time_
        self.client: SpotifyClient | None = None
        self.limited: list[tuple[float, float, int]] = []  # (answered at, pause until, client's requests in flight)
        self.sent_in_pause = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent_at = self.time.now
        api = "/api/token" not in request.url.path
        if api and any(answered_at <= sent_at < until for answered_at, until, _ in self.limited):
            self.sent_in_pause += 1
        response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            until = self.time.now + float(response.headers.get("retry-after", 0))
            self.limited.append((self.time.now, until, self.client.limit.in_flight if self.client else 0))
        return response


def _settings(tmp_path, api_url="https://api.spotify.com/v1", accounts_url="https://accounts.spotify.com", **kw):
    return Settings(data_dir=tmp_path, api_url=api_url, accounts_url=accounts_url,
                    client_id="esh-test-client", client_secret=SECRET, **kw)


def _offline(catalog, tmp_path, mode="development", time_=None, **knobs):
    time_ = time_ or FakeTime()
    sim = SimSpotify(catalog, SimConfig(mode=mode, **knobs), clock=time_.clock)
    client = SpotifyClient(_settings(tmp_path), SimTransport(sim, sleep=time_.sleep),
                           sleep=time_.sleep, clock=time_.clock)
    return sim, client, time_


def _artist(catalog):
    return catalog.tracked_sample(1)[0]


async def test_pooled_client_opens_no_more_connections_than_the_pool(catalog_factory, tmp_path):
    catalog = catalog_factory(1, 20)
    sim = SimSpotify(catalog, SimConfig(mode="development"))
    async with SimServer(sim) as server:
        settings = _settings(tmp_path, api_url=server.api_url, accounts_url=server.url)
        async with SpotifyClient(settings, max_connections=8, concurrency=32, max_concurrency=32) as client:
            ids = list(catalog.artists)
            await asyncio.gather(*(client.get(f"/artists/{ids[i % len(ids)]}", {"n": i}, template="GET /artists/{id}")
                                   for i in range(1000)))
        assert sim.calls("GET /artists/{id}", 200) == 1000
        assert server.connections_accepted <= 8
        # the token request opened the first connection; the API calls reused it and opened the rest
        assert client.log.connections_opened == server.connections_accepted - 1


async def test_429_retry_after_is_obeyed_on_a_simulated_clock(catalog_factory, tmp_path):
    sim, client, time_ = _offline(catalog_factory(1, 20), tmp_path, rate_limit=5)
    artist = _artist(sim.catalog)
    async with client:
        for i in range(12):
            await client.get(f"/artists/{artist}", {"i": i}, template="GET /artists/{id}")
    assert sim.calls("GET /artists/{id}", 429) >= 1
    assert sim.calls("GET /artists/{id}", 200) == 12
    assert time_.now - 1000.0 >= 30, "two refills of a 5-per-30s window must take at least 30 simulated seconds"
    assert client.log.rate_limited == sim.calls("GET /artists/{id}", 429)
    assert client.limit.bound < 8, "the concurrency bound shrinks on 429"


async def test_after_a_429_nothing_is_sent_until_its_retry_after_has_passed(catalog_factory, tmp_path):
    """Many calls at once under a rolling rate limit: requests queued on the concurrency bound wait out the pause
    too; only those already in flight when the first 429 was answered may meet a 429 of their own."""
    time_ = VirtualTime()
    sim = SimSpotify(catalog_factory(1, 20), SimConfig(mode="development", rate_limit=10, latency_ms=50),
                     clock=time_.clock)
    wire = _Wire(SimTransport(sim, sleep=_wire_turns), time_)
    client = SpotifyClient(_settings(tmp_path), wire, sleep=time_.sleep, clock=time_.clock, rng=random.Random(1))
    wire.client = client
    artist = _artist(sim.catalog)
    async with client:
        await asyncio.gather(*(client.get(f"/artists/{artist}", {"i": i}, template="GET /artists/{id}")
                               for i in range(60)))
    assert sim.calls("GET /artists/{id}", 200) == 60
    (first_at, first_until, in_flight), *later = wire.limited
    in_first_pause = [at for at, _, _ in later if at < first_until]
    assert len(in_first_pause) <= in_flight - 1, (len(in_first_pause), in_flight)
    assert wire.sent_in_pause == 0


async def test_429_without_retry_after_backs_off_until_the_window_refills(catalog_factory, tmp_path):
    """Six or more 429s in a row for one request are no reason to give up while the waits stay reasonable."""
    sim, client, time_ = _offline(catalog_factory(1, 20), tmp_path, rate_limit=1, retry_after_missing=1.0)
    artist = _artist(sim.catalog)
    async with client:
        await client.get(f"/artists/{artist}", template="GET /artists/{id}")
        await client.get(f"/artists/{artist}", {"x": 1}, template="GET /artists/{id}")
    assert sim.calls("GET /artists/{id}", 429) >= 6, "more 429s than max_retries, and still answered"
    assert time_.now - 1000.0 >= 30, "it waited for the 30 s window to refill"


async def test_a_huge_retry_after_or_endless_429s_stop_with_when_to_come_back(tmp_path):
    def always_429(retry_after):
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/api/token"):
                return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return httpx.Response(429, headers=headers, json={"error": {"status": 429, "message": "slow down"}})
        return handler

    for retry_after in (3600, 20, None):
        time_ = FakeTime()
        async with SpotifyClient(_settings(tmp_path), httpx.MockTransport(always_429(retry_after)),
                                 sleep=time_.sleep, clock=time_.clock) as client:
            with pytest.raises(RateLimitedError, match="try again in"):
                await client.get("/artists/x", template="GET /artists/{id}")
        waited = time_.now - 1000.0
        if retry_after == 3600:
            assert waited == 0, "a wait longer than MAX_RETRY_AFTER stops at once"
        else:
            assert RATE_LIMIT_PATIENCE - 30 <= waited <= RATE_LIMIT_PATIENCE + 10, (retry_after, waited)


@pytest.mark.parametrize("in_reason", [False, True], ids=["mark-in-message", "mark-in-reason"])
async def test_quota_exhaustion_stops_with_when_to_come_back(catalog_factory, tmp_path, in_reason):
    """Spotify marks the daily quota QUOTA_EXCEEDED in the error's message or in its reason: both stop the run."""
    sim, client, _ = _offline(catalog_factory(1, 20), tmp_path, quota=3, quota_reason_field=in_reason)
    artist = _artist(sim.catalog)
    async with client:
        for i in range(3):
            await client.get(f"/artists/{artist}", {"i": i}, template="GET /artists/{id}")
        with pytest.raises(QuotaExceededError) as caught:
            await client.get(f"/artists/{artist}", {"i": 99}, template="GET /artists/{id}")
    message = str(caught.value)
    assert "daily API quota reached" in message and "what was fetched is kept" in message
    assert "come back after" in message and caught.value.retry_after > 3600
    assert sim.calls("GET /artists/{id}", 429) == 1, "no retries hammer an exhausted quota"


async def test_twenty_concurrent_identical_requests_reach_the_server_once(catalog_factory, tmp_path):
    sim, client, _ = _offline(catalog_factory(1, 20), tmp_path, latency_ms=50)
    artist = _artist(sim.catalog)
    async with client:
        results = await asyncio.gather(*(client.get(f"/artists/{artist}", template="GET /artists/{id}") for _ in range(20)))
    assert sim.calls("GET /artists/{id}") == 1
    assert client.flights.saved == 19
    assert all(r == results[0] for r in results)


@pytest.mark.parametrize("mode", ["development", "extended"])
async def test_capability_fallback_loses_nothing(catalog_factory, tmp_path, mode):
    catalog = catalog_factory(1, 20)
    sim, client, _ = _offline(catalog, tmp_path, mode=mode)
    track_ids = [t for album in list(catalog.albums.values())[:30] for t in album.track_ids][:120]
    async with client:
        tracks = await client.several("tracks", track_ids + ["0" * 22])
        page = await client.page(f"/artists/{_artist(catalog)}/albums", {"include_groups": "album,single"},
                                 template="GET /artists/{id}/albums")
    assert [tracks[t]["id"] for t in track_ids] == track_ids and tracks["0" * 22] is None
    assert client.capabilities == Capabilities(batch=mode == "extended", page_max=10 if mode == "development" else 50)
    assert len(page["items"]) == min(page["total"], client.capabilities.page_max)
    if mode == "development":
        assert sim.calls("GET /tracks", 403) == 1 and sim.calls("GET /tracks/{id}", 200) == 120
        assert sim.calls("GET /artists/{id}/albums", 400) == 1
    else:
        assert sim.calls("GET /tracks", 200) == 3 and sim.calls("GET /tracks/{id}") == 0


async def test_pages_wait_for_the_page_size_to_be_learned_not_for_each_other(catalog_factory, tmp_path):
    """Artists starting together all ask for a page before its size is known: one finds out (a 400 on limit=50),
    then the others ask together, not one after another (that took one round trip per artist)."""
    catalog = catalog_factory(1, 20)
    sim = SimSpotify(catalog, SimConfig(mode="development"))
    inner = SimTransport(sim)
    in_flight, peak = 0, 0

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await asyncio.sleep(0.05)  # long beside a few turns of the loop, even on a busy machine
                return await inner.handle_async_request(request)
            finally:
                in_flight -= 1

    artists = [a.id for a in catalog.real_artists()][:8]
    async with SpotifyClient(_settings(tmp_path), Counting()) as client:
        await asyncio.gather(*(client.page(f"/artists/{a}/albums", {}, template="GET /artists/{id}/albums")
                               for a in artists))
    assert sim.calls("GET /artists/{id}/albums", 400) == 1
    assert sim.calls("GET /artists/{id}/albums", 200) == len(artists)
    assert peak == len(artists) - 1, "the seven left ask at once once the size is known"


async def test_learned_capabilities_let_the_next_run_start_right(catalog_factory, tmp_path):
    catalog = catalog_factory(1, 20)
    sim = SimSpotify(catalog, SimConfig(mode="development"))
    learned = Capabilities(batch=False, page_max=10)
    async with SpotifyClient(_settings(tmp_path), SimTransport(sim), capabilities=learned) as client:
        await client.several("tracks", catalog.albums[next(iter(catalog.albums))].track_ids)
        await client.page(f"/artists/{_artist(catalog)}/albums", {}, template="GET /artists/{id}/albums")
    assert sim.calls(status=403) == 0 and sim.calls(status=400) == 0


async def test_token_is_fetched_once_under_concurrency_and_refreshed_before_expiry(catalog_factory, tmp_path):
    sim, client, time_ = _offline(catalog_factory(1, 20), tmp_path, token_ttl=600, latency_ms=5)
    artist = _artist(sim.catalog)
    async with client:
        await asyncio.gather(*(client.get(f"/artists/{artist}", {"i": i}, template="GET /artists/{id}") for i in range(50)))
        assert sim.counts[("POST /api/token", 200)] == 1
        time_.now += 600 - 30  # inside the refresh margin: renewed before the server would refuse it
        await asyncio.gather(*(client.get(f"/artists/{artist}", {"j": i}, template="GET /artists/{id}") for i in range(50)))
    assert sim.counts[("POST /api/token", 200)] == 2
    assert sim.calls(status=401) == 0


async def test_a_five_second_token_is_refreshed_a_dozen_times_a_minute_not_on_every_call(catalog_factory, tmp_path):
    """A refresh margin longer than a token's lifetime would fetch a token for every call."""
    sim, client, time_ = _offline(catalog_factory(1, 20), tmp_path, token_ttl=5)
    artist = _artist(sim.catalog)
    async with client:
        for i in range(240):  # a call every quarter second for a minute
            await client.get(f"/artists/{artist}", {"i": i}, template="GET /artists/{id}")
            time_.now += 0.25
    assert sim.calls("GET /artists/{id}", 200) == 240 and sim.calls(status=401) == 0
    assert sim.counts[("POST /api/token", 200)] < 20


async def test_faults_are_retried_and_typed_errors_name_the_resource(catalog_factory, tmp_path):
    sim, client, time_ = _offline(catalog_factory(1, 20), tmp_path, fault_rate=0.3, faults=("500", "503", "drop", "timeout"),
                                  slow_seconds=60)
    ids = list(sim.catalog.artists)[:20]
    async with client:
        artists = await asyncio.gather(*(client.get(f"/artists/{i}", template="GET /artists/{id}") for i in ids))
        with pytest.raises(NotFoundError, match="GET /artists/{id}"):
            await client.get(f"/artists/{'0' * 22}", template="GET /artists/{id}")
    assert [a["id"] for a in artists] == ids
    assert sum(sim.faults_injected.values()) > 0 and client.log.retries >= sum(sim.faults_injected.values())


async def test_no_secret_in_errors_reprs_or_records(catalog_factory, tmp_path):
    catalog = catalog_factory(1, 20)
    sim = SimSpotify(catalog, SimConfig())
    settings = _settings(tmp_path, accounts_url="https://accounts.spotify.com")
    async with SpotifyClient(settings, SimTransport(sim)) as client:
        await client.get(f"/artists/{_artist(catalog)}", template="GET /artists/{id}")
        token = client.token._token
        texts = [repr(client), repr(client.token), repr(settings), repr(list(client.log.records))]
    assert token and all(SECRET not in t and token not in t for t in texts)

    refusing = httpx.MockTransport(lambda request: httpx.Response(400, json={"error": "invalid_client"}))
    async with SpotifyClient(settings, refusing) as client:
        with pytest.raises(AuthError) as caught:
            await client.get("/artists/x", template="GET /artists/{id}")
    assert SECRET not in str(caught.value) and "SPOTIFY_CLIENT_SECRET" in str(caught.value)


async def _log_in(sim: SimSpotify, tmp_path, wrong_state_answers: list[int] | None = None):
    """`esh-tui login` against the simulator: the settings it used and the scopes granted."""
    from conftest import log_in, unused_port
    settings = _settings(tmp_path, redirect_uri=f"http://127.0.0.1:{unused_port()}/callback")
    async with SpotifyClient(settings, SimTransport(sim)) as client:
        scopes = await log_in(settings, client._http, wrong_state_answers)
    return settings, scopes


async def test_pkce_login_end_to_end_against_the_simulator(tmp_path):
    from conftest import fresh_catalog
    catalog = fresh_catalog(1, 20)
    sim = SimSpotify(catalog, SimConfig(mode="development"))
    wrong_state_answers: list[int] = []
    settings, scopes = await _log_in(sim, tmp_path, wrong_state_answers)
    assert {"user-library-read", "user-follow-read", "playlist-read-private"} <= scopes
    assert "playlist-modify-private" not in scopes, "only what is read is asked for"
    assert wrong_state_answers == [400]
    token_file = tmp_path / TOKEN_FILE
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert SECRET not in token_file.read_text()

    async with SpotifyClient(settings, SimTransport(sim), user=True) as client:
        saved = [t async for t in client.pages("/me/tracks", {"limit": 50}, template="GET /me/tracks")]
    assert len(saved) == len(catalog.user.saved_track_ids)
    assert sim.counts[("POST /api/token", 200)] == 2, "the code exchange, then one refresh"
    with pytest.raises(OSError):  # the listener is gone
        socket.create_connection(("127.0.0.1", int(settings.redirect_uri.split(":")[2].split("/")[0])), timeout=1)


async def test_pkce_login_and_refresh_never_send_the_client_secret(catalog_factory, tmp_path):
    sim = SimSpotify(catalog_factory(1, 20), SimConfig(mode="development"))
    settings, _ = await _log_in(sim, tmp_path)
    async with SpotifyClient(settings, SimTransport(sim), user=True) as client:
        await client.get("/me", template="GET /me")
    async with SpotifyClient(settings, SimTransport(sim)) as client:  # the app's own token needs the secret
        await client.get(f"/artists/{_artist(sim.catalog)}", template="GET /artists/{id}")
    assert sim.accounts.token_requests == [("authorization_code", False), ("refresh_token", False),
                                           ("client_credentials", True)]


SIX_MONTHS = 183 * 86_400.0


async def test_an_expired_login_says_log_in_again_after_one_refresh_request(catalog_factory, tmp_path):
    time_ = FakeTime()
    sim = SimSpotify(catalog_factory(1, 20), SimConfig(refresh_token_ttl=SIX_MONTHS), clock=time_.clock)
    settings, _ = await _log_in(sim, tmp_path)
    time_.now += SIX_MONTHS
    async with SpotifyClient(settings, SimTransport(sim), user=True) as client:
        failures = await asyncio.gather(*(client.get("/me/tracks", {"i": i}, template="GET /me/tracks")
                                          for i in range(5)), return_exceptions=True)
        with pytest.raises(LoginExpiredError):
            await client.get("/me", template="GET /me")
    assert [str(f) for f in failures] == ["your Spotify login has expired: run esh-tui login"] * 5
    assert all(isinstance(f, AuthError) for f in failures)
    assert [grant for grant, _ in sim.accounts.token_requests] == ["authorization_code", "refresh_token"]
    assert sim.calls() == 0, "nothing was sent without a token"


@pytest.mark.parametrize("mode", ["development", "extended"])
async def test_capabilities_are_learned_once_under_concurrency(catalog_factory, tmp_path, mode):
    """Many artists start at once: one probe answers for all, and no request fails."""
    catalog = catalog_factory(1, 20)
    sim, client, _ = _offline(catalog, tmp_path, mode=mode, latency_ms=50)
    artists = [a for a in catalog.real_artists()]
    albums = [a.id for a in list(catalog.albums.values())[:40]]
    async with client:
        pages = await asyncio.gather(*(client.page(f"/artists/{a.id}/albums", {}, template="GET /artists/{id}/albums")
                                       for a in artists))
        found = await asyncio.gather(*(client.several("albums", albums[i:i + 2]) for i in range(0, 40, 2)))
    assert all(isinstance(p["items"], list) for p in pages)
    assert all(v is not None for chunk in found for v in chunk.values())
    assert sim.calls("GET /artists/{id}/albums", 400) == (1 if mode == "development" else 0)
    assert sim.calls("GET /albums", 403) == (1 if mode == "development" else 0)


async def test_stats_copy_the_accounting_and_count_coalesced_requests_apart(catalog_factory, tmp_path):
    sim, client, _ = _offline(catalog_factory(1, 20), tmp_path, latency_ms=50)
    artist = _artist(sim.catalog)
    async with client:
        await asyncio.gather(*(client.get(f"/artists/{artist}", template="GET /artists/{id}") for _ in range(5)))
        await client.get(f"/artists/{artist}/albums", {"limit": 10}, template="GET /artists/{id}/albums")
    stats = client.stats()
    assert stats.calls == 2 and stats.coalesced == 4 and len(stats.since(1)) == 1 and stats.since(2) == ()
    assert [r.template for r in stats.recent] == ["GET /artists/{id}", "GET /artists/{id}/albums"]


def _always_429(retry_after: str, message: str = "slow down"):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/api/token"):
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        return httpx.Response(429, headers={"Retry-After": retry_after},
                              json={"error": {"status": 429, "message": message}})
    return handler


@pytest.mark.parametrize("retry_after", ["inf", "1e309", "1e300", "9" * 40])
@pytest.mark.parametrize("message", ["slow down", "QUOTA_EXCEEDED"])
async def test_an_endless_retry_after_stops_with_when_to_come_back_not_an_overflow(tmp_path, retry_after, message):
    """Found by fuzzing: Retry-After: inf (or a number past what a date can hold) ended the run with an
    OverflowError traceback while saying when to come back."""
    time_ = FakeTime()
    async with SpotifyClient(_settings(tmp_path), httpx.MockTransport(_always_429(retry_after, message)),
                             sleep=time_.sleep, clock=time_.clock) as client:
        with pytest.raises((RateLimitedError, QuotaExceededError)) as caught:
            await client.get("/artists/x", template="GET /artists/{id}")
    assert time_.slept == [], "nothing is waited out"
    assert "168 h 0 min" in str(caught.value), "a week at most: it only says when to come back"


@pytest.mark.parametrize("retry_after", ["0", "-5", "nan", "0.0001"])
async def test_endless_429s_asking_for_no_wait_end_within_the_patience(tmp_path, retry_after):
    """Found by fuzzing: a server answering every request 429 with Retry-After: 0 (or a negative number, or NaN)
    was asked again and again for ever, since a zero wait never used up the patience: a hang, hammering it.
    Each such 429 now pauses at least a second, and the run stops, saying to come back in 30 s."""
    time_ = FakeTime()
    async with SpotifyClient(_settings(tmp_path), httpx.MockTransport(_always_429(retry_after)),
                             sleep=time_.sleep, clock=time_.clock) as client:
        with pytest.raises(RateLimitedError, match="try again in 30 s"):
            await asyncio.wait_for(client.get("/artists/x", template="GET /artists/{id}"), 30)
    assert RATE_LIMIT_PATIENCE - 30 <= time_.now - 1000.0 <= RATE_LIMIT_PATIENCE + 200
    assert client.log.rate_limited <= RATE_LIMIT_PATIENCE + 1, "at most one request a second"


@pytest.mark.parametrize("token", ["tök€n", "\ud800", "a\nb", "a b", "", "\x1b[2J", 42, None, "x" * 5000])
async def test_a_token_answer_with_an_access_token_no_header_can_carry_is_an_auth_error(tmp_path, token):
    """Found by fuzzing the token answer: an access token with characters outside ASCII made every request fail
    with a UnicodeEncodeError traceback as its header was encoded (a newline or a space would be refused by the
    HTTP library, and retried as a network failure). It is an answer without a usable token."""
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/api/token"):
            return httpx.Response(200, content=json.dumps({"access_token": token, "expires_in": 3600}).encode())
        return httpx.Response(200, json={"id": "x"})

    time_ = FakeTime()
    async with SpotifyClient(_settings(tmp_path), httpx.MockTransport(handler), sleep=time_.sleep,
                             clock=time_.clock) as client:
        with pytest.raises(AuthError, match="no usable access token"):
            await client.get("/artists/x", template="GET /artists/{id}")


@pytest.mark.parametrize("body", [{}, {"error": None}, {"error_description": "\x1b[2J"}, {"error": ""}])
async def test_a_token_refusal_that_says_nothing_is_named_by_its_status(tmp_path, body):
    """Seen while fuzzing the token endpoint: a refusal without an error or a description said 'refused the
    token request: None'."""
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=body)

    async with SpotifyClient(_settings(tmp_path), httpx.MockTransport(handler)) as client:
        with pytest.raises(AuthError, match=r"refused the token request: HTTP 400; check SPOTIFY_CLIENT_ID"):
            await client.get("/artists/x", template="GET /artists/{id}")


@pytest.mark.parametrize("content", [b"[" * 100_000 + b"]" * 100_000, b'{"refresh_token": "r", "scope": 5}',
                                     b'{"refresh_token": "r", "scope": ["a"]}', b"\xff\xfe", b"", "fifo", "directory"])
def test_a_damaged_login_file_is_no_login_never_a_traceback_or_a_wait(tmp_path, content):
    """Found by fuzzing the data directory: a user-token.json nested too deep ended the command with a
    RecursionError traceback, a non-text "scope" with an AttributeError, and one that is a FIFO with nobody
    writing to it was waited on for ever. Each is read as no login now: 'esh-tui login' writes a new one."""
    from esh_tui.spotify.auth import UserToken

    path = tmp_path / TOKEN_FILE
    if content == "fifo":
        os.mkfifo(path)
    elif content == "directory":
        path.mkdir()
    else:
        path.write_bytes(content)
    try:
        token = UserToken(_settings(tmp_path), None)
    except AuthError as exc:
        assert "not logged in to Spotify: run 'esh-tui login' first" in str(exc)
    else:
        assert token.scopes == frozenset()


@pytest.mark.parametrize("request_line", [b"GET http://[::1 HTTP/1.1", b"GET /" + b"a" * 70_000 + b" HTTP/1.1",
                                          b"\xff\xfe", b"GET /callback?state=wrong&code=x HTTP/1.1"])
async def test_the_login_listener_answers_a_malformed_request_400_and_keeps_waiting(request_line, capfd):
    """Found by fuzzing the loopback listener: a request whose target urlsplit cannot read (a broken IPv6 host), or
    a line past the reader's limit, raised out of the handler, and asyncio printed its traceback on the terminal
    of 'esh-tui login' (any local process can send one while it waits)."""
    from esh_tui.spotify.auth import _CallbackListener

    caught = asyncio.get_running_loop().create_future()
    listener = await _CallbackListener.start("127.0.0.1", 0, "/callback", "right", caught)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        writer.write(request_line + b"\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    finally:
        await listener.close()
    assert answer.startswith(b"HTTP/1.1 400 ") and not caught.done()
    assert "Traceback" not in capfd.readouterr().err


async def test_a_batch_waits_5_ms_in_process_and_50_ms_over_a_network(catalog_factory, tmp_path):
    """In-process no answer is on its way to wait for, and waiting the network's 50 ms only stalled each batch."""
    catalog = catalog_factory(1, 30)
    extended = Capabilities(batch=True, page_max=50)
    in_process = SimSpotify(catalog, SimConfig(mode="extended"))
    async with SpotifyClient(_settings(tmp_path), SimTransport(in_process), capabilities=extended) as client:
        assert client.loaders["albums"].wait() == 0.05, "no round trip measured yet: the network's window"
        await client.get(f"/artists/{_artist(catalog)}")
        assert client.round_trip < 0.002 and client.loaders["albums"].wait() == 0.005
    async with SimServer(SimSpotify(catalog, SimConfig(mode="extended", latency_ms=5))) as server:
        settings = _settings(tmp_path, api_url=server.api_url, accounts_url=server.url)
        async with SpotifyClient(settings, capabilities=extended) as client:
            await client.get(f"/artists/{_artist(catalog)}")
            assert client.round_trip >= 0.005 and client.loaders["albums"].wait() == 0.05
