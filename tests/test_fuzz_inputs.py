"""Every local input surface fuzzed (docs/INPUTS.md lists them): import files and standard input, backups,
config.toml, .env files, environment variables, command-line arguments, paths, and the store file itself.

Each test runs the CLI (`esh_tui.cli.main`, in this process) on hypothesis-generated input and checks:
- no exception escapes as a traceback, and no example runs past a hard time bound (fuzz_support.bounded);
- bad input is exit 2 (1 for a store or data directory that cannot be used) with one line on stderr, in
  esh-tui's voice, naming what was wrong (the file, the setting, the variable, the argument);
- refused input changes nothing: every row of the store, and no file appears or changes in the example's
  directories;
- nothing printed, on stdout or stderr, in any output format, carries a control character, an escape
  sequence, a bidi override or a lone surrogate; accepted input with such characters prints inert.
A few examples run in a subprocess too, with a strict UTF-8 stdout. ESH_FUZZ_EXAMPLES=N runs N examples each.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import sqlite3
import string
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from dotenv import dotenv_values
from hypothesis import assume, event, example, given, strategies as st

from esh_tui.text import clean

from fuzz_support import (
    EXAMPLE_SECONDS, OUTPUT_COMMANDS, Scratch, assert_clean, assert_one_line_refusal, assert_printable, bounded,
    build_template, fuzz_settings, run_cli,
)
from reliability_support import db_digest, share_offline_spotify

pytestmark = pytest.mark.fuzz


@pytest.fixture(autouse=True)
def _quick_offline(monkeypatch):
    share_offline_spotify(monkeypatch)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return build_template(tmp_path_factory)


@functools.lru_cache(maxsize=1)
def offline_catalog():
    """The offline Spotify's catalog as the CLI sees it today (its ids are the same every day); built on the
    first draw that needs it, inside a test."""
    from esh_tui.config import Settings
    from esh_tui.sim.offline import offline_spotify

    return offline_spotify(Settings(data_dir=Path("/nonexistent"))).catalog


@pytest.fixture
def scratch(tmp_path, template) -> Scratch:
    return Scratch(tmp_path, template)


def snapshot(base: Path) -> dict[str, str]:
    """Every file under `base`: a store by its rows (pages move without the data changing), any other file by
    its bytes; SQLite's -wal and -shm files are the store's own business."""
    files = {}
    for path in sorted(base.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.name.endswith(("-wal", "-shm")):
            continue
        data = path.read_bytes()
        try:
            digest = db_digest(path) if path.suffix == ".db" and data.startswith(b"SQLite") else None
        except (sqlite3.DatabaseError, UnicodeDecodeError):  # a damaged store (a name in it not UTF-8, say): its bytes
            digest = None
        files[str(path.relative_to(base))] = digest or hashlib.sha256(data).hexdigest()
    return files


def assert_outputs_clean(capsys, what: object) -> None:
    """Every command that prints what came from outside, in every format: nothing unprintable, no traceback."""
    for argv in OUTPUT_COMMANDS:
        outcome = run_cli(capsys, argv)
        assert outcome.code in (0, 1), (what, argv, outcome.err)
        assert_clean(outcome, (what, argv))


# ----- strategies ---------------------------------------------------------------------------------------------

BASE62 = string.digits + string.ascii_letters
HOSTILE = ["\x1b[31mred\x1b[0m", "\x1b]8;;https://evil.invalid\x07link\x1b]8;;\x07", "\x1b[2J", "\u202eesrever",
           "\u2066iso\u2069", "\x9b31m", "a\tb", "a\nb", "a\rb", "\x00", "\x07", "\x7f", "[bold]x[/bold]",
           "ليالي", "🌙", "\ufeff", "\u2028", " ", "#", "x" * 250]
hostile_text = st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE),
                         st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3).map("".join))
_NOT_NUL = [h for h in HOSTILE if "\x00" not in h]
hostile_arguments = st.one_of(  # what a process's arguments and environment can hold: anything but NUL
    st.text(st.characters(blacklist_characters="\x00"), max_size=30), st.sampled_from(_NOT_NUL),
    st.lists(st.sampled_from(_NOT_NUL), min_size=1, max_size=3).map("".join))
spotify_ids = st.one_of(st.text(BASE62, min_size=22, max_size=22), st.text(BASE62, max_size=30))


def _ref_forms(artist_id: str) -> list[str]:
    return [artist_id, f"spotify:artist:{artist_id}", f"https://open.spotify.com/artist/{artist_id}?si=x",
            f"https://open.spotify.com/intl-de/artist/{artist_id}", f"spotify:track:{artist_id}",
            f"https://open.spotify.com/artist/{artist_id}/x", f"spotify:artist:{artist_id[:10]}"]


def _import_lines() -> st.SearchStrategy[str]:
    """Lines an import file might hold: real names, IDs, URIs and URLs of the offline catalog (so some imports
    succeed), malformed links, comments, and hostile or random text."""
    real = offline_catalog().real_artists()[:40]
    return st.one_of(
        st.sampled_from([a.name for a in real]),
        st.sampled_from(real).flatmap(lambda a: st.sampled_from(_ref_forms(a.id))),
        spotify_ids.flatmap(lambda i: st.sampled_from(_ref_forms(i) if i else [""])),
        st.sampled_from(["", "   ", "# a comment", "name # comment", "spotify:", "https://open.spotify.com/artist/"]),
        hostile_text,
    )


import_lines = st.deferred(_import_lines)


def _import_files() -> st.SearchStrategy[bytes]:
    lines = st.lists(import_lines, max_size=8)
    return st.one_of(
        st.builds(lambda ls, end, bom: (b"\xef\xbb\xbf" if bom else b"") + end.join(ls),
                  lines.map(lambda ls: [line.encode("utf-8", "surrogatepass") for line in ls]),
                  st.sampled_from([b"\n", b"\r\n", b"\r"]), st.booleans()),
        st.binary(max_size=300),
    )


import_files = st.deferred(_import_files)


# ----- import files and standard input --------------------------------------------------------------------------

@fuzz_settings(40)
@given(content=import_files, from_stdin=st.booleans())
@example(content=b"\x1b]8;;https://evil.invalid\x07Nobody\x1b]8;;\x07\n", from_stdin=False)
@example(content="Quartz\n\u202eemaN\u202c\n".encode(), from_stdin=True)
def test_fuzz_import_files_and_standard_input(scratch, capsys, content, from_stdin):
    with scratch.example() as ex:
        before = snapshot(ex.base)
        name = "-" if from_stdin else str(ex.cwd / "artists.txt")
        if not from_stdin:
            (ex.cwd / "artists.txt").write_bytes(content)
            before = snapshot(ex.base)
        outcome = run_cli(capsys, ["artists", "import", name], stdin=content if from_stdin else b"")
        assert_clean(outcome, content)
        event(f"exit {outcome.code}")
        if outcome.code == 0:
            assert f"added from {clean(name)}" in outcome.err
            assert_outputs_clean(capsys, content)
        else:
            assert_one_line_refusal(outcome, content, names=[f"error: {clean(name)} "])
            assert snapshot(ex.base) == before, "a refused import changes nothing"


# ----- backups ------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
backup_artists = st.fixed_dictionaries(
    {"id": spotify_ids, "name": st.one_of(hostile_text, json_values),
     "source": st.one_of(st.sampled_from(["manual", "import", "sample", "playlist"]), hostile_text),
     "added_at": st.one_of(st.just("2026-01-01T00:00:00+00:00"), hostile_text)})


def _backup(artists, settings, change):
    data = {"format": "esh-tui-backup", "version": 1, "artists": artists, "settings": settings}
    if change is not None:
        key, value = change
        if key.startswith("artist.") and artists:
            artists[0][key.removeprefix("artist.")] = value
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")


backups = st.one_of(
    st.builds(_backup, st.lists(backup_artists, max_size=4), st.dictionaries(st.text(max_size=8), json_values, max_size=2),
              st.none() | st.tuples(st.sampled_from(["format", "version", "artists", "settings", "artist.id",
                                                     "artist.name", "artist.extra"]), json_values)),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
)


@fuzz_settings(40)
@given(content=backups, from_stdin=st.booleans())
@example(content=_backup([{"id": "0TnOYISbd1XYRBk9myaseg", "name": "\x1b[31mX\u202e\x9b2J", "source": "manual",
                           "added_at": "2026-01-01"}], {}, None), from_stdin=False)
def test_fuzz_backups_restored_from_a_file_or_standard_input(scratch, capsys, content, from_stdin):
    with scratch.example() as ex:
        name = "-" if from_stdin else str(ex.cwd / "backup.json")
        if not from_stdin:
            (ex.cwd / "backup.json").write_bytes(content)
        before = snapshot(ex.base)
        outcome = run_cli(capsys, ["artists", "restore", name], stdin=content if from_stdin else b"")
        assert_clean(outcome, content)
        event(f"exit {outcome.code}")
        if outcome.code == 0:
            restored = json.loads(content.decode("utf-8-sig"))["artists"]
            listed = json.loads(run_cli(capsys, ["artists", "list", "--format", "json"]).out)
            if restored:  # (an offline store left with no artists gets the sample ones again)
                assert sorted((a["id"], a["name"]) for a in listed) == sorted((a["id"], a["name"]) for a in restored)
            assert_outputs_clean(capsys, content)
        else:
            assert_one_line_refusal(outcome, content, names=[f"error: {clean(name)}"])
            assert snapshot(ex.base) == before, "a refused backup changes nothing"


# ----- config.toml ----------------------------------------------------------------------------------------------

TOML_KEYS = {"cache": ["memory_items"], "freshness": ["recent_hours", "active_hours", "quiet_hours"],
             "network": ["max_connections", "daily_budget"], "prefetch": ["calls_per_minute"],
             "spotify": ["market"], "keys": ["refresh", "quit", "not_an_action"], "other": ["x"],
             "filters": ["types", "appears_on", "exclude", "block", "block_artists", "typo"]}
toml_values = st.one_of(st.integers(), st.integers(-10, 300), st.floats(allow_nan=True), st.booleans(),
                        st.sampled_from(["SE", "se", "from_token", "XX", "f5", "ctrl+r", "f5,ctrl+r", "a b", ""]),
                        hostile_text, st.lists(st.integers(), max_size=2), st.dates(),
                        st.lists(st.one_of(st.sampled_from(["album", "EP", "lp", "remix", "sped_up", "live", "(", "a{2,}",
                                                            "[bold]x", "\x1b[31m"]), hostile_text), max_size=3))


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {True: "nan"}.get(value != value) or {float("inf"): "inf", float("-inf"): "-inf"}.get(value, repr(value))
    if isinstance(value, (int,)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string (\u escapes for controls)
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    return value.isoformat()  # a TOML date


def _toml(entries) -> str:
    sections: dict[str, dict] = {}
    for section, key, value in entries:
        sections.setdefault(section, {})[key] = value
    return "\n".join(f"[{s}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in kv.items())
                     for s, kv in sections.items())


toml_texts = st.one_of(
    st.lists(st.sampled_from(sorted(TOML_KEYS)).flatmap(
        lambda s: st.tuples(st.just(s), st.sampled_from(TOML_KEYS[s]), toml_values)), max_size=5).map(_toml),
    st.text(max_size=100), st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["x = " + "[" * 600 + "]" * 600, "[cache\nmemory_items = 1", "[[cache]]\n", "cache = 1\n"]),
)


@fuzz_settings(40)
@given(text=toml_texts, legacy=st.booleans(),
       argv=st.sampled_from([["artists", "list"], ["config"], ["stats"], ["track", "--format", "ids"]]))
@example(text='[keys]\nrefresh = "\\u001b[2J"\n', legacy=False, argv=["config"])
def test_fuzz_config_toml_in_the_config_or_the_data_directory(scratch, capsys, text, legacy, argv):
    with scratch.example() as ex:
        path = (ex.data if legacy else ex.config) / "config.toml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        before = snapshot(ex.base)
        outcome = run_cli(capsys, argv)
        assert_clean(outcome, text)
        event(f"exit {outcome.code}")
        if outcome.code == 0:
            assert_outputs_clean(capsys, text)
        elif outcome.code == 3:  # a [network] daily_budget the run did not fit in: said, not refused
            assert argv[0] == "track" and "budget" in outcome.err
        else:
            assert_one_line_refusal(outcome, text, names=[f"config.toml ({path})"])
            assert snapshot(ex.base) == before


# ----- .env files -------------------------------------------------------------------------------------------------

ENV_NAMES = ["ESH_API_URL", "ESH_ACCOUNTS_URL", "ESH_MARKET", "SPOTIFY_REDIRECT_URI", "SPOTIPY_REDIRECT_URI",
             "SPOTIFY_CLIENT_ID", "SPOTIPY_CLIENT_ID", "ESH_DATA_DIR", "ESH_CONFIG_DIR"]
URLISH = ["http://127.0.0.1:8765/callback", "http://[::1]:8765/cb", "http://localhost:8765/cb", "https://api.x/v1",
          "ftp://x", "http://[::1", "http://127.0.0.1:99999/v1", "SE", "from_token", "se", "data", "./d", "~"]
env_values = st.one_of(st.sampled_from(URLISH), hostile_arguments)
dotenv_lines = st.one_of(
    st.builds(lambda name, value, quote, export: f"{'export ' if export else ''}{name}={quote}{value}{quote}",
              st.sampled_from(ENV_NAMES), env_values.filter(lambda v: "\n" not in v and "\r" not in v),
              st.sampled_from(["", "'", '"']), st.booleans()),
    hostile_text, st.sampled_from(["'unterminated", "NAME", "=value", "A=${B}", "# comment"]))
dotenv_files = st.one_of(st.lists(dotenv_lines, max_size=5).map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass")),
                         st.binary(max_size=120))


def _inside(value: str | None) -> bool:
    """A directory setting that stays inside the example: relative, no '..', no '~' (the test runs as root)."""
    return value is None or not value.strip() or (not os.path.isabs(value.strip()) and ".." not in value
                                                  and not value.strip().startswith("~") and "\x00" not in value)


@fuzz_settings(40)
@given(content=dotenv_files, in_cwd=st.booleans(),
       argv=st.sampled_from([["artists", "list"], ["config"], ["stats", "--format", "json"], ["artists", "export", "-"]]))
@example(content=b"'SPOTIFY_CLIENT_SECRET=s3cr3t\nESH_MARKET=se\n", in_cwd=True, argv=["config"])
def test_fuzz_dotenv_files_in_the_working_or_the_data_directory(scratch, capsys, content, in_cwd, argv):
    try:
        values = dotenv_values(stream=io.StringIO(content.decode("utf-8")))
    except UnicodeDecodeError:
        values = {}
    assume(all(_inside(values.get(name)) for name in ("ESH_DATA_DIR", "ESH_CONFIG_DIR")))
    with scratch.example() as ex:
        if in_cwd:  # where the directories themselves may come from: the environment names none here
            ex.patch.delenv("ESH_DATA_DIR")
            ex.patch.delenv("ESH_CONFIG_DIR")
        (ex.cwd if in_cwd else ex.data).joinpath(".env").write_bytes(content)
        before = snapshot(ex.base)
        outcome = run_cli(capsys, argv)
        assert_clean(outcome, content)
        event(f"exit {outcome.code}")
        assert b"s3cr3t" not in (outcome.out + outcome.err).encode(), "a line that is not NAME=value is not echoed"
        if outcome.code == 2:
            assert_one_line_refusal(outcome, content, names=[".env (", *ENV_NAMES])
            assert snapshot(ex.base) == before
        elif outcome.code == 1:
            assert_one_line_refusal(outcome, content, code=1, names=["data directory", "store"])
        else:
            assert outcome.code == 0, outcome.err
            said = [line for line in outcome.err.splitlines() if not line.startswith("esh-tui: note: ")]
            assert len(said) <= 1 and all(line.endswith("artists and the settings saved to standard output")
                                          for line in said), outcome.err


# ----- environment variables -----------------------------------------------------------------------------------

@fuzz_settings(40)
@given(env=st.dictionaries(st.sampled_from(ENV_NAMES), env_values, min_size=1, max_size=3),
       argv=st.sampled_from([["artists", "list"], ["config"], ["stats"], ["artists", "export", "-"],
                             ["track", "--format", "ids"], ["logout"]]))
@example(env={"ESH_API_URL": "http://api.example/\x1b[2J"}, argv=["track", "--format", "ids"])
@example(env={"ESH_CONFIG_DIR": "x" * 300}, argv=["logout"])
@example(env={"ESH_DATA_DIR": "d\udcff"}, argv=["config"])
def test_fuzz_environment_variables(scratch, capsys, env, argv):
    assume(all(_inside(env.get(name)) for name in ("ESH_DATA_DIR", "ESH_CONFIG_DIR")))
    try:
        for value in env.values():
            os.fsencode(value)
    except UnicodeEncodeError:  # not even a process environment can hold it
        assume(False)
    with scratch.example() as ex:
        for name, value in env.items():
            ex.patch.setenv(name, value)
        before = snapshot(ex.base)
        outcome = run_cli(capsys, argv)
        assert_clean(outcome, env)
        event(f"exit {outcome.code}")
        if outcome.code == 2:
            assert_one_line_refusal(outcome, env, names=list(env))
            assert snapshot(ex.base) == before
        elif outcome.code == 1 and argv[0] != "track":
            assert_one_line_refusal(outcome, env, code=1, names=["data directory", "store"])
        else:
            assert outcome.code in (0, 1), outcome.err


# ----- command-line arguments ------------------------------------------------------------------------------------

WORDS = ["track", "artists", "add", "remove", "list", "import", "import-playlist", "import-liked", "import-followed",
         "export", "restore", "stats", "config", "sim", "oracle", "logout", "--days", "--since", "--format", "--artist",
         "--force-refresh", "--delta-only", "--max-per-artist", "--playlist", "--budget", "--market", "--all-markets",
         "--runs", "--min-tracks", "--seed", "--artists", "--today", "json", "tsv", "csv", "ids", "pretty", "text", "-",
         "0", "1", "-1", "30", "9" * 30, "1e3", "nan", "2026-02-30", "2026-01-01", "1899-12-31", "SE", "from_token",
         "Quartz", "5QYyWMpBzw7faFaq01ibpw", "spotify:artist:5QYyWMpBzw7faFaq01ibpw", "--", "-x", "--days=3", "--da"]
argument = st.one_of(st.sampled_from(WORDS), hostile_arguments, st.text(string.printable, max_size=12))
COMMANDS = [["track"], ["artists", "add"], ["artists", "remove"], ["artists", "list"], ["artists", "import"],
            ["artists", "import-playlist"], ["artists", "import-liked"], ["artists", "export"], ["artists", "restore"],
            ["stats"], ["config"], ["sim", "oracle"], ["logout"], []]
OPTIONS = {"--days": ["30", "0", "36501", "x"], "--since": ["2026-01-01", "2026-02-30", "0001-01-01"],
           "--format": ["json", "tsv", "csv", "ids", "pretty", "text", "xml"], "--artist": ["Quartz", "Nobody", ""],
           "--max-per-artist": ["1", "0"], "--budget": ["0", "1", "-1"], "--market": ["SE", "se", "from_token", "XXX"],
           "--runs": ["1", "1001"], "--min-tracks": ["1", "0"], "--today": ["2026-11-01", "0001-01-01"],
           "--artists": ["10", "5"], "--seed": ["1", "-1"], "--playlist": ["x", "spotify:playlist:abc"],
           "--force-refresh": [], "--delta-only": [], "--all-markets": [],
           "--types": ["album,ep", "lp", ""], "--exclude": ["remix", "live", "sped_up,x"], "--include": ["cover", ","],
           "--block": ["(", "[bold]x", "\x1b[2J"], "--appears-on": [], "--no-appears-on": []}
command_lines = st.builds(  # mostly well-formed: a command, options with values (right or wrong), arguments
    lambda command, options, rest: command + [part for option in options for part in option] + rest,
    st.sampled_from(COMMANDS),
    st.lists(st.sampled_from(sorted(OPTIONS)).flatmap(
        lambda o: st.tuples(st.just(o), st.sampled_from(OPTIONS[o])) if OPTIONS[o] else st.just((o,))), max_size=3),
    st.lists(argument, max_size=2))


def _asks_for_help(argv: list[str]) -> bool:
    """--help and --version print many lines on purpose (and abbreviations of them are the same options)."""
    for arg in argv:
        option = arg.split("=")[0]
        if arg.startswith("-h") or (len(option) > 2 and ("--help".startswith(option) or "--version".startswith(option))):
            return True
    return False


@fuzz_settings(60)
@given(argv=st.one_of(st.lists(argument, max_size=6), command_lines))
@example(argv=["sim", "oracle", "--today", "0001-01-01"])
@example(argv=["--since", "\x1b[2J2026-01-01"])
@example(argv=["artists", "add", "\u202eemaN\u202c", "x" * 300])
def test_fuzz_command_line_arguments(scratch, capsys, argv):
    assume(not _asks_for_help(argv) and not ("sim" in argv and "serve" in argv))
    with scratch.example() as ex:
        before = snapshot(ex.base)
        outcome = run_cli(capsys, argv)
        assert_clean(outcome, argv)
        event(f"exit {outcome.code}")
        assert outcome.code in (0, 1, 2, 3), (argv, outcome.code, outcome.err)
        if outcome.code == 2:
            assert_one_line_refusal(outcome, argv)
            assert snapshot(ex.base) == before, "refused arguments change nothing"


# ----- paths named on the command line ----------------------------------------------------------------------------

PATH_KINDS = ["missing", "text", "binary", "directory", "fifo", "dev-null", "dev-zero", "dangling-link", "link-loop",
              "under-a-file", "long-name"]
file_names = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1,
                     max_size=30).filter(lambda s: s not in (".", "..") and not s.startswith("-"))


def _make_path(ex, kind: str, name: str) -> Path:
    path = ex.cwd / name
    if kind == "text":
        path.write_text("Quartz\n# a comment\n", encoding="utf-8")
    elif kind == "binary":
        path.write_bytes(bytes(range(256)))
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-null":
        path.symlink_to("/dev/null")
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "dangling-link":
        path.symlink_to(ex.cwd / "nowhere")
    elif kind == "link-loop":
        path.symlink_to(path)
    elif kind == "under-a-file":
        path.write_text("a file")
        path = path / "below.json"
    elif kind == "long-name":
        path = ex.cwd / (name * 300)[:300]
    return path


@fuzz_settings(40)
@given(command=st.sampled_from(["import", "restore", "export"]), kind=st.sampled_from(PATH_KINDS), name=file_names)
@example(command="import", kind="fifo", name="\x1b]0;title\x07.txt")
@example(command="export", kind="long-name", name="x")
def test_fuzz_paths_to_import_restore_and_export(scratch, capsys, command, kind, name):
    assume(not (command == "export" and kind == "fifo"))  # waits READER_GRACE_SECONDS for a reader: tested apart
    with scratch.example() as ex:
        path = _make_path(ex, kind, name)
        before = snapshot(ex.base)
        outcome = run_cli(capsys, ["artists", command, str(path)])
        assert_clean(outcome, (command, kind, name))
        event(f"exit {outcome.code}")
        if outcome.code == 2:
            assert_one_line_refusal(outcome, (command, kind, name), names=[clean(path)])
            assert snapshot(ex.base) == before
        else:
            assert outcome.code == 0, outcome.err
            assert command == "export" or (command == "import" and kind == "text"), (command, kind, outcome.err)


# ----- the store file ---------------------------------------------------------------------------------------------

STORE_KINDS = ["damaged", "truncated", "schema damaged", "newer schema", "empty", "text", "directory", "fifo",
               "dev-zero", "wal garbage", "wal directory"]


def _break_store(ex, template: bytes, kind: str, edits: list[tuple[int, bytes]], number: int) -> None:
    store = ex.store
    data = bytearray(template)
    if kind in ("damaged", "schema damaged"):
        for at, chunk in edits:
            at = at % (4096 if kind == "schema damaged" else len(data))
            data[at:at + len(chunk)] = chunk
        store.write_bytes(bytes(data))
    elif kind == "truncated":
        store.write_bytes(bytes(data[:number % len(data)]))
    elif kind == "newer schema":
        store.write_bytes(bytes(data[:60]) + (10 ** 6 + number % 10 ** 6).to_bytes(4, "big") + bytes(data[64:]))
    elif kind == "empty":
        store.write_bytes(b"")
    elif kind == "text":
        store.write_text("artists:\n  - Quartz\n" * (number % 50))
    else:
        store.unlink()
        if kind == "directory":
            store.mkdir()
        elif kind == "fifo":
            os.mkfifo(store)
        elif kind == "dev-zero":
            store.symlink_to("/dev/zero")
        else:
            store.write_bytes(template)
            wal = store.with_name(store.name + "-wal")
            if kind == "wal directory":
                wal.mkdir()
            else:
                wal.write_bytes(b"".join(chunk for _, chunk in edits) * 64)


@fuzz_settings(40)
@given(kind=st.sampled_from(STORE_KINDS),
       edits=st.lists(st.tuples(st.integers(0, 2**20), st.binary(min_size=1, max_size=64)), min_size=1, max_size=4),
       number=st.integers(0, 2**31),
       argv=st.sampled_from([["artists", "list"], ["artists", "list", "--format", "json"], ["stats"],
                             ["stats", "--format", "json"], ["artists", "export", "-"], ["track", "--format", "tsv"],
                             ["artists", "add", "Quartz"], ["artists", "remove", "Quartz"]]))
def test_fuzz_the_store_file(scratch, capsys, template, kind, edits, number, argv):
    with scratch.example() as ex:
        _break_store(ex, template.read_bytes(), kind, edits, number)
        before = snapshot(ex.base)
        outcome = run_cli(capsys, argv)
        assert_clean(outcome, (kind, argv))
        event(f"{kind}: exit {outcome.code}")
        assert outcome.code in (0, 1, 2), (kind, argv, outcome.err)
        if outcome.code == 1 and argv[0] != "track":
            assert_one_line_refusal(outcome, (kind, argv), code=1, names=[str(ex.store), str(ex.data)])
            assert any(what in outcome.err for what in ("move it aside", "newer esh-tui", "cannot use")), outcome.err
        if outcome.code == 1 and kind != "damaged":  # damage SQLite cannot see at first may be written over
            after = snapshot(ex.base)
            assert {k: v for k, v in after.items() if k.startswith("data")} == \
                {k: v for k, v in before.items() if k.startswith("data")}, "a refused store is never written"


# ----- a few of each in a subprocess, with a strict UTF-8 stdout ----------------------------------------------------

@fuzz_settings(3, deadline=None)
@given(argv=st.one_of(st.lists(argument, max_size=5), command_lines), stdin=import_files,
       env=st.dictionaries(st.sampled_from(["ESH_MARKET", "ESH_API_URL", "SPOTIFY_REDIRECT_URI"]),
                           env_values, max_size=2))
@example(argv=["artists", "import", "-"], stdin="ليالي القاهرة\n\x1b[31mANSI Red\x1b[0m\n".encode(), env={})
@example(argv=["config"], stdin=b"", env={"ESH_MARKET": "\udcff"})
def test_fuzz_commands_in_a_subprocess_with_a_strict_utf8_stdout(tmp_path, template, argv, stdin, env):
    """What an in-process run cannot see: the interpreter's own encoding of stdout and stderr, its exit, the
    standard streams as real files. Each example is bounded by a subprocess timeout."""
    assume(not _asks_for_help(argv) and not ("sim" in argv and "serve" in argv))
    try:
        for value in env.values():
            os.fsencode(value)
    except UnicodeEncodeError:
        assume(False)
    data = Path(tempfile.mkdtemp(prefix="ex-", dir=tmp_path))
    (data / "offline.db").write_bytes(template.read_bytes())
    environ = {**os.environ, **env, "ESH_DATA_DIR": str(data), "ESH_CONFIG_DIR": str(data / "config"),
               "PYTHONIOENCODING": "utf-8:strict"}
    done = subprocess.run([sys.executable, "-m", "esh_tui", *argv], input=stdin, env=environ, cwd=data,
                          capture_output=True, timeout=EXAMPLE_SECONDS)
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")  # strict: all of it is text
    event(f"exit {done.returncode}")
    assert "Traceback" not in err, (argv, err[-2000:])
    assert done.returncode in (0, 1, 2, 3), (argv, done.returncode, err)
    assert_printable(err, argv)
    assert_printable(out, argv, tabs=True)
    if done.returncode == 2:
        assert err.count("\n") == 1 and err.startswith("esh-tui"), (argv, err)


# ----- the login file in the data directory ---------------------------------------------------------------------

login_documents = st.one_of(
    st.fixed_dictionaries({"refresh_token": st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE), st.integers())},
                          optional={"scope": st.one_of(st.text(max_size=20), st.integers(), st.none(),
                                                       st.lists(st.text(max_size=5), max_size=2))}),
    json_values)


@fuzz_settings(40)
@given(content=st.one_of(login_documents.map(lambda d: json.dumps(d).encode()), st.binary(max_size=100),
                         st.sampled_from([b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe", b""])),
       kind=st.sampled_from(["file", "file", "fifo", "directory", "dev-zero"]))
@example(content=b'{"refresh_token": "r", "scope": 5}', kind="file")
def test_fuzz_the_login_file(tmp_path, content, kind):
    """user-token.json, which 'esh-tui login' writes: whatever it holds, it is a login or none, never a traceback or
    a wait ('esh-tui login' writes a new one)."""
    from esh_tui.config import Settings
    from esh_tui.spotify.auth import TOKEN_FILE, UserToken
    from esh_tui.spotify.errors import AuthError

    data = Path(tempfile.mkdtemp(prefix="ex-", dir=tmp_path))
    path = data / TOKEN_FILE
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.write_bytes(content)
    with bounded():
        try:
            token = UserToken(Settings(data_dir=data, client_id="id", client_secret="secret"), None)
        except AuthError as exc:
            event("no login")
            assert str(exc) == "not logged in to Spotify: run 'esh-tui login' first"
        else:
            event("a login")
            assert kind == "file" and isinstance(token._refresh_token, str)
            assert all(isinstance(scope, str) for scope in token.scopes)
