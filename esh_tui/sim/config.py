"""The simulator's knobs: API mode, latency, rate limit, quota and faults, validated once."""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("development", "extended")
FAULT_KINDS = ("500", "502", "503", "timeout", "drop")


@dataclass
class SimConfig:
    """Knobs of the offline Spotify; every random choice is seeded and reproducible."""

    mode: str = "development"
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_limit: int | None = None  # requests per rolling 30 s window
    quota: int | None = None  # requests per day
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = 30.0  # how long a "timeout" fault holds its response
    retry_after_missing: float = 0.0  # share of 429s sent without Retry-After
    quota_reason_field: bool = False  # the daily quota's 429 says QUOTA_EXCEEDED in the error's `reason`, not `message`
    seed: int = 1
    token_ttl: int = 3600
    refresh_token_ttl: float | None = None  # seconds a login's refresh token works (Spotify: six months); None: always

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        unknown = set(self.faults) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; choose from {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")

    @property
    def extended(self) -> bool:
        return self.mode == "extended"

    @property
    def page_max(self) -> int:
        """Largest `limit` artist albums and search accept."""
        return 50 if self.extended else 10
