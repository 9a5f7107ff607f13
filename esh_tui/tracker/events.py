"""What a run tells its audience (the dashboard, the CLI), stamped with monotonic time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

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
