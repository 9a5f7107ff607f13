"""Catalog reads: artists, an artist's albums, albums and their tracks, tracks, search (ISRC included)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from esh_tui.sim.catalog import GROUP_ORDER, Catalog
from esh_tui.sim.config import SimConfig
from esh_tui.sim.endpoints.params import check_id, objects_for, page_params, paged
from esh_tui.sim.messages import ApiError, Request
from esh_tui.sim.objects import paging

_SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
_FIELD_FILTER = re.compile(r"\b(artist|album|track|year|genre|upc|tag):", re.IGNORECASE)
_ISRC_FILTER = re.compile(r"\bisrc:\s*([A-Za-z0-9-]+)", re.IGNORECASE)


def artist(catalog: Catalog, config: SimConfig, request: Request, item_id: str) -> dict[str, Any]:
    check_id(item_id)
    artist = catalog.artists.get(item_id)
    if artist is None:
        raise ApiError(404, "Resource not found")
    return objects_for(catalog, config, request).artist(artist)


def several_artists(catalog: Catalog, config: SimConfig, request: Request) -> dict[str, Any]:
    objects = objects_for(catalog, config, request)
    return {"artists": [objects.artist(catalog.artists[i]) if i in catalog.artists else None
                        for i in batch_ids(config, request, 50, "artists")]}


def artist_albums(catalog: Catalog, config: SimConfig, request: Request, item_id: str) -> dict[str, Any]:
    check_id(item_id)
    if item_id not in catalog.artists:
        raise ApiError(404, "Resource not found")
    raw_groups = request.query.get("include_groups", "")
    groups = tuple(g.strip() for g in raw_groups.split(",") if g.strip()) or GROUP_ORDER
    bad = [g for g in groups if g not in GROUP_ORDER]
    if bad:
        raise ApiError(400, f"Invalid include_groups value: {bad[0]}")
    limit, offset = page_params(request, 20 if config.extended else 5, config.page_max)
    objects = objects_for(catalog, config, request)
    albums = catalog.artist_albums(item_id, groups, objects.market)
    page = paged(request, albums, limit, offset)
    page["items"] = [objects.discography_album(album, group) for album, group in page["items"]]
    return page


def _visible_album(catalog: Catalog, item_id: str):
    check_id(item_id)
    album = catalog.visible_album(item_id)
    if album is None:
        raise ApiError(404, "Resource not found")
    return album


def _tracks_page(catalog: Catalog, config: SimConfig, request: Request, album,
                 limit: int, offset: int) -> dict[str, Any]:
    objects = objects_for(catalog, config, request)
    tracks = [catalog.tracks[t] for t in album.track_ids]
    base = f"{request.base}/v1/albums/{album.id}/tracks"

    market = {"market": request.query["market"]} if request.query.get("market") else {}

    def page_url(at: int) -> str:
        return f"{base}?{urlencode({'offset': at, 'limit': limit, **market})}"
    page = paging(page_url(offset), tracks[offset:offset + limit], limit, offset, len(tracks), page_url)
    page["items"] = [objects.simple_track(t) for t in page["items"]]
    return page


def _full_album(catalog: Catalog, config: SimConfig, request: Request, album) -> dict[str, Any]:
    """A full album object, with the first 50 of its tracks."""
    return objects_for(catalog, config, request).album(album, _tracks_page(catalog, config, request, album, 50, 0))


def album(catalog: Catalog, config: SimConfig, request: Request, item_id: str) -> dict[str, Any]:
    return _full_album(catalog, config, request, _visible_album(catalog, item_id))


def several_albums(catalog: Catalog, config: SimConfig, request: Request) -> dict[str, Any]:
    out = []
    for item_id in batch_ids(config, request, 20, "albums"):
        album = catalog.visible_album(item_id)
        out.append(_full_album(catalog, config, request, album) if album else None)
    return {"albums": out}


def album_tracks(catalog: Catalog, config: SimConfig, request: Request, item_id: str) -> dict[str, Any]:
    album = _visible_album(catalog, item_id)
    limit, offset = page_params(request, 20, 50)
    return _tracks_page(catalog, config, request, album, limit, offset)


def track(catalog: Catalog, config: SimConfig, request: Request, item_id: str) -> dict[str, Any]:
    check_id(item_id)
    track = catalog.visible_track(item_id)
    if track is None:
        raise ApiError(404, "Resource not found")
    return objects_for(catalog, config, request).track(track)


def several_tracks(catalog: Catalog, config: SimConfig, request: Request) -> dict[str, Any]:
    objects = objects_for(catalog, config, request)
    out = []
    for item_id in batch_ids(config, request, 50, "tracks"):
        track = catalog.visible_track(item_id)
        out.append(objects.track(track) if track else None)
    return {"tracks": out}


def search(catalog: Catalog, config: SimConfig, request: Request) -> dict[str, Any]:
    q = request.query.get("q", "").strip()
    if not q:
        raise ApiError(400, "No search query")
    types = [t.strip() for t in request.query.get("type", "").split(",") if t.strip()]
    if not types:
        raise ApiError(400, "Missing parameter type")
    for kind in types:
        if kind not in _SEARCH_TYPES:
            raise ApiError(400, f"Bad search type field {kind}")
    limit, offset = page_params(request, 20 if config.extended else 5, config.page_max)
    if offset + limit > 1000:
        raise ApiError(400, "Invalid offset: offset + limit must be at most 1000")
    isrc, text = _parse_query(q)
    objects = objects_for(catalog, config, request)
    out: dict[str, Any] = {}
    for kind in types:
        if kind == "track":
            items = catalog.isrc_versions(isrc, objects.market) if isrc else catalog.search_tracks(text, objects.market)
            convert = objects.track
        elif kind == "artist" and not isrc:
            items, convert = catalog.search_artists(text), objects.artist
        elif kind == "album" and not isrc:
            items, convert = catalog.search_albums(text, objects.market), objects.simple_album
        else:
            items, convert = [], None
        page = paged(request, items, limit, offset)
        page["items"] = [convert(i) for i in page["items"]] if convert else []
        out[f"{kind}s"] = page
    return out


def batch_ids(config: SimConfig, request: Request, maximum: int, what: str) -> list[str]:
    """The ids of a "get several" request; those endpoints are gone in development mode."""
    if not config.extended:
        raise ApiError(403, f"Get several {what} is not available to apps in development mode")
    raw = request.query.get("ids", "")
    ids = [i for i in raw.split(",") if i] if raw else []
    if not ids:
        raise ApiError(400, "Missing required parameter: ids")
    if len(ids) > maximum:
        raise ApiError(400, f"Too many ids requested: at most {maximum}")
    for item_id in ids:
        check_id(item_id)
    return ids


def _parse_query(q: str) -> tuple[str | None, str]:
    """`isrc:CODE` finds tracks by ISRC; other field filters count as plain words."""
    match = _ISRC_FILTER.search(q)
    if match:
        return match.group(1).replace("-", "").upper(), ""
    return None, _FIELD_FILTER.sub(" ", q)
