"""Opening esh-tui: settings, the store, and which Spotify to talk to (the real one or the offline one).

The CLI and the dashboard both start here, so they always agree.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from esh_tui.config import FROM_TOKEN, Settings, Tuning, load_settings
from esh_tui.files import is_file
from esh_tui.sim.offline import OFFLINE_PLAYLISTS, OFFLINE_STORE, OfflineSpotify, OfflineUserToken, offline_spotify
from esh_tui.spotify.auth import PLAYLIST_SCOPE, READ_SCOPES, TOKEN_FILE, UserOrAppToken
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.errors import StoreNeedsMigration
from esh_tui.storage.store import Store
from esh_tui.tracker.plan import DailyBudget


@dataclass
class Runtime:
    settings: Settings
    store: Store
    offline: OfflineSpotify | None = None
    tuning: Tuning = field(default_factory=Tuning)

    @property
    def transport(self) -> httpx.AsyncBaseTransport | None:
        return self.offline.transport if self.offline else None

    def client(self, user: bool = False, **options) -> SpotifyClient:
        """A client with the app's token, or with the user's (`user=True`: needs 'esh-tui login' on Spotify)."""
        if user and self.offline:
            return SpotifyClient(self.settings, self.transport, token=lambda http: OfflineUserToken(self.settings, http),
                                 **options)
        options.setdefault("max_connections", self.tuning.max_connections)
        return SpotifyClient(self.settings, self.transport, user=user, **options)

    @property
    def logged_in(self) -> bool:
        return bool(self.offline) or (self.settings.data_dir / TOKEN_FILE).exists()

    def playlist_client(self) -> SpotifyClient:
        """A client that reads playlists: the user's token once logged in (private playlists too), else the app's
        (public playlists); the app's too once the login has expired."""
        if not self.logged_in or self.offline:
            return self.client(user=bool(self.offline))
        return self.client(token=lambda http: UserOrAppToken(self.settings, http))

    def playlist_writer(self) -> SpotifyClient:
        """A client that may change the user's playlists: the user's token (check `delivery.playlist.access_problem`
        first); offline, the simulated listener's, with the playlist scope."""
        if self.offline:
            scopes = (*READ_SCOPES, PLAYLIST_SCOPE)
            return SpotifyClient(self.settings, self.transport,
                                 token=lambda http: OfflineUserToken(self.settings, http, scopes))
        return self.client(user=True)

    def tracking_client(self, market: str | None) -> SpotifyClient:
        """A client for runs in this market: the user's token for `from_token` once logged in (the account's
        country), else the app's."""
        client = self.client(user=market == FROM_TOKEN and self.logged_in)
        client.market = market
        return client

    def cache(self, clock: Callable[[], float] = time.time) -> ReleaseCache:
        """The release cache as config.toml tunes it (memory tier size, freshness)."""
        return ReleaseCache(self.store, policy=self.tuning.freshness, memory_size=self.tuning.memory_items, clock=clock)

    def budget(self, limit: int | None = None, clock: Callable[[], float] = time.time) -> DailyBudget:
        """The daily API budget of this store: `limit` (`--budget N`), else `[network] daily_budget`; 0 is none."""
        return DailyBudget(self.store, self.tuning.daily_budget if limit is None else limit, clock)

    def today(self) -> dt.date:
        return self.offline.today if self.offline else dt.date.today()

    def describe(self) -> str:
        return self.offline.describe() if self.offline else f"Spotify ({self.settings.api_url})"

    def close(self) -> None:
        try:
            if self.offline and not self.store.read_only:
                self.offline.save_playlists()
        finally:
            self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def open_runtime(settings: Settings | None = None, today: dt.date | None = None, read_only: bool = False) -> Runtime:
    """With credentials: Spotify and your store. Without: the offline Spotify, its own store, sample artists.
    `read_only`: for commands that only read, an existing store is opened read-only (see `open_store`)."""
    settings = settings or load_settings()
    if settings.has_credentials:
        return Runtime(settings, open_store(settings.store_path, read_only), tuning=settings.tuning)
    offline = offline_spotify(settings, today=today)
    store = open_store(settings.data_dir / OFFLINE_STORE, read_only)
    offline.load_playlists(settings.data_dir / OFFLINE_PLAYLISTS)
    if not store.read_only and not store.artists():
        catalog = offline.catalog
        store.add_artists((i, catalog.artists[i].name, "sample") for i in offline.sample_artist_ids())
    return Runtime(offline.settings, store, offline, settings.tuning)


def open_store(path: Path, read_only: bool = False) -> Store:
    """The store at `path`; `read_only`: opened so that nothing is written (a read-only file or directory works),
    unless it does not exist yet or an older esh-tui wrote it (it is created, or upgraded, as usual then)."""
    if read_only and is_file(path):
        try:
            return Store(path, read_only=True)
        except StoreNeedsMigration:
            pass
    return Store(path)
