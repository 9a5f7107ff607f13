"""Playlists: the user's list, creating one, reading its items (own only, in development mode), adding and removing
items (own only; the scope that fits the playlist: playlist-modify-private for a private one, -public for a public
one; at most 100 items a request; each change a new snapshot id)."""

from __future__ import annotations

import itertools
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


MAX_ITEMS_PER_REQUEST = 100


def _modify_scope(public: bool) -> str:
    """Changing a public playlist takes playlist-modify-public, a private one playlist-modify-private."""
    return "playlist-modify-public" if public else "playlist-modify-private"


def create_playlist(catalog: Catalog, config: SimConfig, request: Request) -> dict[str, Any]:
    body = json_body(request)
    public = body.get("public", True)
    if not isinstance(public, bool):
        raise ApiError(400, "Invalid public: must be true or false")
    user_id = require_user(request, _modify_scope(public))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "Missing required field: name")
    playlist = SimPlaylist(_new_playlist_id(catalog), name, user_id, catalog.user.display_name, public)
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


def _own_playlist(catalog: Catalog, request: Request, item_id: str, doing: str) -> SimPlaylist:
    """The playlist a change is asked for: it exists (404), it is the user's own (403 on another user's playlist),
    and the token may change it (403 without the scope)."""
    user_id = require_user(request, None)
    playlist = _playlist(catalog, item_id)
    if playlist.owner_id != user_id:
        raise ApiError(403, f"You cannot {doing} a playlist you do not own")
    require_user(request, _modify_scope(playlist.public))
    return playlist


def add_items(catalog: Catalog, config: SimConfig, request: Request, item_id: str) -> dict[str, Any]:
    playlist = _own_playlist(catalog, request, item_id, "add items to")
    uris = request.query.get("uris")
    items = uris.split(",") if uris else json_body(request).get("uris")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "Missing required field: uris")
    playlist.track_ids.extend(_track_ids(catalog, items))
    return _changed(playlist)


def remove_items(catalog: Catalog, config: SimConfig, request: Request, item_id: str) -> dict[str, Any]:
    """`DELETE /playlists/{id}/items` with `{"items": [{"uri": ...}, ...]}`: every occurrence of each goes."""
    playlist = _own_playlist(catalog, request, item_id, "remove items from")
    items = json_body(request).get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "Missing required field: items")
    if not all(isinstance(item, dict) for item in items):
        raise ApiError(400, "Invalid items: each must be an object with a uri")
    gone = set(_track_ids(catalog, [item.get("uri") for item in items]))
    playlist.track_ids[:] = [t for t in playlist.track_ids if t not in gone]
    return _changed(playlist)


def _track_ids(catalog: Catalog, uris: list[Any]) -> list[str]:
    if len(uris) > MAX_ITEMS_PER_REQUEST:
        raise ApiError(400, f"Too many items: at most {MAX_ITEMS_PER_REQUEST} per request")
    track_ids = []
    for uri in uris:
        if not isinstance(uri, str) or not uri.startswith("spotify:track:"):
            raise ApiError(400, f"Invalid track uri: {str(uri)[:60]}")
        track_id = uri.removeprefix("spotify:track:")
        check_id(track_id)
        if catalog.visible_track(track_id) is None:
            raise ApiError(400, f"Invalid track uri: {uri}")
        track_ids.append(track_id)
    return track_ids


def _changed(playlist: SimPlaylist) -> dict[str, Any]:
    playlist.snapshot += 1
    return {"snapshot_id": f"sim-snapshot-{playlist.snapshot}"}


def _new_playlist_id(catalog: Catalog) -> str:
    """A new id, never one a playlist had before (a deleted one's id stays unknown: 404)."""
    for n in itertools.count(len(catalog.playlists)):
        playlist_id = "".join(random.Random(f"playlist|{n}").choices(BASE62, k=22))
        if playlist_id not in catalog.playlists and playlist_id not in catalog.deleted_playlist_ids:
            return playlist_id
    raise AssertionError("unreachable")  # pragma: no cover
