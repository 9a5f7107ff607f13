"""Lookups go memory → store → API, and each tier counts its hits, misses and latency.

Two things are cached. An artist's scan (the candidate tracks on its own
albums, as far back as its listing is known complete) stays fresh until the
artist is due again, and answers any window it reaches; an empty scan is an
answer, not a miss. An ISRC's earliest release is kept forever.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from esh_tui.models import Album, Candidate, Earliest, Release, ScanFindings
from esh_tui.storage.memory import MemoryTier, TierStats
from esh_tui.storage.store import Store
from esh_tui.storage.ttl import HOUR, TtlPolicy


@dataclass(frozen=True)
class ArtistScan:
    artist_id: str
    cutoff: dt.date  # the scan covers every release on or after this date (the listing is complete back to it)
    candidates: tuple[Candidate, ...]
    next_due: float

    def since(self, cutoff: dt.date) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.release_date >= cutoff)


class ReleaseCache:
    def __init__(self, store: Store, policy: TtlPolicy | None = None, memory_size: int = 200_000,
                 clock: Callable[[], float] = time.time):
        self.store, self.policy, self.clock = store, policy or TtlPolicy(), clock
        self.memory = MemoryTier(memory_size, clock)
        self.store_stats = TierStats()

    @property
    def stats(self) -> dict[str, TierStats]:
        return {"memory": self.memory.stats, "store": self.store_stats}

    # ----- artist scans ---------------------------------------------------------------------------

    def artist_scan(self, artist_id: str, cutoff: dt.date) -> ArtistScan | None:
        """A fresh scan covering `cutoff`, from memory or the store; None means ask the API."""
        now = self.clock()
        scan = self.memory.get(("artist", artist_id), usable=lambda s: s.cutoff <= cutoff)
        if scan is not None:
            return scan
        started = time.perf_counter_ns()
        row = self.store.artist(artist_id, include_removed=True)  # its knowledge counts, tracked or not
        fresh = (row is not None and row.next_due is not None and row.next_due > now
                 and row.listed_back_to is not None and row.listed_back_to <= cutoff.isoformat())
        if fresh:
            listed_back_to = dt.date.fromisoformat(row.listed_back_to)
            scan = ArtistScan(artist_id, listed_back_to, tuple(self.store.cached_candidates(artist_id, listed_back_to)),
                              row.next_due)
            self.memory.put(("artist", artist_id), scan, row.next_due)
        self.store_stats.observe(fresh, started)
        return scan

    def save_artist_scan(self, found: ScanFindings, today: dt.date) -> ArtistScan:
        """Add what a scan learned to what is known, in one transaction; the artist's candidates back to
        `found.listed_back_to` stay fresh for its activity-based TTL."""
        now, artist_id, listed_back_to = self.clock(), found.artist_id, found.listed_back_to
        release_dates = self.store.album_dates(artist_id) + [a.release_date for a in found.albums]
        profile = self.policy.profile(release_dates, today)
        next_due = now + float(profile["interval_hours"]) * HOUR
        self.store.save_scan(found, now, next_due, profile)
        scan = ArtistScan(artist_id, listed_back_to, tuple(self.store.cached_candidates(artist_id, listed_back_to)),
                          next_due)
        self.memory.put(("artist", artist_id), scan, next_due)
        return scan

    def save_partial_scan(self, found: ScanFindings, listed: Sequence[Album], track_lists: dict[str, list[Any]]) -> None:
        """Keep what a scan stopped part way had finished or read; the artist stays as due as it was (no answer
        cached)."""
        self.store.save_partial_scan(found, listed, self.clock(), track_lists)

    def forget_artist(self, artist_id: str) -> None:
        self.memory.drop(("artist", artist_id))

    # ----- ISRC earliest releases (forever) -------------------------------------------------------

    def earliest(self, isrc: str, cutoff: dt.date) -> Release | None:
        """The earliest release of an ISRC if it is known well enough for this cutoff."""
        def usable(entry: Earliest) -> bool:
            return entry.exact or entry.release.release_date < cutoff

        entry = self.memory.get(("isrc", isrc), usable=usable)
        if entry is None:
            started = time.perf_counter_ns()
            entry = self.store.earliest(isrc)
            hit = entry is not None and usable(entry)
            self.store_stats.observe(hit, started)
            if not hit:
                return None
            self.memory.put(("isrc", isrc), entry, math.inf)
        return entry.release

    def save_earliest(self, found: Sequence[Earliest]) -> None:
        if not found:
            return
        self.store.save_earliest(found, self.clock())
        self.remember_earliest(found)

    def remember_earliest(self, found: Iterable[Earliest]) -> None:
        """In the memory tier only: the caller writes them to the store (a run does, with the rest it learned)."""
        for entry in found:
            self.memory.put(("isrc", entry.release.isrc), entry, math.inf)
