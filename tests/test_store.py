"""The store: indexes used by the hot queries, atomic artists, migrations, backup, damage detected."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import multiprocessing
import os
import signal
import stat

import pytest

from esh_tui.cli import main
from esh_tui.models import Album, Candidate, ScanFindings
from esh_tui.storage.backup import BackupError, read_backup, restore_backup, write_backup
from esh_tui.storage.errors import StoreError
from esh_tui.storage.store import SCHEMA_VERSION, Store

from test_engine import World, fresh_catalog

TODAY = dt.date(2026, 11, 23)
ID = "0TnOYISbd1XYRBk9myaseg"

# Each hot query as it is run, with its parameters.
HOT_QUERIES = {
    "cached candidates of an artist": (
        "SELECT key, isrc, track_id, album_id, release_date FROM artist_tracks WHERE artist_id = ? AND release_date >= ? "
        "ORDER BY release_date DESC", (ID, "2026-08-25"), "idx_artist_tracks_lookup"),
    "due artists": ("SELECT id, next_due FROM artists WHERE (next_due IS NULL OR next_due <= ?) AND removed_at IS NULL",
                    (1.0,), "idx_artists_due"),
    "known albums of an artist": ("SELECT album_id FROM artist_albums WHERE artist_id = ?", (ID,),
                                  "sqlite_autoindex_artist_albums_1"),
    "ISRC earliest release": ("SELECT * FROM isrc_earliest WHERE isrc = ?", ("USAAA2600001",),
                              "sqlite_autoindex_isrc_earliest_1"),
    "a track's ISRC": ("SELECT id, isrc FROM tracks WHERE id IN (?, ?)", (ID, ID), "sqlite_autoindex_tracks_1"),
    "other versions of a recording": (
        "SELECT DISTINCT albums.id, albums.name, albums.album_type, albums.release_date FROM artist_tracks "
        "JOIN albums ON albums.id = artist_tracks.album_id WHERE artist_tracks.key = ? ORDER BY albums.release_date",
        ("USAAA2600001",), "idx_artist_tracks_key"),
    "an artist's releases (its details)": (
        "SELECT * FROM releases WHERE key IN (SELECT key FROM artist_tracks WHERE artist_id = ?) "
        "AND release_date >= ? ORDER BY release_date DESC, key", (ID, "2026-08-25"), "idx_artist_tracks_lookup"),
    "calls by endpoint of a run": (
        "SELECT template, sum(calls) FROM run_endpoints WHERE run_id = ? GROUP BY template ORDER BY 2 DESC, 1", (1,),
        "sqlite_autoindex_run_endpoints_1"),
    "a run's cost": ("SELECT * FROM run_cost WHERE run_id = ?", (1,), "run_cost"),
    "calls per minute for the history": ("SELECT minute, calls FROM run_minutes WHERE minute >= ?", (1.0,),
                                         "idx_run_minutes_minute"),
}


@pytest.mark.parametrize("name", HOT_QUERIES)
def test_hot_queries_use_an_index(tmp_path, name):
    store = Store(tmp_path / "esh.db")
    sql, params, index = HOT_QUERIES[name]
    plan = store.query_plan(sql, params)
    assert index in plan and "SCAN" not in plan.replace(f"SCAN {index}", ""), plan


def test_store_source_runs_exactly_these_hot_queries():
    """The plans above are checked on the SQL the store really sends."""
    import inspect
    import esh_tui.storage.rollups as rollups
    import esh_tui.storage.store as store
    source = inspect.getsource(store) + inspect.getsource(rollups)
    for fragment in ("WHERE artist_id = ? AND release_date >= ?", "FROM artists WHERE (next_due IS NULL OR next_due <= ?) AND removed_at IS NULL\"",
                     "FROM artist_albums WHERE artist_id = ?", "FROM isrc_earliest WHERE isrc = ?",
                     "FROM tracks WHERE id IN", "FROM run_endpoints WHERE run_id = ? GROUP BY template",
                     "FROM run_cost WHERE run_id = ?", "FROM run_minutes WHERE minute >= ?",
                     "WHERE artist_tracks.key = ?", "key IN (SELECT key FROM artist_tracks WHERE artist_id = ?) "):
        assert fragment in source, fragment


def test_wal_busy_timeout_and_schema_version(tmp_path):
    store = Store(tmp_path / "esh.db")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert store.schema_version == SCHEMA_VERSION
    store.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store.close()
    with pytest.raises(StoreError, match="newer esh-tui"):
        Store(tmp_path / "esh.db")


def _schema(db) -> list[tuple]:
    return db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()


@pytest.mark.parametrize("version", [1, 5, SCHEMA_VERSION])
def test_a_new_store_gets_at_once_the_schema_its_migrations_build_step_by_step(tmp_path, monkeypatch, version):
    """A new store is made from the schema its migrations end in (new_store_schema), not migration by migration:
    every table, column, index and constraint, and the schema version, are as the migrations make them."""
    import sqlite_utils

    from esh_tui.storage import store as store_module
    from esh_tui.storage.migrations import MIGRATIONS

    stepped = sqlite_utils.Database(tmp_path / "stepped.db")
    for target in range(1, version + 1):
        MIGRATIONS[target](stepped)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", version)
    made = Store(tmp_path / "new.db")
    try:
        assert made.schema_version == version
        assert _schema(made.db) == _schema(stepped) and len(_schema(stepped)) > 10
        assert made.integrity_ok()
    finally:
        made.close()
        stepped.close()


def _migration_with_autoincrement(db) -> None:
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT)")  # SQLite adds sqlite_sequence


def _migration_that_seeds_a_default(db) -> None:
    db.execute("INSERT INTO settings (key, value) VALUES ('seeded', '1')")


@pytest.mark.parametrize("migration", [_migration_with_autoincrement, _migration_that_seeds_a_default])
def test_a_later_migration_that_makes_sqlites_own_tables_or_seeds_rows_still_makes_new_stores_whole(
        tmp_path, monkeypatch, migration):
    """SQLite makes its own tables (sqlite_sequence) itself, and rows a migration seeds are not in its schema: a new
    store still opens, with the schema version, the table and the rows the migrations give it."""
    from esh_tui.storage import migrations, store as store_module

    monkeypatch.setitem(migrations.MIGRATIONS, SCHEMA_VERSION + 1, migration)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    migrations.new_store_schema.cache_clear()
    try:
        store = Store(tmp_path / "esh.db")
        assert store.schema_version == SCHEMA_VERSION + 1 and store.integrity_ok()
        if migration is _migration_with_autoincrement:
            assert store.db.execute("INSERT INTO notes (text) VALUES ('x')").lastrowid == 1
        else:
            assert store.settings().get("seeded") == 1
        store.close()
    finally:
        migrations.new_store_schema.cache_clear()


@pytest.mark.parametrize("content", [b"garbage, not a database" * 10, b"SQLite format 3\x00" + b"\x00" * 20])
def test_damaged_store_is_detected_and_never_overwritten(tmp_path, content):
    path = tmp_path / "esh.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="move it aside"):
        Store(path)
    assert path.read_bytes() == content


def test_a_failed_artist_write_leaves_no_trace(tmp_path):
    store = Store(tmp_path / "esh.db")
    store.add_artists([(ID, "X", "test")])
    candidate = Candidate("USAAA2600001", "USAAA2600001", "t" * 22, "a" * 22, TODAY)
    with pytest.raises(ZeroDivisionError):
        with store.transaction():
            store.db["artist_tracks"].insert({"artist_id": ID, "track_id": "t" * 22, "key": "k", "album_id": "a" * 22,
                                              "release_date": "2026-11-01", "fetched_at": 1.0})
            1 / 0
    assert store.db["artist_tracks"].count == 0
    store.save_scan(ScanFindings(ID, TODAY, (Album("a" * 22, "A", "single", dt.date(2026, 11, 1)),), (), (candidate,)),
                    1.0, 2.0, {})
    assert store.cached_candidates(ID, TODAY - dt.timedelta(days=90)) == [candidate]


class _Boom(Exception):
    pass


async def test_crash_between_artists_leaves_the_store_consistent(tmp_path, monkeypatch):
    """Raise in the middle of a run: every artist is either whole or absent, and the next run completes."""
    world = World(fresh_catalog(1, 30), "development", tmp_path / "esh.db")
    original = Store.save_scan
    saved = []

    def crashing_save(self, artist_id, *args, **kwargs):
        if len(saved) == 7:
            raise _Boom("simulated crash")
        original(self, artist_id, *args, **kwargs)
        saved.append(artist_id)

    monkeypatch.setattr(Store, "save_scan", crashing_save)
    with pytest.raises(_Boom):
        await world.run()
    assert len(saved) == 7
    monkeypatch.setattr(Store, "save_scan", original)
    ids = [a.id for a in world.catalog.real_artists()]
    store = Store(world.path)
    assert store.integrity_ok()
    for artist in store.artists():
        has_scan = artist.next_due is not None
        rows = store.db.execute("SELECT count(*) FROM artist_tracks WHERE artist_id = ?", (artist.id,)).fetchone()[0]
        assert has_scan or rows == 0, f"{artist.id} is half-written"
    assert len(ids) == len(store.artists()), "the artist list is intact"
    store.close()
    result, _, _ = await world.run()
    assert result.status == "ok" and not result.failed


def _kill_me_mid_run(path, seed):
    import asyncio
    world = World(fresh_catalog(seed, 30), "development", path)

    def die(*_):
        os.kill(os.getpid(), signal.SIGKILL)

    calls = {"n": 0}
    original = Store.save_scan

    def save_then_maybe_die(self, *args, **kwargs):
        original(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 5:
            die()

    Store.save_scan = save_then_maybe_die
    asyncio.run(world.run())


async def test_sigkill_mid_run_then_resume(tmp_path):
    path = tmp_path / "esh.db"
    process = multiprocessing.get_context("spawn").Process(target=_kill_me_mid_run, args=(path, 1))
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL
    store = Store(path)
    assert store.integrity_ok()
    scanned = [a for a in store.artists() if a.next_due is not None]
    assert len(scanned) == 5, "the artists written before the kill are whole"
    store.close()
    world = World(fresh_catalog(1, 30), "development", path)
    result, _, ids = await world.run()
    assert result.status == "ok" and result.artists_fetched == len(ids) - 5


# ----- backup ----------------------------------------------------------------------------------------------

def test_backup_round_trip_is_exact(tmp_path):
    store = Store(tmp_path / "esh.db")
    store.add_artists([(ID, "[bold]X[/bold]\tY", "manual"), ("1" * 22, "ليالي 🔥", "import")])
    store.replace_artists_and_settings([{"id": a.id, "name": a.name, "source": a.source, "added_at": a.added_at}
                                        for a in store.artists()], {"days": 30, "noise_words": ["live"]})
    write_backup(store, tmp_path / "backup.json")
    other = Store(tmp_path / "other.db")
    other.add_artists([("2" * 22, "Someone else", "manual")])
    restore_backup(other, tmp_path / "backup.json")
    assert [(a.id, a.name, a.source, a.added_at) for a in other.artists()] == \
        [(a.id, a.name, a.source, a.added_at) for a in store.artists()]
    assert other.settings() == {"days": 30, "noise_words": ["live"]}
    write_backup(other, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == (tmp_path / "backup.json").read_text()


BAD_BACKUPS = {
    "not json": b"{nope",
    "binary": bytes(range(256)),
    "empty": b"",
    "wrong shape": b"[1, 2, 3]",
    "no format": json.dumps({"artists": []}).encode(),
    "future version": json.dumps({"format": "esh-tui-backup", "version": 9, "artists": []}).encode(),
    "artists not a list": json.dumps({"format": "esh-tui-backup", "version": 1, "artists": {}}).encode(),
    "bad id": json.dumps({"format": "esh-tui-backup", "version": 1, "artists": [
        {"id": "nope", "name": "x", "source": "manual", "added_at": "2026-01-01"}]}).encode(),
    "missing name": json.dumps({"format": "esh-tui-backup", "version": 1, "artists": [
        {"id": ID, "source": "manual", "added_at": "2026-01-01"}]}).encode(),
    "duplicate": json.dumps({"format": "esh-tui-backup", "version": 1, "artists": [
        {"id": ID, "name": "x", "source": "m", "added_at": "t"}, {"id": ID, "name": "x", "source": "m", "added_at": "t"}]}).encode(),
}


@pytest.mark.parametrize("name", BAD_BACKUPS)
def test_malformed_backup_is_refused_and_nothing_changes(tmp_path, name):
    store = Store(tmp_path / "esh.db")
    store.add_artists([(ID, "Kept", "manual")])
    before = store.artists()
    path = tmp_path / "bad.json"
    path.write_bytes(BAD_BACKUPS[name])
    with pytest.raises(BackupError) as caught:
        restore_backup(store, path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)
    assert store.artists() == before


def test_cli_restore_of_a_bad_file_exits_2_and_keeps_the_list(tmp_path, capsys):
    assert main(["artists", "list", "--format", "json"]) == 0
    before = capsys.readouterr().out
    (tmp_path / "bad.json").write_text('{"format": "esh-tui-backup", "version": 1, "artists": [42]}')
    assert main(["artists", "restore", str(tmp_path / "bad.json")]) == 2
    assert "artist #1 is not an object" in capsys.readouterr().err
    assert main(["artists", "list", "--format", "json"]) == 0
    assert capsys.readouterr().out == before


def test_cli_export_restore_round_trip(tmp_path, capsys):
    assert main(["artists", "export", str(tmp_path / "b.json")]) == 0
    data = read_backup(tmp_path / "b.json")
    assert len(data["artists"]) == 12 and {a["source"] for a in data["artists"]} == {"sample"}
    assert main(["artists", "remove", data["artists"][0]["id"]]) == 0
    assert main(["artists", "restore", str(tmp_path / "b.json")]) == 0
    capsys.readouterr()
    assert main(["artists", "list", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 12


def test_export_to_standard_output_a_pipe_or_a_directory(tmp_path, capsys):
    import threading

    assert main(["artists", "export", str(tmp_path / "b.json")]) == 0
    capsys.readouterr()
    assert main(["artists", "export", "-"]) == 0
    out, err = capsys.readouterr()
    assert out == (tmp_path / "b.json").read_text() and "standard output" in err
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    assert main(["artists", "export", str(fifo)]) == 0
    reader.join(timeout=30)  # a bound, not a wait: the export has returned, the reader has what it wrote
    assert received == [out] and stat.S_ISFIFO(fifo.stat().st_mode), "a pipe is written to, never replaced"
    assert main(["artists", "export", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_import_file_is_all_or_nothing(tmp_path, capsys):
    assert main(["artists", "list", "--format", "json"]) == 0
    before = json.loads(capsys.readouterr().out)
    (tmp_path / "artists.txt").write_text(f"# my artists\nspotify:artist:{before[0]['id']}\nNo Such Artist Anywhere\n")
    assert main(["artists", "import", str(tmp_path / "artists.txt")]) == 2
    assert "line 3" in capsys.readouterr().err
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02")
    assert main(["artists", "import", str(tmp_path / "binary.txt")]) == 2
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    assert main(["artists", "import", str(tmp_path / "empty.txt")]) == 2
    capsys.readouterr()
    assert main(["artists", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == before


@pytest.mark.parametrize("mode", ["development", "extended"])
def test_an_import_asks_about_each_artist_once_and_tells_repeated_lines_from_already_tracked(tmp_path, capsys, mode):
    from esh_tui.runtime import open_runtime
    from esh_tui.tracker.artists import ArtistService

    with open_runtime() as runtime:
        runtime.offline.sim.config.mode = mode
        tracked = {a.id for a in runtime.store.artists()}
        fresh = [a for a in runtime.offline.catalog.real_artists() if a.id not in tracked][:40]
        already = sorted(tracked)[:5]
        lines = [f"spotify:artist:{a.id}" for a in fresh] * 25 + [f"https://open.spotify.com/artist/{i}" for i in already]
        lines += [fresh[0].name] * 10  # a name naming an artist an id already named
        (tmp_path / "big.txt").write_text("\n".join(lines) + "\n")
        runtime.offline.sim.reset_counts()
        progress = []
        added = asyncio.run(ArtistService(runtime).import_file(str(tmp_path / "big.txt"),
                                                               on_progress=lambda d, t: progress.append((d, t))))
        calls = runtime.offline.sim.calls()
    assert added.added == 40 and added.already == 5
    assert added.repeated == len(lines) - 46  # 40 ids, 5 tracked ids and one name are distinct
    assert "40 artists added from" in added.summary() and f"{added.repeated} repeated lines in the file" in added.summary()
    # one call per distinct line, or a few batches; development mode also learns it has no batch endpoint
    # and only small search pages (two refused asks)
    assert calls <= (46 + 2 if mode == "development" else 4), calls
    assert progress[-1] == (46, 46)


def test_restore_from_standard_input_reads_the_backup_once(tmp_path, capsys, monkeypatch):
    import io
    import sys

    assert main(["artists", "export", "-"]) == 0
    backup = capsys.readouterr().out
    assert main(["artists", "remove", json.loads(backup)["artists"][0]["id"]]) == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(backup.encode())))
    assert main(["artists", "restore", "-"]) == 0
    assert "from standard input" in capsys.readouterr().err
    assert main(["artists", "export", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["artists"] == json.loads(backup)["artists"]


def test_a_store_error_never_echoes_raw_bytes_and_always_says_to_move_the_store_aside(tmp_path):
    import sqlite3

    from esh_tui.storage.errors import store_error

    raw = sqlite3.DatabaseError("malformed database schema (\x1b[2J\x00\x9b\u202e" + "x" * 500 + ")")
    other = sqlite3.DatabaseError("disk I/O error \x07")
    for error in (store_error(raw, tmp_path / "esh.db"), store_error(other, tmp_path / "esh.db")):
        text = str(error)
        assert not any(ch in text for ch in "\x1b\x00\x9b\u202e\x07") and "x" * 200 not in text
        assert "move it aside" in text


def test_a_schema_4_store_gains_per_artist_call_counts_left_unknown_until_a_check_counts_them(tmp_path, monkeypatch):
    from esh_tui.storage import store as store_module

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 4)
    old = Store(tmp_path / "esh.db")
    with old.transaction():  # as a schema 4 esh-tui added it (add_artists writes later columns)
        old.db.execute("INSERT INTO artists (id, name, source, added_at) VALUES (?, 'Old Artist', 'test', '2026-11-01')",
                       (ID,))
    old.close()
    monkeypatch.undo()
    store = Store(tmp_path / "esh.db")
    try:
        assert store.schema_version == SCHEMA_VERSION >= 6
        artist = store.artist(ID)
        assert (artist.name, artist.last_scan_calls, artist.total_calls) == ("Old Artist", None, None)
        store.add_artist_calls({ID: 7})
        store.add_artist_calls({ID: 2})
        assert (store.artist(ID).last_scan_calls, store.artist(ID).total_calls) == (2, 9)
    finally:
        store.close()
