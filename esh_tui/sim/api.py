"""The simulated Spotify Web API and accounts service, independent of how requests arrive.

`SimSpotify.handle()` turns one HTTP request into a `SimReply`: the response,
how long to hold it (latency) and whether to fail it in transit (a timeout or
a dropped connection). The in-process transport and the loopback server both
call it, so they answer identically and count identically.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from esh_tui.sim.accounts import USER_SCOPES, Accounts, require_user
from esh_tui.sim.admission import SERVER_FAULTS, Admission
from esh_tui.sim.catalog import BASE62, GROUP_ORDER, Catalog, SimPlaylist
from esh_tui.sim.config import FAULT_KINDS, MODES, SimConfig
from esh_tui.sim.messages import ApiError, Request, SimReply, error_reply, json_reply, oauth_error, redirect, text_reply
from esh_tui.sim.objects import ObjectBuilder, paging

__all__ = ["FAULT_KINDS", "MODES", "SimConfig", "SimReply", "SimSpotify", "USER_SCOPES"]

_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")


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
                reply = json_reply(201 if method == "POST" else 200, handler(request, **match.groupdict()))
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
            ("GET", r"/v1/artists/(?P<item_id>[^/]+)/albums", "GET /artists/{id}/albums", self._artist_albums, True),
            ("GET", r"/v1/artists/(?P<item_id>[^/]+)", "GET /artists/{id}", self._artist, True),
            ("GET", r"/v1/artists", "GET /artists", self._several_artists, True),
            ("GET", r"/v1/albums/(?P<item_id>[^/]+)/tracks", "GET /albums/{id}/tracks", self._album_tracks, True),
            ("GET", r"/v1/albums/(?P<item_id>[^/]+)", "GET /albums/{id}", self._album, True),
            ("GET", r"/v1/albums", "GET /albums", self._several_albums, True),
            ("GET", r"/v1/tracks/(?P<item_id>[^/]+)", "GET /tracks/{id}", self._track, True),
            ("GET", r"/v1/tracks", "GET /tracks", self._several_tracks, True),
            ("GET", r"/v1/search", "GET /search", self._search, True),
            ("GET", r"/v1/me", "GET /me", self._me, True),
            ("GET", r"/v1/me/tracks", "GET /me/tracks", self._saved_tracks, True),
            ("GET", r"/v1/me/following", "GET /me/following", self._followed, True),
            ("GET", r"/v1/me/playlists", "GET /me/playlists", self._my_playlists, True),
            ("POST", r"/v1/me/playlists", "POST /me/playlists", self._create_playlist, True),
            ("GET", r"/v1/playlists/(?P<item_id>[^/]+)/items", "GET /playlists/{id}/items", self._playlist_items, True),
            ("POST", r"/v1/playlists/(?P<item_id>[^/]+)/items", "POST /playlists/{id}/items", self._add_items, True),
        ]
        return [(m, re.compile(p + "/?$"), t, h, api) for m, p, t, h, api in routes]

    # ----- helpers --------------------------------------------------------------------------

    def _objects(self, request: Request) -> ObjectBuilder:
        return ObjectBuilder(self.catalog, f"{request.base}/v1", self.config.extended)

    def _page_params(self, request: Request, default: int, maximum: int) -> tuple[int, int]:
        limit = _int_param(request.query, "limit", default)
        offset = _int_param(request.query, "offset", 0)
        if not 1 <= limit <= maximum:
            raise ApiError(400, f"Invalid limit: must be between 1 and {maximum}")
        if offset < 0:
            raise ApiError(400, "Invalid offset: must be 0 or more")
        return limit, offset

    def _page(self, request: Request, items: list[Any], limit: int, offset: int) -> dict[str, Any]:
        def page_url(at: int) -> str:
            return f"{request.base}{request.path}?{urlencode({**request.query, 'offset': at, 'limit': limit})}"
        return paging(page_url(offset), items[offset:offset + limit], limit, offset, len(items), page_url)

    def _ids(self, request: Request, maximum: int, what: str) -> list[str]:
        if not self.config.extended:
            raise ApiError(403, f"Get several {what} is not available to apps in development mode")
        raw = request.query.get("ids", "")
        ids = [i for i in raw.split(",") if i] if raw else []
        if not ids:
            raise ApiError(400, "Missing required parameter: ids")
        if len(ids) > maximum:
            raise ApiError(400, f"Too many ids requested: at most {maximum}")
        for item_id in ids:
            _check_id(item_id)
        return ids

    # ----- catalog endpoints ------------------------------------------------------------------

    def _artist(self, request: Request, item_id: str) -> dict[str, Any]:
        _check_id(item_id)
        artist = self.catalog.artists.get(item_id)
        if artist is None:
            raise ApiError(404, "Resource not found")
        return self._objects(request).artist(artist)

    def _several_artists(self, request: Request) -> dict[str, Any]:
        objects = self._objects(request)
        return {"artists": [objects.artist(self.catalog.artists[i]) if i in self.catalog.artists else None
                            for i in self._ids(request, 50, "artists")]}

    def _artist_albums(self, request: Request, item_id: str) -> dict[str, Any]:
        _check_id(item_id)
        if item_id not in self.catalog.artists:
            raise ApiError(404, "Resource not found")
        raw_groups = request.query.get("include_groups", "")
        groups = tuple(g.strip() for g in raw_groups.split(",") if g.strip()) or GROUP_ORDER
        bad = [g for g in groups if g not in GROUP_ORDER]
        if bad:
            raise ApiError(400, f"Invalid include_groups value: {bad[0]}")
        limit, offset = self._page_params(request, 20 if self.config.extended else 5, self.config.page_max)
        objects = self._objects(request)
        albums = self.catalog.artist_albums(item_id, groups)
        page = self._page(request, albums, limit, offset)
        page["items"] = [objects.discography_album(album, group) for album, group in page["items"]]
        return page

    def _visible_album(self, item_id: str):
        _check_id(item_id)
        album = self.catalog.visible_album(item_id)
        if album is None:
            raise ApiError(404, "Resource not found")
        return album

    def _tracks_page(self, request: Request, album, limit: int, offset: int) -> dict[str, Any]:
        objects = self._objects(request)
        tracks = [self.catalog.tracks[t] for t in album.track_ids]
        base = f"{request.base}/v1/albums/{album.id}/tracks"

        def page_url(at: int) -> str:
            return f"{base}?{urlencode({'offset': at, 'limit': limit})}"
        page = paging(page_url(offset), tracks[offset:offset + limit], limit, offset, len(tracks), page_url)
        page["items"] = [objects.simple_track(t) for t in page["items"]]
        return page

    def _album(self, request: Request, item_id: str) -> dict[str, Any]:
        album = self._visible_album(item_id)
        return self._objects(request).album(album, self._tracks_page(request, album, 50, 0))

    def _several_albums(self, request: Request) -> dict[str, Any]:
        out = []
        for item_id in self._ids(request, 20, "albums"):
            album = self.catalog.visible_album(item_id)
            out.append(self._objects(request).album(album, self._tracks_page(request, album, 50, 0)) if album else None)
        return {"albums": out}

    def _album_tracks(self, request: Request, item_id: str) -> dict[str, Any]:
        album = self._visible_album(item_id)
        limit, offset = self._page_params(request, 20, 50)
        return self._tracks_page(request, album, limit, offset)

    def _track(self, request: Request, item_id: str) -> dict[str, Any]:
        _check_id(item_id)
        track = self.catalog.visible_track(item_id)
        if track is None:
            raise ApiError(404, "Resource not found")
        return self._objects(request).track(track)

    def _several_tracks(self, request: Request) -> dict[str, Any]:
        objects = self._objects(request)
        out = []
        for item_id in self._ids(request, 50, "tracks"):
            track = self.catalog.visible_track(item_id)
            out.append(objects.track(track) if track else None)
        return {"tracks": out}

    def _search(self, request: Request) -> dict[str, Any]:
        q = request.query.get("q", "").strip()
        if not q:
            raise ApiError(400, "No search query")
        types = [t.strip() for t in request.query.get("type", "").split(",") if t.strip()]
        if not types:
            raise ApiError(400, "Missing parameter type")
        for kind in types:
            if kind not in _SEARCH_TYPES:
                raise ApiError(400, f"Bad search type field {kind}")
        limit, offset = self._page_params(request, 20 if self.config.extended else 5, self.config.page_max)
        if offset + limit > 1000:
            raise ApiError(400, "Invalid offset: offset + limit must be at most 1000")
        isrc, text = _parse_query(q)
        objects = self._objects(request)
        out: dict[str, Any] = {}
        for kind in types:
            if kind == "track":
                items = self.catalog.isrc_versions(isrc) if isrc else self.catalog.search_tracks(text)
                convert = objects.track
            elif kind == "artist" and not isrc:
                items, convert = self.catalog.search_artists(text), objects.artist
            elif kind == "album" and not isrc:
                items, convert = self.catalog.search_albums(text), objects.simple_album
            else:
                items, convert = [], None
            page = self._page(request, items, limit, offset)
            page["items"] = [convert(i) for i in page["items"]] if convert else []
            out[f"{kind}s"] = page
        return out

    # ----- the user's library ------------------------------------------------------------------

    def _me(self, request: Request) -> dict[str, Any]:
        require_user(request, None)
        user = self.catalog.user
        objects = self._objects(request)
        return {**objects.owner(user.id, user.display_name), "followers": {"href": None, "total": 3},
                "images": [], "country": "SE", "product": "premium", "email": "listener@sim.invalid",
                "explicit_content": {"filter_enabled": False, "filter_locked": False}}

    def _saved_tracks(self, request: Request) -> dict[str, Any]:
        require_user(request, "user-library-read")
        limit, offset = self._page_params(request, 20, 50)
        objects = self._objects(request)
        tracks = [t for t in (self.catalog.visible_track(i) for i in self.catalog.user.saved_track_ids) if t]
        page = self._page(request, tracks, limit, offset)
        page["items"] = [{"added_at": "2026-01-01T00:00:00Z", "track": objects.track(t)} for t in page["items"]]
        return page

    def _followed(self, request: Request) -> dict[str, Any]:
        require_user(request, "user-follow-read")
        if request.query.get("type") != "artist":
            raise ApiError(400, "type must be artist")
        limit = _int_param(request.query, "limit", 20)
        if not 1 <= limit <= 50:
            raise ApiError(400, "Invalid limit: must be between 1 and 50")
        ids = self.catalog.user.followed_artist_ids
        after = request.query.get("after")
        start = ids.index(after) + 1 if after in ids else 0
        chunk = ids[start:start + limit]
        objects = self._objects(request)
        cursor_page: dict[str, Any] = {
            "href": f"{request.base}{request.path}?{urlencode(request.query)}",
            "limit": limit,
            "cursors": {},
            "total": len(ids),
            "items": [objects.artist(self.catalog.artists[i]) for i in chunk],
        }
        if start + limit < len(ids):
            cursor_page["cursors"] = {"after": chunk[-1]}
            cursor_page["next"] = f"{request.base}{request.path}?{urlencode({'type': 'artist', 'after': chunk[-1], 'limit': limit})}"
        return {"artists": cursor_page}

    def _my_playlists(self, request: Request) -> dict[str, Any]:
        require_user(request, "playlist-read-private")
        limit, offset = self._page_params(request, 20, 50)
        objects = self._objects(request)
        playlists = list(self.catalog.playlists.values())
        page = self._page(request, playlists, limit, offset)
        page["items"] = [objects.simple_playlist(p) for p in page["items"]]
        return page

    def _create_playlist(self, request: Request) -> dict[str, Any]:
        user_id = require_user(request, "playlist-modify-private")
        body = _json_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "Missing required field: name")
        playlist = SimPlaylist(_new_playlist_id(self.catalog), name, user_id, self.catalog.user.display_name,
                               bool(body.get("public", True)))
        self.catalog.playlists[playlist.id] = playlist
        return self._objects(request).playlist(playlist, self._playlist_page(request, playlist, 50, 0))

    def _playlist(self, request: Request, item_id: str) -> SimPlaylist:
        _check_id(item_id)
        playlist = self.catalog.playlists.get(item_id)
        if playlist is None:
            raise ApiError(404, "Resource not found")
        return playlist

    def _playlist_page(self, request: Request, playlist: SimPlaylist, limit: int, offset: int) -> dict[str, Any]:
        objects = self._objects(request)
        tracks = [t for t in (self.catalog.visible_track(i) for i in playlist.track_ids) if t]
        page = self._page(request, tracks, limit, offset)
        user = objects.owner(playlist.owner_id, playlist.owner_name)
        del user["display_name"]
        page["items"] = [{"added_at": "2026-01-01T00:00:00Z", "added_by": user, "is_local": False,
                          "item": objects.track(t), "track": objects.track(t)} for t in page["items"]]
        return page

    def _playlist_items(self, request: Request, item_id: str) -> dict[str, Any]:
        playlist = self._playlist(request, item_id)
        token = request.token
        own = token is not None and token.user_id == playlist.owner_id
        if not self.config.extended and not own:
            raise ApiError(403, "Forbidden: in development mode only the items of your own playlists can be read")
        if not own and not playlist.public:
            raise ApiError(404, "Resource not found")
        limit, offset = self._page_params(request, 20, 50)
        return self._playlist_page(request, playlist, limit, offset)

    def _add_items(self, request: Request, item_id: str) -> dict[str, Any]:
        user_id = require_user(request, "playlist-modify-private")
        playlist = self._playlist(request, item_id)
        if playlist.owner_id != user_id:
            raise ApiError(403, "You cannot add items to a playlist you do not own")
        uris = request.query.get("uris")
        items = uris.split(",") if uris else _json_body(request).get("uris")
        if not isinstance(items, list) or not items:
            raise ApiError(400, "Missing required field: uris")
        if len(items) > 100:
            raise ApiError(400, "Too many items: at most 100 per request")
        track_ids = []
        for uri in items:
            if not isinstance(uri, str) or not uri.startswith("spotify:track:"):
                raise ApiError(400, f"Invalid track uri: {str(uri)[:60]}")
            track_id = uri.removeprefix("spotify:track:")
            _check_id(track_id)
            if self.catalog.visible_track(track_id) is None:
                raise ApiError(400, f"Invalid track uri: {uri}")
            track_ids.append(track_id)
        playlist.track_ids.extend(track_ids)
        playlist.snapshot += 1
        return {"snapshot_id": f"sim-snapshot-{playlist.snapshot}"}


# ----- small pure helpers ------------------------------------------------------------------------

_FAULT_STATUS = {"timeout": "timeout", "drop": "dropped"}
_FIELD_FILTER = re.compile(r"\b(artist|album|track|year|genre|upc|tag):", re.IGNORECASE)
_ISRC_FILTER = re.compile(r"\bisrc:\s*([A-Za-z0-9-]+)", re.IGNORECASE)


def _parse_query(q: str) -> tuple[str | None, str]:
    """`isrc:CODE` finds tracks by ISRC; other field filters count as plain words."""
    match = _ISRC_FILTER.search(q)
    if match:
        return match.group(1).replace("-", "").upper(), ""
    return None, _FIELD_FILTER.sub(" ", q)


def _check_id(item_id: str) -> None:
    if not _ID.match(item_id):
        raise ApiError(400, "Invalid base62 id")


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}: {raw[:20]!r} is not a number") from None


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ApiError(400, "Error parsing JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Error parsing JSON: expected an object")
    return body


def _new_playlist_id(catalog: Catalog) -> str:
    return "".join(random.Random(f"playlist|{len(catalog.playlists)}").choices(BASE62, k=22))
