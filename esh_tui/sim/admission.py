"""Admission of API requests: the daily quota and rolling rate limit (429s), injected faults, latency.

Every random choice is a seeded hash of the request, so a run with the same
seed meets the same 429s, faults and delays.
"""

from __future__ import annotations

import collections
import hashlib
import math
from urllib.parse import urlencode

from esh_tui.sim.config import SimConfig
from esh_tui.sim.messages import ApiError, Request

RATE_WINDOW_SECONDS = 30.0
DAY_SECONDS = 86_400.0
SERVER_FAULTS = {"500": "Server error", "502": "Bad gateway", "503": "Service unavailable"}


class Admission:
    """What each API request meets before its endpoint: quota, rate window, a fault, a delay."""

    def __init__(self, config: SimConfig):
        self.config = config
        self._window: collections.deque[float] = collections.deque()
        self._day_start: float | None = None
        self._day_count = 0
        self._seen: collections.Counter[str] = collections.Counter()

    def admit(self, request: Request, now: float) -> None:
        """Apply the daily quota, then the rolling 30 s rate limit."""
        if self._day_start is None or now - self._day_start >= DAY_SECONDS:
            self._day_start, self._day_count = now, 0
        if self.config.quota is not None and self._day_count >= self.config.quota:
            wait = {"Retry-After": str(math.ceil(self._day_start + DAY_SECONDS - now))}
            if self.config.quota_reason_field:  # as Spotify may send it: the mark in `reason`, not in the message
                raise ApiError(429, "The daily request quota of this app is used up", wait, reason="QUOTA_EXCEEDED")
            raise ApiError(429, "QUOTA_EXCEEDED: the daily request quota of this app is used up", wait)
        window = self._window
        while window and window[0] <= now - RATE_WINDOW_SECONDS:
            window.popleft()
        if self.config.rate_limit is not None and len(window) >= self.config.rate_limit:
            wait = max(1, math.ceil(window[0] + RATE_WINDOW_SECONDS - now))
            missing = self._draw(_request_key(request), "retry-after") < self.config.retry_after_missing
            headers = {} if missing else {"Retry-After": str(wait)}
            raise ApiError(429, "API rate limit exceeded", headers)
        window.append(now)
        self._day_count += 1

    def fault_for(self, request: Request) -> str | None:
        """The fault kind this request meets, if any; counts the request as seen."""
        key = _request_key(request)
        faults = self.config.faults if self.config.fault_rate > 0 else ()
        if faults:  # (no draws when there is nothing to draw: each is a hash, most of a request's cost here)
            roll, kind_roll = self._draw(key, "fault"), self._draw(key, "fault-kind")
        self._seen[key] += 1
        if not faults or roll >= self.config.fault_rate:
            return None
        return faults[int(kind_roll * len(faults))]

    def latency(self, request: Request) -> float:
        cfg = self.config
        if not cfg.latency_ms and not cfg.jitter_ms:
            return 0.0
        jitter = (self._draw(_request_key(request), "latency") * 2 - 1) * cfg.jitter_ms
        return max(0.0, cfg.latency_ms + jitter) / 1000.0

    def _draw(self, key: str, purpose: str) -> float:
        """A reproducible number in [0, 1) for this request (its key), its purpose and how often it was seen."""
        digest = hashlib.blake2b(f"{self.config.seed}|{purpose}|{key}|{self._seen[key]}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big") / 2**64


def _request_key(request: Request) -> str:
    return f"{request.method} {request.path}?{urlencode(sorted(request.query.items()))}"
