"""Playlists: the user's list, creating one, reading its items (own only, in development mode), adding items."""

from __future__ import annotations

import random
from typing import Any

from esh_tui.sim.accounts import require_user
from esh_tui.sim.catalog import BASE62, Catalog, SimPlaylist
from esh_tui.sim.config import SimConfig
from esh_tui.sim.endpoints.params import check_id, json_body, objects_for, page_params, paged
from esh_tui.sim.messages import ApiError, Request


def my_playlists(catalog: Catalog, config: SimConfig, request: Request) -> dict[str, Any]:
    require_user(request, "playlist-read-private")
    limit, offset = page_params(request, 20, 50)
    objects = objects_for(catalog, config, request)
    playlists = list(catalog.playlists.values())
    page = paged(request, playlists, limit, offset)
    page["items"] = [objects.simple_playlist(p) for p in page["items"]]
    return page


def create_playlist(catalog: Catalog, config: SimConfig, request: Request) -> dict[str, Any]:
    user_id = require_user(request, "playlist-modify-private")
    body = json_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "Missing required field: name")
    playlist = SimPlaylist(_new_playlist_id(catalog), name, user_id, catalog.user.display_name,
                           bool(body.get("public", True)))
    catalog.playlists[playlist.id] = playlist
    first_page = _playlist_page(catalog, config, request, playlist, 50, 0)
    return objects_for(catalog, config, request).playlist(playlist, first_page)


def _playlist(catalog: Catalog, item_id: str) -> SimPlaylist:
    check_id(item_id)
    playlist = catalog.playlists.get(item_id)
    if playlist is None:
        raise ApiError(404, "Resource not found")
    return playlist


def _playlist_page(catalog: Catalog, config: SimConfig, request: Request, playlist: SimPlaylist,
                   limit: int, offset: int) -> dict[str, Any]:
    objects = objects_for(catalog, config, request)
    tracks = [t for t in (catalog.visible_track(i) for i in playlist.track_ids) if t]
    page = paged(request, tracks, limit, offset)
    user = objects.owner(playlist.owner_id, playlist.owner_name)
    del user["display_name"]
    page["items"] = [{"added_at": "2026-01-01T00:00:00Z", "added_by": user, "is_local": False,
                      "item": objects.track(t), "track": objects.track(t)} for t in page["items"]]
    return page


def playlist_items(catalog: Catalog, config: SimConfig, request: Request, item_id: str) -> dict[str, Any]:
    playlist = _playlist(catalog, item_id)
    token = request.token
    own = token is not None and token.user_id == playlist.owner_id
    if not config.extended and not own:
        raise ApiError(403, "Forbidden: in development mode only the items of your own playlists can be read")
    if not own and not playlist.public:
        raise ApiError(404, "Resource not found")
    limit, offset = page_params(request, 20, 50)
    return _playlist_page(catalog, config, request, playlist, limit, offset)


def add_items(catalog: Catalog, config: SimConfig, request: Request, item_id: str) -> dict[str, Any]:
    user_id = require_user(request, "playlist-modify-private")
    playlist = _playlist(catalog, item_id)
    if playlist.owner_id != user_id:
        raise ApiError(403, "You cannot add items to a playlist you do not own")
    uris = request.query.get("uris")
    items = uris.split(",") if uris else json_body(request).get("uris")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "Missing required field: uris")
    if len(items) > 100:
        raise ApiError(400, "Too many items: at most 100 per request")
    track_ids = []
    for uri in items:
        if not isinstance(uri, str) or not uri.startswith("spotify:track:"):
            raise ApiError(400, f"Invalid track uri: {str(uri)[:60]}")
        track_id = uri.removeprefix("spotify:track:")
        check_id(track_id)
        if catalog.visible_track(track_id) is None:
            raise ApiError(400, f"Invalid track uri: {uri}")
        track_ids.append(track_id)
    playlist.track_ids.extend(track_ids)
    playlist.snapshot += 1
    return {"snapshot_id": f"sim-snapshot-{playlist.snapshot}"}


def _new_playlist_id(catalog: Catalog) -> str:
    return "".join(random.Random(f"playlist|{len(catalog.playlists)}").choices(BASE62, k=22))
