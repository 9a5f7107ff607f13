"""The simulated Spotify's router: each request to its endpoint, through accounts and admission, counted.

`SimSpotify.handle()` turns one HTTP request into a `SimReply`: the response,
how long to hold it (latency) and whether to fail it in transit (a timeout or
a dropped connection). The in-process transport and the loopback server both
call it, so they answer identically and count identically. Where things are
decided: tokens and scopes in `accounts`, 429s, faults and latency in
`admission`, each endpoint's answer in `endpoints/` (catalog, library,
playlists), knobs in `config`.
"""

from __future__ import annotations

import collections
import re
import threading
import time
from collections.abc import Callable, Mapping

from esh_tui.sim.accounts import USER_SCOPES, Accounts
from esh_tui.sim.admission import SERVER_FAULTS, Admission
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.config import FAULT_KINDS, MODES, SimConfig
from esh_tui.sim.endpoints import catalog as catalog_reads
from esh_tui.sim.endpoints import library, playlists
from esh_tui.sim.messages import ApiError, Request, SimReply, error_reply, json_reply

# Re-exported: callers import the simulator's names from here.
__all__ = ["FAULT_KINDS", "MODES", "SimConfig", "SimReply", "SimSpotify", "USER_SCOPES"]

_FAULT_STATUS = {"timeout": "timeout", "drop": "dropped"}  # how a reply failed in transit is counted


class SimSpotify:
    """One offline Spotify: a catalog, a mode, knobs, and counters of what it was asked."""

    def __init__(self, catalog: Catalog, config: SimConfig | None = None, clock: Callable[[], float] = time.monotonic):
        self.catalog, self.config, self.clock = catalog, config or SimConfig(), clock
        self.counts: collections.Counter[tuple[str, int | str]] = collections.Counter()
        self.faults_injected: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self.accounts = Accounts(catalog, self.config)
        self.admission = Admission(self.config)
        self._routes = self._build_routes()

    # ----- accounting -------------------------------------------------------------

    def calls(self, template: str | None = None, status: int | str | None = None) -> int:
        """How many API requests were answered, optionally for one template and status."""
        return sum(n for (t, s), n in self.counts.items()
                   if (template is None or t == template) and (status is None or s == status)
                   and not t.startswith("POST /api/token") and not t.startswith("GET /authorize"))

    def reset_counts(self) -> None:
        self.counts.clear()
        self.faults_injected.clear()

    # ----- entry point ------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: bytes = b"") -> SimReply:
        request = Request.parse(method, url, headers, body)
        with self._lock:
            template, reply = self._dispatch(request)
            self.counts[(template, reply.fault and _FAULT_STATUS[reply.fault] or reply.status)] += 1
        return reply

    def _dispatch(self, request: Request) -> tuple[str, SimReply]:
        for method, pattern, template, handler, api in self._routes:
            match = pattern.match(request.path)
            if match is None or method != request.method:
                continue
            if not api:
                return template, handler(request, self.clock())
            try:
                request.token = self.accounts.authenticate(request, self.clock())
                self.admission.admit(request, self.clock())
            except ApiError as err:
                return template, error_reply(err, self.admission.latency(request))
            fault = self.admission.fault_for(request)
            if fault:
                self.faults_injected[fault] += 1
            delay = self.admission.latency(request)
            if fault in SERVER_FAULTS:  # the server failed before doing anything
                return template, error_reply(ApiError(int(fault), SERVER_FAULTS[fault]), delay)
            try:
                payload = handler(self.catalog, self.config, request, **match.groupdict())
                reply = json_reply(201 if method == "POST" else 200, payload)
            except ApiError as err:
                reply = error_reply(err, delay)
            reply.delay = delay
            if fault == "timeout":  # done, but answered too late
                reply.delay, reply.fault = self.config.slow_seconds, "timeout"
            elif fault == "drop":
                reply.fault = "drop"
            return template, reply
        if any(pattern.match(request.path) for _, pattern, _, _, _ in self._routes):
            return f"{request.method} (not allowed)", error_reply(ApiError(405, "Method not allowed"), 0.0)
        return f"{request.method} (unknown)", error_reply(ApiError(404, "Service not found"), 0.0)

    # ----- routes ---------------------------------------------------------------------------

    def _build_routes(self):
        routes = [
            ("POST", r"/api/token", "POST /api/token", self.accounts.token, False),
            ("GET", r"/authorize", "GET /authorize", self.accounts.authorize, False),
            ("GET", r"/v1/artists/(?P<item_id>[^/]+)/albums", "GET /artists/{id}/albums", catalog_reads.artist_albums, True),
            ("GET", r"/v1/artists/(?P<item_id>[^/]+)", "GET /artists/{id}", catalog_reads.artist, True),
            ("GET", r"/v1/artists", "GET /artists", catalog_reads.several_artists, True),
            ("GET", r"/v1/albums/(?P<item_id>[^/]+)/tracks", "GET /albums/{id}/tracks", catalog_reads.album_tracks, True),
            ("GET", r"/v1/albums/(?P<item_id>[^/]+)", "GET /albums/{id}", catalog_reads.album, True),
            ("GET", r"/v1/albums", "GET /albums", catalog_reads.several_albums, True),
            ("GET", r"/v1/tracks/(?P<item_id>[^/]+)", "GET /tracks/{id}", catalog_reads.track, True),
            ("GET", r"/v1/tracks", "GET /tracks", catalog_reads.several_tracks, True),
            ("GET", r"/v1/search", "GET /search", catalog_reads.search, True),
            ("GET", r"/v1/me", "GET /me", library.me, True),
            ("GET", r"/v1/me/tracks", "GET /me/tracks", library.saved_tracks, True),
            ("GET", r"/v1/me/following", "GET /me/following", library.followed, True),
            ("GET", r"/v1/me/playlists", "GET /me/playlists", playlists.my_playlists, True),
            ("POST", r"/v1/me/playlists", "POST /me/playlists", playlists.create_playlist, True),
            ("GET", r"/v1/playlists/(?P<item_id>[^/]+)/items", "GET /playlists/{id}/items", playlists.playlist_items, True),
            ("POST", r"/v1/playlists/(?P<item_id>[^/]+)/items", "POST /playlists/{id}/items", playlists.add_items, True),
            ("DELETE", r"/v1/playlists/(?P<item_id>[^/]+)/items", "DELETE /playlists/{id}/items", playlists.remove_items,
             True),
        ]
        return [(m, re.compile(p + "/?$"), t, h, api) for m, p, t, h, api in routes]
