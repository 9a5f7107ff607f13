"""Adaptive concurrency: how many requests may be in flight, shrinking on 429 and growing back on success."""

from __future__ import annotations

import asyncio


class AdaptiveLimit:
    """An async semaphore whose size follows the API's mood (additive increase, multiplicative decrease).

    On a 429 the bound halves (never below `minimum`); after `bound` successes
    in a row it grows by one (never above `maximum`). So a big run settles just
    under the rate limit instead of stampeding it.
    """

    def __init__(self, initial: int = 8, minimum: int = 1, maximum: int = 32):
        if not 1 <= minimum <= initial <= maximum:
            raise ValueError("need 1 <= minimum <= initial <= maximum")
        self.bound, self.minimum, self.maximum = initial, minimum, maximum
        self.in_flight = 0
        self.peak_in_flight = 0
        self._successes = 0
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> "AdaptiveLimit":
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.bound)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        return self

    async def __aexit__(self, *exc) -> None:
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    def on_success(self) -> None:
        self._successes += 1
        if self._successes >= self.bound and self.bound < self.maximum:
            self.bound += 1
            self._successes = 0
            self._wake()

    def on_rate_limited(self) -> None:
        self.bound = max(self.minimum, self.bound // 2)
        self._successes = 0

    def _wake(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()
        try:
            asyncio.get_running_loop().create_task(notify())
        except RuntimeError:
            pass
