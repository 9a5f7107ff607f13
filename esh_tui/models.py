"""The things esh-tui talks about: artists, albums, tracks, releases; and release dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

_DATE_FORMS = {  # ASCII digits only, and nothing after (not even a newline)
    "year": re.compile(r"(\d{4})", re.ASCII),
    "month": re.compile(r"(\d{4})-(\d{2})", re.ASCII),
    "day": re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII),
}


def parse_release_date(value: str, precision: str | None = None) -> dt.date:
    """Parse a Spotify release date (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).

    Partial dates mean the first day of their year or month. When `precision`
    is given it must agree with the shape of `value`.
    """
    if not isinstance(value, str):
        raise ValueError(f"release date must be text, got {type(value).__name__}")
    for form, pattern in _DATE_FORMS.items():
        match = pattern.fullmatch(value)
        if match is None:
            continue
        if precision is not None and precision != form:
            raise ValueError(f"release date {value!r} does not have precision {precision!r}")
        parts = [int(p) for p in match.groups()] + [1] * (3 - len(match.groups()))
        try:
            return dt.date(*parts)
        except ValueError:
            raise ValueError(f"release date {value!r} is not a real date") from None
    raise ValueError(f"release date {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")


@dataclass(frozen=True, slots=True)
class TrackedArtist:
    """An artist the user tracks (or tracked: `removed_at`), with what the store knows of its schedule and activity."""

    id: str
    name: str
    source: str  # how it was added: manual, import, playlist, liked songs, followed artists, sample
    added_at: str
    last_checked: float | None = None
    next_due: float | None = None
    listed_back_to: str | None = None  # the artist's album listing is complete from this date to last_checked
    listing_total: int | None = None
    last_release: str | None = None
    releases_per_year: float | None = None
    frequency: str | None = None
    interval_hours: float | None = None
    failed_reason: str | None = None
    partial_back_to: str | None = None  # a scan stopped part way kept finished albums from here on (see Store)
    last_scan_calls: int | None = None  # API calls of the last check that asked Spotify anything (None: not counted)
    total_calls: int | None = None  # API calls of every check counted (from schema 6 on)
    removed_at: float | None = None  # not tracked since then (its knowledge is kept a while; see Store.remove_artists)


@dataclass(frozen=True, slots=True)
class Album:
    id: str
    name: str
    album_type: str
    release_date: dt.date
    artist_ids: tuple[str, ...] = ()
    group: str = "album"  # how the listing it was found in files it: album, single or compilation
    noise: bool = False  # its title is noise: its tracks are not read


@dataclass(frozen=True, slots=True)
class Track:
    id: str
    name: str
    artist_ids: tuple[str, ...]
    album_id: str
    isrc: str | None = None
    artist_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Release:
    """One new recording: the earliest release of its ISRC, on or after the cutoff.

    `key` is the ISRC, or `track:<id>` for a track that has none (it cannot be
    matched across albums, so it stands alone).
    """

    key: str
    isrc: str | None
    track_id: str
    track_name: str
    artist_names: tuple[str, ...]
    album_id: str
    album_name: str
    album_type: str
    release_date: dt.date
    found_for: tuple[str, ...] = field(default=(), compare=False)
    popularity: int | None = field(default=None, compare=False)  # only extended-mode apps still get it

    @property
    def url(self) -> str:
        return f"https://open.spotify.com/track/{self.track_id}"

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.track_id}"

    @property
    def album_url(self) -> str:
        return f"https://open.spotify.com/album/{self.album_id}"

    @property
    def album_uri(self) -> str:
        return f"spotify:album:{self.album_id}"


def release_key(isrc: str | None, track_id: str) -> str:
    return isrc if isrc else f"track:{track_id}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A track an artist's scan found on its own in-window, non-noise albums."""

    key: str
    isrc: str | None
    track_id: str
    album_id: str
    release_date: dt.date


@dataclass(frozen=True, slots=True)
class ScanFindings:
    """What one artist's scan learned, to join what is known: the albums it listed (noise too), the tracks
    whose ISRCs it fetched, its candidates, and how far back its listing is now complete."""

    artist_id: str
    listed_back_to: dt.date
    albums: tuple[Album, ...] = ()
    tracks: tuple[Track, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    listing_total: int | None = None


@dataclass(frozen=True, slots=True)
class Earliest:
    """An ISRC's earliest release, and whether it is exact (all versions were seen) or only an upper bound
    (a version before some cutoff was enough to call it a re-release)."""

    release: Release
    exact: bool


@dataclass(frozen=True, slots=True)
class FoundRelease:
    release: Release
    found_at: float


@dataclass
class Learned:
    """What a run learned beyond its artists' scans: ISRCs' earliest releases, releases found, call records
    (the Spotify client's CallRecords), and the API calls each artist's check spent."""

    earliest: list[Earliest] = field(default_factory=list)
    releases: list[FoundRelease] = field(default_factory=list)
    calls: list[Any] = field(default_factory=list)
    cost: Any = None  # the run's cost so far and since the last write (a rollups.CostUpdate)
    artist_calls: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KnownCapabilities:
    """What an API was found to allow, remembered across runs (None: not found out yet)."""

    batch: bool | None  # batch endpoints exist (extended quota mode)
    page_max: int | None


@dataclass(frozen=True, slots=True)
class RunEnd:
    """How a run ended, as its record keeps it."""

    run_id: int
    status: str
    mode: str
    message: str = ""
    api_calls: int = 0
    releases: int = 0
    new_releases: int = 0
    artists_fetched: int = 0


_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_URI = re.compile(r"^spotify:(?P<kind>[a-z]+):(?P<id>[0-9A-Za-z]{22})$")
_URL = re.compile(r"^https?://open\.spotify\.com/(?:intl-[a-z-]+/)?(?P<kind>[a-z]+)/(?P<id>[0-9A-Za-z]{22})/?(?:[?#].*)?$")


def parse_spotify_ref(value: str, kind: str) -> str | None:
    """The id in a Spotify ID, URI (`spotify:artist:ID`) or URL (`https://open.spotify.com/artist/ID?si=…`).

    None when `value` is none of those (it may be a name to search for);
    ValueError when it is a URI or URL of another kind or a malformed one.
    """
    text = value.strip()
    if _ID.match(text):
        return text
    match = _URI.match(text) or _URL.match(text)
    if match:
        if match["kind"] != kind:
            raise ValueError(f"{clean_ref(text)} is a Spotify {match['kind']}, not an {kind}" if kind[0] in "aeiou"
                             else f"{clean_ref(text)} is a Spotify {match['kind']}, not a {kind}")
        return match["id"]
    if text.startswith(("spotify:", "http://", "https://", "open.spotify.com")):
        raise ValueError(f"{clean_ref(text)} is not a valid Spotify {kind} URI or URL "
                         f"(expected spotify:{kind}:<22-character id> or https://open.spotify.com/{kind}/<id>)")
    return None


# What the network sends is checked before it is used: an item failing these is skipped and counted.
MAX_NAME_LENGTH = 2_000  # no Spotify name is this long; a longer one is garbage, not a name
MAX_COUNT = 10**9  # no listing has this many items; a larger total is garbage
_ISRC = re.compile(r"^[0-9A-Za-z-]{1,24}$")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # a lone surrogate (from a bad JSON escape) cannot be stored or printed


def is_spotify_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def is_name(value: object) -> bool:
    """Text fit to keep and show: a string of sane length that is valid Unicode."""
    return isinstance(value, str) and len(value) <= MAX_NAME_LENGTH and _SURROGATE.search(value) is None


def is_count(value: object) -> bool:
    """A count of items (a page's `total`) fit to keep: a whole number no listing could exceed (a larger one would
    not even fit in an SQLite integer)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def is_popularity(value: object) -> bool:
    """Spotify's popularity: a whole number from 0 to 100 (anything else is garbage, and is not kept)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100


def is_isrc(value: object) -> bool:
    return isinstance(value, str) and _ISRC.fullmatch(value) is not None


def clean_ref(text: str) -> str:
    """A user's input, shortened and made printable for an error message."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return repr(printable if len(printable) <= 80 else printable[:77] + "...")
