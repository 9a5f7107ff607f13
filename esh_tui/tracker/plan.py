"""Planning within the daily API budget: what a run would cost, which artists fit today, the rest tomorrow.

Development-mode apps have a daily quota per developer account, and a large library's cold start may not
fit in one day. Every run and every prefetch of a store draws from one daily budget (`--budget N`, else
`[network] daily_budget`): the calls sent are counted per local calendar day (the machine's midnight) in the
store, so a cron run and the dashboard share it. Before a run its cost is estimated from what the store
knows (artists never listed, their listing pages, albums, tracks and ISRCs, by the averages of the artists
it knows; ISRCs whose earliest release is not known yet); within the budget the most active artists come
first, then those unchecked longest, and an artist starts only when its estimate fits what is left. The
rest stay due. A request that would go over the budget is refused before it is sent (`BudgetSpentError`),
the safety net when an artist costs more than its estimate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from esh_tui.spotify.errors import QuotaExceededError, human_seconds
from esh_tui.storage.store import Store

UNKNOWN_INTERVAL_HOURS = 24.0  # a scanned artist without an interval ranks with the "active" ones (ttl.py)
LISTING_PAGES = {"development": 2.0, "extended": 1.2}  # a first listing: the combined page, then unsettled groups
TYPICAL_PER_90_DAYS = (1.0, 4.0, 3.8)  # albums, candidate tracks, ISRCs of an artist, until the store knows better
MIN_KNOWN_ARTISTS = 10  # averages from the store once it has listed this many artists back to the cutoff
RESERVE = 3.0  # an artist starts when three times its estimate fits: costs vary, and one cut short loses its work
FLUSH_EVERY = 50  # calls counted in memory before they are added to the store's day


class BudgetSpentError(QuotaExceededError):
    """esh-tui's own daily budget (not Spotify's quota) is used up: stop, keep what was learned, come back tomorrow."""


@dataclass(frozen=True)
class ArtistCost:
    artist_id: str
    calls: float  # estimated API calls of this artist in the run (0: fresh, answered by the store)


@dataclass(frozen=True)
class Plan:
    """A run's estimated cost, its artists in the order they are taken, and the budget they meet."""

    costs: tuple[ArtistCost, ...]
    limit: int | None = None  # the daily budget (None: no budget)
    used: int = 0  # calls spent today, by every run and prefetch of the store

    @property
    def total(self) -> int:
        return math.ceil(sum(c.calls for c in self.costs))

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def due(self) -> list[ArtistCost]:
        """The artists that cost something."""
        return [c for c in self.costs if c.calls > 0]

    def split(self) -> tuple[list[ArtistCost], list[ArtistCost]]:
        """(the costing artists that fit in what is left today, in order until one does not, the rest)."""
        if self.left is None:
            return self.due, []
        room, now, later = float(self.left), [], []
        for cost in self.due:
            if later or cost.calls > room:
                later.append(cost)  # the order is the priority: nothing after one that waits jumps ahead of it
            else:
                room -= cost.calls
                now.append(cost)
        return now, later

    def describe(self) -> str:
        """'about 4,200 calls; your budget left today is 2,000: the 180 most active artists now, the rest
        (320) tomorrow' (one line)."""
        artists = len(self.due)
        cost = f"about {self.total:,} API calls for {artists} artist{'s' if artists != 1 else ''}"
        if self.left is None:
            return cost
        now, later = self.split()
        text = f"{cost}; your budget left today is {self.left:,} of {self.limit:,}"
        if not later:
            return text
        if not now:
            return f"{text}: all of them tomorrow"
        return f"{text}: the {len(now)} most active artists now, the rest ({len(later)}) tomorrow"


def plan_run(store: Store, cutoff: dt.date, artist_ids: Iterable[str] | None = None, *, force: bool = False,
             mode: str = "unknown", now: float | None = None, today: dt.date | None = None,
             budget: "DailyBudget | None" = None) -> Plan:
    """The estimated cost of a run over these artists (default: all tracked), most active first, then longest
    unchecked; `mode` "unknown" is costed as development mode (the dearer one). Artists named that are not
    tracked (`track --artist ID`) are costed from what the store kept about them, if anything."""
    now = time.time() if now is None else now
    rows = {a.id: a for a in store.artists(include_removed=artist_ids is not None)}
    ids = list(dict.fromkeys(artist_ids if artist_ids is not None else rows))
    window_days = max(1, ((today or dt.date.today()) - cutoff).days)
    cold, per_album, unresolved = _cost_model(store, cutoff, window_days, mode)
    since = cutoff.isoformat()
    costs = []
    for artist_id in ids:
        row = rows.get(artist_id)
        if row is None or row.listed_back_to is None or row.listed_back_to > since:
            calls = cold  # never listed back to this cutoff: a first listing
        elif force or row.next_due is None or row.next_due <= now:  # due: a listing page, and what is new since
            years = max(0.0, now - (row.last_checked or now)) / (365 * 86400)
            calls = 1 + (row.releases_per_year or 0.0) * years * per_album
        else:
            calls = 0.0  # fresh: the store answers
        costs.append(ArtistCost(artist_id, calls + unresolved.get(artist_id, 0)))

    def priority(cost: ArtistCost) -> tuple[bool, float, float]:
        """Never listed first (none of their releases is known), then most active, then longest unchecked."""
        row = rows.get(cost.artist_id)
        if row is None or row.listed_back_to is None:
            return (False, 0.0, 0.0)
        return (True, row.interval_hours or UNKNOWN_INTERVAL_HOURS, row.last_checked or 0.0)

    costs.sort(key=priority)
    if budget is None or budget.limit is None:
        return Plan(tuple(costs))
    return Plan(tuple(costs), budget.limit, budget.used)


def _cost_model(store: Store, cutoff: dt.date, window_days: int, mode: str) -> tuple[float, float, dict[str, int]]:
    """(calls of a first listing and reading, calls per new album, unresolved ISRCs per artist)."""
    listed, albums, tracks, isrcs, unresolved = store.window_knowledge(cutoff)
    if listed >= MIN_KNOWN_ARTISTS:
        per_artist = (albums / listed, tracks / listed, isrcs / listed)
    else:
        per_artist = tuple(n * window_days / 90 for n in TYPICAL_PER_90_DAYS)
    extended = mode == "extended"
    album_call, track_call = (1 / 20, 1 / 50) if extended else (1.0, 1.0)
    n_albums, n_tracks, n_isrcs = per_artist
    reading = n_albums * album_call + n_tracks * track_call + n_isrcs
    cold = LISTING_PAGES["extended" if extended else "development"] + reading
    per_album = reading / n_albums if n_albums else album_call + 4 * track_call + 4
    return cold, per_album, unresolved


class DailyBudget:
    """The calls one local day allows, shared by every run and prefetch of a store.

    Calls are counted as they are sent (a listener on the client's call log) and added to the store's day
    every FLUSH_EVERY calls and whenever the tracker writes; `check` (called before each request is sent)
    refuses a request once the day's budget is spent. `admit` reserves an artist's estimate before it
    starts, so artists running at the same time never promise more than is left.
    """

    def __init__(self, store: Store, limit: int | None, clock: Callable[[], float] = time.time):
        self.store, self.limit, self.clock = store, limit or None, clock
        self._day = self.today()
        self._stored = store.budget_used(self._day)
        self._unsaved = 0
        self._reserved: dict[str, float] = {}  # admitted and not finished: key -> estimated calls
        self._released: asyncio.Event | None = None  # set when one finishes, for those waiting to be admitted

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock()).date().isoformat()

    def _roll(self) -> None:
        day = self.today()
        if day != self._day:
            self.flush()
            self._day, self._stored = day, self.store.budget_used(day)

    @property
    def used(self) -> int:
        self._roll()
        return self._stored + self._unsaved

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    def attach(self, client: Any) -> None:
        """Count the client's calls and refuse its requests past the budget."""
        client.log.listeners.append(self.count)
        client.before_send.append(self.check)

    def count(self, _record: object = None) -> None:
        self._roll()
        self._unsaved += 1

    def flush(self, force: bool = True) -> None:
        """Add the calls counted to the store's day (`force=False`: only once FLUSH_EVERY are waiting)."""
        if self._unsaved and (force or self._unsaved >= FLUSH_EVERY):
            unsaved, self._unsaved = self._unsaved, 0
            self._stored = self.store.spend_budget(self._day, unsaved)

    def check(self) -> None:
        if self.limit is not None and self.used >= self.limit:
            seconds = self.seconds_to_midnight()
            raise BudgetSpentError(f"the daily budget of {self.limit:,} API calls is used up; what was fetched is "
                                   f"kept — run again after midnight (in {human_seconds(seconds)})", seconds)

    def seconds_to_midnight(self) -> float:
        now = dt.datetime.fromtimestamp(self.clock())
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time())
        return (midnight - now).total_seconds()

    async def admit(self, key: str, calls: float, spent: Callable[[str], int] = lambda key: 0) -> bool:
        """Reserve `calls` for `key` when RESERVE times them fits beside what is used and what the artists
        admitted before may still spend (`spent(key)`: what one has spent so far), waiting for those to finish
        if need be. False: it does not fit today. A costless one always fits."""
        if self.limit is None:
            return True
        while calls > 0:
            outstanding = sum(max(0.0, RESERVE * est - spent(k)) for k, est in self._reserved.items())
            if self.used + outstanding + RESERVE * calls <= self.limit:
                break
            if outstanding <= 0:
                return False  # nothing admitted may still free room by finishing under its reservation
            if self._released is None:
                self._released = asyncio.Event()
            await self._released.wait()  # an admitted artist finished: look again
        self._reserved[key] = calls
        return True

    def release(self, key: str) -> None:
        self._reserved.pop(key, None)
        if self._released is not None:
            self._released.set()
            self._released = None
