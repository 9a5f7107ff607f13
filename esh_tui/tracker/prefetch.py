"""Prefetching: while nothing else runs, refresh the artists that will be due soonest.

Most active first (they change most often), within an API budget per minute and the daily budget,
so the next interactive refresh finds everything fresh and costs nothing. A
user-driven run cancels prefetching at once: each artist is written in one
transaction between awaits, so a cancel never leaves half an artist.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable

from esh_tui.spotify.errors import QuotaExceededError, RateLimitedError, SpotifyError
from esh_tui.tracker.engine import Tracker

WINDOW_SECONDS = 60.0


class Prefetcher:
    def __init__(self, tracker: Tracker, cutoff: Callable[[], dt.date], budget_per_minute: int = 30,
                 horizon_hours: float = 6.0, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.tracker, self.cutoff = tracker, cutoff
        self.budget, self.horizon = budget_per_minute, horizon_hours * 3600
        self.clock, self._sleep = clock, sleep
        self._window_start = clock()
        self._used = 0
        self.refreshed = 0
        self.busy = False  # refreshing an artist right now (the dashboard says "prefetching")
        self.calls = 0

    def next_up(self) -> list[str]:
        """Artists not due yet but due within the horizon, most active first, then soonest due."""
        now = self.clock()
        return self.tracker.store.soon_due_artist_ids(now, now + self.horizon)

    async def run_once(self) -> int:
        """Refresh what fits in this minute's budget; returns how many artists were refreshed."""
        done = 0
        self.busy = True
        try:
            for artist_id in self.next_up():
                if self.clock() - self._window_start >= WINDOW_SECONDS:
                    self._window_start, self._used = self.clock(), 0
                if self._used >= self.budget:
                    break  # no new artist once the minute's budget is spent
                if not await self._within_daily_budget(artist_id):
                    break  # today's budget: what is left is for the runs, or for tomorrow
                before = self.tracker.client.log.calls
                try:
                    await self.tracker.prefetch(artist_id, self.cutoff())
                except (QuotaExceededError, RateLimitedError):
                    raise
                except SpotifyError:
                    pass  # it stays due; the next run reports it
                finally:
                    if self.tracker.budget is not None:
                        self.tracker.budget.release(artist_id)
                        self.tracker.budget.flush()
                spent = self.tracker.client.log.calls - before
                self._used += spent
                self.calls += spent
                done += 1
        finally:
            self.busy = False  # also when a user's run cancels it: the status must not say "prefetching"
            self.refreshed += done
        return done

    async def _within_daily_budget(self, artist_id: str) -> bool:
        """The daily budget (shared with the runs) admits this artist's estimated refresh."""
        budget = self.tracker.budget
        if budget is None or budget.limit is None:
            return True
        return await budget.admit(artist_id, self.tracker.plan(self.cutoff(), [artist_id], force=True).total)

    async def run_forever(self, idle_seconds: float = 30.0) -> None:
        """Keep prefetching until cancelled, pausing while the budget or the queue is empty."""
        while True:
            try:
                await self.run_once()
            except (QuotaExceededError, RateLimitedError) as exc:
                await self._sleep(max(idle_seconds, exc.retry_after or 0))
                continue
            wait = WINDOW_SECONDS - (self.clock() - self._window_start) if self._used >= self.budget else idle_seconds
            await self._sleep(max(1.0, wait))
