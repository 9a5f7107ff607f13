"""The user's library: the profile (/me), saved tracks, followed artists (cursor-paged)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from esh_tui.sim.accounts import require_user
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.config import SimConfig
from esh_tui.sim.endpoints.params import int_param, objects_for, page_params, paged
from esh_tui.sim.messages import ApiError, Request


def me(catalog: Catalog, config: SimConfig, request: Request) -> dict[str, Any]:
    require_user(request, None)
    user = catalog.user
    objects = objects_for(catalog, config, request)
    return {**objects.owner(user.id, user.display_name), "followers": {"href": None, "total": 3},
            "images": [], "country": "SE", "product": "premium", "email": "listener@sim.invalid",
            "explicit_content": {"filter_enabled": False, "filter_locked": False}}


def saved_tracks(catalog: Catalog, config: SimConfig, request: Request) -> dict[str, Any]:
    require_user(request, "user-library-read")
    limit, offset = page_params(request, 20, 50)
    objects = objects_for(catalog, config, request)
    tracks = [t for t in (catalog.visible_track(i) for i in catalog.user.saved_track_ids) if t]
    page = paged(request, tracks, limit, offset)
    page["items"] = [{"added_at": "2026-01-01T00:00:00Z", "track": objects.track(t)} for t in page["items"]]
    return page


def followed(catalog: Catalog, config: SimConfig, request: Request) -> dict[str, Any]:
    require_user(request, "user-follow-read")
    if request.query.get("type") != "artist":
        raise ApiError(400, "type must be artist")
    limit = int_param(request.query, "limit", 20)
    if not 1 <= limit <= 50:
        raise ApiError(400, "Invalid limit: must be between 1 and 50")
    ids = catalog.user.followed_artist_ids
    after = request.query.get("after")
    start = ids.index(after) + 1 if after in ids else 0
    chunk = ids[start:start + limit]
    objects = objects_for(catalog, config, request)
    cursor_page: dict[str, Any] = {
        "href": f"{request.base}{request.path}?{urlencode(request.query)}",
        "limit": limit,
        "cursors": {},
        "total": len(ids),
        "items": [objects.artist(catalog.artists[i]) for i in chunk],
    }
    if start + limit < len(ids):
        cursor_page["cursors"] = {"after": chunk[-1]}
        cursor_page["next"] = f"{request.base}{request.path}?{urlencode({'type': 'artist', 'after': chunk[-1], 'limit': limit})}"
    return {"artists": cursor_page}
