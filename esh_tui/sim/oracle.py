"""What a correct tracker must report, and the fewest API calls a perfect one could spend.

Judged from the catalog's ground truth (which titles are noise, who performs
what), never from the API or the tracker's own title rules. The semantics are
those of ../shared/DESIGN.md:

1. the tracked artist's albums in groups album, single, compilation (never
   appears_on), released on or after the cutoff;
2. minus albums and tracks whose title is noise;
3. minus tracks the artist does not perform;
4. one release per ISRC across the whole run (tracks without an ISRC stand
   alone, keyed by track id);
5. each ISRC dated by its earliest visible release anywhere in the catalog
   (ties broken by album id, then track id): before the cutoff means a
   re-release, dropped; otherwise date and album are the earliest release's.

With a market, "anywhere" is "available in that market": the artist's albums
are the editions available there (one per release), and an ISRC's earliest
release is its earliest edition there. A release not available in the market
is not expected; without a market every market's edition counts.

Given filter settings (`Filters`), the releases shown are those whose earliest
release is of a type asked for (an EP is an album the catalog made as one),
whose track and album are of no version hidden (the catalog's ground truth),
whose titles match no blocked pattern and that no blocked artist performs; with
`appears_on`, step 1 takes the artist's features on other artists' albums too.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from esh_tui.models import Release, release_key
from esh_tui.sim.catalog import Catalog, SimAlbum, SimTrack

OWN_GROUPS = ("album", "single", "compilation")
BATCH_SIZES = {"albums": 20, "tracks": 50}
ALL_TYPES = ("album", "single", "ep", "compilation")


@dataclass(frozen=True)
class Filters:
    """What the user asked to see (the tracker's filter settings, as plain data)."""

    types: frozenset[str] = frozenset(ALL_TYPES)
    appears_on: bool = False
    exclude: frozenset[str] = frozenset()  # versions hidden (remix, sped-up, ...)
    block: tuple[str, ...] = ()  # title patterns (regular expressions, any case)
    block_artists: tuple[str, ...] = ()  # artist names (any case)

    @classmethod
    def like(cls, settings) -> "Filters":
        """The same settings as an object with these five attributes (the tracker's ReleaseFilter), read as data."""
        return cls(frozenset(settings.types), bool(settings.appears_on), frozenset(settings.exclude),
                   tuple(settings.block), tuple(settings.block_artists))

    @property
    def groups(self) -> tuple[str, ...]:
        return (*OWN_GROUPS, "appears_on") if self.appears_on else OWN_GROUPS

    def shows(self, catalog: Catalog, track: SimTrack, album: SimAlbum) -> bool:
        kind = "ep" if album.kind == "ep" else album.album_type
        names = {catalog.artists[a].name.casefold() for a in track.artist_ids}
        return (kind in self.types and not (track.versions | album.versions) & self.exclude
                and not any(re.search(p, title, re.IGNORECASE) for p in self.block for title in (track.name, album.name))
                and not names & {a.casefold() for a in self.block_artists})


NO_FILTER = Filters()


@dataclass
class Knowledge:
    """What an earlier run learned and a perfect tracker would keep."""

    albums_seen: set[str] = field(default_factory=set)
    track_isrcs_known: set[str] = field(default_factory=set)
    isrcs_resolved: set[str] = field(default_factory=set)

    def learn(self, catalog: Catalog, artist_ids: Iterable[str], cutoff: dt.date,
              market: str | None = None, groups: tuple[str, ...] = OWN_GROUPS) -> "Knowledge":
        albums, tracks = _candidates(catalog, artist_ids, cutoff, market, groups)
        self.albums_seen |= set(albums)
        self.track_isrcs_known |= {t.id for t in tracks}
        self.isrcs_resolved |= {t.isrc for t in tracks if t.isrc}
        return self


@dataclass
class CallBound:
    """A lower bound on API calls (token requests excluded), by endpoint template."""

    by_endpoint: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.by_endpoint.values())


def _earliest(catalog: Catalog, track: SimTrack, market: str | None) -> SimTrack:
    if not track.isrc:
        return track
    versions = catalog.isrc_versions(track.isrc, market)
    return min(versions, key=lambda v: (catalog.albums[v.album_id].date, v.album_id, v.id))


def _in_window(catalog: Catalog, artist_id: str, cutoff: dt.date, market: str | None,
               groups: tuple[str, ...] = OWN_GROUPS) -> list[SimAlbum]:
    return [album for album, _ in catalog.artist_albums(artist_id, groups, market) if album.date >= cutoff]


def _candidates(catalog: Catalog, artist_ids: Iterable[str], cutoff: dt.date, market: str | None = None,
                groups: tuple[str, ...] = OWN_GROUPS) -> tuple[dict[str, SimAlbum], list[SimTrack]]:
    """In-window albums (noise included: they are seen, then skipped) and candidate tracks."""
    albums: dict[str, SimAlbum] = {}
    tracks: dict[str, SimTrack] = {}
    for artist_id in artist_ids:
        for album in _in_window(catalog, artist_id, cutoff, market, groups):
            albums[album.id] = album
            if album.noise:
                continue
            for track_id in album.track_ids:
                track = catalog.tracks[track_id]
                if not track.noise and artist_id in track.artist_ids:
                    tracks[track.id] = track
    return albums, list(tracks.values())


def expected_releases(catalog: Catalog, artist_ids: Iterable[str], cutoff: dt.date,
                      market: str | None = None, filters: Filters = NO_FILTER) -> dict[str, Release]:
    """The exact releases a correct tracker reports, keyed by ISRC (or `track:<id>`); with a market, only
    those available there, each dated by its earliest edition there; only those the filters show."""
    artist_ids = list(artist_ids)
    found_for: dict[str, set[str]] = {}
    first_seen: dict[str, SimTrack] = {}
    for artist_id in artist_ids:
        _, tracks = _candidates(catalog, [artist_id], cutoff, market, filters.groups)
        for track in tracks:
            key = release_key(track.isrc, track.id)
            first_seen.setdefault(key, track)
            found_for.setdefault(key, set()).add(artist_id)
    releases: dict[str, Release] = {}
    for key, track in first_seen.items():
        earliest = _earliest(catalog, track, market)
        album = catalog.albums[earliest.album_id]
        if album.date < cutoff or not filters.shows(catalog, earliest, album):
            continue  # a re-release of an older recording, or one the filters hide
        releases[key] = Release(
            key=key, isrc=earliest.isrc, track_id=earliest.id, track_name=earliest.name,
            artist_names=tuple(catalog.artists[a].name for a in earliest.artist_ids),
            album_id=album.id, album_name=album.name, album_type="ep" if album.kind == "ep" else album.album_type,
            release_date=album.date, found_for=tuple(sorted(found_for[key])),
        )
    return releases


def minimum_calls(catalog: Catalog, artist_ids: Iterable[str], cutoff: dt.date, mode: str,
                  known: Knowledge | None = None, market: str | None = None,
                  groups: tuple[str, ...] = OWN_GROUPS) -> CallBound:
    """The fewest API calls a perfect tracker needs for this run, given what it already knows:
    a lower bound for trackers that learn each new ISRC's earliest release by search.

    Per artist, at least one page of its discography, and enough pages to see
    every in-window album it does not know yet. Each new non-noise album needs
    its track list; each new candidate track its ISRC; each new ISRC a search,
    paged until a release before the cutoff shows (a re-release) or all
    versions have been seen. Development mode pages by 10 and has no batch
    endpoints; extended mode pages by 50 and batches albums by 20, tracks by 50.
    With a market, only its editions are listed, read and searched: the bound
    does not grow with the number of editions. `groups`: with appears_on,
    features are listed and read too.
    """
    known = known or Knowledge()
    artist_ids = list(artist_ids)
    extended = mode == "extended"
    page = 50 if extended else 10
    calls: Counter[str] = Counter()
    for artist_id in artist_ids:
        new = [a for a in _in_window(catalog, artist_id, cutoff, market, groups) if a.id not in known.albums_seen]
        calls["GET /artists/{id}/albums"] += max(1, math.ceil(len(new) / page))
    albums, tracks = _candidates(catalog, artist_ids, cutoff, market, groups)
    new_albums = [a for a in albums.values() if a.id not in known.albums_seen and not a.noise]
    new_tracks = [t for t in tracks if t.album_id not in known.albums_seen and t.id not in known.track_isrcs_known]
    if extended:
        calls["GET /albums"] += math.ceil(len(new_albums) / BATCH_SIZES["albums"])
        calls["GET /tracks"] += math.ceil(len(new_tracks) / BATCH_SIZES["tracks"])
    else:
        calls["GET /albums/{id}/tracks"] += sum(max(1, math.ceil(len(a.track_ids) / 50)) for a in new_albums)
        calls["GET /tracks/{id}"] += len(new_tracks)
    isrcs = {t.isrc for t in new_tracks if t.isrc} - known.isrcs_resolved
    calls["GET /search"] += sum(_search_pages(catalog, isrc, cutoff, page, market) for isrc in isrcs)
    return CallBound(+calls)


def _search_pages(catalog: Catalog, isrc: str, cutoff: dt.date, page: int, market: str | None) -> int:
    versions = catalog.isrc_versions(isrc, market)
    for index, version in enumerate(versions):
        if catalog.albums[version.album_id].date < cutoff:
            return index // page + 1
    return max(1, math.ceil(len(versions) / page))
