"""Adaptive concurrency: how many requests may be in flight, shrinking on 429 and growing back on success."""

from __future__ import annotations

import asyncio
from collections import deque


class AdaptiveLimit:
    """An async semaphore whose size follows the API's mood (additive increase, multiplicative decrease).

    On a 429 the bound halves (never below `minimum`); after `bound` successes
    in a row it grows by one (never above `maximum`). So a big run settles just
    under the rate limit instead of stampeding it.

    Waiters queue in order and a freed slot wakes exactly one of them (handed over, counted in `in_flight`
    before it runs): with hundreds of requests waiting, waking them all to re-check the bound on every
    release cost more CPU than the requests themselves.
    """

    def __init__(self, initial: int = 8, minimum: int = 1, maximum: int = 32):
        if not 1 <= minimum <= initial <= maximum:
            raise ValueError("need 1 <= minimum <= initial <= maximum")
        self.bound, self.minimum, self.maximum = initial, minimum, maximum
        self.in_flight = 0
        self.peak_in_flight = 0
        self._successes = 0
        self._waiters: deque[asyncio.Future] = deque()

    async def __aenter__(self) -> "AdaptiveLimit":
        if self.in_flight < self.bound and not self._waiters:
            self._take()
            return self
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # the slot was handed over as it was cancelled: pass it on
                self._release()
            elif waiter in self._waiters:  # (`_wake` may have dropped it already)
                self._waiters.remove(waiter)
            raise
        return self  # the slot was taken for it by `_wake`

    async def __aexit__(self, *exc) -> None:
        self._release()

    def _take(self) -> None:
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight

    def _release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        """Hand free slots to the longest waiting, one slot each."""
        waiters = self._waiters
        while waiters and self.in_flight < self.bound:
            waiter = waiters.popleft()
            if not waiter.done():
                self._take()
                waiter.set_result(None)

    def on_success(self) -> None:
        self._successes += 1
        if self._successes >= self.bound and self.bound < self.maximum:
            self.bound += 1
            self._successes = 0
            self._wake()

    def on_rate_limited(self) -> None:
        self.bound = max(self.minimum, self.bound // 2)
        self._successes = 0
