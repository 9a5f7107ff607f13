"""Running esh-tui on the built-in offline Spotify when no credentials are configured."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from esh_tui.config import Settings
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.demo import DEMO_ARTISTS, dress
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.auth import READ_SCOPES, pkce_pair

SAMPLE_SEED, SAMPLE_SIZE, SAMPLE_ARTISTS = 1, 100, DEMO_ARTISTS
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
    demo_ids: tuple[str, ...] = ()  # the demo's cast (sim/demo.py), the library a first start begins with

    def describe(self) -> str:
        return (f"the built-in offline Spotify (simulated catalog: seed {self.catalog.seed}, "
                f"{self.catalog.size} artists, {self.sim.config.mode} mode, today {self.catalog.today})")

    def sample_artist_ids(self, count: int = SAMPLE_ARTISTS) -> list[str]:
        """The demo library a first offline start tracks: realistic, invented names (the catalog's hostile
        corner stays for the tests: `Catalog.tracked_sample`)."""
        return list(self.demo_ids[:count])


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
    demo_ids = tuple(dress(catalog))
    sim = SimSpotify(catalog, SimConfig(mode=mode, seed=seed))
    offline_settings = replace(settings, client_id=OFFLINE_CLIENT_ID, client_secret=OFFLINE_CLIENT_SECRET)
    return OfflineSpotify(catalog, sim, SimTransport(sim), offline_settings, demo_ids)


class OfflineUserToken:
    """The offline Spotify's listener, logged in without a browser: the simulator approves at once."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient):
        self.settings, self._http = settings, http
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"OfflineUserToken(valid={self._token is not None})"

    def invalidate(self) -> None:
        self._token = None

    async def access_token(self) -> str:
        if self._token is None:
            verifier, challenge = pkce_pair()
            redirect = self.settings.redirect_uri
            query = urlencode({"client_id": self.settings.client_id, "response_type": "code", "redirect_uri": redirect,
                               "scope": " ".join(READ_SCOPES), "code_challenge_method": "S256",
                               "code_challenge": challenge, "state": "offline"})
            approved = await self._http.get(f"{self.settings.authorize_url}?{query}")
            code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
            answer = await self._http.post(self.settings.token_url, data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                "client_id": self.settings.client_id, "code_verifier": verifier})
            self._token = answer.json()["access_token"]
        return self._token
