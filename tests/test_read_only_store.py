"""A store that cannot be written (a 0444 file, a read-only directory, a read-only mount) can still be listed,
exported and summed up: `artists list`, `artists export`, `stats` open it read-only and write nothing.

The tests run as root, for whom file modes stop no write, so they check what esh-tui asks of SQLite instead:
the connection is opened with `mode=ro` and `PRAGMA query_only` (any write fails), the file's bytes stay the
same, and a directory where SQLite could not create the WAL's -shm file (os.access says so; faked here) is read
with `immutable=1`.
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from esh_tui.cli import main
from esh_tui.storage import store as store_module
from esh_tui.storage.errors import StoreError, StoreNeedsMigration
from esh_tui.storage.store import SCHEMA_VERSION, Store

from reliability_support import share_offline_spotify

READING = (["artists", "list"], ["artists", "list", "--format", "json"], ["artists", "list", "--format", "tsv"],
           ["artists", "export", "-"], ["stats"], ["stats", "--format", "json"])


@pytest.fixture(autouse=True)
def _quick_offline(monkeypatch):
    share_offline_spotify(monkeypatch)


@pytest.fixture
def store_path(tmp_path, capsys) -> Path:
    """The offline store after one run, checkpointed: the whole store is in its one file."""
    assert main(["track", "--format", "ids"]) == 0
    path = tmp_path / "data" / "offline.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    capsys.readouterr()
    return path


@pytest.fixture
def opened(monkeypatch) -> list[bool]:
    """How each Store of the test was opened: read_only or not."""
    seen: list[bool] = []
    original = Store.__init__

    def spy(self, *args, **kwargs):
        seen.append(bool(kwargs.get("read_only")))
        original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "__init__", spy)
    return seen


def test_commands_that_only_read_open_the_store_read_only_and_change_no_byte(store_path, capsys, opened):
    before = store_path.read_bytes()
    for argv in READING:
        assert main(argv) == 0, argv
        assert capsys.readouterr().out
    assert opened == [True] * len(READING)
    assert store_path.read_bytes() == before, "not a byte of the store changed"
    assert main(["track", "--format", "ids"]) == 0 and opened[-1] is False, "a run opens it to write"


def test_a_read_only_store_refuses_every_write(store_path):
    store = Store(store_path, read_only=True)
    try:
        assert store.artists() and store.schema_version == SCHEMA_VERSION
        for write in (lambda: store.save_setting("theme", "x"), lambda: store.add_artists([("0" * 22, "X", "manual")]),
                      lambda: store.db.execute("DELETE FROM artists")):
            with pytest.raises((sqlite3.OperationalError, StoreError), match="readonly"):
                write()
    finally:
        store.close()


def test_a_store_in_a_directory_sqlite_cannot_write_is_read_as_immutable(store_path, capsys, monkeypatch):
    """SQLite cannot open a WAL store read-only where it may not create the -shm file: immutable=1 then."""
    directory = store_path.parent
    real_access = store_module.os.access
    monkeypatch.setattr(store_module.os, "access",
                        lambda path, mode: False if Path(path) == directory else real_access(path, mode))
    uris: list[str] = []
    real_connect = sqlite3.connect
    monkeypatch.setattr(store_module.sqlite3, "connect",
                        lambda target, *args, **kwargs: uris.append(str(target)) or real_connect(target, *args, **kwargs))
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    for argv in READING:
        assert main(argv) == 0, argv
    out = capsys.readouterr().out
    assert "esh-tui-backup" in out and uris and all(uri.endswith("?immutable=1") for uri in uris)
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before, "no file was written or made"


def test_a_store_an_older_esh_tui_wrote_is_upgraded_first_then_read(tmp_path, capsys):
    path = tmp_path / "data" / "offline.db"
    path.parent.mkdir(parents=True)
    db = sqlite_utils.Database(path)
    for version in range(1, SCHEMA_VERSION):
        store_module.MIGRATIONS[version](db)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    db.execute("INSERT INTO artists (id, name, source, added_at) VALUES (?, ?, ?, ?)",
               ("0TnOYISbd1XYRBk9myaseg", "Old Store Artist", "manual", "2026-01-01T00:00:00+00:00"))
    db.conn.commit()
    db.close()
    with pytest.raises(StoreNeedsMigration, match="older esh-tui"):
        Store(path, read_only=True)
    assert main(["artists", "list", "--format", "json"]) == 0
    assert [a["name"] for a in json.loads(capsys.readouterr().out)] == ["Old Store Artist"]
    assert Store(path, read_only=True).schema_version == SCHEMA_VERSION


def test_a_newer_or_damaged_store_opened_read_only_is_one_line(tmp_path, store_path, capsys):
    conn = sqlite3.connect(store_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    for argv in READING:
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "newer esh-tui" in err
    store_path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["artists", "list"]) == 1
    assert "move it aside" in capsys.readouterr().err


def test_with_no_store_yet_listing_creates_it_as_before(tmp_path, capsys):
    assert not (tmp_path / "data" / "offline.db").exists()
    assert main(["artists", "list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 12, "the sample artists, as on a first start"
