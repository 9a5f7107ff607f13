"""Checking what the network sent before the engine uses it.

Spotify's answers are untrusted: an item with a missing field, a null, a
wrong type, an absurd size or text that is not valid Unicode is skipped (and
counted in `RunResult.skipped_items`), never stored, and the rest of the run
goes on. A malformed page (its `items` not a list, see esh_tui.spotify.paging)
is a bad answer: the artist fails, stays due, and is tried again next run.
"""

from __future__ import annotations

from typing import Any

from esh_tui.models import is_isrc, is_name, is_spotify_id, parse_release_date


def _artists_ok(artists: Any) -> bool:
    return isinstance(artists, list) and all(
        isinstance(a, dict) and is_name(a.get("name")) and (a.get("id") is None or isinstance(a.get("id"), str))
        for a in artists)


def usable_album(album: Any) -> bool:
    """An album object with a Spotify id, a real release date and a name and type fit to keep."""
    if not isinstance(album, dict) or not is_spotify_id(album.get("id")):
        return False
    try:
        parse_release_date(album.get("release_date"), album.get("release_date_precision"))
    except (TypeError, ValueError):
        return False
    return (is_name(album.get("name")) and is_name(album.get("album_type", ""))
            and _artists_ok(album.get("artists", [])))


def usable_track(track: Any) -> bool:
    """A (simplified) track object with a Spotify id, a name and a list of artists fit to keep."""
    return (isinstance(track, dict) and is_spotify_id(track.get("id")) and is_name(track.get("name"))
            and _artists_ok(track.get("artists")))


def track_isrc(track: Any) -> tuple[bool, str | None]:
    """(usable, ISRC) of a full track object: no external ids or no ISRC is a track without one;
    a wrong type or a malformed ISRC makes the track unusable."""
    if not isinstance(track, dict):
        return False, None
    external = track.get("external_ids")
    if external is None:
        return True, None
    if not isinstance(external, dict):
        return False, None
    isrc = external.get("isrc")
    if isrc is None or isrc == "":
        return True, None
    return (True, isrc) if is_isrc(isrc) else (False, None)


def usable_version(version: Any) -> bool:
    """A search result (full track) with an id, a name, artists and a usable album."""
    return usable_track(version) and usable_album(version.get("album"))
