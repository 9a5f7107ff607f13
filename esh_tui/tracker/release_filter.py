"""Which found releases are shown: release types, features on other artists' releases, versions, blocked titles
and artists.

A filter only hides. Every release a run finds is kept in the store whatever the filter says, so changing it shows
or hides releases at once, without asking Spotify again. The one exception is `appears_on`: features are listed
only when asked for (listing them costs calls), so turning it on makes the next run list every artist again.

Spotify files EPs as singles (`album_type` "single"); esh-tui calls a "single" with EP_MIN_TRACKS tracks or more
an EP, after Spotify's own rule for artists (1 to 3 tracks: a single; 4 to 6: an EP; 7 or more, or over 30
minutes: an album, which Spotify then files as one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from esh_tui.models import Release, is_count
from esh_tui.tracker.filters import DEFAULT_NOISE_WORDS, whole_words

RELEASE_TYPES = ("album", "single", "ep", "compilation")
EP_MIN_TRACKS = 4
# Each version filter and the words that mark it in a title (whole words, as the noise words are matched).
VERSIONS: dict[str, tuple[str, ...]] = {
    "sped-up": ("sped up",),
    "slowed": ("slowed",),
    "reverb": ("reverb",),
    "acapella": ("acapella", "a cappella", "acappella", "a capella"),
    "remix": ("remix", "remixes"),
    "radio-edit": ("radio edit",),
    "cover": ("cover",),
}
MAX_PATTERN_LENGTH = 500


class FilterError(ValueError):
    """A filter setting that cannot be used: `what` names it (a pattern, a type), `why` says what is wrong."""

    def __init__(self, what: str, why: str):
        super().__init__(f"{what} {why}")
        self.what, self.why = what, why


def release_type(album: Any) -> str:
    """album, single, ep or compilation, from an album object (an EP: a "single" of EP_MIN_TRACKS tracks or more)."""
    if not isinstance(album, dict):
        return "album"
    kind = str(album.get("album_type", ""))
    tracks = album.get("total_tracks")
    if kind == "single" and is_count(tracks) and tracks >= EP_MIN_TRACKS:
        return "ep"
    return kind


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A title pattern (a regular expression, searched case-insensitively), or FilterError saying why not."""
    if not isinstance(pattern, str) or not pattern:
        raise FilterError(repr(pattern), "is not a pattern: write a regular expression in quotes, like '(?:nightcore)'")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise FilterError(repr(pattern[:40] + "..."), f"is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise FilterError(repr(pattern), f"is not a regular expression ({exc})") from None


def parse_names(values: Iterable[str], known: Iterable[str], what: str) -> frozenset[str]:
    """Names from a list (each may be a comma-separated list), each one of `known`; FilterError names one that is not."""
    known = tuple(known)
    names = set()
    for value in values:
        for name in str(value).split(","):
            name = name.strip().casefold().replace("_", "-")
            if name not in known and name.rstrip("sd") in DEFAULT_NOISE_WORDS:
                raise FilterError(f"{what} {name!r}".strip(), "is a noise word: such versions are always left out "
                                  f"({', '.join(DEFAULT_NOISE_WORDS)})")
            if name not in known:
                raise FilterError(f"{what} {name!r}".strip(), f"is not one of {', '.join(known)}")
            names.add(name)
    return frozenset(names)


@dataclass(frozen=True)
class ReleaseFilter:
    """What to show. The default shows every release the tracker finds (noise is never found: see filters.py)."""

    types: frozenset[str] = frozenset(RELEASE_TYPES)
    appears_on: bool = False  # features on other artists' releases too (listed only then: costs calls)
    exclude: frozenset[str] = frozenset()  # VERSIONS hidden
    block: tuple[str, ...] = ()  # title patterns: a release whose track or album title matches one is hidden
    block_artists: tuple[str, ...] = ()  # artist names (any case): a release any of them performs is hidden
    _compiled: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.types) - set(RELEASE_TYPES) or set(self.exclude) - set(VERSIONS)
        if unknown:
            raise FilterError(repr(sorted(unknown)[0]), "is not a release type or version filter")
        versions = whole_words(w for name in self.exclude for w in VERSIONS[name])
        blocks = tuple(compile_pattern(p) for p in self.block)
        artists = frozenset(name.casefold() for name in self.block_artists)
        object.__setattr__(self, "_compiled", (versions, blocks, artists))

    def keeps(self, release: Release) -> bool:
        versions, blocks, artists = self._compiled
        kind = release.album_type if release.album_type in RELEASE_TYPES else "album"
        titles = (release.track_name, release.album_name)
        return (kind in self.types
                and not (versions and any(versions.search(t) for t in titles))
                and not any(p.search(t) for p in blocks for t in titles)
                and not (artists and any(a.casefold() in artists for a in release.artist_names)))

    def apply(self, releases: Iterable[Release]) -> list[Release]:
        return [r for r in releases if self.keeps(r)]

    @property
    def hides_anything(self) -> bool:
        return (set(self.types) != set(RELEASE_TYPES) or bool(self.exclude) or bool(self.block)
                or bool(self.block_artists))

    def describe(self) -> str:
        """One line: 'types album, single · features · hiding remix, cover · 2 title patterns · 1 artist blocked'."""
        parts = []
        if set(self.types) != set(RELEASE_TYPES):
            parts.append("types " + (", ".join(t for t in RELEASE_TYPES if t in self.types) or "none"))
        if self.appears_on:
            parts.append("features on other artists' releases")
        if self.exclude:
            parts.append("hiding " + ", ".join(v for v in VERSIONS if v in self.exclude))
        if self.block:
            parts.append(f"{len(self.block)} title pattern{'s' if len(self.block) != 1 else ''}")
        if self.block_artists:
            parts.append(f"{len(self.block_artists)} artist{'s' if len(self.block_artists) != 1 else ''} blocked")
        return " · ".join(parts) or "every release"
