"""httpcore's network streams on plain asyncio (esh_tui/spotify/streams.py), through the client's transport and
real sockets: timeouts, hang-ups, large bodies both ways, keep-alive, TLS."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess

import httpx
import pytest

from esh_tui.spotify.pool import PooledTransport
from esh_tui.spotify.streams import AsyncioStream


def _transport(**kwargs) -> PooledTransport:
    transport = PooledTransport(limits=httpx.Limits(max_connections=4, max_keepalive_connections=4), **kwargs)
    assert type(transport._pool._network_backend).__name__ == "AsyncioBackend"
    return transport


class Server:
    """A loopback HTTP/1.1 server whose answer to each request is decided by `handler(head, body)`: the bytes to
    send back (and keep the connection), `(bytes, "hang up")` to send them and close, or None to close at once."""

    def __init__(self, handler, ssl_context: ssl.SSLContext | None = None):
        self.handler, self.ssl_context = handler, ssl_context
        self.accepted = 0

    async def __aenter__(self) -> "Server":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                answer = await self.handler(head, body)
                if answer is None:
                    return
                writer.write(answer if isinstance(answer, bytes) else answer[0])
                await writer.drain()
                if not isinstance(answer, bytes):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


def ok(body: bytes = b"{}") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)


async def test_requests_reuse_their_connections():
    async def answer(head, body):
        return ok(b'{"n": 1}')

    async with Server(answer) as server:
        async with httpx.AsyncClient(transport=_transport()) as http:
            for i in range(20):
                response = await http.get(f"{server.url}/x", params={"i": i})
                assert response.json() == {"n": 1}
                assert isinstance(response.extensions["network_stream"], AsyncioStream)
    assert server.accepted == 1


async def test_an_answer_too_slow_is_a_read_timeout_and_the_connection_is_not_reused():
    slow = asyncio.Event()

    async def answer(head, body):
        if b"slow" in head:
            await slow.wait()
        return ok()

    async with Server(answer) as server:
        async with httpx.AsyncClient(transport=_transport(), timeout=0.2) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(f"{server.url}/slow")
            slow.set()
            assert (await http.get(f"{server.url}/fast")).status_code == 200
    assert server.accepted == 2


async def test_a_server_that_hangs_up_mid_request_is_a_remote_protocol_error():
    async def answer(head, body):
        return None

    async with Server(answer) as server:
        async with httpx.AsyncClient(transport=_transport()) as http:
            with pytest.raises(httpx.RemoteProtocolError):
                await http.get(f"{server.url}/x")


async def test_a_half_written_answer_then_a_hang_up_is_an_error_not_a_short_body():
    async def answer(head, body):
        return b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"partial\"", "hang up"

    async with Server(answer) as server:
        async with httpx.AsyncClient(transport=_transport()) as http:
            with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
                await http.get(f"{server.url}/x")


async def test_nobody_listening_is_a_connect_error():
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    async with httpx.AsyncClient(transport=_transport()) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/x")


async def test_large_bodies_both_ways_arrive_whole():
    big = bytes(range(256)) * 8192  # 2 MiB, past the read buffer's high water mark and the socket's buffers

    async def answer(head, body):
        if b"POST" in head:
            return ok(b'{"got": %d}' % len(body))
        return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(big) + big

    async with Server(answer) as server:
        async with httpx.AsyncClient(transport=_transport()) as http:
            assert (await http.get(f"{server.url}/big")).content == big
            assert (await http.post(f"{server.url}/up", content=big)).json() == {"got": len(big)}
            assert (await http.get(f"{server.url}/big")).content == big
    assert server.accepted == 1


async def test_a_request_cancelled_while_it_waits_leaves_the_pool_usable():
    hold = asyncio.Event()

    async def answer(head, body):
        if b"hold" in head:
            await hold.wait()
        return ok()

    async with Server(answer) as server:
        async with httpx.AsyncClient(transport=_transport()) as http:
            waiting = asyncio.create_task(http.get(f"{server.url}/hold"))
            await asyncio.sleep(0.05)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            hold.set()
            results = await asyncio.gather(*(http.get(f"{server.url}/x", params={"i": i}) for i in range(8)))
            assert all(r.status_code == 200 for r in results)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command (skipped where there is none)."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


async def test_tls_with_alpn_and_a_verified_certificate(certificate):
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server_context.set_alpn_protocols(["http/1.1"])

    async def answer(head, body):
        return ok(b'{"secure": true}')

    async with Server(answer, server_context) as server:
        client_context = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(transport=_transport(verify=client_context, http2=True)) as http:
            for i in range(3):
                response = await http.get(f"{server.url}/x", params={"i": i})
                assert response.json() == {"secure": True} and response.http_version == "HTTP/1.1"
            stream = response.extensions["network_stream"]
            assert stream.get_extra_info("ssl_object").selected_alpn_protocol() == "http/1.1"
        async with httpx.AsyncClient(transport=_transport()) as http:  # the system's roots do not know it
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(f"{server.url}/x")
    assert server.accepted == 1  # (the refused handshake never reached the server's handler)


async def test_spotify_clients_share_one_tls_context_per_http_version_and_it_refuses_an_unknown_certificate(
        certificate, tmp_path):
    """Building a context costs 25 ms of CPU: each client used to build its own."""
    from esh_tui.config import Settings
    from esh_tui.spotify.client import SpotifyClient
    from esh_tui.spotify.tls import tls_context

    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    async def answer(head, body):
        return ok(b"{}")

    settings = Settings(data_dir=tmp_path, client_id="test", client_secret="test-secret")
    async with Server(answer, server_context) as server:
        for _ in range(2):
            async with SpotifyClient(settings) as client:
                assert client._http._transport._pool._ssl_context is tls_context(http2=True)
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await client._http.get(f"{server.url}/x")
    assert tls_context(http2=False) is not tls_context(http2=True), "ALPN is set per context: h2 offered or not"
