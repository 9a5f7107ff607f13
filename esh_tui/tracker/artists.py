"""Turning what a user typed (a name, an ID, a URI, a URL) into a Spotify artist."""

from __future__ import annotations

from esh_tui.models import clean_ref, is_name, is_spotify_id, parse_spotify_ref
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.errors import NotFoundError
from esh_tui.text import clean
from esh_tui.spotify.paging import page_items


class ArtistNotFound(ValueError):
    """The input names no artist; the message says what was tried."""


async def resolve_artist(client: SpotifyClient, ref: str) -> tuple[str, str]:
    """(id, name) for an artist ID, URI, URL or an exact name (the most popular of that name)."""
    text = ref.strip()
    if not text:
        raise ArtistNotFound("an empty line is not an artist")
    if not is_name(text) and len(text) <= 200:  # bytes that were not UTF-8 (a lone surrogate escape)
        raise ArtistNotFound(f"{clean_ref(text)} is not valid text (not UTF-8)")
    try:
        artist_id = parse_spotify_ref(text, "artist")
    except ValueError as exc:
        raise ArtistNotFound(str(exc)) from None
    if artist_id is not None:
        try:
            artist = await client.get(f"/artists/{artist_id}", template="GET /artists/{id}")
        except NotFoundError:
            raise ArtistNotFound(f"Spotify has no artist with id {artist_id}") from None
        if not is_name(artist.get("name")):
            raise ArtistNotFound(f"Spotify's answer for artist {artist_id} has no usable name; try again later")
        return artist_id, artist["name"]
    if len(text) > 200:
        raise ArtistNotFound(f"{clean_ref(text)} is too long for an artist name")
    page = await client.page("/search", {"q": text, "type": "artist"}, template="GET /search", key="artists")
    artists = [a for a in page_items(page, "GET /search")
               if isinstance(a, dict) and is_spotify_id(a.get("id")) and is_name(a.get("name"))]
    exact = [a for a in artists if a["name"].casefold() == text.casefold()]
    if exact:
        return exact[0]["id"], exact[0]["name"]
    if artists:
        hints = ", ".join(f"{clean(a.get('name', ''))} ({a['id']})" for a in artists[:3])
        raise ArtistNotFound(f"no artist is named exactly {clean_ref(text)}; did you mean: {hints}?")
    raise ArtistNotFound(f"Spotify finds no artist named {clean_ref(text)}")
