"""Removing an artist keeps what was learned about it: not tracked, not scanned, listed, planned or exported, but
added again it comes back whole and, while fresh, costs no API call; REMOVED_KEPT_DAYS later a run's start purges
it. No scan's rows are ever left without an artist row (removed mid-run, or never in the list)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from esh_tui.cli import main
from esh_tui.models import Album, Candidate, RunEnd, ScanFindings, Track
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.backup import export_backup
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import REMOVED_KEPT_DAYS, SCANNED_SOURCE, Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.events import ArtistStarted
from esh_tui.tracker.plan import plan_run

from conftest import TODAY, catalog_copy
from tui_support import GatedTransport
from reliability_support import (FakeWorld, assert_matches_oracle, expected, half_written_artists, orphan_rows,
                                 share_offline_spotify, store_tracking, tracked_ids)

DAY = 86_400
ID, OTHER = "0TnOYISbd1XYRBk9myaseg", "1TnOYISbd1XYRBk9myaseg"


async def _run(world: FakeWorld, ids: list[str] | None = None, force: bool = False, transport=None,
               started: list[str] | None = None):
    """A run over `ids` (default: the store's list, as `esh-tui track` does) in a fresh client, store and cache;
    returns the result and the API calls it cost."""
    store = Store(world.path)
    try:
        before = world.sim.calls()
        on_event = (lambda e: started.append(e.artist_id) if isinstance(e, ArtistStarted) else None)
        async with SpotifyClient(world.settings, transport or world.transport(), sleep=world.time.sleep,
                                 clock=world.time.clock) as client:
            tracker = Tracker(client, store, ReleaseCache(store, clock=world.time.clock),
                              today=lambda: world.catalog.today, on_event=on_event if started is not None else None)
            result = await tracker.run(world.cutoff(), ids, force=force)
    finally:
        store.close()
    return result, world.sim.calls() - before


def _knowledge(store: Store, artist_id: str) -> tuple:
    row = store.artist(artist_id, include_removed=True)
    bookkeeping = None if row is None else (row.last_checked, row.next_due, row.listed_back_to, row.listing_total,
                                            row.interval_hours, row.partial_back_to)
    return (bookkeeping,
            sorted(store.db.execute("SELECT * FROM artist_albums WHERE artist_id = ?", (artist_id,)).fetchall()),
            sorted(store.db.execute("SELECT * FROM artist_tracks WHERE artist_id = ?", (artist_id,)).fetchall()))


def _own_releases(result) -> dict[str, int]:
    """Artist id -> releases found for it alone."""
    counts: dict[str, int] = {}
    for release in result.releases:
        if len(release.found_for) == 1:
            counts[release.found_for[0]] = counts.get(release.found_for[0], 0) + 1
    return counts


async def test_a_removed_artist_is_not_listed_scanned_planned_or_exported_and_back_costs_no_api_call(tmp_path):
    catalog = catalog_copy(1, 20)
    world = FakeWorld(catalog, tmp_path / "esh.db")
    ids = tracked_ids(catalog)[:8]
    store_tracking(world.path, catalog, ids)
    first, _ = await _run(world)
    assert_matches_oracle(first, expected(catalog, ids))
    own = _own_releases(first)
    victim = max(own, key=own.get)
    rest = [i for i in ids if i != victim]
    store = Store(world.path)
    try:
        kept = _knowledge(store, victim)
        row = store.artist(victim)
        assert store.remove_artists([victim], now=world.time.now) == 1
        assert store.remove_artists([victim], now=world.time.now) == 0, "removed once"
        assert [a.id for a in store.artists()] == sorted(rest, key=lambda i: (catalog.artists[i].name.casefold(), i))
        assert store.artist(victim) is None and _knowledge(store, victim) == kept, "not tracked, knowledge kept"
        assert victim not in {a["id"] for a in export_backup(store)["artists"]}
        assert victim not in store.due_artist_ids(row.next_due + 1)
        just_before = row.next_due - 1  # when a prefetch would refresh it, were it tracked
        assert victim not in store.soon_due_artist_ids(just_before, just_before + DAY)
        assert victim not in {c.artist_id for c in plan_run(store, world.cutoff(), force=True).costs}
        assert store.window_knowledge(world.cutoff())[0] == len(rest), "estimates count tracked artists only"
    finally:
        store.close()
    started: list[str] = []
    forced, _ = await _run(world, force=True, started=started)
    assert sorted(started) == sorted(rest), "a run over the list never scans a removed artist"
    assert_matches_oracle(forced, expected(catalog, rest))
    store = Store(world.path)
    try:
        assert _knowledge(store, victim) == kept
        assert store.add_artists([(victim, catalog.artists[victim].name, "test")]) == 1
        assert _knowledge(store, victim) == kept and store.artist(victim) is not None
        assert victim in store.soon_due_artist_ids(just_before, just_before + DAY)
    finally:
        store.close()
    again, calls = await _run(world)
    assert calls == 0, "fresh: what was kept answers, no API call"
    assert_matches_oracle(again, expected(catalog, ids))


def _scanned(store: Store, artist_id: str, at: float) -> None:
    """An artist's scan, whole: an album and a candidate on it."""
    album = Album(artist_id[::-1], "A", "single", dt.date(2026, 11, 1))
    track = Track(artist_id[:21] + "t", "T", (artist_id,), album.id, f"ISRC{artist_id[:8]}")
    candidate = Candidate(track.isrc, track.isrc, track.id, album.id, album.release_date)
    store.save_scan(ScanFindings(artist_id, TODAY - dt.timedelta(days=90), (album,), (track,), (candidate,)),
                    at, at + DAY, {})


def test_knowledge_of_an_artist_removed_30_days_ago_is_purged_at_a_runs_start_unless_another_run_is_going_on(tmp_path):
    store = Store(tmp_path / "esh.db")
    try:
        t0 = 1_800_000_000.0
        store.add_artists([(ID, "Gone", "manual"), (OTHER, "Stays", "manual")])
        for artist_id in (ID, OTHER):
            _scanned(store, artist_id, t0)
        store.remove_artists([ID], now=t0)

        def run_starts(days: float) -> int:
            return store.start_run(TODAY, False, "development", 1, now=t0 + days * DAY)

        store.finish_run(RunEnd(run_starts(REMOVED_KEPT_DAYS - 0.1), "ok", "development"))
        assert store.artist(ID, include_removed=True) is not None, "kept for REMOVED_KEPT_DAYS"
        going_on = run_starts(REMOVED_KEPT_DAYS - 0.1)  # another run (this process: alive) is scanning
        store.finish_run(RunEnd(run_starts(REMOVED_KEPT_DAYS + 1), "ok", "development"))
        assert store.artist(ID, include_removed=True) is not None, "never purged under a run going on"
        store.finish_run(RunEnd(going_on, "ok", "development"))
        store.finish_run(RunEnd(run_starts(REMOVED_KEPT_DAYS + 1), "ok", "development"))
        assert store.artist(ID, include_removed=True) is None
        assert store.known_album_ids(ID) == set() and store.cached_candidates(ID, TODAY - dt.timedelta(days=365)) == []
        assert store.db["albums"].count == 2 and store.db["tracks"].count == 2, "facts are kept"
        assert store.known_album_ids(OTHER) and store.artist(OTHER) is not None, "the tracked one is untouched"
        assert store.add_artists([(ID, "Gone", "manual")]) == 1
        assert _knowledge(store, ID)[1:] == ([], []) and store.artist(ID).last_checked is None, "a new artist"
    finally:
        store.close()
    assert half_written_artists(tmp_path / "esh.db") == []


async def test_a_run_over_artists_not_in_the_list_reads_back_what_it_filed_and_leaves_no_orphan_rows(tmp_path):
    """`track --artist ID` and `--playlist`: the scan's rows hang off a row that is not tracked (no orphan), the
    same run reads them back, a second run while they are fresh costs nothing, and they are purged in time."""
    catalog = catalog_copy(2, 20)
    world = FakeWorld(catalog, tmp_path / "esh.db")
    ids = tracked_ids(catalog)
    tracked, extra = ids[:4], ids[4:7]
    store_tracking(world.path, catalog, tracked)
    result, _ = await _run(world, tracked + extra)
    assert_matches_oracle(result, expected(catalog, tracked + extra))
    assert orphan_rows(world.path) == [] and half_written_artists(world.path) == []
    store = Store(world.path)
    try:
        assert sorted(a.id for a in store.artists()) == sorted(tracked), "nobody was added to the list"
        rows = [store.artist(i, include_removed=True) for i in extra]
        assert all(r.source == SCANNED_SOURCE and r.removed_at is not None for r in rows)
        assert store.removed_artist_ids(extra) == set(), "never tracked: adding one is not tracking it 'again'"
        with_releases = {a for r in result.releases for a in r.found_for} & set(extra)
        assert with_releases and all(store.known_album_ids(i) for i in with_releases)
    finally:
        store.close()
    again, calls = await _run(world, tracked + extra)
    assert calls == 0 and {r.key for r in again.releases} == {r.key for r in result.releases}
    world.time.now += (REMOVED_KEPT_DAYS + 1) * DAY
    await _run(world)
    store = Store(world.path)
    try:
        assert all(store.artist(i, include_removed=True) is None for i in extra), "purged with the removed"
        assert all(not store.known_album_ids(i) for i in extra)
    finally:
        store.close()
    assert orphan_rows(world.path) == [] and half_written_artists(world.path) == []


@pytest.mark.parametrize("how", ["removed", "row deleted"])
async def test_an_artist_removed_while_its_scan_runs_leaves_no_orphan_rows(tmp_path, how):
    """Removed in another process (or the dashboard) while a run scans it; or its row deleted outright (what an
    older esh-tui's removal did, or a purge). The scan's rows still hang off an artist row, never orphans."""
    catalog = catalog_copy(3, 20)
    world = FakeWorld(catalog, tmp_path / "esh.db")
    ids = tracked_ids(catalog)[:6]
    store_tracking(world.path, catalog, ids)
    releases_of = [a for r in expected(catalog, ids).values() for a in r.found_for]
    victim = max(set(releases_of), key=releases_of.count)
    held = GatedTransport(world.sim, f"/artists/{victim}/albums", sleep=world.time.sleep)
    run = asyncio.ensure_future(_run(world, transport=held))
    await asyncio.wait_for(held.reached.wait(), 30)
    other = Store(world.path)
    try:
        if how == "removed":
            assert other.remove_artists([victim], now=world.time.now) == 1
        else:
            with other.transaction():
                other.db.execute("DELETE FROM artists WHERE id = ?", (victim,))
    finally:
        other.close()
    held.gate.set()
    result, _ = await run
    assert result.status == "ok"
    assert orphan_rows(world.path) == [] and half_written_artists(world.path) == []
    store = Store(world.path)
    try:
        assert store.artist(victim) is None, "still not tracked"
        row = store.artist(victim, include_removed=True)
        assert row.last_checked is not None and store.known_album_ids(victim), "what the scan learned is kept"
        assert row.source == ("test" if how == "removed" else SCANNED_SOURCE)
        assert store.add_artists([(victim, catalog.artists[victim].name, "test")]) == 1
    finally:
        store.close()
    again, calls = await _run(world)
    assert calls == 0, "added again: what its last scan learned answers"
    assert_matches_oracle(again, expected(catalog, ids))


def test_migration_7_adds_removed_at_and_drops_rows_an_older_esh_tui_left_without_an_artist(tmp_path, monkeypatch):
    from esh_tui.storage import store as store_module

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 4)
    old = Store(tmp_path / "esh.db")
    old.db.execute("INSERT INTO artists (id, name, source, added_at) VALUES (?, 'Kept', 'manual', '2026-01-01')", (ID,))
    for artist_id in (ID, OTHER):
        old.db.execute("INSERT INTO artist_albums (artist_id, album_id) VALUES (?, 'a')", (artist_id,))
        old.db.execute("INSERT INTO artist_tracks (artist_id, track_id, key, album_id, release_date, fetched_at) "
                       "VALUES (?, 't', 'k', 'a', '2026-11-01', 1.0)", (artist_id,))
    old.close()
    monkeypatch.undo()
    store = Store(tmp_path / "esh.db")
    try:
        assert store.schema_version == store_module.SCHEMA_VERSION >= 7
        assert [a.id for a in store.artists()] == [ID] and store.artist(ID).removed_at is None
        assert store.known_album_ids(ID) == {"a"} and store.known_album_ids(OTHER) == set()
        assert orphan_rows(tmp_path / "esh.db") == []
    finally:
        store.close()


def test_a_backup_restore_removes_those_it_leaves_out_keeping_what_was_learned(tmp_path):
    store = Store(tmp_path / "esh.db")
    try:
        store.add_artists([(ID, "Out", "manual"), (OTHER, "In", "manual")])
        _scanned(store, ID, 1_800_000_000.0)
        kept = _knowledge(store, ID)
        backup = export_backup(store)
        store.replace_artists_and_settings([a for a in backup["artists"] if a["id"] == OTHER], {})
        assert [a.id for a in store.artists()] == [OTHER] and _knowledge(store, ID) == kept
        store.replace_artists_and_settings(backup["artists"], backup["settings"])
        assert export_backup(store) == backup and _knowledge(store, ID) == kept
    finally:
        store.close()


def test_cli_remove_says_how_to_undo_and_adding_the_id_back_costs_no_api_call(monkeypatch, capsys):
    from esh_tui.runtime import open_runtime

    share_offline_spotify(monkeypatch)
    assert main(["track", "--format", "json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["artists", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    victim = next(a for a in listed if any(r["artist"] == a["name"] for r in first))
    assert main(["artists", "remove", victim["id"]]) == 0
    said = capsys.readouterr().err
    assert f"stopped tracking {victim['name']} ({victim['id']})" in said
    assert f"to undo: esh-tui artists add {victim['id']}" in said and f"{REMOVED_KEPT_DAYS} days" in said
    assert main(["track", "--format", "json"]) == 0
    assert victim["name"] not in {r["artist"] for r in json.loads(capsys.readouterr().out)}
    with open_runtime() as runtime:
        sim = runtime.offline.sim
    before = sim.calls()
    assert main(["artists", "add", victim["id"]]) == 0
    said = capsys.readouterr().err
    assert f"tracking {victim['name']} ({victim['id']}) again, with what was learned" in said
    assert "1 artist added" in said
    assert main(["track", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == first
    assert sim.calls() == before, "neither the add nor the run asked Spotify"
    assert main(["artists", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == listed, "back as it was"
