"""The oracle agrees with a deliberately naive client that follows DESIGN.md literally.

`NaiveClient` below knows nothing of the catalog: it talks to the simulator
through the HTTP API only (single-item endpoints and pages of 10, so it works
in both API modes) and applies the rules of "The job, precisely" one by one,
with its own title regex. The oracle judges from the catalog's ground truth
instead. Two independent routes to the same answer: when they disagree, one
of them misreads the design.

Catalogs are built once per seed and their clock is never advanced; the tests
that advance a clock build their own.
"""

from __future__ import annotations

import collections
import datetime as dt
import re
from dataclasses import dataclass, field

import httpx
import pytest

from esh_tui.models import parse_release_date
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.transport import SimTransport

from conftest import catalog_copy

TODAY = dt.date(2026, 11, 23)
SIZE = 30
SEEDS = (1, 2, 3)
MODES = ("development", "extended")
CUTOFF_DAYS = (30, 90, 365)
# "Dozens of releases": the fewest a run must report for the comparison to mean something.
MIN_RELEASES = {30: 10, 90: 40, 365: 150}
API = "https://api.spotify.com/v1"
TOKEN_URL = "https://accounts.spotify.com/api/token"
PAGE = 10  # the development-mode maximum; extended mode accepts it too

# Whole words and their -s/-ed forms, case-insensitive: "Live at X", "Remastered
# 2011", "Demos", "Lives", "(Karaoke Version)" are noise; "Alive", "Demons",
# "Oliver", "Delivery", "Livewire", "Instrumentalist" are not.
NOISE = re.compile(
    r"\b(?:"
    r"live[sd]?"
    r"|remaster(?:s|ed)?"
    r"|demo(?:s|ed)?"
    r"|commentar(?:y|ys|ies|ied)"
    r"|instrumental(?:s|ed)?"
    r"|karaoke[sd]?"
    r")\b",
    re.IGNORECASE,
)


def is_noise(title: str) -> bool:
    return NOISE.search(title) is not None


def cutoff_for(today: dt.date, days: int) -> dt.date:
    return today - dt.timedelta(days=days)


# ----- the naive reference client -------------------------------------------------------


@dataclass(frozen=True)
class RefRelease:
    key: str
    track_id: str
    album_id: str
    release_date: dt.date


@dataclass
class Trace:
    """What the naive client saw and threw away, to show the data exercises every rule."""

    albums_listed: int = 0
    albums_in_window: dict[str, str] = field(default_factory=dict)  # album id -> release date as shown
    noise_albums: list[str] = field(default_factory=list)
    noise_tracks: list[str] = field(default_factory=list)
    other_artist_tracks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # track id -> its performers
    partial_dates: set[str] = field(default_factory=set)  # album ids dated YYYY or YYYY-MM, anywhere
    partial_in_window: set[str] = field(default_factory=set)  # ... among albums kept by the cutoff
    partial_earliest: set[str] = field(default_factory=set)  # keys whose earliest version has a partial date
    no_isrc_tracks: list[str] = field(default_factory=list)
    duplicate_keys: int = 0  # candidates whose ISRC an earlier candidate already had
    shared_keys: set[str] = field(default_factory=set)  # keys found for more than one tracked artist
    rereleases: list[str] = field(default_factory=list)  # ISRCs dropped: earliest version before the cutoff
    redated: list[str] = field(default_factory=list)  # kept, but dated by an earlier version on another album


class NaiveClient:
    """DESIGN.md's "The job, precisely", step by step, over the HTTP API and nothing else."""

    def __init__(self, sim: SimSpotify):
        self.http = httpx.Client(transport=SimTransport(sim), base_url=API)
        self.trace = Trace()

    def close(self) -> None:
        self.http.close()

    def get(self, url: str, **params) -> dict:
        response = self.http.get(url, params=params or None)
        assert response.status_code == 200, f"GET {response.request.url}: {response.status_code} {response.text[:200]}"
        return response.json()

    def pages(self, url: str, key: str | None = None, **params):
        """Every item of a paged listing, following `next` to the end."""
        body = self.get(url, **params)
        while True:
            page = body[key] if key else body
            yield from page["items"]
            if not page["next"]:
                return
            body = self.get(page["next"])

    def authenticate(self) -> None:
        response = self.http.post(TOKEN_URL, data={"grant_type": "client_credentials"}, auth=("ref-id", "ref-secret"))
        assert response.status_code == 200, response.text
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def run(self, artist_ids: list[str], cutoff: dt.date) -> dict[str, RefRelease]:
        trace = self.trace
        self.authenticate()
        # Steps 1-3: in-window albums without noise titles; tracks without noise titles that the artist performs.
        candidates: dict[str, dict] = {}  # release key -> the full track object that first produced it
        found_for: dict[str, set[str]] = collections.defaultdict(set)
        for artist_id in artist_ids:
            for album in self.pages(f"/artists/{artist_id}/albums", include_groups="album,single,compilation", limit=PAGE):
                trace.albums_listed += 1
                assert artist_id in [a["id"] for a in album["artists"]], f"album {album['id']} is not the artist's own"
                partial = album["release_date_precision"] != "day"
                if partial:
                    trace.partial_dates.add(album["id"])
                if parse_release_date(album["release_date"]) < cutoff:
                    continue
                trace.albums_in_window[album["id"]] = album["release_date"]
                if partial:
                    trace.partial_in_window.add(album["id"])
                if is_noise(album["name"]):
                    trace.noise_albums.append(album["id"])
                    continue
                for track in self.pages(f"/albums/{album['id']}/tracks", limit=PAGE):
                    if is_noise(track["name"]):
                        trace.noise_tracks.append(track["id"])
                        continue
                    performers = tuple(a["id"] for a in track["artists"])
                    if artist_id not in performers:
                        trace.other_artist_tracks[track["id"]] = performers
                        continue
                    # Step 4 needs the ISRC, which only the full track object carries.
                    full = self.get(f"/tracks/{track['id']}")
                    isrc = full.get("external_ids", {}).get("isrc")
                    key = isrc if isrc else f"track:{track['id']}"
                    if not isrc:
                        trace.no_isrc_tracks.append(track["id"])
                    if key in candidates:
                        trace.duplicate_keys += 1
                    candidates.setdefault(key, full)
                    found_for[key].add(artist_id)
        trace.shared_keys = {k for k, who in found_for.items() if len(who) > 1}
        # Step 5: each ISRC is dated by its earliest release anywhere; before the cutoff is a re-release.
        releases: dict[str, RefRelease] = {}
        for key, first in candidates.items():
            isrc = first.get("external_ids", {}).get("isrc")
            if isrc is None:
                versions = [first]  # nothing to match it with: it stands alone
            else:
                versions = list(self.pages("/search", key="tracks", type="track", q=f"isrc:{isrc}", limit=PAGE))
                assert first["id"] in [v["id"] for v in versions], f"search isrc:{isrc} misses track {first['id']}"
                assert all(v["external_ids"].get("isrc") == isrc for v in versions), f"search isrc:{isrc} strayed"
            earliest = min(versions, key=lambda v: (parse_release_date(v["album"]["release_date"]),
                                                    v["album"]["id"], v["id"]))
            date = parse_release_date(earliest["album"]["release_date"])
            if earliest["album"]["release_date_precision"] != "day":
                trace.partial_earliest.add(key)
            if date < cutoff:
                trace.rereleases.append(key)
                continue
            if earliest["album"]["id"] != first["album"]["id"]:
                trace.redated.append(key)
            releases[key] = RefRelease(key, earliest["id"], earliest["album"]["id"], date)
        return releases


# ----- running it ---------------------------------------------------------------------------


@dataclass
class RefRun:
    releases: dict[str, RefRelease]
    trace: Trace
    calls: collections.Counter[str]  # API calls by endpoint template, token requests excluded


def reference_run(catalog: Catalog, mode: str, artist_ids: list[str], cutoff: dt.date) -> RefRun:
    sim = SimSpotify(catalog, SimConfig(mode=mode, seed=catalog.seed))
    client = NaiveClient(sim)
    try:
        releases = client.run(artist_ids, cutoff)
    finally:
        client.close()
    calls = collections.Counter({t: sim.calls(t) for t, _ in sim.counts})
    assert sum(calls.values()) == sim.calls() == sim.calls(status=200), f"unexpected calls: {dict(sim.counts)}"
    return RefRun(releases, client.trace, +calls)


_CATALOGS: dict[int, Catalog] = {}
_RUNS: dict[tuple[int, str, int], RefRun] = {}


def shared_catalog(seed: int) -> Catalog:
    """One catalog per seed for the whole module; nobody may advance its clock."""
    if seed not in _CATALOGS:
        _CATALOGS[seed] = Catalog.generate(seed=seed, size=SIZE, today=TODAY)
    catalog = _CATALOGS[seed]
    assert catalog.today == TODAY, "a shared catalog's clock was advanced"
    return catalog


def tracked(catalog: Catalog) -> list[str]:
    return [a.id for a in catalog.real_artists()]


def shared_run(seed: int, mode: str, days: int) -> RefRun:
    """The reference's answer on the shared catalog, computed once per module."""
    if (seed, mode, days) not in _RUNS:
        catalog = shared_catalog(seed)
        _RUNS[(seed, mode, days)] = reference_run(catalog, mode, tracked(catalog), cutoff_for(TODAY, days))
    return _RUNS[(seed, mode, days)]


def compare(reference: dict[str, RefRelease], expected: dict[str, oracle.Release]) -> tuple[float, float, list[str]]:
    """Precision and recall of the oracle, taking the reference as truth, and every difference spelled out."""
    def facts(r) -> tuple[str, str, dt.date]:
        return (r.track_id, r.album_id, r.release_date)

    agree = {k for k in reference.keys() & expected.keys() if facts(reference[k]) == facts(expected[k])}
    precision = len(agree) / len(expected) if expected else 1.0
    recall = len(agree) / len(reference) if reference else 1.0
    problems = [f"only the oracle has {k}: {facts(expected[k])}" for k in sorted(expected.keys() - reference.keys())]
    problems += [f"only the reference has {k}: {facts(reference[k])}" for k in sorted(reference.keys() - expected.keys())]
    problems += [f"{k}: reference {facts(reference[k])} != oracle {facts(expected[k])}"
                 for k in sorted((reference.keys() & expected.keys()) - agree)]
    return precision, recall, problems


def assert_agree(reference: dict[str, RefRelease], expected: dict[str, oracle.Release], label: str) -> None:
    precision, recall, problems = compare(reference, expected)
    assert precision == 1.0 and recall == 1.0, (
        f"{label}: oracle precision {precision:.4f}, recall {recall:.4f} "
        f"({len(expected)} expected, {len(reference)} from the reference)\n  " + "\n  ".join(problems[:40])
    )


# ----- the reference's own title rule -----------------------------------------------------------


@pytest.mark.parametrize("title", [
    "Live at Wembley", "Live in Tokyo", "Lives", "Song - Live", "Remastered 2011", "Album (2011 Remaster)",
    "Album [Remastered]", "Demos", "Song (Demo)", "Song (Commentary)", "Song - Instrumental",
    "Song (Karaoke Version)", "LIVE", "lived here",
])
def test_reference_title_rule_catches_noise(title: str) -> None:
    assert is_noise(title)


@pytest.mark.parametrize("title", [
    "Alive", "Demons", "Oliver", "Delivery", "Olive", "Deliverance", "Relive", "Demolition", "Livewire",
    "Instrumentalist", "Lively", "Demonstration", "Oblivion", "Livestock", "Liverpool", "夜明けのバンド",
])
def test_reference_title_rule_spares_traps(title: str) -> None:
    assert not is_noise(title)


# ----- the oracle against the reference ----------------------------------------------------------


@pytest.mark.parametrize("days", CUTOFF_DAYS, ids=lambda d: f"{d}d")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_oracle_matches_naive_reference(seed: int, mode: str, days: int) -> None:
    catalog = shared_catalog(seed)
    ids = tracked(catalog)
    run = shared_run(seed, mode, days)
    expected = oracle.expected_releases(catalog, ids, cutoff_for(TODAY, days))
    assert_agree(run.releases, expected, f"seed {seed}, {mode} mode, {days} days")
    assert len(expected) >= MIN_RELEASES[days], f"only {len(expected)} releases in {days} days: too few to judge by"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_oracle_matches_reference_for_some_artists(seed: int, mode: str) -> None:
    """Tracking only some artists, a split album's other half belongs to nobody tracked: rule 3 must drop it."""
    catalog = shared_catalog(seed)
    ids = catalog.tracked_sample(10)
    cutoff = cutoff_for(TODAY, 365)
    run = reference_run(catalog, mode, ids, cutoff)
    assert_agree(run.releases, oracle.expected_releases(catalog, ids, cutoff), f"seed {seed}, {mode} mode, 10 artists")
    orphans = [t for t, performers in run.trace.other_artist_tracks.items() if not set(performers) & set(ids)]
    assert orphans, "no track was dropped that only an untracked artist performs"


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_oracle_matches_reference_on_the_cutoff_day(seed: int) -> None:
    """Cutoffs on a release day (it counts) and the day after (it does not), for full and partial dates."""
    catalog = shared_catalog(seed)
    ids = tracked(catalog)
    shown = shared_run(seed, "development", 90).trace.albums_in_window
    full = [(d, a) for a, d in shown.items() if len(d) == 10]
    partial = [(d, a) for a, d in shown.items() if len(d) < 10] or [
        (d, a) for a, d in shared_run(seed, "development", 365).trace.albums_in_window.items() if len(d) < 10]
    assert full and partial, "no in-window release date to put the cutoff on"
    for text, album_id in (max(full), max(partial)):
        day = parse_release_date(text)
        for cutoff in (day, day + dt.timedelta(days=1)):
            run = reference_run(catalog, "development", ids, cutoff)
            expected = oracle.expected_releases(catalog, ids, cutoff)
            assert_agree(run.releases, expected, f"seed {seed}, cutoff {cutoff} (album {album_id} dated {text!r})")
            kept = album_id in run.trace.albums_in_window
            assert kept == (cutoff == day), f"album dated {text!r} {'kept' if kept else 'dropped'} by cutoff {cutoff}"


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_reference_data_exercises_every_rule(seed: int) -> None:
    """Over a year of a seed's catalog, every pitfall of the design shows up among tracked artists."""
    catalog = shared_catalog(seed)
    trace = shared_run(seed, "development", 365).trace
    assert trace.rereleases, "no ISRC re-release was dropped"
    assert trace.redated, "no release was dated by an earlier version on another album"
    assert trace.noise_albums, "no noise album was dropped"
    assert trace.noise_tracks, "no noise track was dropped"
    assert trace.other_artist_tracks, "no track was dropped for being another artist's"
    assert trace.partial_in_window, "no in-window album had a partial release date"
    assert trace.partial_earliest, "no ISRC's earliest version had a partial release date"
    assert trace.no_isrc_tracks, "no track without an ISRC was found"
    assert trace.duplicate_keys, "no ISRC came up twice"
    # Not asserted: an ISRC found for two tracked artists (trace.shared_keys). The generator never puts
    # one recording on two artists' own albums (a featured artist only gets it as appears_on), so
    # DESIGN's "a track shared by two tracked artists is one release" is not exercised by this data.
    hostile = [a.name for a in catalog.artists.values()
               if a.id in tracked(catalog) and ("[" in a.name or "\x1b" in a.name)]
    assert hostile, "no tracked artist has a hostile name"


def test_noise_ground_truth_matches_the_title_rule() -> None:
    """The catalog's `noise` flags are what the design's title rule says (else the oracle judges by other rules)."""
    for seed in SEEDS:
        catalog = shared_catalog(seed)
        wrong = [(a.name, a.noise) for a in catalog.albums.values() if is_noise(a.name) != a.noise]
        wrong += [(t.name, t.noise) for t in catalog.tracks.values() if is_noise(t.name) != t.noise]
        assert not wrong, f"seed {seed}: titles whose noise flag disagrees with the rule: {wrong[:10]}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_oracle_matches_reference_after_the_clock_moves(seed: int, mode: str) -> None:
    catalog = catalog_copy(seed, SIZE, TODAY)  # its own: this one's clock moves
    ids = tracked(catalog)
    days = 90
    before = oracle.expected_releases(catalog, ids, cutoff_for(catalog.today, days))
    catalog.advance(14)
    assert catalog.today == TODAY + dt.timedelta(days=14)
    cutoff = cutoff_for(catalog.today, days)
    run = reference_run(catalog, mode, ids, cutoff)
    after = oracle.expected_releases(catalog, ids, cutoff)
    assert_agree(run.releases, after, f"seed {seed}, {mode} mode, {days} days, 14 days on")
    appeared = {k: r for k, r in after.items() if k not in before}
    assert appeared, "advancing the clock 14 days brought no new release"
    assert any(r.release_date > TODAY for r in appeared.values()), "nothing released after the old today appeared"
    assert all(r.release_date <= catalog.today for r in after.values()), "a release from the future is visible"


# ----- the call bound ------------------------------------------------------------------------------


@pytest.mark.parametrize("days", CUTOFF_DAYS, ids=lambda d: f"{d}d")
@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_minimum_calls_is_a_lower_bound(seed: int, days: int) -> None:
    catalog = shared_catalog(seed)
    ids = tracked(catalog)
    cutoff = cutoff_for(TODAY, days)
    development = oracle.minimum_calls(catalog, ids, cutoff, "development")
    extended = oracle.minimum_calls(catalog, ids, cutoff, "extended")
    naive = shared_run(seed, "development", days).calls
    assert development.total <= sum(naive.values()), f"bound {dict(development.by_endpoint)} > naive {dict(naive)}"
    # The naive client uses exactly the endpoints the development bound counts, so it holds per endpoint too.
    for endpoint, bound in development.by_endpoint.items():
        assert bound <= naive[endpoint], f"{endpoint}: bound {bound} > naive {naive[endpoint]}"
    assert extended.total < development.total, f"extended {extended.total} !< development {development.total}"
    assert development.total >= len(ids), "every artist costs at least one discography page"


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_minimum_calls_with_knowledge_is_much_smaller(seed: int) -> None:
    catalog = catalog_copy(seed, SIZE, TODAY)  # its own: this one's clock moves
    ids = tracked(catalog)
    days = 90
    known = oracle.Knowledge().learn(catalog, ids, cutoff_for(catalog.today, days))
    catalog.advance(7)
    cutoff = cutoff_for(catalog.today, days)
    for mode in MODES:
        cold = oracle.minimum_calls(catalog, ids, cutoff, mode)
        warm = oracle.minimum_calls(catalog, ids, cutoff, mode, known)
        assert len(ids) <= warm.total, f"{mode}: every artist still costs a discography page, got {warm.total}"
        # a week can bring real new releases (searches for new ISRCs): "much smaller" is half, not a third
        assert warm.total * 2 <= cold.total, f"{mode}: warm bound {warm.total} is not much below cold {cold.total}"
