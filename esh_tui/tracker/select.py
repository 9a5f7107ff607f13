"""Choosing which releases to show when there are many: `--max-per-artist N`."""

from __future__ import annotations

from collections.abc import Sequence

from esh_tui.models import Release

MAX_PER_ARTIST_HELP = ("show at most N releases per artist: the N newest, or, where Spotify still reports "
                       "popularity (extended-mode apps), the N most popular")


def limit_per_artist(releases: Sequence[Release], limit: int) -> list[Release]:
    """Keep a release if it is among the top `limit` of any artist it was found for; order is kept."""
    by_artist: dict[str, list[Release]] = {}
    for release in releases:
        for artist_id in release.found_for or ("",):
            by_artist.setdefault(artist_id, []).append(release)
    keep: set[str] = set()
    for items in by_artist.values():
        if all(r.popularity is not None for r in items):
            items = sorted(items, key=lambda r: (-r.popularity, -r.release_date.toordinal(), r.key))
        else:
            items = sorted(items, key=lambda r: (-r.release_date.toordinal(), r.key))
        keep.update(r.key for r in items[:limit])
    return [r for r in releases if r.key in keep]
