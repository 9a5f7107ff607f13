"""A store lives through many runs: any sequence of them reports exactly what the oracle says.

A hypothesis state machine drives one store through random sequences of what
users do: runs with any window (1 to 365 days, or --since), forced or not,
--delta-only or not; runs cancelled after a few artists; runs stopped
mid-artist by the daily quota or failing artists part way under server errors;
days and hours passing; artists added, removed and added again; runs over artists
not in the list (`track --artist ID`); the release filter changed (types,
features on other artists' releases, versions, title patterns, artists). After
every run that finishes, its releases equal the oracle's for that window on that
day with that filter, exactly, and --delta-only has printed every release of its
window once and only once.

The model of the artist list: which artists are tracked, and which are not but
keep what was learned (removed, or scanned by a run over artists not in the
list) until REMOVED_KEPT_DAYS after that, when a run's start purges them. An
artist added again comes back with exactly the knowledge it had, and while
that is fresh it costs no API call.

ESH_LIFETIME_EXAMPLES sets how many sequences to try (CI: a bounded number).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from esh_tui.sim import oracle
from esh_tui.sim.admission import Admission
from esh_tui.sim.catalog import Catalog
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import REMOVED_KEPT_DAYS, Store
from esh_tui.storage.ttl import TtlPolicy
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.events import ArtistDone
from esh_tui.tracker.release_filter import RELEASE_TYPES, VERSIONS, ReleaseFilter

from conftest import TODAY, catalog_copy
from reliability_support import (
    FakeWorld, assert_matches_oracle, expected, half_written_artists, processes, run_killed_at,
)


EXAMPLES = int(os.environ.get("ESH_LIFETIME_EXAMPLES", "30"))
STEPS = int(os.environ.get("ESH_LIFETIME_STEPS", "12"))
CATALOG_SIZE = 16
# Freshness shorter than a day. The oracle knows no TTL: a quiet artist checked on Monday is fresh for a week
# and rightly not asked again on Friday, when a release that came out on Thursday would be missing from the
# oracle's point of view. With this policy a day passing makes every artist due; TTLs are tested in test_engine.
WITHIN_A_DAY = TtlPolicy(recent_hours=6, active_hours=20, quiet_hours=20)
TALLY: Counter[str] = Counter()  # sequences and steps run, printed at the end (pytest -s shows them)


class StoreLifetime(RuleBasedStateMachine):
    """One user's store, in one API mode, over weeks of use. The oracle is the model."""

    mode = "development"

    def __init__(self) -> None:
        super().__init__()
        self.directory = _scratch_directory()
        self.reported: set[str] = set()  # what --delta-only runs printed so far (the model of "reported")
        self.delta_window: dt.date | None = None
        self.not_tracked: dict[str, float] = {}  # artists not tracked whose knowledge is kept: since when
        self.kept: dict[str, tuple] = {}  # ...and that knowledge, as it was when they stopped being tracked
        self.filter = ReleaseFilter()  # what runs show (the oracle is given the same settings)

    @initialize(seed=st.integers(1, 6), tracked=st.integers(3, 8))
    def start(self, seed: int, tracked: int) -> None:
        catalog = catalog_copy(seed, CATALOG_SIZE)  # its own: days pass on it
        self.seed, self.days_passed = seed, 0
        self.world = FakeWorld(catalog, self.directory / "esh.db", mode=self.mode, freshness=WITHIN_A_DAY)
        self.everyone = [a.id for a in catalog.real_artists()]
        self.tracked = self.everyone[:tracked]
        self._store(lambda store: store.add_artists((i, catalog.artists[i].name, "test") for i in self.tracked))

    # ----- what users do ------------------------------------------------------------------------------------

    @rule(days=st.one_of(st.integers(1, 365), st.sampled_from([7, 14, 30, 90])), force=st.booleans(),
          delta=st.booleans(), since=st.booleans())
    def track(self, days: int, force: bool, delta: bool, since: bool) -> None:
        TALLY['track'] += 1
        cutoff = self.world.catalog.today - dt.timedelta(days=days)
        if since:  # --since names a date; the same window as --days, but kept when days pass
            cutoff = dt.date(cutoff.year, cutoff.month, 1)
        result = self._run(cutoff, force)
        assert result.status == "ok", result.message
        want = self._expected(self.tracked, cutoff)
        assert_matches_oracle(result, want)
        if delta:
            store = Store(self.world.path)
            try:
                unreported = store.unreported(r.key for r in result.releases)
                printed = {r.key for r in result.releases if r.key in unreported}
                assert printed == set(want) - self.reported, "--delta-only prints each release once"
                store.mark_reported(printed)
            finally:
                store.close()
            self.reported |= printed

    @rule(after=st.integers(0, 6), days=st.integers(1, 365), force=st.booleans())
    def cancelled_run(self, after: int, days: int, force: bool) -> None:
        TALLY['cancelled_run'] += 1
        cutoff = self.world.catalog.today - dt.timedelta(days=days)
        try:
            self._run(cutoff, force, cancel_after=after)
        except asyncio.CancelledError:
            pass
        store = Store(self.world.path)
        try:
            assert store.runs(1)[0]["status"] in ("cancelled", "ok")  # ok: it ended before `after` artists
        finally:
            store.close()

    @rule(days=st.integers(1, 365), force=st.booleans(), quota=st.one_of(st.none(), st.integers(1, 60)))
    def stopped_run(self, days: int, force: bool, quota: int | None) -> None:
        """A run stopped mid-artist by the daily quota after `quota` calls, or (None) one at 70% server errors in
        which artists fail part way; what they fetched is kept, and the next run (same window) is exact."""
        TALLY['stopped_run'] += 1
        sim = self.world.sim
        sim.admission = Admission(replace(sim.config, quota=quota) if quota is not None else
                                  replace(sim.config, fault_rate=0.7, faults=("500", "502", "503"), seed=days))
        try:
            result = self._run(self.world.catalog.today - dt.timedelta(days=days), force)
        finally:
            sim.admission = Admission(sim.config)  # a new day: the quota is fresh, the faults are gone
        assert result.status in ("quota", "partial", "ok"), result.message
        store = Store(self.world.path)
        try:  # how often a stopped scan kept albums for the next (counted, shown with -s)
            TALLY["partial_scans_kept"] += store.db.execute(
                "SELECT count(*) FROM artists WHERE partial_back_to IS NOT NULL").fetchone()[0]
            TALLY["track_lists_kept"] += store.db["album_tracks"].count
        finally:
            store.close()
        self.track(days, False, False, False)

    @rule(days=st.integers(0, 30), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        TALLY['time_passes'] += 1
        self.world.catalog.advance(days)
        self.days_passed += days
        self.world.time.now += days * 86_400 + hours * 3_600

    @precondition(lambda self: len(self.tracked) > 1)
    @rule(pick=st.integers(0, CATALOG_SIZE))
    def remove_artist(self, pick: int) -> None:
        TALLY['remove_artist'] += 1
        artist_id = self.tracked.pop(pick % len(self.tracked))
        now = self.world.time.now
        self.not_tracked[artist_id] = now
        self.kept[artist_id] = self._store(lambda store: _knowledge(store, artist_id))
        assert self._store(lambda store: store.remove_artists([artist_id], now=now)) == 1

    @precondition(lambda self: hasattr(self, "world") and len(self.tracked) < len(self.everyone))
    @rule(pick=st.integers(0, CATALOG_SIZE), again=st.booleans())
    def add_artist(self, pick: int, again: bool) -> None:
        """An artist not tracked is added (`again`: one whose knowledge is kept, if any): with that knowledge,
        exactly, or (never known, or purged) with none; while it is fresh, asking for it costs no API call."""
        TALLY['add_artist'] += 1
        others = [i for i in self.everyone if i not in self.tracked]
        if again and self.not_tracked:
            others = list(self.not_tracked)
        artist_id = others[pick % len(others)]
        kept = self.kept.pop(artist_id) if self.not_tracked.pop(artist_id, None) is not None else None
        name = self.world.catalog.artists[artist_id].name
        self.tracked.append(artist_id)
        store = Store(self.world.path)
        try:
            assert store.add_artists([(artist_id, name, "test")]) == 1
            now = _knowledge(store, artist_id)
            row = store.artist(artist_id)
            if kept is None:
                TALLY["added_unknown"] += 1
                assert now[1:] == ([], []) and row.last_checked is None, "nothing kept: a new artist"
                return
            TALLY["added_again_with_knowledge"] += 1
            assert now == kept or _listings_refit(store, kept, now), "what was learned comes back exactly"
            if row.next_due is not None and row.next_due > self.world.time.now and row.listed_back_to:
                TALLY["added_again_fresh"] += 1
                cache = ReleaseCache(store, WITHIN_A_DAY, clock=self.world.time.clock)
                assert cache.artist_scan(artist_id, dt.date.fromisoformat(row.listed_back_to)) is not None, \
                    "fresh: the store answers, no API call"
        finally:
            store.close()

    @precondition(lambda self: hasattr(self, "world") and len(self.tracked) < len(self.everyone))
    @rule(pick=st.integers(0, CATALOG_SIZE), days=st.integers(1, 365))
    def track_artists_not_in_the_list(self, pick: int, days: int) -> None:
        """`track --artist ID` beside the list: the run reads back what it filed under an artist not tracked
        (exact against the oracle); those rows hang off a row that is not tracked, kept like a removed one's."""
        TALLY["run_over_artists_not_tracked"] += 1
        others = [i for i in self.everyone if i not in self.tracked]
        extra = others[pick % len(others)]
        cutoff = self.world.catalog.today - dt.timedelta(days=days)
        result = self._run(cutoff, False, ids=[*self.tracked, extra])
        assert result.status == "ok", result.message
        assert_matches_oracle(result, self._expected([*self.tracked, extra], cutoff))
        store = Store(self.world.path)
        try:
            row = store.artist(extra, include_removed=True)
            assert row is not None and row.removed_at is not None and store.artist(extra) is None, "not tracked"
            self.not_tracked.setdefault(extra, row.removed_at)  # a removed artist stays removed since then
            self.kept[extra] = _knowledge(store, extra)
        finally:
            store.close()

    @rule(types=st.frozensets(st.sampled_from(RELEASE_TYPES), min_size=1), appears_on=st.booleans(),
          exclude=st.frozensets(st.sampled_from(tuple(VERSIONS))),
          block=st.lists(st.sampled_from(["^neon", "harbor|velvet", r"[^\x00-\x7f]", "edition$"]), max_size=2),
          blocked=st.lists(st.integers(0, CATALOG_SIZE), max_size=2))
    def change_filter(self, types, appears_on, exclude, block, blocked) -> None:
        """The user changes what is shown (config.toml, an option, the dashboard's panel): the next runs show
        what the oracle says for it; features turned on are listed, the rest costs nothing (checked by `track`)."""
        TALLY["change_filter"] += 1
        TALLY["features_on"] += appears_on and not self.filter.appears_on
        names = [self.world.catalog.artists[self.everyone[i % len(self.everyone)]].name for i in blocked]
        self.filter = ReleaseFilter(types=types, appears_on=appears_on, exclude=exclude, block=tuple(block),
                                    block_artists=tuple(names))

    # ----- what always holds ---------------------------------------------------------------------------------

    @invariant()
    def store_is_whole(self) -> None:
        if hasattr(self, "world") and self.world.path.exists():
            assert half_written_artists(self.world.path) == []

    @invariant()
    def artist_list_is_the_models(self) -> None:
        """Tracked: exactly the model's; not tracked but kept: exactly those not purged yet."""
        if not hasattr(self, "world"):
            return
        store = Store(self.world.path)
        try:
            assert {a.id for a in store.artists()} == set(self.tracked)
            kept = {a.id for a in store.artists(include_removed=True) if a.removed_at is not None}
            assert kept == set(self.not_tracked)
        finally:
            store.close()

    def teardown(self) -> None:
        TALLY["sequences"] += 1
        for path in self.directory.glob("*"):
            path.unlink()
        self.directory.rmdir()

    # ----- helpers -------------------------------------------------------------------------------------------

    def _store(self, action):
        store = Store(self.world.path)
        try:
            return action(store)
        finally:
            store.close()

    def _purged_at_a_runs_start(self) -> None:
        """The model of the purge a run's start does (no other run is ever going on here)."""
        before = self.world.time.now - REMOVED_KEPT_DAYS * 86_400
        for artist_id in [i for i, since in self.not_tracked.items() if since < before]:
            TALLY["purged"] += 1
            del self.not_tracked[artist_id], self.kept[artist_id]

    def _expected(self, ids: list[str], cutoff: dt.date) -> dict:
        """The oracle's releases for this window and filter (its settings as plain data, none of the tracker's code)."""
        return oracle.expected_releases(self.world.catalog, ids, cutoff, filters=oracle.Filters.like(self.filter))

    def _run(self, cutoff: dt.date, force: bool, cancel_after: int | None = None, ids: list[str] | None = None):
        """One run in a fresh client, store and cache (a new process, as far as the store can tell)."""
        world = self.world
        self._purged_at_a_runs_start()

        async def run():
            store = Store(world.path)
            try:
                async with SpotifyClient(world.settings, world.transport(), sleep=world.time.sleep,
                                         clock=world.time.clock) as client:
                    done = 0
                    task = asyncio.current_task()

                    def on_event(event) -> None:
                        nonlocal done
                        if isinstance(event, ArtistDone):
                            done += 1
                            if cancel_after is not None and done > cancel_after:
                                task.cancel()

                    tracker = Tracker(client, store, ReleaseCache(store, WITHIN_A_DAY, clock=world.time.clock),
                                      today=lambda: world.catalog.today, on_event=on_event,
                                      release_filter=self.filter)
                    return await tracker.run(cutoff, ids or self.tracked, force=force)
            finally:
                store.close()

        return asyncio.run(run())


def _listings_refit(store: Store, kept: tuple, now: tuple) -> bool:
    """Features were turned on or off since the artist's knowledge was kept, and a run made every listing fit
    (Store.use_appears_on): on, its next_due, listed_back_to and listing_total are forgotten (it is listed
    again); off, its listing_total. Everything else comes back exactly."""
    if store.db.execute("SELECT 1 FROM settings WHERE key = 'knowledge_appears_on'").fetchone() is None:
        return False
    row = list(kept[0])
    without_total = (*row[:3], None, *row[4:])
    listed_again = (row[0], None, None, None, *row[4:])
    return now[1:] == kept[1:] and now[0] in (without_total, listed_again)


def _knowledge(store: Store, artist_id: str) -> tuple:
    """Everything a store knows about one artist beyond who it is: its row's bookkeeping, its albums and its
    candidates (None, [], [] if it has no row)."""
    row = store.db.execute("SELECT last_checked, next_due, listed_back_to, listing_total, last_release, "
                           "releases_per_year, frequency, interval_hours, failed_reason, partial_back_to "
                           "FROM artists WHERE id = ?", (artist_id,)).fetchone()
    albums = sorted(store.db.execute("SELECT album_id, album_group FROM artist_albums WHERE artist_id = ?",
                                     (artist_id,)).fetchall())
    tracks = sorted(store.db.execute("SELECT track_id, key, isrc, album_id, release_date, fetched_at FROM "
                                     "artist_tracks WHERE artist_id = ?", (artist_id,)).fetchall())
    return row, albums, tracks


class StoreLifetimeExtended(StoreLifetime):
    mode = "extended"


class StoreLifetimeWithKills(StoreLifetime):
    """The same, with runs SIGKILLed inside SQLite at a random statement (a real process each: slower)."""

    @rule(days=st.integers(1, 365), force=st.booleans(), statement=st.integers(1, 1_500),
          instructions=st.integers(1, 3_000))
    def killed_run(self, days: int, force: bool, statement: int, instructions: int) -> None:
        TALLY['killed_run'] += 1
        cutoff = self.world.catalog.today - dt.timedelta(days=days)
        context = processes()
        process = context.Process(target=run_killed_at, args=(
            str(self.world.path), self.seed, CATALOG_SIZE, TODAY, self.days_passed, self.world.time.now, self.mode,
            WITHIN_A_DAY, cutoff.isoformat(), list(self.tracked), force, statement, instructions))
        process.start()
        process.join(120)
        assert process.exitcode in (0, -signal.SIGKILL), process.exitcode
        store = Store(self.world.path)
        try:
            assert store.integrity_ok()
            store.close_abandoned_runs()
            assert [r["status"] for r in store.runs(1)] in ([], ["ok"], ["interrupted"], ["cancelled"])
        finally:
            store.close()
        self.track(days, False, False, False)  # the next run, in the same window, is exact


_SCRATCH = {"root": None, "count": 0}


def _scratch_directory():
    _SCRATCH["count"] += 1
    path = _SCRATCH["root"] / f"store-{_SCRATCH['count']}"
    path.mkdir()
    return path


LIFETIME_SETTINGS = settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.parametrize("machine", [StoreLifetime, StoreLifetimeExtended], ids=["development", "extended"])
def test_any_sequence_of_runs_windows_cancels_days_and_artist_changes_reports_exactly_the_oracle(machine, tmp_path):
    _SCRATCH["root"], _SCRATCH["count"] = tmp_path, 0
    machine.TestCase.settings = LIFETIME_SETTINGS
    TALLY.clear()
    machine.TestCase().runTest()
    print(f"\n{machine.mode}: {dict(TALLY)}")


@pytest.mark.slow
def test_any_sequence_with_runs_sigkilled_at_random_points_reports_exactly_the_oracle(tmp_path):
    _SCRATCH["root"], _SCRATCH["count"] = tmp_path, 0
    StoreLifetimeWithKills.TestCase.settings = settings(
        LIFETIME_SETTINGS, max_examples=int(os.environ.get("ESH_LIFETIME_KILL_EXAMPLES", "6")), stateful_step_count=8)
    TALLY.clear()
    StoreLifetimeWithKills.TestCase().runTest()
    print(f"\nwith kills: {dict(TALLY)}")


# ----- how runs end: a true record ------------------------------------------------------------------------------

async def test_a_run_stopped_by_a_busy_store_is_recorded_failed_never_ok(tmp_path):
    import sqlite3

    catalog = Catalog.generate(2, 20, TODAY)
    world = FakeWorld(catalog, tmp_path / "esh.db")
    ids = [a.id for a in catalog.real_artists()]
    store = Store(world.path, busy_timeout_ms=50)
    store.add_artists((i, catalog.artists[i].name, "test") for i in ids)
    other = sqlite3.connect(world.path, isolation_level=None)

    def hold_the_store_after_one_artist(event) -> None:
        if isinstance(event, ArtistDone) and not other.in_transaction:
            other.execute("BEGIN IMMEDIATE")  # another esh-tui writes, for longer than the busy timeout

    try:
        async with SpotifyClient(world.settings, world.transport(), sleep=world.time.sleep,
                                 clock=world.time.clock) as client:
            tracker = Tracker(client, store, ReleaseCache(store, clock=world.time.clock),
                              today=lambda: catalog.today, on_event=hold_the_store_after_one_artist)
            with pytest.raises(Exception, match="busy"):
                await tracker.run(world.cutoff(), ids)
            other.execute("ROLLBACK")
            tracker.on_event = lambda event: None
            result = await tracker.run(world.cutoff(), ids)
        runs = store.runs(2)
        assert [r["status"] for r in runs] == ["ok", "failed"]
        assert "busy" in runs[1]["message"]
        assert_matches_oracle(result, expected(catalog, ids))
    finally:
        other.close()
        store.close()


def test_a_run_whose_process_died_is_recorded_interrupted(tmp_path):
    store = Store(tmp_path / "esh.db")
    try:
        run_id = store.start_run(TODAY, False, "development", 3)
        store.db.execute("UPDATE runs SET pid = ? WHERE id = ?", (_a_pid_that_is_gone(), run_id))
        assert store.close_abandoned_runs() == 1
        assert store.runs(1)[0]["status"] == "interrupted"
        mine = store.start_run(TODAY, False, "development", 3)
        assert store.close_abandoned_runs() == 0 and store.runs(1)[0]["id"] == mine, "a live run is left alone"
    finally:
        store.close()


def _a_pid_that_is_gone() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_schema_1_store_is_migrated_relisting_every_artist_and_keeping_releases_seen_and_reported(tmp_path, monkeypatch):
    from esh_tui.storage import store as store_module

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 1)
    old = Store(tmp_path / "esh.db")
    old.db.execute("INSERT INTO artists (id, name, source, added_at) VALUES (?, 'Old Artist', 'test', '2026-01-01')",
                   ("a" * 22,))  # as schema 1 had it (today's add_artists writes columns it had not)
    old.db.execute("UPDATE artists SET scan_cutoff = '2026-11-01', next_due = 9e12, listing_total = 4")
    old.db.execute("INSERT INTO artist_albums (artist_id, album_id) VALUES (?, ?)", ("a" * 22, "b" * 22))
    old.db.execute("INSERT INTO releases (key, track_id, release_date, first_seen_at) VALUES ('K', 't', '2026-11-02', 5.0)")
    old.close()
    monkeypatch.undo()
    store = Store(tmp_path / "esh.db")
    try:
        artist = store.artist("a" * 22)
        assert (artist.listed_back_to, artist.next_due, artist.listing_total) == (None, None, None), "due, listed anew"
        assert store.known_album_ids("a" * 22) == set()
        assert store.unreported(["K"]) == set() and store.unseen(["K"]) == set()
        assert store.release_state("K") == (True, True)
    finally:
        store.close()


@pytest.mark.parametrize("mode", ["development", "extended"])
def test_widening_a_window_fetches_only_what_lies_between_the_cutoffs(mode):
    from benchmarks.widening import measure

    figures = measure(mode, 30, 2)
    assert all(run["exact"] for run in figures["runs"])
    assert figures["widening_calls"] <= 1.15 * figures["widening_minimum"], figures
    narrowed, again = figures["runs"][2], figures["runs"][3]
    assert narrowed["calls"] <= figures["artists"] * 2, "narrowing asks only for what is new"
    assert again["calls"] == 0, "a window already known, while fresh, costs nothing"
