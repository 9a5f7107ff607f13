"""The offline demo's sample library: twelve artists that look like a person's, cast from the simulated catalog.

The catalog is random on purpose (and keeps its hostile corner for the tests: markup, escape sequences,
newlines in names). A newcomer's first screen should show what esh-tui is good at instead, so the demo picks
artists by what their discographies hold (ground truth, independent of the date) and dresses them with
invented names in several scripts:

- a prolific artist whose deluxe and remastered re-releases show the ISRC logic (old tracks are dropped),
- another prolific one and a newcomer, who release often (one of them has most likely released this week),
- an artist whose single was later bundled on an album (the single counts once, on its first date),
- two artists who share a feature (one release, found for both),
- two quiet ones, with nothing new in years,
- and a few in between.

Only the offline Spotify is dressed (`dress`); `Catalog.generate` stays what the tests and the oracle know.
Album and track titles of the cast that happen to be hostile test strings get plain ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

from esh_tui.sim import names
from esh_tui.sim.catalog import Catalog, SimArtist

# Invented names (no real artist meant), in the order of the roles `_cast` fills.
CAST_NAMES = (
    "Hollow Pines Orchestra",  # prolific, with deluxe and remastered re-releases
    "夜行バス",  # prolific
    "Léa Marchetti",  # a newcomer: a debut this year, more to come
    "Mariana Quiñones",  # a single later bundled on an album
    "Ольга Светлова",  # shares a feature with the next one
    "Søren Ekdahl",
    "رمال زرقاء",  # quiet: nothing new in years
    "The Paper Cranes",  # quiet
    "한여름 소나기",
    "Ömer Kaya Trio",
    "Nightjar Motel",
    "Chloé & the Tidewater",
)
DEMO_ARTISTS = len(CAST_NAMES)
SEASON_DAYS = 120  # a 90-day window on the catalog's first day, and a month to spare; as long after
_UNSHOWABLE = frozenset(names.HOSTILE_NAMES) | frozenset(names.EMOJI_NAMES)


def dress(catalog: Catalog) -> list[str]:
    """Rename the demo's cast in `catalog` (its own dicts: generated data shared with other copies stays as it
    was) and return their ids, in role order."""
    cast = _cast(catalog)
    catalog.artists, catalog.albums, catalog.tracks = dict(catalog.artists), dict(catalog.albums), dict(catalog.tracks)
    for artist_id, name in zip(cast, CAST_NAMES):
        catalog.artists[artist_id] = replace(catalog.artists[artist_id], name=name)
    for album in [a for a in catalog.albums.values() if set(a.artist_ids) & set(cast)]:
        if album.name in _UNSHOWABLE:
            catalog.albums[album.id] = replace(album, name=_plain_title(album.id))
        for track_id in album.track_ids:
            if catalog.tracks[track_id].name in _UNSHOWABLE:
                catalog.tracks[track_id] = replace(catalog.tracks[track_id], name=_plain_title(track_id))
    return cast


def _cast(catalog: Catalog) -> list[str]:
    """Artists for the roles, in `CAST_NAMES` order; a role the catalog cannot fill goes to the next candidate.

    Roles are judged by the albums of the demo's season (`SEASON_DAYS` either side of the day the catalog was
    generated), so the cast is the same whatever day the demo starts.
    """
    season = catalog.start_today - dt.timedelta(days=SEASON_DAYS)
    season_end = catalog.start_today + dt.timedelta(days=SEASON_DAYS)
    kinds: dict[str, set[str]] = {}
    featured_with: dict[str, set[str]] = {}
    for album in (a for a in catalog.albums.values() if season <= a.date <= season_end):
        for artist_id in album.artist_ids:
            kinds.setdefault(artist_id, set()).add(album.kind)
        for track_id in album.track_ids:
            performers = catalog.tracks[track_id].artist_ids
            for artist_id in performers:
                featured_with.setdefault(artist_id, set()).update(set(performers) - {artist_id})
    showable = [a for a in catalog.real_artists() if a.name not in _UNSHOWABLE]
    candidates = [a for a in showable if not any(catalog.artists[i].name in _UNSHOWABLE
                                                 for i in featured_with.get(a.id, ()))]
    picked: list[str] = []

    def pick(test) -> None:
        choice = next((a for a in candidates if a.id not in picked and test(a)), None)
        picked.append((choice or next(a for a in candidates if a.id not in picked)).id)

    def profile(name):
        return lambda a: a.profile == name

    eligible = {a.id for a in candidates}

    def partners(artist_id: str) -> list[SimArtist]:
        return [catalog.artists[b] for b in sorted(featured_with.get(artist_id, ())) if b in eligible and b not in picked]

    pick(lambda a: a.profile == "prolific" and {"deluxe", "remaster"} & kinds.get(a.id, set()))
    pick(profile("prolific"))
    pick(lambda a: a.profile == "new" and len(kinds.get(a.id, ())) > 0)
    pick(lambda a: a.profile == "moderate" and _bundles_a_single(catalog, a, season, season_end))
    pick(lambda a: a.profile == "moderate" and partners(a.id))
    pick(lambda a: a in partners(picked[-1]))
    pick(profile("inactive"))
    pick(profile("inactive"))
    for _ in range(DEMO_ARTISTS - len(picked)):
        pick(lambda a: a.profile == "moderate" and len(kinds.get(a.id, ())) > 0)
    return picked


def _plain_title(object_id: str) -> str:
    """Two words of the catalog's own, the same for the same album or track every time."""
    number = int.from_bytes(hashlib.blake2b(object_id.encode(), digest_size=4).digest(), "big")
    return f"{names.WORDS[number % len(names.WORDS)]} {names.WORDS[number // len(names.WORDS) % len(names.WORDS)]}"


def _bundles_a_single(catalog: Catalog, artist: SimArtist, season: dt.date, season_end: dt.date) -> bool:
    """One of the artist's albums of the season carries a recording first released on one of their singles."""
    singles, albums = set(), []
    for album in catalog.albums.values():
        if album.artist_ids[:1] == (artist.id,) and season <= album.date <= season_end:
            if album.kind == "single":
                singles.update(catalog.tracks[t].isrc for t in album.track_ids)
            elif album.kind == "album":
                albums.append(album)
    singles.discard(None)
    return any(catalog.tracks[t].isrc in singles for album in albums for t in album.track_ids)
