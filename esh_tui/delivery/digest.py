"""One notification per run: a title with the count, the releases grouped by artist, each with its Spotify link.

Plain text only, every name through `clean` (one printable line: no escape sequences or control characters),
and nothing but names, dates and open.spotify.com links: no token, secret or path ever reaches a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from esh_tui.models import Release
from esh_tui.text import clean

MAX_LISTED = 100  # releases written out in one digest; the rest are counted ("and 12 more")


@dataclass(frozen=True)
class Digest:
    title: str
    body: str
    keys: tuple[str, ...]  # the releases it carries: marked notified once it went out


def track_link(release: Release) -> str:
    return f"https://open.spotify.com/track/{quote(release.track_id, safe='')}"


def artist_of(release: Release, names: Mapping[str, str]) -> str:
    """The tracked artist a release is filed under (the first whose scan has it), else its first credited one:
    a release two tracked artists share is listed once."""
    for artist_id in release.found_for:
        if artist_id in names:
            return clean(names[artist_id]) or "?"
    return clean(release.artist_names[0]) if release.artist_names else "?"


def build_digest(releases: Sequence[Release], names: Mapping[str, str]) -> Digest:
    """The digest of these releases (newest first within each artist; artists by name)."""
    count = len(releases)
    title = f"esh-tui: {count} new release{'s' if count != 1 else ''}"
    by_artist: dict[str, list[Release]] = {}
    for release in releases[:MAX_LISTED]:
        by_artist.setdefault(artist_of(release, names), []).append(release)
    lines = []
    for artist in sorted(by_artist, key=str.casefold):
        lines.append(artist)
        for r in sorted(by_artist[artist], key=lambda r: (r.release_date, r.key), reverse=True):
            album = f" — {clean(r.album_name)}" if r.album_name and r.album_name != r.track_name else ""
            kind = f"{clean(r.album_type)}, " if r.album_type else ""
            lines.append(f"  • {clean(r.track_name) or '?'}{album} ({kind}{r.release_date.isoformat()})")
            lines.append(f"    {track_link(r)}")
        lines.append("")
    if count > MAX_LISTED:
        lines.append(f"and {count - MAX_LISTED} more (esh-tui track shows them all)")
    return Digest(title, "\n".join(lines).rstrip() + "\n", tuple(r.key for r in releases))


TEST_TITLE = "esh-tui: test notification"
TEST_BODY = "This is a test from esh-tui: new releases of the artists you track will come here.\n"
