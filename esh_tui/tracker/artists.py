"""Turning what a user typed (a name, an ID, a URI, a URL) into a Spotify artist."""

from __future__ import annotations

from esh_tui.models import clean_ref, parse_spotify_ref
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.errors import NotFoundError
from esh_tui.text import clean


class ArtistNotFound(ValueError):
    """The input names no artist; the message says what was tried."""


async def resolve_artist(client: SpotifyClient, ref: str) -> tuple[str, str]:
    """(id, name) for an artist ID, URI, URL or an exact name (the most popular of that name)."""
    text = ref.strip()
    if not text:
        raise ArtistNotFound("an empty line is not an artist")
    try:
        artist_id = parse_spotify_ref(text, "artist")
    except ValueError as exc:
        raise ArtistNotFound(str(exc)) from None
    if artist_id is not None:
        try:
            artist = await client.get(f"/artists/{artist_id}", template="GET /artists/{id}")
        except NotFoundError:
            raise ArtistNotFound(f"Spotify has no artist with id {artist_id}") from None
        return artist_id, str(artist.get("name", ""))
    if len(text) > 200:
        raise ArtistNotFound(f"{clean_ref(text)} is too long for an artist name")
    page = await client.page("/search", {"q": text, "type": "artist"}, template="GET /search", key="artists")
    artists = [a for a in (page or {}).get("items") or [] if isinstance(a, dict) and isinstance(a.get("id"), str)]
    exact = [a for a in artists if str(a.get("name", "")).casefold() == text.casefold()]
    if exact:
        return exact[0]["id"], str(exact[0].get("name", ""))
    if artists:
        hints = ", ".join(f"{clean(a.get('name', ''))} ({a['id']})" for a in artists[:3])
        raise ArtistNotFound(f"no artist is named exactly {clean_ref(text)}; did you mean: {hints}?")
    raise ArtistNotFound(f"Spotify finds no artist named {clean_ref(text)}")
