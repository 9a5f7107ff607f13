"""Running esh-tui on the built-in offline Spotify when no credentials are configured."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from esh_tui.config import Settings
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog, SimPlaylist
from esh_tui.sim.demo import DEMO_ARTISTS, dress
from esh_tui.files import write_atomically
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.auth import READ_SCOPES, pkce_pair

SAMPLE_SEED, SAMPLE_SIZE, SAMPLE_ARTISTS = 1, 100, DEMO_ARTISTS
OFFLINE_ANCHOR = dt.date(2026, 11, 1)
OFFLINE_STORE = "offline.db"  # apart from the real store: sample artists never mix with yours
# The playlists the offline listener made (esh-tui playlist sync), kept between commands as Spotify would keep them.
OFFLINE_PLAYLISTS = "offline-playlists.json"
# Not secrets: the simulator accepts any client id and secret.
OFFLINE_CLIENT_ID, OFFLINE_CLIENT_SECRET = "esh-offline-simulator", "offline"


@dataclass
class OfflineSpotify:
    catalog: Catalog
    sim: SimSpotify
    transport: SimTransport
    settings: Settings
    playlists_path: Path | None = None
    _saved: str = field(default="", repr=False)  # the playlists as last read or written
    demo_ids: tuple[str, ...] = ()  # the demo's cast (sim/demo.py), the library a first start begins with

    def describe(self) -> str:
        return (f"the built-in offline Spotify (simulated catalog: seed {self.catalog.seed}, "
                f"{self.catalog.size} artists, {self.sim.config.mode} mode, today {self.catalog.today})")

    def sample_artist_ids(self, count: int = SAMPLE_ARTISTS) -> list[str]:
        """The demo library a first offline start tracks: realistic, invented names (the catalog's hostile
        corner stays for the tests: `Catalog.tracked_sample`)."""
        return list(self.demo_ids[:count])

    def load_playlists(self, path: Path) -> None:
        """Bring back the playlists the listener made in earlier commands (a damaged file counts as none)."""
        self.playlists_path = path
        try:
            made = json.loads(path.read_text(encoding="utf-8"))
            playlists = [SimPlaylist(p["id"], p["name"], self.catalog.user.id, self.catalog.user.display_name,
                                     bool(p["public"]), [str(t) for t in p["track_ids"]], int(p["snapshot"]))
                         for p in made["playlists"]]
            deleted = frozenset(str(i) for i in made.get("deleted", ()))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return
        self.catalog.deleted_playlist_ids |= deleted
        for playlist in playlists:
            if playlist.id not in self.catalog.deleted_playlist_ids:
                self.catalog.playlists.setdefault(playlist.id, playlist)
        self._saved = self._made()

    def save_playlists(self) -> None:
        """Keep the playlists the listener made (temp file + rename), when they changed."""
        made = self._made()
        if self.playlists_path is None or made == self._saved:
            return
        try:
            write_atomically(self.playlists_path, made.encode("utf-8"))
        except OSError as exc:  # the demo's playlists only: the command's own work is done and kept
            from esh_tui.logs import logger

            logger(__name__).warning("offline playlists not kept in %s: %s", self.playlists_path, exc.strerror)
            return
        self._saved = made

    def _made(self) -> str:
        generated = self.catalog.generated_playlist_ids
        made = [{"id": p.id, "name": p.name, "public": p.public, "track_ids": p.track_ids, "snapshot": p.snapshot}
                for p in self.catalog.playlists.values() if p.id not in generated]
        if not made and not self.catalog.deleted_playlist_ids:
            return ""
        return json.dumps({"playlists": made, "deleted": sorted(self.catalog.deleted_playlist_ids)})


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
    return OfflineSpotify(catalog, sim, SimTransport(sim), offline_settings, demo_ids=demo_ids)


class OfflineUserToken:
    """The offline Spotify's listener, logged in without a browser: the simulator approves at once."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, scopes: tuple[str, ...] = READ_SCOPES):
        self.settings, self._http, self.scopes = settings, http, scopes
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
                               "scope": " ".join(self.scopes), "code_challenge_method": "S256",
                               "code_challenge": challenge, "state": "offline"})
            approved = await self._http.get(f"{self.settings.authorize_url}?{query}")
            code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
            answer = await self._http.post(self.settings.token_url, data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                "client_id": self.settings.client_id, "code_verifier": verifier})
            self._token = answer.json()["access_token"]
        return self._token
