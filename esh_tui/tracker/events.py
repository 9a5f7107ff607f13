"""What a run tells its audience (the dashboard, the CLI), stamped with monotonic time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from esh_tui.logs import logger
from esh_tui.models import Release


@dataclass(frozen=True)
class RunStarted:
    run_id: int
    artists: int
    cutoff: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class ArtistStarted:
    artist_id: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class ReleaseFound:
    release: Release
    new: bool  # the user has not marked it seen yet
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class ArtistDone:
    artist_id: str
    source: str  # memory | store | api
    api_calls: int
    candidates: int
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class ArtistFailed:
    artist_id: str
    reason: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class RunFinished:
    run_id: int
    status: str  # ok | partial | quota | rate_limited | cancelled | interrupted | failed
    releases: int
    new_releases: int
    api_calls: int
    artists_fetched: int
    seconds: float
    message: str = ""
    at: float = field(default_factory=time.monotonic)


Event = RunStarted | ArtistStarted | ReleaseFound | ArtistDone | ArtistFailed | Progress | RunFinished


_STOPPED = frozenset({"quota", "rate_limited", "budget", "cancelled", "interrupted"})
log = logger("esh_tui.run")


def logged(listener: Callable[[Event], None] | None = None) -> Callable[[Event], None]:
    """`listener` (if any), with each event also told to the log (esh_tui.logs): a run's start and end (status,
    API calls, releases, seconds) at INFO, a failed artist and a stop (quota, rate limit, budget, cancel) at
    WARNING, a failed run at ERROR, each artist's outcome at DEBUG (`--verbose`). Without a log set up, or when
    it cannot be written, this costs a level check and changes nothing."""
    def both(event: Event) -> None:
        try:
            log_event(event)
        except Exception:  # the log never fails a run
            pass
        if listener is not None:
            listener(event)
    return both


def log_event(event: Event) -> None:
    if isinstance(event, RunStarted):
        log.info("run %d started: %d artists, releases since %s", event.run_id, event.artists, event.cutoff)
    elif isinstance(event, RunFinished):
        level = (logging.ERROR if event.status == "failed" else logging.WARNING if event.status in _STOPPED
                 else logging.INFO)
        log.log(level, "run %d ended: %s · %d API calls · %d releases (%d new) · %d artists fetched · %.1f s%s",
                event.run_id, event.status, event.api_calls, event.releases, event.new_releases,
                event.artists_fetched, event.seconds, f" · {event.message}" if event.message else "")
    elif isinstance(event, ArtistFailed):
        log.warning("artist %s failed: %s (it stays due)", event.artist_id, event.reason)
    elif isinstance(event, ArtistDone) and log.isEnabledFor(logging.DEBUG):
        log.debug("artist %s: %s, %d API calls, %d candidates", event.artist_id,
                  "fresh from the cache" if event.source == "cache" else f"from {event.source}",
                  event.api_calls, event.candidates)
