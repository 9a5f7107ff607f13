"""The in-process way into the simulator: an httpx transport, for tests and the offline default."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from esh_tui.sim.api import SimSpotify
from esh_tui.sim.messages import SimReply


class SimTransport(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """Answers httpx requests from a `SimSpotify`, with its latency and faults.

    A "timeout" fault waits out the request's read timeout and raises
    `httpx.ReadTimeout`, as a slow server would; a "drop" fault raises
    `httpx.RemoteProtocolError`, as a closed connection would.
    """

    def __init__(self, sim: SimSpotify, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.sim = sim
        self._sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        reply = self.sim.handle(request.method, str(request.url), request.headers, body)
        wait, error = _plan(reply, request)
        if wait:
            await self._sleep(wait)
        if error:
            raise error
        return _response(reply, request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        reply = self.sim.handle(request.method, str(request.url), request.headers, body)
        wait, error = _plan(reply, request)
        if wait:
            time.sleep(wait)
        if error:
            raise error
        return _response(reply, request)


def _plan(reply: SimReply, request: httpx.Request) -> tuple[float, Exception | None]:
    if reply.fault == "timeout":
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        if read_timeout is not None and read_timeout <= reply.delay:
            return read_timeout, httpx.ReadTimeout("timed out waiting for the simulator", request=request)
    if reply.fault == "drop":
        return reply.delay, httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    return reply.delay, None


def _response(reply: SimReply, request: httpx.Request) -> httpx.Response:
    return httpx.Response(reply.status, headers=reply.headers, content=reply.body, request=request)
