"""Listing an artist's own albums: newest first, for as few pages as the order allows, stopping at known ones."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from esh_tui.models import is_count, parse_release_date
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.paging import next_link, page_items
from esh_tui.tracker.validate import usable_album

OWN_GROUPS = ("album", "single", "compilation")
FEATURES = "appears_on"  # the group of other artists' albums the artist performs on (listed only when asked for)
ALBUMS_TEMPLATE = "GET /artists/{id}/albums"


@dataclass
class Listing:
    """One artist's album listing as it goes: what is in-window and new, which groups are done, and whether
    an unread album turned up inside what earlier listings claimed to cover (`gap`)."""

    cutoff: dt.date
    known: set[str]
    stop_back_to: dt.date | None  # earlier listings are complete back to here: a known album ends a group
    partial_back_to: dt.date | None = None  # scans stopped part way kept albums from here on: these do not
    # end a group (an unread album may lie beside them), older known ones still do
    found: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # album id -> the group it was listed in
    finished: set[str] = field(default_factory=set)
    gap: bool = False
    skipped: int = 0  # unusable albums (garbage from the network), for the run's count


def album_date(album: dict[str, Any]) -> dt.date | None:
    try:
        return parse_release_date(album["release_date"], album.get("release_date_precision"))
    except (KeyError, TypeError, ValueError):
        return None


def album_group(album: Any) -> str:
    if not isinstance(album, dict):
        return "album"
    group = album.get("album_group") or album.get("album_type")
    return group if group in OWN_GROUPS else "album"


def group_of(album: Any, artist_id: str, groups: tuple[str, ...]) -> str:
    """The group an album is listed in for this artist. With features asked for: appears_on when Spotify says so
    (extended mode) or when the artist is not among the album's artists (development mode sends no album_group)."""
    if FEATURES in groups and isinstance(album, dict):
        artists = album.get("artists")
        ids = {a.get("id") for a in artists if isinstance(a, dict)} if isinstance(artists, list) else set()
        if album.get("album_group") == FEATURES or artist_id not in ids:
            return FEATURES
    return album_group(album)


async def list_albums(client: SpotifyClient, artist_id: str, listing: Listing, previous_total: int | None,
                      by_group: bool = True, groups: tuple[str, ...] = OWN_GROUPS) -> int | None:
    """Find the artist's own in-window albums not known yet (into `listing.found`), for as few pages as
    the order allows; returns the listing's total.

    Spotify lists albums grouped (album, single, compilation), newest first
    in each group. So a group is finished at its first album older than the
    cutoff (or, within what earlier listings covered, already known); the
    first page settles every group it shows before its last one; and when
    the total grew by k since the last scan, listing stops once k new
    albums are found (at once when it did not grow). `groups`: OWN_GROUPS,
    and FEATURES last when features are asked for (Spotify lists them last).
    """
    path = f"/artists/{artist_id}/albums"
    first = await client.page(path, {"include_groups": ",".join(groups)}, template=ALBUMS_TEMPLATE)
    total = first.get("total") if is_count(first.get("total")) else None
    if not by_group:
        await _list_every_album(client, first, listing, artist_id, groups)
        return total
    expected_new = total - previous_total if total is not None and previous_total is not None else None
    seen: Counter[str] = Counter()
    order: list[str] = []
    for album in page_items(first, ALBUMS_TEMPLATE):
        group = group_of(album, artist_id, groups)
        if group not in order:
            order.append(group)
        seen[group] += 1
        take(album, group, listing)
    if next_link(first) is None:
        return total
    for group in groups:
        if expected_new is not None and len(listing.found) >= expected_new:
            break  # every album added since the last scan is accounted for
        if group in listing.finished or (group in order and group != order[-1]):
            continue
        offset = seen[group] if order and group == order[-1] else 0
        page = await client.page(path, {"include_groups": group, "offset": offset}, template=ALBUMS_TEMPLATE)
        while True:
            for album in page_items(page, ALBUMS_TEMPLATE):
                if take(album, group, listing):
                    break
            if (group in listing.finished or not next_link(page)
                    or (expected_new is not None and len(listing.found) >= expected_new)):
                break
            page = await client.get(next_link(page), template=ALBUMS_TEMPLATE)
    return total


async def _list_every_album(client: SpotifyClient, page: dict[str, Any], listing: Listing, artist_id: str,
                            groups: tuple[str, ...]) -> None:
    """Options.listing_cutoff off: every page of the listing, in-window albums kept (the order not relied on)."""
    while True:
        for album in page_items(page, ALBUMS_TEMPLATE):
            if not usable_album(album):
                listing.skipped += 1
            elif album_date(album) >= listing.cutoff and album["id"] not in listing.known:
                listing.found.append(album)
                listing.groups[album["id"]] = group_of(album, artist_id, groups)
        link = next_link(page)
        if link is None:
            return
        page = await client.get(link, template=ALBUMS_TEMPLATE)


def take(album: Any, group: str, listing: Listing) -> bool:
    """Keep an in-window album not known yet; returns True when its group is finished."""
    if group in listing.finished:
        return True
    if not usable_album(album):
        listing.skipped += 1
        return False
    date, known = album_date(album), album["id"] in listing.known
    stop_at_known = listing.stop_back_to is not None
    ends = known and stop_at_known and (listing.partial_back_to is None or date < listing.partial_back_to)
    if date < listing.cutoff or ends:
        listing.finished.add(group)
        if stop_at_known and not known and date >= listing.stop_back_to:
            listing.gap = True  # an album nobody read lies in what was covered: the cover now ends at the cutoff
        return True
    if not known:
        listing.found.append(album)
        listing.groups[album["id"]] = group
    return False
