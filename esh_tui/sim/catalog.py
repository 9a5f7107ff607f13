"""A deterministic offline Spotify catalog with the patterns that make release tracking hard.

`Catalog.generate(seed, size, today)` always builds the same catalog for the
same three inputs. Releases are generated up to a year past `today`; only those
dated on or before the catalog's clock are visible, so `advance(days)` makes
new releases appear as they would for a weekly run.

Every album and track carries ground truth the API never shows (`kind`,
`noise`), so the oracle can judge a tracker by facts rather than by re-running
the same title rules the tracker uses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import string
from dataclasses import dataclass, field, replace

from esh_tui.models import parse_release_date
from esh_tui.sim import names

MIN_SIZE, MAX_SIZE = 10, 10_000
HORIZON_DAYS = 365
GROUP_ORDER = ("album", "single", "compilation", "appears_on")
VARIOUS_ARTISTS_NAME = "Various Artists"

BASE62 = string.digits + string.ascii_letters
MARKETS = ("GB", "JP", "SE", "US")  # every market of the simulated world


@dataclass(slots=True)
class SimArtist:
    id: str
    name: str
    profile: str  # prolific | moderate | inactive | new | various
    popularity: int
    followers: int
    genres: tuple[str, ...]


@dataclass(slots=True)
class SimTrack:
    id: str
    name: str
    artist_ids: tuple[str, ...]
    isrc: str | None
    album_id: str
    track_number: int
    duration_ms: int
    explicit: bool
    popularity: int
    noise: bool  # the title carries a noise word (ground truth)
    versions: frozenset[str] = frozenset()  # the version filters its title is for: remix, sped-up... (ground truth)


@dataclass(slots=True)
class SimAlbum:
    id: str
    name: str
    album_type: str  # album | single | compilation
    release_date: str  # as Spotify shows it: YYYY, YYYY-MM or YYYY-MM-DD
    precision: str  # year | month | day
    date: dt.date  # first day of release_date
    artist_ids: tuple[str, ...]
    track_ids: list[str]
    label: str
    popularity: int
    upc: str
    kind: str  # single | ep | album | deluxe | remaster | live | best_of | split | various
    noise: bool  # the title carries a noise word (ground truth)
    markets: tuple[str, ...] = MARKETS  # where this edition is available
    edition_of: str | None = None  # a market edition: the album it is an edition of (same ISRCs, other ids)
    versions: frozenset[str] = frozenset()  # the version filters its title is for (ground truth)

    def available_in(self, market: str | None) -> bool:
        """Available in this market (None: any market, as Spotify answers without one)."""
        return market is None or market in self.markets


@dataclass(slots=True)
class SimPlaylist:
    id: str
    name: str
    owner_id: str
    owner_name: str
    public: bool
    track_ids: list[str] = field(default_factory=list)
    snapshot: int = 1


@dataclass(slots=True)
class SimUser:
    id: str
    display_name: str
    saved_track_ids: list[str]
    followed_artist_ids: list[str]
    country: str = "SE"  # what market=from_token means with this user's token


@dataclass(slots=True, frozen=True)
class _Recording:
    """A recorded performance; every track that carries it shares its ISRC."""

    isrc: str | None
    title: str
    artist_ids: tuple[str, ...]
    explicit: bool
    duration_ms: int
    first_date: dt.date
    noise: bool = False


class Catalog:
    """The whole simulated Spotify: artists, albums, tracks, one user and playlists."""

    def __init__(self, seed: int, size: int, today: dt.date):
        self.seed, self.size, self.start_today, self.today = seed, size, today, today
        self.artists: dict[str, SimArtist] = {}
        self.albums: dict[str, SimAlbum] = {}
        self.tracks: dict[str, SimTrack] = {}
        self.playlists: dict[str, SimPlaylist] = {}
        self.deleted_playlist_ids: frozenset[str] = frozenset()  # rebound, never changed in place (copies share it)
        self._generated_playlist_ids: frozenset[str] = frozenset()
        self.user: SimUser | None = None
        self.various_artists_id = ""
        self._albums_by_artist: dict[str, list[str]] = {}
        self._appears_on_by_artist: dict[str, list[str]] = {}
        self._tracks_by_isrc: dict[str, list[str]] = {}
        self._editions: dict[str, list[str]] = {}  # an album's id → its market editions' (itself included)

    # ----- building -------------------------------------------------------------

    @classmethod
    def generate(cls, seed: int = 1, size: int = 100, today: dt.date | None = None,
                 market_editions: bool = False, versions: bool = False) -> "Catalog":
        """`market_editions`: some albums also come as other market editions (the same ISRCs under other
        album and track ids, each edition with its markets) and some only in a few markets; `versions`: EPs,
        remixes, sped-up, slowed, reverb, acapella, radio-edit and cover versions, and titles that only look
        like one; everything else is the catalog generated without them."""
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(f"catalog size must be {MIN_SIZE} to {MAX_SIZE} artists, got {size}")
        catalog = cls(seed, size, today or dt.date.today())
        _Generator(catalog).run()
        catalog._generated_playlist_ids = frozenset(catalog.playlists)
        if versions:
            _Versions(catalog).run()
        if market_editions:
            _Editions(catalog).run()
        catalog._index()
        return catalog

    def _index(self) -> None:
        self._albums_by_artist.clear()
        self._appears_on_by_artist.clear()
        self._tracks_by_isrc.clear()
        self._editions.clear()
        for album in self.albums.values():
            self._editions.setdefault(album.edition_of or album.id, []).append(album.id)
            for artist_id in album.artist_ids:
                self._albums_by_artist.setdefault(artist_id, []).append(album.id)
            performers = {a for t in album.track_ids for a in self.tracks[t].artist_ids}
            for artist_id in performers - set(album.artist_ids):
                self._appears_on_by_artist.setdefault(artist_id, []).append(album.id)
        for track in self.tracks.values():
            if track.isrc:
                self._tracks_by_isrc.setdefault(track.isrc, []).append(track.id)

    # ----- the clock ------------------------------------------------------------

    def advance(self, days: int) -> None:
        """Move the catalog's clock forward; releases dated up to the new today appear."""
        if days < 0:
            raise ValueError("the catalog clock only moves forward")
        self.today += dt.timedelta(days=days)

    @property
    def generated_playlist_ids(self) -> frozenset[str]:
        """The playlists the catalog was generated with (the rest were made through the API)."""
        return self._generated_playlist_ids

    def delete_playlist(self, playlist_id: str) -> None:
        """The user deletes a playlist (in the app): its id answers 404 from now on and is never given again."""
        self.playlists.pop(playlist_id, None)
        self.deleted_playlist_ids = self.deleted_playlist_ids | {playlist_id}

    def is_visible(self, album: SimAlbum) -> bool:
        return album.date <= self.today

    def visible_album(self, album_id: str) -> SimAlbum | None:
        album = self.albums.get(album_id)
        return album if album is not None and self.is_visible(album) else None

    def visible_track(self, track_id: str) -> SimTrack | None:
        track = self.tracks.get(track_id)
        if track is None or self.visible_album(track.album_id) is None:
            return None
        return track

    def linked_track(self, track: SimTrack, market: str) -> SimTrack | None:
        """Track relinking: the same place on another edition of its album that is available in `market`."""
        album = self.albums[track.album_id]
        original = album.edition_of or album.id
        for other in (self.albums[i] for i in self._editions.get(original, ())):
            if other.available_in(market) and self.is_visible(other) and track.track_number <= len(other.track_ids):
                return self.tracks[other.track_ids[track.track_number - 1]]
        return None

    # ----- queries the API answers ------------------------------------------------

    def artist_albums(self, artist_id: str, groups: tuple[str, ...] = GROUP_ORDER,
                      market: str | None = None) -> list[tuple[SimAlbum, str]]:
        """Visible albums of an artist with their album_group, in Spotify's order:

        grouped as album, single, compilation, appears_on; newest first in a group.
        With a market, only the editions available there (one per release).
        """
        by_group: dict[str, list[SimAlbum]] = {g: [] for g in GROUP_ORDER}
        for album_id in self._albums_by_artist.get(artist_id, ()):
            album = self.albums[album_id]
            if self.is_visible(album) and album.available_in(market):
                by_group[album.album_type].append(album)
        for album_id in self._appears_on_by_artist.get(artist_id, ()):
            album = self.albums[album_id]
            if self.is_visible(album) and album.available_in(market):
                by_group["appears_on"].append(album)
        ordered: list[tuple[SimAlbum, str]] = []
        for group in GROUP_ORDER:
            if group in groups:
                albums = sorted(by_group[group], key=lambda a: (a.date, a.id), reverse=True)
                ordered.extend((a, group) for a in albums)
        return ordered

    def isrc_versions(self, isrc: str, market: str | None = None) -> list[SimTrack]:
        """Visible tracks carrying an ISRC (available in `market`, if one is given), in search order
        (stable, deliberately not by date)."""
        tracks = [t for t in (self.visible_track(i) for i in self._tracks_by_isrc.get(isrc, ()))
                  if t and self.albums[t.album_id].available_in(market)]
        return sorted(tracks, key=lambda t: _stable_hash(t.id))

    def search_artists(self, query: str) -> list[SimArtist]:
        terms = query.casefold().split()
        hits = [a for a in self.artists.values() if all(t in a.name.casefold() for t in terms)]
        exact = query.casefold().strip()
        return sorted(hits, key=lambda a: (a.name.casefold() != exact, -a.popularity, a.id))

    def search_tracks(self, query: str, market: str | None = None) -> list[SimTrack]:
        terms = query.casefold().split()
        hits = []
        for track in self.tracks.values():
            if (all(t in track.name.casefold() for t in terms) and self.visible_track(track.id)
                    and self.albums[track.album_id].available_in(market)):
                hits.append(track)
        return sorted(hits, key=lambda t: (-t.popularity, t.id))

    def search_albums(self, query: str, market: str | None = None) -> list[SimAlbum]:
        terms = query.casefold().split()
        hits = [a for a in self.albums.values() if self.is_visible(a) and a.available_in(market)
                and all(t in a.name.casefold() for t in terms)]
        return sorted(hits, key=lambda a: (-a.popularity, a.id))

    def real_artists(self) -> list[SimArtist]:
        """Every artist a person could track (not the "Various Artists" of compilations)."""
        return [a for a in self.artists.values() if a.profile != "various"]

    def tracked_sample(self, count: int) -> list[str]:
        """A stable sample of artist ids that covers every profile and hostile names."""
        real = self.real_artists()
        picked: list[SimArtist] = []
        for profile in ("prolific", "moderate", "inactive", "new"):
            picked.extend([a for a in real if a.profile == profile][:1])
        picked.extend(a for a in real if a.name in names.HOSTILE_NAMES and a not in picked)
        picked.extend(a for a in real if a not in picked)
        return [a.id for a in picked[:count]]

    def summary(self) -> dict[str, int]:
        visible = [a for a in self.albums.values() if self.is_visible(a)]
        return {
            "artists": len(self.real_artists()),
            "albums": len(visible),
            "tracks": sum(len(a.track_ids) for a in visible),
            "future_albums": len(self.albums) - len(visible),
        }


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class _Generator:
    """Builds one catalog; all randomness comes from one seeded generator."""

    PROFILE_SHARES = (("prolific", 0.08), ("new", 0.15), ("inactive", 0.27), ("moderate", 0.50))

    def __init__(self, catalog: Catalog):
        self.c = catalog
        self.rng = random.Random(f"esh-sim|{catalog.seed}|{catalog.size}|{catalog.start_today.isoformat()}")
        self.today = catalog.start_today
        self.ids: set[str] = set()
        self.isrcs: set[str] = set()
        self.recordings: dict[str, list[_Recording]] = {}
        self.unbundled_singles: dict[str, list[_Recording]] = {}
        self.studio_albums: dict[str, list[SimAlbum]] = {}
        self.registrant: dict[str, str] = {}
        self.real_artist_ids: list[str] = []

    # ----- ids ---------------------------------------------------------------------

    def new_id(self) -> str:
        while True:
            value = "".join(self.rng.choices(BASE62, k=22))
            if value not in self.ids:
                self.ids.add(value)
                return value

    def new_isrc(self, artist_id: str, year: int) -> str | None:
        if self.rng.random() < 0.02:
            return None  # some tracks carry no ISRC at all
        prefix = self.registrant.setdefault(
            artist_id, self.rng.choice(names.COUNTRIES) + "".join(self.rng.choice(string.ascii_uppercase + string.digits) for _ in range(3))
        )
        while True:
            isrc = f"{prefix}{year % 100:02d}{self.rng.randrange(100000):05d}"
            if isrc not in self.isrcs:
                self.isrcs.add(isrc)
                return isrc

    # ----- top level -------------------------------------------------------------------

    def run(self) -> None:
        c, rng = self.c, self.rng
        profiles = []
        for profile, share in self.PROFILE_SHARES:
            profiles += [profile] * max(1, round(share * c.size))
        profiles = (profiles + ["moderate"] * c.size)[: c.size]
        rng.shuffle(profiles)
        used_names: set[str] = set()
        for profile in profiles:
            name = names.artist_name(rng)
            suffix = 2
            base = name
            while name in used_names:
                name, suffix = f"{base} {suffix}", suffix + 1
            used_names.add(name)
            artist = SimArtist(
                id=self.new_id(), name=name, profile=profile,
                popularity=self.popularity(profile), followers=rng.randrange(10, 5_000_000),
                genres=tuple(rng.sample(names.GENRES, rng.randint(0, 2))),
            )
            c.artists[artist.id] = artist
        various = SimArtist(self.new_id(), VARIOUS_ARTISTS_NAME, "various", 50, 0, ())
        c.artists[various.id] = various
        c.various_artists_id = various.id
        self.real_artist_ids = [a.id for a in c.artists.values() if a.profile != "various"]
        for artist in list(c.artists.values()):
            if artist.profile != "various":
                self.discography(artist)
        self.various_compilations()
        self.user_library()

    def popularity(self, profile: str) -> int:
        low, high = {"prolific": (50, 95), "moderate": (20, 70), "inactive": (5, 50), "new": (0, 40)}[profile]
        return self.rng.randint(low, high)

    def timeline(self, profile: str) -> list[dt.date]:
        rng, today = self.rng, self.today
        if profile == "prolific":
            start, end, count = -365 * rng.uniform(4, 10), HORIZON_DAYS, rng.randint(100, 300)
        elif profile == "moderate":
            start, end, count = -365 * rng.uniform(3, 15), rng.uniform(120, HORIZON_DAYS), rng.randint(8, 40)
        elif profile == "inactive":
            start = -365 * rng.uniform(8, 25)
            end, count = -365 * rng.uniform(2, 8), rng.randint(3, 20)
        else:  # new: a debut in the last five months, more to come
            start, end, count = -rng.uniform(5, 150), HORIZON_DAYS, rng.randint(2, 8)
        offsets = sorted([start] + [rng.uniform(start, end) for _ in range(count - 1)])
        return [today + dt.timedelta(days=int(o)) for o in offsets]

    # ----- one artist --------------------------------------------------------------------

    def discography(self, artist: SimArtist) -> None:
        rng = self.rng
        self.recordings.setdefault(artist.id, [])
        self.unbundled_singles.setdefault(artist.id, [])
        self.studio_albums.setdefault(artist.id, [])
        for when in self.timeline(artist.profile):
            roll = rng.random()
            earlier = [a for a in self.studio_albums[artist.id] if (when - a.date).days > 60]
            if roll < 0.62 or (artist.profile == "new" and roll < 0.8):
                self.single(artist, when)
            elif roll < 0.84 or not earlier:
                self.album(artist, when)
            elif roll < 0.88:
                self.deluxe(artist, when, rng.choice(earlier))
            elif roll < 0.91:
                self.remaster(artist, when, rng.choice(earlier))
            elif roll < 0.94:
                self.live(artist, when, rng.choice(earlier))
            elif roll < 0.97:
                self.best_of(artist, when)
            else:
                self.split(artist, when)

    def featured_artist(self, artist: SimArtist) -> str | None:
        if self.rng.random() >= 0.12:
            return None
        other = self.rng.choice(self.real_artist_ids)
        return other if other != artist.id else None

    def new_recording(self, artist: SimArtist, when: dt.date, title: str | None = None,
                      with_feature: bool = True, noise: bool = False) -> _Recording:
        rng = self.rng
        featured = self.featured_artist(artist) if with_feature else None
        artist_ids = (artist.id, featured) if featured else (artist.id,)
        recording = _Recording(
            self.new_isrc(artist.id, when.year), title or names.title(rng), artist_ids,
            rng.random() < 0.2, rng.randint(95_000, 330_000), when, noise,
        )
        self.recordings.setdefault(artist.id, []).append(recording)
        return recording

    def release_date(self, when: dt.date, may_be_partial: bool) -> tuple[str, str, dt.date]:
        """Spotify-style date; old originals sometimes only carry a year or a month."""
        roll = self.rng.random()
        old = (self.today - when).days > 3 * 365
        if may_be_partial and old and roll < 0.15:
            text, precision = f"{when.year:04d}", "year"
        elif may_be_partial and ((old and roll < 0.25) or (when <= self.today and roll < 0.08)):
            text, precision = f"{when.year:04d}-{when.month:02d}", "month"
        else:
            text, precision = when.isoformat(), "day"
        return text, precision, parse_release_date(text, precision)

    def add_album(self, artist_ids: tuple[str, ...], when: dt.date, name: str, album_type: str, kind: str,
                  tracks: list[_Recording], noise: bool = False, may_be_partial: bool = False) -> SimAlbum:
        rng = self.rng
        text, precision, date = self.release_date(when, may_be_partial)
        album = SimAlbum(
            id=self.new_id(), name=name, album_type=album_type, release_date=text, precision=precision,
            date=date, artist_ids=artist_ids, track_ids=[], label=rng.choice(names.LABELS),
            popularity=rng.randint(0, 90), upc=f"{rng.randrange(10**12):012d}", kind=kind, noise=noise,
        )
        for number, r in enumerate(tracks, start=1):
            track = SimTrack(
                id=self.new_id(), name=r.title, artist_ids=r.artist_ids, isrc=r.isrc, album_id=album.id,
                track_number=number, duration_ms=r.duration_ms, explicit=r.explicit,
                popularity=rng.randint(0, 100), noise=r.noise,
            )
            self.c.tracks[track.id] = track
            album.track_ids.append(track.id)
        self.c.albums[album.id] = album
        return album

    def single(self, artist: SimArtist, when: dt.date) -> None:
        rng = self.rng
        main = self.new_recording(artist, when)
        album_artists = (artist.id,)
        if len(main.artist_ids) == 2 and rng.random() < 0.5:  # a collaboration credited to both artists
            album_artists = main.artist_ids
        tracks = [main]
        if rng.random() < 0.06:  # the instrumental B-side: a new recording whose title is noise
            tracks.append(self.new_recording(artist, when, f"{main.title} - Instrumental", with_feature=False, noise=True))
        elif rng.random() < 0.3:
            tracks.append(self.new_recording(artist, when))
        self.add_album(album_artists, when, main.title, "single", "single", tracks, may_be_partial=True)
        if main.isrc:
            self.unbundled_singles[artist.id].append(main)

    def album(self, artist: SimArtist, when: dt.date) -> None:
        rng = self.rng
        recent = [r for r in self.unbundled_singles[artist.id] if (when - r.first_date).days < 400]
        bundled = recent[-rng.randint(1, 3):] if recent and rng.random() < 0.7 else []
        for recording in bundled:
            self.unbundled_singles[artist.id].remove(recording)
        count = rng.randint(8, 14)
        tracks = list(bundled) + [self.new_recording(artist, when) for _ in range(max(1, count - len(bundled)))]
        rng.shuffle(tracks)
        if rng.random() < 0.12:  # a demo or commentary tucked at the end
            word = rng.choice(("Demo", "Commentary", "Karaoke Version"))
            tracks.append(self.new_recording(artist, when, f"{names.title(rng)} ({word})", with_feature=False, noise=True))
        album = self.add_album((artist.id,), when, names.title(rng), "album", "album", tracks, may_be_partial=True)
        self.studio_albums[artist.id].append(album)

    def base_recordings(self, base: SimAlbum) -> list[_Recording]:
        return [
            _Recording(t.isrc, t.name, t.artist_ids, t.explicit, t.duration_ms, base.date, t.noise)
            for t in (self.c.tracks[i] for i in base.track_ids)
        ]

    def deluxe(self, artist: SimArtist, when: dt.date, base: SimAlbum) -> None:
        """Old recordings (old ISRCs, new date) plus a few genuinely new bonus tracks."""
        rng = self.rng
        tracks = self.base_recordings(base)
        tracks += [self.new_recording(artist, when) for _ in range(rng.randint(1, 4))]
        suffix = rng.choice(("Deluxe Edition", "Expanded Edition", "Deluxe", "Anniversary Edition"))
        self.add_album((artist.id,), when, f"{base.name} ({suffix})", "album", "deluxe", tracks)

    def remaster(self, artist: SimArtist, when: dt.date, base: SimAlbum) -> None:
        year = when.year
        tracks = [replace(r, title=f"{r.title} - Remastered {year}", noise=True) for r in self.base_recordings(base)]
        form = self.rng.choice(("{name} (Remastered {year})", "{name} ({year} Remaster)", "{name} [Remastered]"))
        self.add_album((artist.id,), when, form.format(name=base.name, year=year), "album", "remaster", tracks, noise=True)

    def live(self, artist: SimArtist, when: dt.date, base: SimAlbum) -> None:
        """A live album is new recordings (new ISRCs) of old songs; its title marks it."""
        rng = self.rng
        songs = self.base_recordings(base)[: rng.randint(4, 10)]
        plain = rng.random() < 0.5  # only the album title says "live"
        tracks = [self.new_recording(artist, when, s.title if plain else f"{s.title} - Live", with_feature=False,
                                     noise=not plain) for s in songs]
        place = rng.choice((f"Live at {rng.choice(names.VENUES)}", f"Live in {rng.choice(names.CITIES)}",
                            f"{base.name} (Live)", "Lives"))
        self.add_album((artist.id,), when, place, "album", "live", tracks, noise=True)

    def best_of(self, artist: SimArtist, when: dt.date) -> None:
        """An artist's own compilation: old ISRCs, and now and then one new song."""
        rng = self.rng
        pool = [r for r in self.recordings[artist.id] if r.isrc and r.first_date < when]
        tracks = rng.sample(pool, min(len(pool), rng.randint(6, 14)))
        if not tracks or rng.random() < 0.4:
            tracks.append(self.new_recording(artist, when))
        self.add_album((artist.id,), when, rng.choice(names.BEST_OF), "compilation", "best_of", tracks)

    def split(self, artist: SimArtist, when: dt.date) -> None:
        """A compilation shared with another artist: half the tracks are not this artist's."""
        rng = self.rng
        partner_id = rng.choice(self.real_artist_ids)
        if partner_id == artist.id:
            return self.single(artist, when)
        partner = self.c.artists[partner_id]
        mine = [self.new_recording(artist, when, with_feature=False) for _ in range(rng.randint(2, 4))]
        theirs = [self.new_recording(partner, when, with_feature=False) for _ in range(rng.randint(2, 4))]
        tracks = mine + theirs
        rng.shuffle(tracks)
        self.add_album((artist.id, partner.id), when, f"{names.title(rng)} Split", "compilation", "split", tracks)

    def various_compilations(self) -> None:
        """Various-artists compilations: old recordings again, a few hits on many of them."""
        c, rng = self.c, self.rng
        pool = [r for recs in self.recordings.values() for r in recs if r.isrc]
        if not pool:
            return
        hits = rng.sample(pool, min(len(pool), max(3, c.size // 25)))
        for _ in range(max(16, c.size // 4)):
            when = self.today + dt.timedelta(days=rng.randint(-3650, HORIZON_DAYS))
            candidates = [h for h in hits if h.first_date < when and rng.random() < 0.8]
            candidates += [r for r in rng.sample(pool, min(len(pool), 30)) if r.first_date < when]
            tracks = list({r.isrc: r for r in candidates}.values())[: rng.randint(8, 20)]
            if tracks:
                name = rng.choice((f"Hits of {when.year}", f"Summer {when.year}", "Late Night Drive", "Chill Essentials"))
                self.add_album((c.various_artists_id,), when, name, "compilation", "various", tracks)

    def user_library(self) -> None:
        """One simulated listener: saved tracks, followed artists, own playlists and a curated one."""
        c, rng = self.c, self.rng
        visible = [t for t in c.tracks.values() if c.albums[t.album_id].date <= self.today and not t.noise]
        favourite_artists = rng.sample([a for a in c.artists if c.artists[a].profile != "various"], min(12, c.size))
        favourite_tracks = [t for t in visible if t.artist_ids[0] in favourite_artists]
        saved = rng.sample(favourite_tracks, min(len(favourite_tracks), 120))
        saved += rng.sample(visible, min(len(visible), 60))
        saved_ids = list(dict.fromkeys(t.id for t in saved))
        followed = rng.sample([a for a in c.artists if c.artists[a].profile != "various"], min(25, c.size))
        c.user = SimUser(id="esh-sim-listener", display_name="Sim Listener",
                         saved_track_ids=saved_ids, followed_artist_ids=followed)
        for name, owner_id, owner_name, public, count in (
            ("Road Trip", c.user.id, c.user.display_name, False, 40),
            ("Focus", c.user.id, c.user.display_name, True, 25),
            ("New Music Friday", "spotify", "Spotify", True, 50),
        ):
            playlist = SimPlaylist(self.new_id(), name, owner_id, owner_name, public,
                                   [t.id for t in rng.sample(visible, min(len(visible), count))])
            c.playlists[playlist.id] = playlist


class _Editions:
    """Market editions, added to a generated catalog with randomness of their own (so the rest stays as it was).

    A quarter of the albums come in two or three market editions that share out the markets: the same
    recordings (ISRCs) under another album id and other track ids, on the same day; now and then the
    Japanese edition carries a bonus track found nowhere else. Some albums are only in a few markets.
    """

    EDITIONS, RESTRICTED, BONUS = 0.25, 0.08, 0.3

    def __init__(self, catalog: Catalog):
        self.c = catalog
        self.rng = random.Random(f"esh-sim-editions|{catalog.seed}|{catalog.size}|{catalog.start_today.isoformat()}")
        self.ids = {*catalog.artists, *catalog.albums, *catalog.tracks, *catalog.playlists}
        self.isrcs = {t.isrc for t in catalog.tracks.values() if t.isrc}

    def new_id(self) -> str:
        while (value := "".join(self.rng.choices(BASE62, k=22))) in self.ids:
            pass
        self.ids.add(value)
        return value

    def run(self) -> None:
        rng = self.rng
        for album in list(self.c.albums.values()):
            roll = rng.random()
            markets = rng.sample(MARKETS, len(MARKETS))
            if roll < self.EDITIONS:
                cuts = sorted(rng.sample(range(1, len(MARKETS)), rng.choice((1, 1, 2))))
                shares = [tuple(sorted(markets[a:b])) for a, b in zip([0, *cuts], [*cuts, len(MARKETS)])]
                album.markets = shares[0]
                for share in shares[1:]:
                    self.edition(album, share)
            elif roll < self.EDITIONS + self.RESTRICTED:
                album.markets = tuple(sorted(markets[:rng.randint(1, len(MARKETS) - 1)]))

    def edition(self, album: SimAlbum, markets: tuple[str, ...]) -> None:
        rng, c = self.rng, self.c
        edition = replace(album, id=self.new_id(), track_ids=[], upc=f"{rng.randrange(10**12):012d}",
                          markets=markets, edition_of=album.id)
        for track_id in album.track_ids:
            track = replace(c.tracks[track_id], id=self.new_id(), album_id=edition.id)
            c.tracks[track.id] = track
            edition.track_ids.append(track.id)
        if "JP" in markets and album.kind in ("single", "album", "deluxe") and rng.random() < self.BONUS:
            bonus = SimTrack(self.new_id(), f"{names.title(rng)} (Bonus Track)", album.artist_ids[:1], self.new_isrc(album),
                             edition.id, len(edition.track_ids) + 1, rng.randint(95_000, 330_000),
                             rng.random() < 0.2, rng.randint(0, 100), noise=False)
            c.tracks[bonus.id] = bonus
            edition.track_ids.append(bonus.id)
        c.albums[edition.id] = edition

    def new_isrc(self, album: SimAlbum) -> str:
        while (isrc := f"JPESH{album.date.year % 100:02d}{self.rng.randrange(100000):05d}") in self.isrcs:
            pass
        self.isrcs.add(isrc)
        return isrc


class _Versions:
    """Releases the version filters are about, added with randomness of their own (so the rest stays as it was).

    Around now, a third of the artists put out: EPs (Spotify's "single" of 4 to 6 tracks), remix EPs, sped-up,
    slowed + reverb, acapella, radio-edit and cover singles (the word in the album title, the track title or
    both), and singles whose titles only look like one ("Coverage", "Undercover", "Remixer"). Each title's
    versions are ground truth: the oracle never reads a title to tell them.
    """

    SHARE = 0.35
    TRAPS = ("Coverage", "Undercover", "Remixer", "Speed Of Light", "Slow Motion", "Reverberation", "Radio Days",
             "Edit Suite", "Capella Nights", "Remixology")
    SINGLES = (  # album title form, track title form, versions
        ("{t} (Sped Up)", "{t} - Sped Up", {"sped-up"}),
        ("{t}", "{t} (Sped-Up Version)", {"sped-up"}),
        ("{t} (Slowed + Reverb)", "{t} - Slowed + Reverb", {"slowed", "reverb"}),
        ("{t} (Slowed)", "{t}", {"slowed"}),
        ("{t}", "{t} (Reverbed)", {"reverb"}),
        ("{t} (Acapella)", "{t} - Acapella", {"acapella"}),
        ("{t}", "{t} (A Cappella)", {"acapella"}),
        ("{t} (Radio Edit)", "{t} - Radio Edit", {"radio-edit"}),
        ("{t} (Cover)", "{t}", {"cover"}),
        ("{t}", "{t} - Covered", {"cover"}),
        ("{t} (Remix)", "{t} - Remix", {"remix"}),
    )

    def __init__(self, catalog: Catalog):
        self.c = catalog
        self.rng = random.Random(f"esh-sim-versions|{catalog.seed}|{catalog.size}|{catalog.start_today.isoformat()}")
        self.ids = {*catalog.artists, *catalog.albums, *catalog.tracks, *catalog.playlists}
        self.isrcs = {t.isrc for t in catalog.tracks.values() if t.isrc}
        self.real = [a.id for a in catalog.real_artists()]
        self.singles = self.traps = 0

    def new_id(self) -> str:
        while (value := "".join(self.rng.choices(BASE62, k=22))) in self.ids:
            pass
        self.ids.add(value)
        return value

    def new_isrc(self, when: dt.date) -> str:
        while (isrc := f"QZVER{when.year % 100:02d}{self.rng.randrange(100000):05d}") in self.isrcs:
            pass
        self.isrcs.add(isrc)
        return isrc

    def run(self) -> None:
        rng = self.rng
        for artist_id in self.real:
            if rng.random() >= self.SHARE:
                continue
            for _ in range(rng.randint(1, 3)):
                when = self.c.start_today + dt.timedelta(days=rng.randint(-200, 60))
                roll = rng.random()
                if roll < 0.2:
                    self.ep(artist_id, when, remixes=False)
                elif roll < 0.35:
                    self.ep(artist_id, when, remixes=True)
                elif roll < 0.85:  # each form in turn, so that even a small catalog has every version
                    album_form, track_form, versions = self.SINGLES[self.singles % len(self.SINGLES)]
                    self.singles += 1
                    title = " ".join(rng.sample(names.WORDS, 2))
                    album_versions = versions if "(" in album_form else frozenset()
                    track_versions = versions if track_form != "{t}" else frozenset()
                    self.add(artist_id, when, album_form.format(t=title), "single", "single",
                             [(track_form.format(t=title), track_versions)], album_versions)
                else:
                    title = self.TRAPS[self.traps % len(self.TRAPS)]
                    self.traps += 1
                    self.add(artist_id, when, title, "single", "single", [(title, frozenset())], frozenset())

    def ep(self, artist_id: str, when: dt.date, remixes: bool) -> None:
        rng = self.rng
        title = " ".join(rng.sample(names.WORDS, 2))
        count = rng.randint(4, 6)
        if remixes:
            tracks = [(f"{title} - {rng.choice(names.WORDS)} Remix", frozenset({"remix"})) for _ in range(count)]
            self.add(artist_id, when, f"{title} (Remixes)", "single", "ep", tracks, frozenset({"remix"}))
        else:
            tracks = [(" ".join(rng.sample(names.WORDS, 2)), frozenset()) for _ in range(count)]
            self.add(artist_id, when, f"{title} EP", "single", "ep", tracks, frozenset())

    def add(self, artist_id: str, when: dt.date, name: str, album_type: str, kind: str,
            tracks: list[tuple[str, frozenset[str]]], versions: frozenset[str]) -> None:
        rng, c = self.rng, self.c
        featured = rng.choice(self.real) if rng.random() < 0.25 else artist_id  # a feature: appears_on for them
        album = SimAlbum(self.new_id(), name, album_type, when.isoformat(), "day", when, (artist_id,), [],
                         rng.choice(names.LABELS), rng.randint(0, 90), f"{rng.randrange(10**12):012d}", kind, False,
                         versions=frozenset(versions))
        for number, (title, track_versions) in enumerate(tracks, start=1):
            performers = (artist_id, featured) if featured != artist_id and number == 1 else (artist_id,)
            track = SimTrack(self.new_id(), title, performers, self.new_isrc(when), album.id, number,
                             rng.randint(95_000, 330_000), rng.random() < 0.2, rng.randint(0, 100), False,
                             frozenset(track_versions))
            c.tracks[track.id] = track
            album.track_ids.append(track.id)
        c.albums[album.id] = album
