"""Finding artists to track in a user's Spotify: a playlist, liked songs, followed artists."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from esh_tui.files import open_to_read
from esh_tui.models import is_name, is_spotify_id
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.paging import next_link, page_items
from esh_tui.text import clean


def _artists_of(track: Any) -> list[tuple[str, str]]:
    if not isinstance(track, dict) or track.get("type", "track") != "track":
        return []  # episodes and removed tracks carry no artists
    artists = track.get("artists")
    return [(a["id"], a["name"]) for a in artists if isinstance(a, dict)  # unusable ones are skipped
            and is_spotify_id(a.get("id")) and is_name(a.get("name"))] if isinstance(artists, list) else []


async def playlist_artists(client: SpotifyClient, playlist_id: str) -> list[tuple[str, str]]:
    """Every artist on a playlist, in order of first appearance."""
    found: dict[str, str] = {}
    async for item in client.pages(f"/playlists/{playlist_id}/items", {"limit": 50}, template="GET /playlists/{id}/items"):
        for artist_id, name in _artists_of(item.get("item") or item.get("track") if isinstance(item, dict) else None):
            found.setdefault(artist_id, name)
    return list(found.items())


async def liked_artists(client: SpotifyClient, min_tracks: int = 1) -> list[tuple[str, str]]:
    """Artists with at least `min_tracks` liked songs, most liked first."""
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    async for item in client.pages("/me/tracks", {"limit": 50}, template="GET /me/tracks"):
        for artist_id, name in _artists_of(item.get("track") if isinstance(item, dict) else None):
            counts[artist_id] += 1
            names.setdefault(artist_id, name)
    return [(a, names[a]) for a, n in counts.most_common() if n >= min_tracks]


async def followed_artists(client: SpotifyClient) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    url, params = "/me/following", {"type": "artist", "limit": 50}
    while url:
        page = (await client.get(url, params, template="GET /me/following")).get("artists")
        for artist in page_items(page, "GET /me/following"):
            if isinstance(artist, dict) and is_spotify_id(artist.get("id")) and is_name(artist.get("name")):
                found.setdefault(artist["id"], artist["name"])
        url, params = next_link(page), None
    return list(found.items())


MAX_IMPORT_BYTES = 5 * 2**20


class ImportFileError(ValueError):
    """An import file cannot be used; nothing was imported."""


def read_artist_file(name: str) -> list[tuple[int, str]]:
    """(line number, reference) for each artist in a file (`-` for standard input); `#` starts a comment."""
    shown = clean(name)  # on its own: an escape sequence cut short at its end would eat the words after it
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_IMPORT_BYTES + 1)
        else:
            with open_to_read(Path(name)) as handle:
                data = handle.read(MAX_IMPORT_BYTES + 1)
    except FileNotFoundError:
        raise ImportFileError(f"{shown} does not exist") from None
    except IsADirectoryError:
        raise ImportFileError(f"{shown} is a directory, not a file") from None
    except OSError as exc:
        raise ImportFileError(f"cannot read {shown}: {exc.strerror}") from None
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(f"{shown} is larger than {MAX_IMPORT_BYTES // 2**20} MiB; split it")
    if b"\x00" in data:
        raise ImportFileError(f"{shown} is not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(f"{shown} is not UTF-8 text") from None
    refs = [(n, line.split("#", 1)[0].strip()) for n, line in enumerate(text.splitlines(), start=1)]
    refs = [(n, ref) for n, ref in refs if ref]
    if not refs:
        raise ImportFileError(f"{shown} names no artists (one name, ID, URI or URL a line; # starts a comment)")
    return refs
