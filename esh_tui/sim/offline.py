"""Running esh-tui on the built-in offline Spotify when no credentials are configured."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from esh_tui.config import Settings
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.transport import SimTransport

SAMPLE_SEED, SAMPLE_SIZE, SAMPLE_ARTISTS = 1, 100, 12
OFFLINE_ANCHOR = dt.date(2026, 11, 1)
OFFLINE_STORE = "offline.db"  # apart from the real store: sample artists never mix with yours
# Not secrets: the simulator accepts any client id and secret.
OFFLINE_CLIENT_ID, OFFLINE_CLIENT_SECRET = "esh-offline-simulator", "offline"


@dataclass
class OfflineSpotify:
    catalog: Catalog
    sim: SimSpotify
    transport: SimTransport
    settings: Settings

    def describe(self) -> str:
        return (f"the built-in offline Spotify (simulated catalog: seed {self.catalog.seed}, "
                f"{self.catalog.size} artists, {self.sim.config.mode} mode, today {self.catalog.today})")

    def sample_artist_ids(self, count: int = SAMPLE_ARTISTS) -> list[str]:
        return self.catalog.tracked_sample(count)


def offline_spotify(settings: Settings, seed: int = SAMPLE_SEED, size: int = SAMPLE_SIZE,
                    today: dt.date | None = None, mode: str = "development") -> OfflineSpotify:
    """The offline Spotify as of `today` (default: the real today).

    The catalog is generated at a fixed anchor date and its clock advanced to
    today, so ids stay the same from day to day and stored artists stay valid.
    """
    today = today or dt.date.today()
    anchor = min(OFFLINE_ANCHOR, today)
    catalog = Catalog.generate(seed, size, anchor)
    catalog.advance((today - anchor).days)
    sim = SimSpotify(catalog, SimConfig(mode=mode, seed=seed))
    offline_settings = replace(settings, client_id=OFFLINE_CLIENT_ID, client_secret=OFFLINE_CLIENT_SECRET)
    return OfflineSpotify(catalog, sim, SimTransport(sim), offline_settings)
