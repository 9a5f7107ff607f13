"""The client's concurrency bound and its connection pool: what keeps a request's CPU small, and what must not
change with it (connections opened and reused, keep-alive off, a connection the server closed)."""

from __future__ import annotations

import asyncio

import httpcore
import httpx
import pytest

from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.server import SimServer
from esh_tui.spotify.limits import AdaptiveLimit
from esh_tui.spotify.pool import PooledTransport


# ----- the bound ---------------------------------------------------------------------------------------------

async def test_a_freed_slot_goes_to_the_longest_waiting():
    limit = AdaptiveLimit(initial=1, maximum=1)
    order: list[int] = []
    release = asyncio.Event()

    async def one(i: int) -> None:
        async with limit:
            order.append(i)
            if i == 0:
                await release.wait()

    tasks = [asyncio.create_task(one(i)) for i in range(5)]
    await asyncio.sleep(0)
    assert order == [0] and limit.in_flight == 1
    release.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert limit.in_flight == 0 and limit.peak_in_flight == 1


async def test_a_waiter_cancelled_as_its_slot_is_handed_over_passes_the_slot_on():
    limit = AdaptiveLimit(initial=1, maximum=1)
    release = asyncio.Event()
    got: list[str] = []

    async def holder() -> None:
        async with limit:
            await release.wait()

    async def waiter(name: str) -> None:
        async with limit:
            got.append(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    second, third = asyncio.create_task(waiter("second")), asyncio.create_task(waiter("third"))
    await asyncio.sleep(0)
    release.set()
    await asyncio.sleep(0)  # the holder leaves and hands its slot to `second`, which has not run yet
    second.cancel()
    await asyncio.gather(first, third)
    with pytest.raises(asyncio.CancelledError):
        await second
    assert got == ["third"] and limit.in_flight == 0


async def test_a_cancelled_waiter_leaves_the_queue():
    limit = AdaptiveLimit(initial=1, maximum=1)
    async with limit:
        waiter = asyncio.create_task(limit.__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert not limit._waiters
    assert limit.in_flight == 0


async def test_growing_the_bound_lets_waiters_in():
    limit = AdaptiveLimit(initial=1, maximum=2)
    entered = 0
    hold = asyncio.Event()

    async def one() -> None:
        nonlocal entered
        async with limit:
            entered += 1
            await hold.wait()

    tasks = [asyncio.create_task(one()) for _ in range(3)]
    await asyncio.sleep(0)
    assert entered == 1
    limit.on_success()  # one success in a row at a bound of 1: the bound grows to 2
    await asyncio.sleep(0)
    assert entered == 2 and limit.bound == 2
    hold.set()
    await asyncio.gather(*tasks)


# ----- the pool ----------------------------------------------------------------------------------------------

@pytest.fixture
def bounces(monkeypatch):
    """How often a request was handed a connection that turned out busy, and went round the pool again."""
    count = [0]
    real = httpcore.AsyncHTTP11Connection.handle_async_request

    async def counting(self, request):
        try:
            return await real(self, request)
        except httpcore.ConnectionNotAvailable:
            count[0] += 1
            raise

    monkeypatch.setattr(httpcore.AsyncHTTP11Connection, "handle_async_request", counting)
    return count


async def _fetch_all(server: SimServer, transport: httpx.AsyncBaseTransport, ids: list[str], requests: int,
                     in_flight: int) -> None:
    gate = asyncio.Semaphore(in_flight)

    async def one(i: int) -> None:
        async with gate:
            response = await http.get(f"{server.api_url}/artists/{ids[i % len(ids)]}", params={"n": i})
            assert response.status_code in (200, 401)

    async with httpx.AsyncClient(transport=transport) as http:
        await asyncio.gather(*(one(i) for i in range(requests)))


async def test_the_pool_never_hands_one_idle_connection_to_two_requests(catalog_factory, bounces):
    catalog = catalog_factory(1, 20)
    sim = SimSpotify(catalog, SimConfig(mode="development", latency_ms=2))
    async with SimServer(sim) as server:
        transport = PooledTransport(limits=httpx.Limits(max_connections=8, max_keepalive_connections=8))
        await _fetch_all(server, transport, list(catalog.artists), 400, 8)
        assert bounces[0] == 0
        assert server.connections_accepted <= 8


async def test_the_pool_with_more_requests_than_connections_still_answers_them_all(catalog_factory):
    catalog = catalog_factory(1, 20)
    sim = SimSpotify(catalog, SimConfig(mode="development", latency_ms=2))
    async with SimServer(sim) as server:
        transport = PooledTransport(limits=httpx.Limits(max_connections=4, max_keepalive_connections=4))
        await _fetch_all(server, transport, list(catalog.artists), 300, 32)
        assert sim.calls("GET /artists/{id}") == 300
        assert server.connections_accepted <= 4


async def test_keep_alive_off_still_opens_a_connection_per_request(catalog_factory):
    catalog = catalog_factory(1, 20)
    sim = SimSpotify(catalog, SimConfig(mode="development"))
    async with SimServer(sim) as server:
        transport = PooledTransport(limits=httpx.Limits(max_connections=4, max_keepalive_connections=0))
        await _fetch_all(server, transport, list(catalog.artists), 40, 4)
        assert server.connections_accepted == 40


async def test_a_connection_the_server_closed_while_idle_is_not_used_again():
    """A server that answers one request per connection and hangs up without saying so: the next request
    must not be sent down the dead connection (it would fail), but on a new one."""
    accepted = 0

    async def one_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(one_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        transport = PooledTransport(limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))
        async with httpx.AsyncClient(transport=transport) as http:
            for i in range(5):
                response = await http.get(f"http://127.0.0.1:{port}/x", params={"i": i})
                assert response.status_code == 200
                await asyncio.sleep(0.05)  # the hang-up reaches the client while the connection is idle
        assert accepted == 5
    finally:
        server.close()
        await server.wait_closed()


def test_behind_a_proxy_httpx_keeps_its_own_pool():
    transport = PooledTransport(proxy="http://127.0.0.1:9")
    assert type(transport._pool) is httpcore.AsyncHTTPProxy


# ----- the cookie jar ----------------------------------------------------------------------------------------

async def test_cookies_an_answer_sets_are_kept_and_sent_back(tmp_path):
    """The jar skips answers that set no cookie; one that does is read as httpx always did."""
    from esh_tui.config import Settings
    from esh_tui.spotify.client import SpotifyClient, _AnswerCookies

    class Token:
        async def access_token(self) -> str:
            return "t"

        def invalidate(self) -> None:
            pass

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/set"):
            return httpx.Response(200, headers={"set-cookie": "lb=7; Path=/"}, json={})
        return httpx.Response(200, json={"cookie": request.headers.get("cookie")})

    settings = Settings(data_dir=tmp_path, client_id="t", client_secret="t")
    async with SpotifyClient(settings, httpx.MockTransport(answer), token=lambda http: Token()) as client:
        assert isinstance(client._http.cookies, _AnswerCookies)
        assert (await client.get("/echo", template="GET /echo"))["cookie"] is None
        await client.get("/set", template="GET /set")
        assert (await client.get("/echo", {"again": 1}, template="GET /echo"))["cookie"] == "lb=7"


# ----- the way to the transport ------------------------------------------------------------------------------

class _Token:
    async def access_token(self) -> str:
        return "t"

    def invalidate(self) -> None:
        pass


async def test_a_closed_client_sends_nothing(tmp_path):
    from esh_tui.config import Settings
    from esh_tui.spotify.client import SpotifyClient

    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200, json={}))
    client = SpotifyClient(Settings(data_dir=tmp_path, client_id="t", client_secret="t"), transport,
                           token=lambda http: _Token())
    assert await client.get("/x", template="GET /x") == {}
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.get("/y", template="GET /y")
    assert len(sent) == 1


async def test_api_requests_carry_the_clients_headers_and_timeouts(tmp_path):
    from esh_tui.config import Settings
    from esh_tui.spotify.client import SpotifyClient

    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200, json={}))
    settings = Settings(data_dir=tmp_path, client_id="t", client_secret="t")
    async with SpotifyClient(settings, transport, token=lambda http: _Token(), timeout=7.0) as client:
        await client.get("/x", {"q": "a b"}, template="GET /x")
        expected = client._http.build_request("GET", f"{settings.api_url}/x", params={"q": "a b"},
                                              headers={"authorization": "Bearer t"})
    (request,) = sent
    assert request.url == expected.url
    assert sorted(request.headers.multi_items()) == sorted(expected.headers.multi_items())
    assert request.extensions["timeout"] == {"connect": 7.0, "read": 7.0, "write": 7.0, "pool": 7.0}
