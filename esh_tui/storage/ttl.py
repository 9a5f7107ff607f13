"""How long an artist's answer stays fresh: following the artist's activity.

Released in the last 30 days: 6 h; in the last 180 days: 24 h; otherwise 7
days. An artist with a fresh release is likely to have another soon; one
silent for years is not worth checking every day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

HOUR = 3600.0


@dataclass(frozen=True)
class TtlPolicy:
    recent_days: int = 30
    recent_hours: float = 6
    active_days: int = 180
    active_hours: float = 24
    quiet_hours: float = 7 * 24

    def ttl_hours(self, last_release: dt.date | None, today: dt.date) -> float:
        if last_release is not None:
            age = (today - last_release).days
            if age <= self.recent_days:
                return self.recent_hours
            if age <= self.active_days:
                return self.active_hours
        return self.quiet_hours

    def profile(self, release_dates: Sequence[dt.date], today: dt.date) -> dict[str, object]:
        """Last release, releases a year (over the last two years), a frequency class and the interval."""
        past = [d for d in release_dates if d <= today]
        last = max(past, default=None)
        recent = [d for d in past if (today - d).days <= 730]
        per_year = round(len(recent) / 2, 1)
        if per_year >= 12:
            frequency = "prolific"
        elif per_year >= 3:
            frequency = "active"
        elif per_year > 0:
            frequency = "occasional"
        else:
            frequency = "dormant" if last else "unknown"
        return {"last_release": last.isoformat() if last else None, "releases_per_year": per_year,
                "frequency": frequency, "interval_hours": self.ttl_hours(last, today)}
