"""Shared by the fuzz tests (test_fuzz_inputs.py, test_fuzz_spotify.py): how many examples, the hard time bound
of one example, running the CLI in-process on a copy of a store, and what printed text may not contain.

`ESH_FUZZ_EXAMPLES=N` runs every fuzz test with N examples instead of its small default (the long campaign;
`-m fuzz` selects only them): `ESH_FUZZ_EXAMPLES=2000 python -m pytest -m fuzz -n 2`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from esh_tui.cli import main

from reliability_support import db_digest

EXAMPLES = int(os.environ.get("ESH_FUZZ_EXAMPLES") or 0)  # 0: each test's own small default
EXAMPLE_SECONDS = 60.0  # a hard bound on one example, however loaded the machine: past it, it hangs
DEADLINE = dt.timedelta(seconds=20)  # hypothesis' own: an example that takes this long is a failure too

# What no printed text may carry: C0 controls but newline (ESC among them) and tab (the tsv separator, checked
# apart), DEL, C1 controls (U+009B is a CSI), bidi overrides and isolates, lone surrogates (bytes that were not
# UTF-8: a stream that encodes strictly cannot even write them).
UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
OUTPUT_COMMANDS = (  # every output format of every command that prints what came from outside
    ["artists", "list"], ["artists", "list", "--format", "tsv"], ["artists", "list", "--format", "json"],
    ["artists", "export", "-"], ["stats"], ["stats", "--format", "json"], ["config"],
    *(["track", "--format", fmt] for fmt in ("pretty", "tsv", "csv", "json", "ids")),
)


def fuzz_settings(default: int, **overrides) -> settings:
    """`default` examples (or ESH_FUZZ_EXAMPLES), a deadline, and no complaint about function-scoped fixtures:
    every example makes its own directories and reads capsys itself."""
    chosen = {"max_examples": EXAMPLES or default, "deadline": DEADLINE,
              "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                        HealthCheck.data_too_large, HealthCheck.filter_too_much]}
    return settings(**{**chosen, **overrides})


class Hang(Exception):
    """An example ran past EXAMPLE_SECONDS."""


@contextlib.contextmanager
def bounded(seconds: float = EXAMPLE_SECONDS) -> Iterator[None]:
    """Raise Hang in the code under test when it runs longer than `seconds` (a blocked open() of a FIFO too:
    the signal interrupts the system call). Only the main thread gets signals; elsewhere there is no bound."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise Hang(f"one example took more than {seconds:.0f} s: a hang")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def assert_printable(text: str, what: object, tabs: bool = False) -> None:
    """Nothing a terminal would act on (newlines aside; tabs only where they separate columns)."""
    found = UNPRINTABLE.search(text.replace("\t", "") if tabs else text)
    assert found is None, f"{what}: {found.group()!r} printed in {text[max(0, found.start() - 60):found.end() + 60]!r}"


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_cli(capsys, argv: Sequence[str], stdin: bytes | None = b"") -> Outcome:
    """`esh-tui ARGV` in this process, bounded; an exception other than SystemExit is a traceback: it fails."""
    with pytest.MonkeyPatch.context() as patch:
        if stdin is not None:
            patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        with bounded():
            try:
                code = main(list(argv))
            except SystemExit as exit_:
                code = exit_.code
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def assert_clean(outcome: Outcome, what: object) -> None:
    """No traceback, and nothing unprintable on either stream (tsv's tabs aside)."""
    assert "Traceback" not in outcome.err, (what, outcome.err[-2000:])
    assert_printable(outcome.err, what)
    assert_printable(outcome.out, what, tabs=True)


def assert_one_line_refusal(outcome: Outcome, what: object, code: int = 2, names: Sequence[str] = ()) -> None:
    """Exit `code`, and one line on stderr in esh-tui's voice that names what was wrong (one of `names`)."""
    err = outcome.err
    assert outcome.code == code, (what, outcome.code, err)
    assert err.count("\n") == 1 and err.endswith("\n"), (what, err)
    assert err.startswith("esh-tui") and "error: " in err, (what, err)
    if names:
        assert any(name in err for name in names), (what, names, err)


class Scratch:
    """Per-example directories under one test's tmp_path: a data directory holding a copy of the template
    store, a config directory and a working directory, with the environment pointed at them."""

    def __init__(self, root: Path, template: Path | None):
        self.root, self.template, self.count = root, template, 0

    @contextlib.contextmanager
    def example(self, monkeypatch_env: bool = True) -> Iterator["Example"]:
        self.count += 1
        base = Path(tempfile.mkdtemp(prefix=f"ex{self.count}-", dir=self.root))
        example = Example(base)
        for d in (example.data, example.config, example.cwd):
            d.mkdir()
        if self.template is not None:
            shutil.copyfile(self.template, example.store)
        with pytest.MonkeyPatch.context() as patch:
            if monkeypatch_env:
                patch.setenv("ESH_DATA_DIR", str(example.data))
                patch.setenv("ESH_CONFIG_DIR", str(example.config))
            patch.setenv("HOME", str(base / "home"))  # the platform's default directories: inside the example too
            for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME"):
                patch.setenv(name, str(base / "home" / name.lower()))
            patch.chdir(example.cwd)
            example.patch = patch
            try:
                yield example
            finally:
                shutil.rmtree(base, ignore_errors=True)


@dataclass
class Example:
    base: Path
    patch: pytest.MonkeyPatch | None = None

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def config(self) -> Path:
        return self.base / "config"

    @property
    def cwd(self) -> Path:
        return self.base / "cwd"

    @property
    def store(self) -> Path:
        return self.data / "offline.db"

    def digest(self) -> str:
        return db_digest(self.store)


def build_template(tmp_path_factory) -> Path:
    """The offline store with its sample artists and one run behind it, built once per module."""
    from reliability_support import share_offline_spotify

    root = tmp_path_factory.mktemp("fuzz-template")
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        patch.setenv("ESH_DATA_DIR", str(root / "data"))
        patch.setenv("ESH_CONFIG_DIR", str(root / "config"))
        share_offline_spotify(patch)
        assert main(["track", "--format", "ids"]) == 0
    path = root / "data" / "offline.db"
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one file: a copy is the whole store
    finally:
        conn.close()
    return path


# ----- what the store may hold after Spotify's answers were fuzzed -------------------------------------------

_DATES = (("albums", "release_date"), ("artist_tracks", "release_date"), ("releases", "release_date"),
          ("isrc_earliest", "release_date"), ("artists", "listed_back_to"), ("artists", "partial_back_to"),
          ("artists", "last_release"))
_NAMES = (("albums", "name"), ("albums", "album_type"), ("tracks", "name"), ("isrc_earliest", "track_name"),
          ("isrc_earliest", "album_name"), ("isrc_earliest", "album_type"), ("releases", "track_name"),
          ("releases", "album_name"), ("releases", "album_type"), ("artists", "name"))
_IDS = (("albums", "id"), ("tracks", "id"), ("tracks", "album_id"), ("artist_albums", "album_id"),
        ("artist_tracks", "track_id"), ("artist_tracks", "album_id"), ("releases", "track_id"),
        ("releases", "album_id"), ("isrc_earliest", "track_id"), ("isrc_earliest", "album_id"))
_ISRCS = (("tracks", "isrc"), ("artist_tracks", "isrc"), ("releases", "isrc"), ("isrc_earliest", "isrc"))
_NAME_LISTS = (("tracks", "artist_names"), ("releases", "artist_names"), ("isrc_earliest", "artist_names"))


def assert_store_sane(path: Path) -> None:
    """Whatever Spotify sent, what the store keeps is well formed: real dates in ISO form, names fit to show,
    Spotify ids, ISRCs, counts and popularity in range, JSON lists of names; and the file is whole."""
    from esh_tui.models import is_count, is_isrc, is_name, is_popularity, is_spotify_id

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        def values(table: str, column: str):
            return [row[0] for row in conn.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')]

        for table, column in _DATES:
            for value in values(table, column):
                assert isinstance(value, str) and dt.date.fromisoformat(value).isoformat() == value, (table, column, value)
        for table, column in _NAMES:
            assert all(is_name(v) for v in values(table, column)), (table, column)
        for table, column in _IDS:
            bad = [v for v in values(table, column) if not is_spotify_id(v)]
            assert not bad, (table, column, bad[:3])
        for table, column in _ISRCS:
            bad = [v for v in values(table, column) if not is_isrc(v)]
            assert not bad, (table, column, bad[:3])
        for table, column in _NAME_LISTS:
            for value in values(table, column):
                names = json.loads(value)
                assert isinstance(names, list) and all(is_name(n) for n in names), (table, column, value[:200])
        for value in values("releases", "found_for"):
            found_for = json.loads(value)
            assert isinstance(found_for, list) and all(is_spotify_id(a) for a in found_for), value[:200]
        for key, isrc, track_id in conn.execute("SELECT key, isrc, track_id FROM releases"):
            assert key == (isrc or f"track:{track_id}"), (key, isrc, track_id)
        assert all(is_popularity(v) for v in values("isrc_earliest", "popularity"))
        assert all(is_count(v) for v in values("artists", "listing_total"))
        assert set(values("albums", "noise")) <= {0, 1}
    finally:
        conn.close()
