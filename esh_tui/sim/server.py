"""The loopback way into the simulator: a real HTTP/1.1 server on 127.0.0.1, for benchmarks
where TCP connections matter. It counts the connections it accepts.

Control endpoints, not counted as API calls: `GET /_sim/stats` and
`POST /_sim/advance?days=N` (moves the catalog clock).
"""

from __future__ import annotations

import asyncio
import json
import threading
from urllib.parse import parse_qs, urlsplit

import h11

from esh_tui.sim.api import SimSpotify
from esh_tui.sim.messages import SimReply

MAX_BODY = 1 << 20


class SimServer:
    def __init__(self, sim: SimSpotify, host: str = "127.0.0.1", port: int = 0):
        if host not in ("127.0.0.1", "::1"):
            raise ValueError("the simulator only listens on loopback (127.0.0.1 or ::1)")
        self.sim, self.host, self.port = sim, host, port
        self.connections_accepted = 0
        self._server: asyncio.AbstractServer | None = None
        self._handlers: set[asyncio.Task] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1"

    async def start(self) -> "SimServer":
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()

    async def __aenter__(self) -> "SimServer":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ----- running in a thread of its own, for callers with their own loop to keep free ----------

    def start_in_thread(self) -> "SimServer":
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.close())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="esh-sim-server", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    # ----- one connection ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_accepted += 1
        task = asyncio.current_task()
        self._handlers.add(task)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request, body = await _read_request(conn, reader)
                if request is None:
                    return
                reply = self._answer(request, body)
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                if reply.fault == "drop":
                    return
                headers = [(k, v) for k, v in reply.headers.items()] + [("content-length", str(len(reply.body)))]
                writer.write(conn.send(h11.Response(status_code=reply.status, headers=headers)))
                writer.write(conn.send(h11.Data(data=reply.body)) if reply.body else b"")
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (h11.RemoteProtocolError, ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._handlers.discard(task)
            writer.close()

    def _answer(self, request: h11.Request, body: bytes) -> SimReply:
        target = request.target.decode("latin-1")
        host = dict((k.decode().lower(), v.decode("latin-1")) for k, v in request.headers).get("host", self.url[7:])
        if target.startswith("/_sim/"):
            return self._control(request.method.decode(), target)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        return self.sim.handle(request.method.decode(), f"http://{host}{target}", headers, body)

    def _control(self, method: str, target: str) -> SimReply:
        parts = urlsplit(target)
        if method == "POST" and parts.path == "/_sim/advance":
            days = parse_qs(parts.query).get("days", ["7"])[-1]
            if not days.isdigit():
                return SimReply(400, b'{"error": "days must be a whole number"}')
            self.sim.catalog.advance(int(days))
        elif not (method == "GET" and parts.path == "/_sim/stats"):
            return SimReply(404, b'{"error": "unknown control endpoint"}')
        return SimReply(200, json.dumps(self.stats()).encode(), {"content-type": "application/json"})

    def stats(self) -> dict:
        by_template: dict[str, dict[str, int]] = {}
        for (template, status), n in sorted(self.sim.counts.items(), key=str):
            by_template.setdefault(template, {})[str(status)] = n
        return {"today": self.sim.catalog.today.isoformat(), "mode": self.sim.config.mode,
                "connections_accepted": self.connections_accepted, "requests": by_template,
                "faults_injected": dict(self.sim.faults_injected)}


async def _read_request(conn: h11.Connection, reader: asyncio.StreamReader) -> tuple[h11.Request | None, bytes]:
    request, chunks = None, []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            conn.receive_data(data)
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            chunks.append(event.data)
            if sum(map(len, chunks)) > MAX_BODY:
                return None, b""
        elif isinstance(event, h11.EndOfMessage):
            return request, b"".join(chunks)
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None, b""
