"""Feeds of a run's releases: Atom (feedgen) for feed readers, iCalendar (icalendar) for calendars.

Both are built only from what the releases themselves say (their keys, names, dates and when each was first
found), never from the clock: a run that finds nothing new writes the same bytes, and a reader that polls it
shows nothing twice. Entry ids are URNs of the release key (an ISRC, or the track id of one without);
calendar events are one per album (its tracks listed), their UIDs from the album id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from esh_tui import __version__
from esh_tui.delivery.digest import artist_of, track_link
from esh_tui.files import write_atomically
from esh_tui.models import Release
from esh_tui.text import clean

FEED_ID = "urn:esh-tui:new-releases"
FEED_ENTRIES = 500  # the Atom feed's most recently found releases (a reader keeps what it saw; 500 is ~220 KiB)
FEED_TITLE = "esh-tui: new releases"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _when(at: float | None, release: Release) -> dt.datetime:
    """When a release was first found (whole seconds, UTC); its release day when the store does not say."""
    if at is None:
        return dt.datetime.combine(release.release_date, dt.time(), dt.timezone.utc)
    return dt.datetime.fromtimestamp(int(at), dt.timezone.utc)


def _line(release: Release) -> str:
    album = f" ({clean(release.album_name)})" if release.album_name and release.album_name != release.track_name else ""
    return f"{clean(release.track_name) or '?'}{album}"


def atom(releases: Sequence[Release], names: Mapping[str, str], first_seen: Mapping[str, float]) -> bytes:
    """An Atom feed, one entry per release, newest found first (the FEED_ENTRIES most recently found)."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(FEED_ID)
    feed.title(FEED_TITLE)
    feed.link(href="https://open.spotify.com/", rel="alternate")
    feed.generator("esh-tui", __version__)
    found = {r.key: _when(first_seen.get(r.key), r) for r in releases}
    feed.updated(max(found.values(), default=_EPOCH))
    newest = sorted(releases, key=lambda r: (found[r.key], r.release_date, r.key), reverse=True)[:FEED_ENTRIES]
    for release in newest:
        artist = artist_of(release, names)
        entry = feed.add_entry(order="append")
        entry.id(f"urn:esh-tui:release:{quote(release.key, safe='')}")
        entry.title(f"{artist} — {_line(release)}")
        entry.updated(found[release.key])
        entry.published(dt.datetime.combine(release.release_date, dt.time(), dt.timezone.utc))
        entry.author(name=artist)
        entry.link(href=track_link(release), rel="alternate")
        credited = ", ".join(clean(n) for n in release.artist_names) or artist
        kind = clean(release.album_type) or "release"
        entry.content(f"{credited}: {_line(release)}, {kind} released {release.release_date.isoformat()}",
                      type="text")
    return feed.atom_str(pretty=True)


def ics(releases: Sequence[Release], names: Mapping[str, str], first_seen: Mapping[str, float]) -> bytes:
    """An iCalendar file: one all-day event per album on its release day, its new tracks in the description."""
    import icalendar

    albums: dict[str, list[Release]] = {}
    for release in releases:
        albums.setdefault(release.album_id or release.key, []).append(release)
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//esh-tui//esh-tui {__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", FEED_TITLE)
    for album_id, tracks in sorted(albums.items(), key=lambda item: (item[1][0].release_date, item[0])):
        tracks.sort(key=lambda r: r.key)
        first = tracks[0]
        day = first.release_date
        event = icalendar.Event()
        event.add("uid", f"album-{quote(album_id, safe='')}@esh-tui")
        event.add("dtstamp", max(_when(first_seen.get(r.key), r) for r in tracks))
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        album = clean(first.album_name) or clean(first.track_name) or "?"
        event.add("summary", f"{artist_of(first, names)} — {album}")
        event.add("description", "\n".join(f"{_line(r)}: {track_link(r)}" for r in tracks))
        if first.album_id:
            event.add("url", f"https://open.spotify.com/album/{quote(first.album_id, safe='')}")
        calendar.add_component(event)
    return calendar.to_ical()


WRITERS: dict[str, Callable[[Sequence[Release], Mapping[str, str], Mapping[str, float]], bytes]] = {
    "atom": atom, "ics": ics}


def write_feed(kind: str, path: Path, releases: Sequence[Release], names: Mapping[str, str],
               first_seen: Mapping[str, float]) -> None:
    """Build the feed and replace `path` with it atomically (OSError when it cannot be written)."""
    write_atomically(path, WRITERS[kind](releases, names, first_seen))
