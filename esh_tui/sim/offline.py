"""Running esh-tui on the built-in offline Spotify when no credentials are configured."""

from __future__ import annotations

import asyncio
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


class _World:
    """What the offline Spotify makes when first asked (its catalog, its simulator), shared by its copies
    (`dataclasses.replace` with another data directory's settings), the file its playlists are kept in too: one
    data directory at a time, as a command or the dashboard uses it."""

    def __init__(self, seed: int, size: int, today: dt.date, mode: str):
        self.seed, self.size, self.today, self.mode = seed, size, today, mode
        self.playlists_path: Path | None = None
        self._catalog: Catalog | None = None
        self._sim: SimSpotify | None = None
        self._demo_ids: tuple[str, ...] = ()
        self.saved = ""  # the playlists as last read or written

    @property
    def generated(self) -> bool:
        return self._catalog is not None

    @property
    def catalog(self) -> Catalog:
        """Generated at a fixed anchor date and its clock advanced to today, so ids stay the same from day to
        day and stored artists stay valid."""
        if self._catalog is None:
            anchor = min(OFFLINE_ANCHOR, self.today)
            catalog = Catalog.generate(self.seed, self.size, anchor)
            catalog.advance((self.today - anchor).days)
            self._demo_ids = tuple(dress(catalog))
            self._sim = SimSpotify(catalog, SimConfig(mode=self.mode, seed=self.seed))
            self._catalog = catalog
            if self.playlists_path is not None:
                self._load_playlists()
        return self._catalog

    @property
    def sim(self) -> SimSpotify:
        self.catalog  # noqa: B018 (generated on first use)
        return self._sim

    @property
    def demo_ids(self) -> tuple[str, ...]:
        self.catalog  # noqa: B018 (generated on first use)
        return self._demo_ids

    def _load_playlists(self) -> None:
        """Bring back the playlists the listener made in earlier commands (a damaged file counts as none)."""
        catalog = self._catalog
        try:
            made = json.loads(self.playlists_path.read_text(encoding="utf-8"))
            playlists = [SimPlaylist(p["id"], p["name"], catalog.user.id, catalog.user.display_name,
                                     bool(p["public"]), [str(t) for t in p["track_ids"]], int(p["snapshot"]))
                         for p in made["playlists"]]
            deleted = frozenset(str(i) for i in made.get("deleted", ()))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return
        catalog.deleted_playlist_ids |= deleted
        for playlist in playlists:
            if playlist.id not in catalog.deleted_playlist_ids:
                catalog.playlists.setdefault(playlist.id, playlist)
        self.saved = self.playlists()

    def playlists(self) -> str:
        """The playlists the listener made, as kept between commands ("" for none)."""
        catalog = self.catalog
        generated = catalog.generated_playlist_ids
        made = [{"id": p.id, "name": p.name, "public": p.public, "track_ids": p.track_ids, "snapshot": p.snapshot}
                for p in catalog.playlists.values() if p.id not in generated]
        if not made and not catalog.deleted_playlist_ids:
            return ""
        return json.dumps({"playlists": made, "deleted": sorted(catalog.deleted_playlist_ids)})


class _FirstRequestTransport(SimTransport):
    """The offline Spotify's way in: the catalog is generated at the first request, not when a command starts."""

    def __init__(self, world: _World):
        self._world, self._sleep = world, asyncio.sleep

    @property
    def sim(self) -> SimSpotify:
        return self._world.sim


@dataclass
class OfflineSpotify:
    """The offline Spotify. Its catalog takes a quarter of a second to generate, so it is generated when first
    needed (a request, a first start's sample artists): commands that only read the store (list, export,
    stats, a run within the freshness time) never wait for it."""

    settings: Settings
    world: _World = field(repr=False)
    transport: httpx.AsyncBaseTransport = field(repr=False)

    @property
    def catalog(self) -> Catalog:
        return self.world.catalog

    @property
    def sim(self) -> SimSpotify:
        return self.world.sim

    @property
    def today(self) -> dt.date:
        """The catalog's day (its clock moves: `Catalog.advance`), or the day it will be generated as of."""
        return self.world.catalog.today if self.world.generated else self.world.today

    def describe(self) -> str:
        return (f"the built-in offline Spotify (simulated catalog: seed {self.world.seed}, "
                f"{self.world.size} artists, {self.world.mode} mode, today {self.today})")

    def sample_artist_ids(self, count: int = SAMPLE_ARTISTS) -> list[str]:
        """The demo library a first offline start tracks: realistic, invented names (the catalog's hostile
        corner stays for the tests: `Catalog.tracked_sample`)."""
        return list(self.world.demo_ids[:count])

    def load_playlists(self, path: Path) -> None:
        """Where the playlists the listener made are kept: brought back into the catalog when it is generated."""
        self.world.playlists_path = path
        if self.world.generated:
            self.world._load_playlists()

    def save_playlists(self) -> None:
        """Keep the playlists the listener made (temp file + rename), when they changed."""
        world = self.world
        if world.playlists_path is None or not world.generated:
            return  # (a catalog never generated has no playlists of the listener's to keep)
        playlists = world.playlists()
        if playlists == world.saved:
            return
        try:
            write_atomically(world.playlists_path, playlists.encode("utf-8"))
        except OSError as exc:  # the demo's playlists only: the command's own work is done and kept
            from esh_tui.logs import logger

            logger(__name__).warning("offline playlists not kept in %s: %s", world.playlists_path, exc.strerror)
            return
        world.saved = playlists


def offline_spotify(settings: Settings, seed: int = SAMPLE_SEED, size: int = SAMPLE_SIZE,
                    today: dt.date | None = None, mode: str = "development") -> OfflineSpotify:
    """The offline Spotify as of `today` (default: the real today); its catalog is generated when first needed."""
    world = _World(seed, size, today or dt.date.today(), mode)
    offline_settings = replace(settings, client_id=OFFLINE_CLIENT_ID, client_secret=OFFLINE_CLIENT_SECRET)
    return OfflineSpotify(offline_settings, world, _FirstRequestTransport(world))


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
