"""A record of every request sent to Spotify: the raw material of the metrics and benchmarks."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True, frozen=True)
class CallRecord:
    template: str  # e.g. "GET /artists/{id}/albums"
    status: int | str  # HTTP status, or "timeout" / "network" when no answer came
    latency_ms: float
    bytes: int
    retried: bool  # this send was a retry of an earlier failed one
    new_connection: bool | None  # a TCP connection was opened for it (None: the transport cannot tell)
    at: float = field(default_factory=time.time)
    url: str | None = None  # the full URL with its query (never a header): redundant requests are found by it


class CallLog:
    """Counts calls by endpoint and status, and keeps the most recent records.

    `listeners` are called with each record (the metrics panels and the store
    subscribe); requests coalesced by single-flight never reach the network and
    are counted in `coalesced`, not as calls.
    """

    def __init__(self, keep: int = 50_000):
        self.records: deque[CallRecord] = deque(maxlen=keep)
        self.by_endpoint: Counter[tuple[str, int | str]] = Counter()
        self.coalesced = 0
        self.retries = 0
        self.rate_limited = 0
        self.connections_opened = 0
        self.bytes = 0
        self.listeners: list[Callable[[CallRecord], None]] = []

    def add(self, record: CallRecord) -> None:
        self.records.append(record)
        self.by_endpoint[(record.template, record.status)] += 1
        self.retries += record.retried
        self.rate_limited += record.status == 429
        self.connections_opened += bool(record.new_connection)
        self.bytes += record.bytes
        for listener in self.listeners:
            listener(record)

    @property
    def calls(self) -> int:
        """Requests sent to the API (retries included, coalesced ones not)."""
        return sum(self.by_endpoint.values())

    def endpoints(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for (template, _), n in self.by_endpoint.items():
            totals[template] += n
        return totals
