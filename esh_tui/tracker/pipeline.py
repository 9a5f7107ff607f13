"""Deciding what is new: the release pipeline of ../shared/DESIGN.md over the Spotify client.

This first version is correct in both API modes and uses only endpoints that
exist in development mode; batching, caching and incremental runs build on it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from esh_tui.models import Release, parse_release_date, release_key
from esh_tui.spotify.client import SpotifyClient
from esh_tui.tracker.filters import NoiseFilter

OWN_GROUPS = "album,single,compilation"
PAGE = 10  # the largest page development-mode apps may ask for


@dataclass
class RunResult:
    releases: list[Release]  # newest first
    cutoff: dt.date
    artists: int
    skipped_items: int = 0  # malformed items from the network, skipped and counted
    candidates: dict[str, list[str]] = field(default_factory=dict, repr=False)


def album_date(album: dict[str, Any]) -> dt.date | None:
    try:
        return parse_release_date(album["release_date"], album.get("release_date_precision"))
    except (KeyError, TypeError, ValueError):
        return None


async def find_releases(client: SpotifyClient, artist_ids: Iterable[str], cutoff: dt.date,
                        noise: NoiseFilter | None = None, concurrency: int = 8) -> RunResult:
    noise = noise or NoiseFilter()
    artist_ids = list(dict.fromkeys(artist_ids))
    limit = asyncio.Semaphore(concurrency)
    result = RunResult([], cutoff, len(artist_ids))

    async def bounded(coro):
        async with limit:
            return await coro

    async def candidates_of(artist_id: str) -> list[str]:
        """Track ids on the artist's own in-window, non-noise albums that the artist performs."""
        track_ids = []
        async for album in client.pages(f"/artists/{artist_id}/albums", {"include_groups": OWN_GROUPS, "limit": PAGE},
                                        template="GET /artists/{id}/albums"):
            date = album_date(album)
            if date is None or not isinstance(album.get("id"), str):
                result.skipped_items += 1
                continue
            if date < cutoff or noise.is_noise(str(album.get("name", ""))):
                continue
            async for track in client.pages(f"/albums/{album['id']}/tracks", {"limit": 50},
                                            template="GET /albums/{id}/tracks"):
                performers = {a.get("id") for a in track.get("artists") or [] if isinstance(a, dict)}
                if artist_id in performers and not noise.is_noise(str(track.get("name", ""))) and track.get("id"):
                    track_ids.append(track["id"])
        return track_ids

    per_artist = await asyncio.gather(*(bounded(candidates_of(a)) for a in artist_ids))
    found_for: dict[str, list[str]] = {}
    for artist_id, track_ids in zip(artist_ids, per_artist):
        for track_id in track_ids:
            found_for.setdefault(track_id, []).append(artist_id)

    tracks = await asyncio.gather(*(bounded(client.get(f"/tracks/{t}", template="GET /tracks/{id}")) for t in found_for))
    by_key: dict[str, dict[str, Any]] = {}
    for track in tracks:
        key = release_key((track.get("external_ids") or {}).get("isrc"), track["id"])
        by_key.setdefault(key, track)
        result.candidates.setdefault(key, []).extend(found_for[track["id"]])

    async def earliest_of(key: str, track: dict[str, Any]) -> dict[str, Any] | None:
        isrc = (track.get("external_ids") or {}).get("isrc")
        versions = [track]
        if isrc:
            versions = [v async for v in client.pages("/search", {"q": f"isrc:{isrc}", "type": "track", "limit": PAGE},
                                                      template="GET /search", key="tracks")
                        if (v.get("external_ids") or {}).get("isrc") == isrc] or [track]
        dated = [(album_date(v.get("album") or {}), (v.get("album") or {}).get("id", ""), v.get("id", ""), v) for v in versions]
        dated = [d for d in dated if d[0] is not None]
        if not dated:
            result.skipped_items += 1
            return None
        return min(dated, key=lambda d: d[:3])[3]

    earliest = await asyncio.gather(*(bounded(earliest_of(k, t)) for k, t in by_key.items()))
    for key, version in zip(by_key, earliest):
        if version is None:
            continue
        album = version["album"]
        date = album_date(album)
        if date < cutoff:
            continue  # a re-release: the recording came out before the cutoff
        result.releases.append(Release(
            key=key, isrc=(version.get("external_ids") or {}).get("isrc"), track_id=version["id"],
            track_name=str(version.get("name", "")),
            artist_names=tuple(str(a.get("name", "")) for a in version.get("artists") or []),
            album_id=album["id"], album_name=str(album.get("name", "")), album_type=str(album.get("album_type", "")),
            release_date=date, found_for=tuple(sorted(set(result.candidates[key]))),
        ))
    result.releases.sort(key=lambda r: (r.release_date, r.key), reverse=True)
    return result
