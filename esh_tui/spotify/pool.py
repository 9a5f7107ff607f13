"""httpx's transport with a cheaper connection pool: the same connections, chosen without rescanning them all.

httpcore's pool reassigns requests to connections on every request and every response closed, and each time
it asks every connection whether it has expired; for an idle HTTP/1.1 connection that means polling its socket
through anyio's attribute machinery (about 35 µs). It also hands an idle connection to every request that
arrives before the first one has started on it: all but one find it busy and go round again (7,688 times in a
cold run of 3,222 calls). Together that was about half the CPU of a run.

`PooledTransport` keeps httpx's transport and httpcore's pool and changes only how a request gets its
connection: an idle connection already handed to a request that has not started on it is not handed out again,
and a connection's expiry (keep-alive time, the server having closed it) is checked when it is about to be
used, and for all of them once a second, instead of on every event. Which connections exist, how many, and how
they are opened, reused and closed is unchanged.
"""

from __future__ import annotations

import time
from typing import Any

import httpcore
import httpx

from esh_tui.spotify.streams import AsyncioBackend

SWEEP_EVERY = 1.0  # seconds between checks of every connection's expiry (a checked-out one is checked each time)


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's pool with `_assign_requests_to_connections` made proportional to what changed."""

    _swept_at = 0.0

    def _assign_requests_to_connections(self) -> list[Any]:
        closing: list[Any] = []
        connections = self._connections
        now = time.monotonic()
        sweep = now - self._swept_at >= SWEEP_EVERY
        if sweep:
            self._swept_at = now
        for connection in list(connections):
            if connection.is_closed():
                connections.remove(connection)
            elif sweep and connection.has_expired():
                connections.remove(connection)
                closing.append(connection)
            elif connection.is_idle() and len(connections) > self._max_keepalive_connections:
                connections.remove(connection)  # (as httpcore: keep-alive off closes a connection once idle)
                closing.append(connection)

        queued = [r for r in self._requests if r.connection is None]
        if not queued:  # (a response closed with nobody waiting: the usual case, the bound being the pool's size)
            return closing
        # Idle connections already given to a request that has not started on them yet: not given out again.
        reserved = {id(r.connection) for r in self._requests if r.connection is not None}
        for pool_request in queued:
            origin = pool_request.request.url.origin
            chosen = None
            for connection in list(connections):
                if not (connection.can_handle_request(origin) and connection.is_available()):
                    continue
                if connection.is_idle() and id(connection) in reserved and not _multiplexed(connection):
                    continue
                if connection.has_expired():  # checked at checkout: the server may have closed it since
                    connections.remove(connection)
                    closing.append(connection)
                    continue
                chosen = connection
                break
            if chosen is None:
                if len(connections) >= self._max_connections:
                    idle = next((c for c in connections if c.is_idle() and id(c) not in reserved), None)
                    if idle is None:
                        continue  # every connection is busy: the request waits for the next event
                    connections.remove(idle)  # (as httpcore: an idle connection to another origin makes room)
                    closing.append(idle)
                chosen = self.create_connection(origin)
                connections.append(chosen)
            pool_request.assign_to_connection(chosen)
            reserved.add(id(chosen))
        return closing

    async def _close_connections(self, closing: list[Any]) -> None:
        if closing:  # (httpcore enters a cancellation shield twice a request to close nothing)
            await super()._close_connections(closing)


def _multiplexed(connection: Any) -> bool:
    """An HTTP/2 connection takes many requests at once; an HTTP/1.1 one, one at a time."""
    return "HTTP/2" in connection.info()


class PooledTransport(httpx.AsyncHTTPTransport):
    """`httpx.AsyncHTTPTransport` (same arguments) whose pool picks connections with `_Pool`'s policy and
    opens them with `AsyncioBackend` (streams.py) instead of anyio's.

    Behind a proxy (from the arguments) httpx's own pool is kept as it is."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        pool = self._pool
        if type(pool) is httpcore.AsyncConnectionPool and hasattr(pool, "_network_backend"):
            pool.__class__ = _Pool
            pool._network_backend = AsyncioBackend()
