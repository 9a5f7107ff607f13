"""Single-flight: concurrent identical requests share one trip to the server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class SingleFlight:
    """While a call for `key` is in flight, later callers await its result instead of calling again."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Future] = {}
        self.saved = 0  # calls that did not have to be made

    async def run(self, key: Hashable, call: Callable[[], Awaitable[Any]]) -> Any:
        flight = self._flights.get(key)
        if flight is not None:
            self.saved += 1
            return await asyncio.shield(flight)
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            result = await call()
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # mark retrieved: no "never retrieved" warning when nobody else waited
            raise
        else:
            flight.set_result(result)
            return result
        finally:
            del self._flights[key]
