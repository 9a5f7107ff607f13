"""`esh-tui watch`: a headless loop that checks each artist when it becomes due, delivers, and sleeps.

Each turn: when the store says artists are due (each artist's next_due, set by how actively it releases) and
today's budget has room for the first of them, one run over the tracked artists (the fresh ones answer from
the store at no cost, so the run reports, notifies and writes the feeds for every release in the window);
then one line, and sleep until the next artist is due: at least MIN_SLEEP (artists that failed stay due: they
are retried then, not in a tight loop), at most `max_sleep` (a re-check at least hourly by default). Past the
budget it sleeps until midnight, hour by hour. The clock and the sleep are injected, so tests run days of it
in no time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from esh_tui.delivery.run import Delivered, deliver
from esh_tui.delivery.targets import Delivery
from esh_tui.logs import logger
from esh_tui.spotify.errors import SpotifyError, human_seconds
from esh_tui.storage.errors import StoreError
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import RunResult, Tracker

MIN_SLEEP = 300.0  # seconds between runs at least
MAX_SLEEP = 3600.0  # seconds: how long the loop sleeps at most before it looks again

log = logger("esh_tui.watch")


@dataclass
class Turn:
    """What one turn of the loop did: its run (None: nothing was due, or nothing fits today) and the sleep after."""

    result: RunResult | None
    delivered: Delivered | None
    sleep: float
    line: str


class Watcher:
    def __init__(self, tracker: Tracker, store: Store, delivery: Delivery, cutoff: Callable[[], dt.date], *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 say: Callable[[str], None] = print, warn: Callable[[str], None] | None = None,
                 max_sleep: float = MAX_SLEEP):
        self.tracker, self.store, self.delivery, self.cutoff = tracker, store, delivery, cutoff
        self.clock, self.sleep, self.say = clock, sleep, say
        self.warn = warn or say  # what delivery could not do (a notification that failed), one line each
        self.max_sleep = max(MIN_SLEEP, max_sleep)
        self.runs = 0
        self._spent_day: str | None = None  # the day a run stopped at the budget: no more runs until the next

    async def forever(self, turns: int | None = None) -> None:
        """Turn after turn (`turns`: that many, for tests), until cancelled (SIGTERM, Ctrl-C)."""
        done = 0
        while turns is None or done < turns:
            turn = await self.turn()
            done += 1
            if turns is None or done < turns:
                await self.sleep(turn.sleep)

    async def turn(self) -> Turn:
        cutoff, budget = self.cutoff(), self.tracker.budget
        if budget is not None and self._spent_day == budget.today():  # said once already, when it stopped
            return Turn(None, None, min(budget.seconds_to_midnight() + 1, self.max_sleep), "")
        now, later = self.tracker.plan(cutoff).split()
        if not now:
            if later and budget is not None:  # nothing due fits what is left of today's budget
                self._spent_day = budget.today()
                wait = min(budget.seconds_to_midnight() + 1, self.max_sleep)
                return self._said(Turn(None, None, wait, f"{len(later)} artists due, today's API budget is spent; "
                                                         f"looking again in {human_seconds(wait)}"))
            return Turn(None, None, self._until_due(), "")
        try:
            result = await self.tracker.run(cutoff)
        except (StoreError, SpotifyError) as exc:  # the store busy too long, Spotify refusing the app: not the end
            return self._said(Turn(None, None, MIN_SLEEP, f"the run failed: {exc}; trying again in "
                                                          f"{human_seconds(MIN_SLEEP)}"))
        self.runs += 1
        delivered = await deliver(self.store, result.releases, self.delivery, self.warn)
        wait = self._until_due()
        if result.status in ("quota", "rate_limited") and result.retry_after:
            wait = min(max(wait, result.retry_after), self.max_sleep)
        elif result.status == "budget" and budget is not None:  # the rest waits for tomorrow's budget
            self._spent_day = budget.today()
            wait = min(max(wait, budget.seconds_to_midnight() + 1), self.max_sleep)
        parts = [f"run {result.run_id} {result.status}", f"{result.artists_fetched} artists checked",
                 f"{result.api_calls} API calls", f"{len(result.releases)} releases ({len(result.new_keys)} new)"]
        if result.failed:
            parts.append(f"{len(result.failed)} artists failed (retried next run)")
        if delivered.describe():
            parts.append(delivered.describe())
        parts.append(f"next check in {human_seconds(wait)}")
        return self._said(Turn(result, delivered, wait, " · ".join(parts)))

    def _said(self, turn: Turn) -> Turn:
        stamp = dt.datetime.fromtimestamp(self.clock()).isoformat(sep=" ", timespec="seconds")
        self.say(f"{stamp} esh-tui watch: {turn.line}")
        log.info("watch: %s", turn.line)
        return turn

    def _until_due(self) -> float:
        """Seconds until the next tracked artist is due, within MIN_SLEEP and max_sleep."""
        now = self.clock()
        dues = [a.next_due if a.next_due is not None else now for a in self.store.artists()]
        wait = min(dues, default=now + self.max_sleep) - now
        return min(max(wait, MIN_SLEEP), self.max_sleep)
