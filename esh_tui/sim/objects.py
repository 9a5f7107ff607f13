"""Spotify JSON objects for the simulated catalog, shaped per ../shared/spotify-openapi.yml.

Development mode drops what Spotify dropped for development-mode apps:
`popularity` everywhere and `album_group` on artist discographies.

With a market (track relinking applied), a track says whether it `is_playable` there; one that is not
is answered by the same recording on an edition that is (`linked_from` names the one asked for), else
carries `restrictions: {reason: market}`.
"""

from __future__ import annotations

from typing import Any

from esh_tui.sim.catalog import Catalog, SimAlbum, SimArtist, SimPlaylist, SimTrack


class ObjectBuilder:
    def __init__(self, catalog: Catalog, base: str, extended: bool, market: str | None = None):
        self.catalog, self.base, self.extended, self.market = catalog, base, extended, market

    def _link(self, kind: str, item_id: str) -> dict[str, Any]:
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/{kind}/{item_id}"},
            "href": f"{self.base}/{kind}s/{item_id}",
            "id": item_id,
            "type": kind,
            "uri": f"spotify:{kind}:{item_id}",
        }

    # ----- artists -------------------------------------------------------------

    def simple_artist(self, artist: SimArtist) -> dict[str, Any]:
        return {**self._link("artist", artist.id), "name": artist.name}

    def artist(self, artist: SimArtist) -> dict[str, Any]:
        obj = {
            **self.simple_artist(artist),
            "followers": {"href": None, "total": artist.followers},
            "genres": list(artist.genres),
            "images": [{"url": f"https://i.scdn.co/image/sim-{artist.id}", "height": 640, "width": 640}],
        }
        if self.extended:
            obj["popularity"] = artist.popularity
        return obj

    def _artists(self, ids: tuple[str, ...]) -> list[dict[str, Any]]:
        return [self.simple_artist(self.catalog.artists[i]) for i in ids]

    # ----- albums ----------------------------------------------------------------

    def simple_album(self, album: SimAlbum) -> dict[str, Any]:
        return {
            "album_type": album.album_type,
            "total_tracks": len(album.track_ids),
            "available_markets": list(album.markets),
            **self._link("album", album.id),
            "images": [{"url": f"https://i.scdn.co/image/sim-{album.id}", "height": 640, "width": 640}],
            "name": album.name,
            "release_date": album.release_date,
            "release_date_precision": album.precision,
            "artists": self._artists(album.artist_ids),
        }

    def discography_album(self, album: SimAlbum, group: str) -> dict[str, Any]:
        obj = self.simple_album(album)
        if self.extended:
            obj["album_group"] = group
        return obj

    def album(self, album: SimAlbum, tracks_page: dict[str, Any]) -> dict[str, Any]:
        obj = {
            **self.simple_album(album),
            "tracks": tracks_page,
            "copyrights": [{"text": f"℗ {album.date.year} {album.label}", "type": "P"}],
            "external_ids": {"upc": album.upc},
            "genres": [],
            "label": album.label,
        }
        if self.extended:
            obj["popularity"] = album.popularity
        return obj

    # ----- tracks -------------------------------------------------------------------

    def simple_track(self, track: SimTrack) -> dict[str, Any]:
        album = self.catalog.albums[track.album_id]
        playable = album.available_in(self.market)
        obj = {
            "artists": self._artists(track.artist_ids),
            "available_markets": list(album.markets),
            "disc_number": 1,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            **self._link("track", track.id),
            "is_playable": playable,
            "name": track.name,
            "preview_url": None,
            "track_number": track.track_number,
            "is_local": False,
        }
        if not playable:
            obj["restrictions"] = {"reason": "market"}
        return obj

    def track(self, track: SimTrack) -> dict[str, Any]:
        """A full track; with a market where it is not available, relinked when another edition is."""
        if self.market is not None and not self.catalog.albums[track.album_id].available_in(self.market):
            linked = self.catalog.linked_track(track, self.market)
            if linked is not None:
                return {**self.track(linked), "linked_from": self._link("track", track.id)}
        obj = {
            **self.simple_track(track),
            "album": self.simple_album(self.catalog.albums[track.album_id]),
            "external_ids": {"isrc": track.isrc} if track.isrc else {},
        }
        if self.extended:
            obj["popularity"] = track.popularity
        return obj

    # ----- users and playlists -------------------------------------------------------

    def owner(self, user_id: str, display_name: str) -> dict[str, Any]:
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/user/{user_id}"},
            "href": f"{self.base}/users/{user_id}",
            "id": user_id,
            "type": "user",
            "uri": f"spotify:user:{user_id}",
            "display_name": display_name,
        }

    def simple_playlist(self, playlist: SimPlaylist) -> dict[str, Any]:
        items_ref = {"href": f"{self.base}/playlists/{playlist.id}/items", "total": len(playlist.track_ids)}
        return {
            "collaborative": False,
            "description": "",
            **self._link("playlist", playlist.id),
            "images": [],
            "name": playlist.name,
            "owner": self.owner(playlist.owner_id, playlist.owner_name),
            "public": playlist.public,
            "snapshot_id": f"sim-snapshot-{playlist.snapshot}",
            "items": items_ref,
            "tracks": items_ref,
        }

    def playlist(self, playlist: SimPlaylist, items_page: dict[str, Any]) -> dict[str, Any]:
        return {**self.simple_playlist(playlist), "items": items_page, "tracks": items_page,
                "followers": {"href": None, "total": 0}}


def paging(href: str, items: list[Any], limit: int, offset: int, total: int, page_url) -> dict[str, Any]:
    """A Spotify paging object; `page_url(offset)` builds the absolute next/previous links."""
    return {
        "href": href,
        "items": items,
        "limit": limit,
        "next": page_url(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": page_url(max(0, offset - limit)) if offset > 0 else None,
        "total": total,
    }
