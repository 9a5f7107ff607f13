"""Hostile input through every entry point: CLI arguments, settings, import files, JSON restore.

Each bad input gets exit 2 (or 1 where the store or data directory cannot be
used), one clear line on stderr with no traceback and nothing a terminal would
interpret, and leaves the store exactly as it was: the artist list and every
row of every table. Property-based tests (hypothesis) cover the parsers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import shutil
import string
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st

from esh_tui.cli import main
from esh_tui.config import ConfigError, load_settings
from esh_tui.models import parse_release_date, parse_spotify_ref
from esh_tui.text import clean, visible
from esh_tui.tracker.filters import DEFAULT_NOISE_WORDS, NoiseFilter

from reliability_support import db_digest, share_offline_spotify

ID = "0TnOYISbd1XYRBk9myaseg"  # well formed, but no artist in the offline catalog
UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
BACKUP = {"format": "esh-tui-backup", "version": 1}
ARTIST = {"id": ID, "name": "Someone", "source": "manual", "added_at": "2026-01-01T00:00:00+00:00"}


@pytest.fixture(autouse=True)
def _quick_offline(monkeypatch):
    share_offline_spotify(monkeypatch)


@pytest.fixture(scope="module")
def _template(tmp_path_factory) -> Path:
    """The offline store with its sample artists and one run behind it, built once and copied per test."""
    root = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        patch.setenv("ESH_DATA_DIR", str(root / "data"))
        share_offline_spotify(patch)
        assert main(["track", "--format", "ids"]) == 0
    return root / "data" / "offline.db"


def _run(capsys, argv, stdin: bytes | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def _listed(capsys) -> str:
    code, out, _ = _run(capsys, ["artists", "list", "--format", "json"])
    assert code == 0
    return out


def _store(tmp_path) -> Path:
    return tmp_path / "data" / "offline.db"


@pytest.fixture
def tracked(_template, tmp_path, capsys):
    """A store with the sample artists, one run behind it, and the state to compare against."""
    _store(tmp_path).parent.mkdir(parents=True)
    shutil.copyfile(_template, _store(tmp_path))
    return _listed(capsys), db_digest(_store(tmp_path))


def _assert_refused(code, err, needle, expected_code=2):
    assert code == expected_code, err
    assert needle in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), f"one line: {err!r}"
    assert err.startswith("esh-tui") and "Traceback" not in err
    assert not UNPRINTABLE.search(err), f"nothing a terminal would interpret: {err!r}"


def _assert_unchanged(tmp_path, capsys, tracked):
    listed, digest = tracked
    assert db_digest(_store(tmp_path)) == digest, "no row of any table changed"
    assert _listed(capsys) == listed


# ----- command-line arguments ----------------------------------------------------------------------------------

BAD_ARGS = {
    "negative days": (["--days", "-3"], "--days"),
    "zero days": (["track", "--days", "0"], "between 1 and"),
    "too many days": (["track", "--days", "36501"], "between 1 and"),
    "days not a number": (["--days", "lots"], "whole number"),
    "days a float": (["--days", "1e3"], "whole number"),
    "days empty": (["--days", ""], "whole number"),
    "days huge": (["--days", "9" * 400], "--days"),
    "since 2026-02-30": (["--since", "2026-02-30"], "real date"),
    "since month 13": (["--since", "2026-13-01"], "real date"),
    "since slashes": (["--since", "2026/01/01"], "real date"),
    "since empty": (["--since", ""], "real date"),
    "since year 99999": (["--since", "99999-01-01"], "real date"),
    "since with escape": (["--since", "\x1b[2J2026-01-01"], "real date"),
    "days and since": (["--days", "3", "--since", "2026-01-01"], "not allowed with"),
    "max per artist zero": (["--max-per-artist", "0"], "between 1 and"),
    "max per artist negative": (["track", "--max-per-artist", "-1"], "between 1 and"),
    "unknown format": (["--format", "xml"], "invalid choice"),
    "unknown command": (["frobnicate"], "invalid choice"),
    "unknown artists command": (["artists", "frobnicate"], "invalid choice"),
    "artist: a track URI": (["--artist", f"spotify:track:{ID}"], "not an artist"),
    "artist: an album URL": (["--artist", f"https://open.spotify.com/album/{ID}"], "not an artist"),
    "artist: short id in URI": (["--artist", "spotify:artist:abc"], "not a valid Spotify artist"),
    "artist: id too long in URL": (["--artist", f"https://open.spotify.com/artist/{ID}X"], "not a valid"),
    "artist: URL of another host": (["--artist", f"https://evil.example/artist/{ID}"], "not a valid"),
    "artist: URL with a path after": (["--artist", f"https://open.spotify.com/artist/{ID}/x"], "not a valid"),
    "artist: bare URI prefix": (["--artist", "spotify:"], "not a valid"),
    "artist: unknown id": (["--artist", ID], "no artist with id"),
    "artist: unknown name": (["--artist", "Nobody Has This Name"], "finds no artist named"),
    "artist: empty": (["--artist", ""], "empty line"),
    "artist: not UTF-8": (["--artist", "caf\udce9"], "not valid text"),
    "add: unknown name": (["artists", "add", "Nobody Has This Name"], "finds no artist named"),
    "add: right-to-left override": (["artists", "add", "\u202eemaN\u202c"], "finds no artist named"),
    "add: Arabic unknown": (["artists", "add", "فرقة غير موجودة"], "finds no artist named"),
    "add: markup": (["artists", "add", "[bold red]Nobody[/]"], "finds no artist named"),
    "add: escape sequences": (["artists", "add", "\x1b]8;;https://evil.invalid\x07Nobody\x1b[2J"], "finds no artist"),
    "add: NUL": (["artists", "add", "No\x00body"], "finds no artist named"),
    "add: 10,000 characters": (["artists", "add", "x" * 10_000], "too long"),
    "add: whitespace": (["artists", "add", " \t "], "empty line"),
    "add: not UTF-8": (["artists", "add", "\udcff\udcfe"], "not valid text"),
    "add: one good, one unknown": (["artists", "add", "spotify:artist:5QYyWMpBzw7faFaq01ibpw", "Nobody Has This"],
                                   "finds no artist"),
    "add: a playlist URL": (["artists", "add", f"https://open.spotify.com/playlist/{ID}"], "not an artist"),
    "remove: not tracked": (["artists", "remove", "Nobody Tracked"], "not among the artists you track"),
    "remove: unknown id": (["artists", "remove", ID], "not among the artists you track"),
    "remove: a track URI": (["artists", "remove", f"spotify:track:{ID}"], "not an artist"),
    "remove: escape sequences": (["artists", "remove", "\x1b[31mX"], "not among"),
    "playlist: not a URL": (["artists", "import-playlist", "my favourite playlist"], "not a Spotify playlist"),
    "playlist: short id": (["artists", "import-playlist", "spotify:playlist:xyz"], "not a valid Spotify playlist"),
    "playlist: an artist URL": (["artists", "import-playlist", f"https://open.spotify.com/artist/{ID}"],
                                "not a playlist"),
    "playlist: unknown": (["artists", "import-playlist", ID], "no such playlist"),
    "liked: zero tracks": (["artists", "import-liked", "--min-tracks", "0"], "between 1 and"),
    "liked: negative": (["artists", "import-liked", "--min-tracks", "-5"], "between 1 and"),
    "stats: zero runs": (["stats", "--runs", "0"], "between 1 and"),
    "stats: runs not a number": (["stats", "--runs", "many"], "whole number"),
    "oracle: too small": (["sim", "oracle", "--artists", "5"], "between 10 and 10000"),
    "serve: fault rate 2": (["sim", "serve", "--fault-rate", "2"], "between 0 and 1"),
    "serve: fault rate nan": (["sim", "serve", "--fault-rate", "nan"], "between 0 and 1"),
    "serve: unknown fault": (["sim", "serve", "--faults", "500,explode"], "unknown fault kinds"),
    "serve: port 70000": (["sim", "serve", "--port", "70000"], "between 0 and 65535"),
    # found by fuzzing: a catalog's today past what its dates can reach was an OverflowError traceback, an endless
    # latency held every request of the served simulator for ever
    "oracle: today in year 1": (["sim", "oracle", "--today", "0001-01-01"], "between 1900-01-01 and 2999-12-31"),
    "oracle: today 9999-12-31": (["sim", "oracle", "--today", "9999-12-31"], "between 1900-01-01 and 2999-12-31"),
    "serve: today in year 1": (["sim", "serve", "--today", "0001-06-01"], "between 1900-01-01 and 2999-12-31"),
    "serve: latency inf": (["sim", "serve", "--latency-ms", "inf"], "between 0 and 60000 ms"),
    "serve: latency nan": (["sim", "serve", "--latency-ms", "nan"], "between 0 and 60000 ms"),
    "serve: jitter negative": (["sim", "serve", "--jitter-ms", "-1"], "between 0 and 60000 ms"),
    "serve: jitter a word": (["sim", "serve", "--jitter-ms", "lots"], "not a number of milliseconds"),
    "import: missing file": (["artists", "import", "no-such-file.txt"], "does not exist"),
    "import: a directory": (["artists", "import", "."], "is a directory"),
    "restore: missing file": (["artists", "restore", "no-such-backup.json"], "does not exist"),
    "restore: a directory": (["artists", "restore", "."], "is a directory"),
    # found by fuzzing paths: a name too long for the file system ended export in an OSError traceback
    "export: a name too long": (["artists", "export", "x" * 300], "File name too long"),
    "export: in a directory too long": (["artists", "export", "y" * 300 + "/backup.json"], "File name too long"),
    "export: an empty name": (["artists", "export", ""], "it is a directory"),  # the long fuzz run found it
    "import: a name too long": (["artists", "import", "x" * 300], "File name too long"),
    "restore: a name too long": (["artists", "restore", "x" * 300], "File name too long"),
}


@pytest.mark.parametrize("name", BAD_ARGS)
def test_bad_arguments_are_one_clear_line_exit_2_and_change_nothing(name, tmp_path, capsys, tracked):
    argv, needle = BAD_ARGS[name]
    code, out, err = _run(capsys, argv)
    _assert_refused(code, err, needle)
    assert out == ""
    _assert_unchanged(tmp_path, capsys, tracked)


BAD_SETTINGS = {
    "API URL not http": ({"ESH_API_URL": "ftp://api.example/v1"}, "not an http(s) URL"),
    "API URL broken IPv6": ({"ESH_API_URL": "http://[::1"}, "not an http(s) URL"),
    "API URL port too big": ({"ESH_API_URL": "http://127.0.0.1:99999/v1"}, "not an http(s) URL"),
    "API URL with a space": ({"ESH_API_URL": "http://api example/v1"}, "not an http(s) URL"),
    "API URL with an escape": ({"ESH_API_URL": "http://api.example/\x1b[2J"}, "not an http(s) URL"),
    "accounts URL empty host": ({"ESH_ACCOUNTS_URL": "https:///token"}, "not an http(s) URL"),
    "redirect to localhost": ({"SPOTIFY_REDIRECT_URI": "http://localhost:8765/callback"}, "loopback IP"),
    "redirect on every interface": ({"SPOTIFY_REDIRECT_URI": "http://0.0.0.0:8765/callback"}, "loopback IP"),
    "redirect without a port": ({"SPOTIFY_REDIRECT_URI": "http://127.0.0.1/callback"}, "loopback IP"),
    "redirect port not a number": ({"SPOTIFY_REDIRECT_URI": "http://127.0.0.1:http/callback"}, "loopback IP"),
    "redirect over https elsewhere": ({"SPOTIFY_REDIRECT_URI": "https://evil.example:443/cb"}, "loopback IP"),
}


@pytest.mark.parametrize("name", BAD_SETTINGS)
def test_bad_settings_are_one_clear_line_exit_2_and_change_nothing(name, tmp_path, capsys, monkeypatch, tracked):
    env, needle = BAD_SETTINGS[name]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for argv in (["track"], ["artists", "list"], ["login", "--no-browser"]):
        code, out, err = _run(capsys, argv)
        _assert_refused(code, err, needle)
    monkeypatch.delenv(next(iter(env)))
    _assert_unchanged(tmp_path, capsys, tracked)


def test_a_data_directory_that_cannot_be_one_is_one_clear_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "a-file").write_text("not a directory")
    for value, needle in ((str(tmp_path / "a-file"), "cannot use the data directory"),
                          (str(tmp_path / "a-file" / "below"), "cannot use the data directory")):
        monkeypatch.setenv("ESH_DATA_DIR", value)
        code, _, err = _run(capsys, ["artists", "list"])
        _assert_refused(code, err, needle, expected_code=1)
    assert (tmp_path / "a-file").read_text() == "not a directory"


# ----- import files -------------------------------------------------------------------------------------------

BAD_IMPORTS = {
    "empty": (b"", "names no artists"),
    "comments and blank lines only": (b"# my artists\n\n   \n# more\n", "names no artists"),
    "carriage returns only": (b"\r\r\r\n\r", "names no artists"),
    "larger than 5 MiB": (b"Some Artist\n" * (5 * 2**20 // 12 + 2), "larger than 5 MiB"),
    "binary garbage": (bytes(range(256)) * 64, "not a text file"),
    "NUL bytes in text": (b"Some Artist\x00\nOther\n", "not a text file"),
    "latin-1": ("Björk Ðorđević\nZoë\n".encode("latin-1", "replace"), "not UTF-8 text"),
    "UTF-16": ("Some Artist\n".encode("utf-16"), "not a text file"),
    "lone surrogate bytes": (b"caf\xed\xa0\x80\n", "not UTF-8 text"),
    "right-to-left names": ("\u202eemaN nwonknU\u202c\nلا أحد\n".encode(), "line 1"),
    "markup": (b"[bold]Nobody At All[/bold]\n", "finds no artist named"),
    "escape sequences": (b"\x1b]8;;https://evil.invalid\x07Nobody\x1b]8;;\x07\x1b[2J\n", "finds no artist named"),
    "a 10,000 character line": (b"y" * 10_000 + b"\n", "too long"),
    "good lines, then a bad one": ("spotify:artist:5QYyWMpBzw7faFaq01ibpw\nMoon 🌙 Child\n"
                                   "No Such Artist Anywhere\n".encode(), "line 3"),
    "a track URI": (f"spotify:track:{ID}\n".encode(), "not an artist"),
    "an unknown id": (f"{ID}\n".encode(), "no artist with id"),
    "a malformed URL": (b"https://open.spotify.com/artist/\n", "not a valid Spotify artist"),
}


@pytest.mark.parametrize("name", BAD_IMPORTS)
def test_bad_import_files_are_refused_whole(name, tmp_path, capsys, monkeypatch, tracked):
    content, needle = BAD_IMPORTS[name]
    path = tmp_path / "artists.txt"
    path.write_bytes(content)
    code, out, err = _run(capsys, ["artists", "import", str(path)])
    _assert_refused(code, err, needle)
    _assert_unchanged(tmp_path, capsys, tracked)
    if len(content) < 100_000:  # the same from standard input
        code, out, err = _run(capsys, ["artists", "import", "-"], stdin=content, monkeypatch=monkeypatch)
        _assert_refused(code, err, needle.replace(str(path), "-"))
        _assert_unchanged(tmp_path, capsys, tracked)


def test_unusual_but_real_names_import_exactly_and_print_safely(tmp_path, capsys, tracked):
    """Right-to-left scripts, emoji, markup and escape sequences in real artists' names: kept exactly, shown inert."""
    from esh_tui.sim.offline import offline_spotify

    catalog = offline_spotify(load_settings()).catalog
    wanted = {"5QYyWMpBzw7faFaq01ibpw": "ليالي القاهرة", "dp9Pgk8fzJ23bkueYRLjqx": "Moon 🌙 Child",
              "oMuIz6zrxgn1fraLxlaEQB": "להקת הים 2", "tYLuE1VFMYu6yCsV2I987c": "\x1b[31mANSI Red\x1b[0m"}
    assert {i: catalog.artists[i].name for i in wanted} == wanted
    lines = ["\ufeff# a BOM, then names and a URI", "ليالي القاهرة", "  Moon 🌙 Child  # trailing comment",
             "https://open.spotify.com/intl-de/artist/oMuIz6zrxgn1fraLxlaEQB?si=abc", "spotify:artist:tYLuE1VFMYu6yCsV2I987c"]
    (tmp_path / "artists.txt").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    code, _, err = _run(capsys, ["artists", "import", str(tmp_path / "artists.txt")])
    assert code == 0 and "4 artists added" in err and not UNPRINTABLE.search(err.replace("\n", ""))
    names = {a["id"]: a["name"] for a in json.loads(_listed(capsys))}
    assert all(names[i] == name for i, name in wanted.items()), "names are stored exactly"
    for argv in (["artists", "list"], ["artists", "list", "--format", "tsv"], ["track", "--format", "tsv"],
                 ["track", "--format", "pretty"]):
        code, out, err = _run(capsys, argv)
        assert code == 0 and "\x1b" not in out + err and not UNPRINTABLE.search(out.replace("\n", "").replace("\t", ""))


# ----- restore ----------------------------------------------------------------------------------------------------

def _backup(**changes) -> bytes:
    return json.dumps({**BACKUP, "artists": [ARTIST], **changes}).encode()


BAD_RESTORES = {
    "empty": (b"", "not valid JSON"),
    "binary": (bytes(range(256)), "not text"),
    "not JSON": (b"{nope", "not valid JSON"),
    "a list": (b"[1, 2, 3]", "not an esh-tui backup"),
    "a string": (b'"esh-tui-backup"', "not an esh-tui backup"),
    "null": (b"null", "not an esh-tui backup"),
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "not JSON esh-tui can read"),
    "a 5,000-digit number": (b'{"format": "esh-tui-backup", "version": ' + b"9" * 5000 + b"}",
                             "not JSON esh-tui can read"),
    "wrong format": (json.dumps({"format": "other", "version": 1, "artists": []}).encode(), "not an esh-tui backup"),
    "version true": (_backup(version=True), "backup version True"),
    "version a string": (_backup(version="1"), "backup version '1'"),
    "artists an object": (_backup(artists={"id": ID}), "must be a list"),
    "artists null": (_backup(artists=None), "must be a list"),
    "settings a list": (_backup(settings=[1]), "must be an object"),
    "an artist null": (_backup(artists=[None]), "is not an object"),
    "an artist a string": (_backup(artists=[ID]), "is not an object"),
    "id a number": (_backup(artists=[{**ARTIST, "id": 42}]), 'no text "id"'),
    "id malformed": (_backup(artists=[{**ARTIST, "id": "not-an-id"}]), "invalid Spotify id"),
    "id with a newline": (_backup(artists=[{**ARTIST, "id": ID + "\n"}]), "invalid Spotify id"),
    "name missing": (_backup(artists=[{k: v for k, v in ARTIST.items() if k != "name"}]), 'no text "name"'),
    "name a list": (_backup(artists=[{**ARTIST, "name": ["x"]}]), 'no text "name"'),
    "name 1 MB": (_backup(artists=[{**ARTIST, "name": "x" * 2**20}]), "too long or not valid Unicode"),
    "name a lone surrogate": (_backup(artists=[{**ARTIST, "name": "\ud800"}]), "not valid Unicode"),
    "settings a lone surrogate": (_backup(settings={"\udfff": 1}), "not valid Unicode"),
    "duplicate ids": (_backup(artists=[ARTIST, ARTIST]), "repeats id"),
    "a good artist, then a bad one": (_backup(artists=[ARTIST, {**ARTIST, "id": "1" * 22, "added_at": None}]),
                                      "artist #2"),
}


@pytest.mark.parametrize("name", BAD_RESTORES)
def test_bad_backups_are_refused_and_nothing_changes(name, tmp_path, capsys, tracked):
    content, needle = BAD_RESTORES[name]
    path = tmp_path / "backup.json"
    path.write_bytes(content)
    code, out, err = _run(capsys, ["artists", "restore", str(path)])
    _assert_refused(code, err, needle)
    _assert_unchanged(tmp_path, capsys, tracked)


def test_a_backup_with_a_bom_and_unusual_names_restores_exactly(tmp_path, capsys, tracked):
    artists = [{**ARTIST, "name": "[bold]X[/bold]\t\x1b[31mY"}, {**ARTIST, "id": "1" * 22, "name": "ليالي 🔥 \u202eX"}]
    (tmp_path / "b.json").write_bytes(b"\xef\xbb\xbf" + _backup(artists=artists, settings={"days": 30}))
    code, _, err = _run(capsys, ["artists", "restore", str(tmp_path / "b.json")])
    assert code == 0, err
    assert [a["name"] for a in json.loads(_listed(capsys))] == [a["name"] for a in artists]
    code, out, _ = _run(capsys, ["artists", "list"])
    assert code == 0 and not UNPRINTABLE.search(out.replace("\n", ""))


# ----- property-based tests of the parsers --------------------------------------------------------------------

BASE62 = string.digits + string.ascii_letters
ids = st.text(BASE62, min_size=22, max_size=22)
kinds = st.sampled_from(["artist", "album", "track", "playlist", "show", "user"])
fast = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(st.one_of(st.text(), st.text(string.digits + "-"), st.from_regex(r"\A\d{4}(-\d{2}(-\d{2})?)?\Z")),
       st.sampled_from([None, "year", "month", "day", "week", ""]))
@example("2026-02-30", None)
@example("2024-02-29", "day")
@example("0000", None)
def test_release_dates_parse_or_raise_value_error(value, precision):
    try:
        date = parse_release_date(value, precision)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(date, dt.date) and value.startswith(f"{date.year:04d}")
    parts = value.split("-")
    assert date.month == (int(parts[1]) if len(parts) > 1 else 1) and date.day == (int(parts[2]) if len(parts) > 2 else 1)
    assert precision in (None, ("year", "month", "day")[len(parts) - 1])


@fast
@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text())), st.sampled_from([None, "day"]))
def test_release_dates_of_the_wrong_type_raise_value_error(value, precision):
    with pytest.raises(ValueError):
        parse_release_date(value, precision)


@fast
@given(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
def test_release_dates_round_trip(day):
    text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    assert parse_release_date(text) == parse_release_date(text, "day") == day
    assert parse_release_date(text[:7], "month") == day.replace(day=1)
    assert parse_release_date(text[:4]) == day.replace(month=1, day=1)


@fast
@given(st.one_of(st.text(), st.text(BASE62 + ":/.?#-_ "), st.builds(lambda k, i, t: f"spotify:{k}:{i}{t}", kinds, ids,
                                                                     st.text(max_size=3))),
       kinds)
@example("https://open.spotify.com/artist/\x00", "artist")
@example("\u202espotify:artist:0TnOYISbd1XYRBk9myaseg", "artist")
def test_spotify_refs_give_an_id_none_or_a_one_line_error(value, kind):
    try:
        found = parse_spotify_ref(value, kind)
    except ValueError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 400 and not UNPRINTABLE.search(message)
        return
    assert found is None or (len(found) == 22 and set(found) <= set(BASE62))


@fast
@given(kinds, kinds, ids, st.sampled_from(["", "?si=abc", "/", "#x", "?si=a&b=c"]), st.sampled_from(["", "intl-de/"]))
def test_spotify_ids_uris_and_urls_of_each_kind(kind, wanted, item_id, suffix, intl):
    forms = [item_id, f"spotify:{kind}:{item_id}", f"https://open.spotify.com/{intl}{kind}/{item_id}{suffix}",
             f"  http://open.spotify.com/{kind}/{item_id}\n"]
    assert parse_spotify_ref(forms[0], wanted) == item_id
    for form in forms[1:]:
        if kind == wanted:
            assert parse_spotify_ref(form, wanted) == item_id
        else:
            with pytest.raises(ValueError, match=f"is a Spotify {kind}, not an? {wanted}"):
                parse_spotify_ref(form, wanted)


@fast
@given(st.one_of(st.text(), st.text("\x1b[]\\;0123456789mJHk\x07\x9b\u202e\u2066 \t\nab"),
                 st.builds(lambda a, b: f"{a}\x1b[{b}m{a}", st.text(), st.text("0123456789;"))))
@example("\x1b\x1b[31m[0m")
@example("\x1b]8;;https://evil.invalid\x07link\x1b]8;;\x07")
def test_clean_leaves_one_printable_line_and_is_idempotent(value):
    cleaned = clean(value)
    assert "\x1b" not in cleaned and "\x9b" not in cleaned and "\n" not in cleaned and "\t" not in cleaned
    assert not UNPRINTABLE.search(cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert clean(cleaned) == cleaned


@fast
@given(st.one_of(st.text(), st.text("\x1b[]\\;0123456789mJ\x07\x9b\u202e\u2066\x00\x7f \t\nab")))
@example("\x1b]52;c;ZXZpbA==\x07")
def test_visible_keeps_one_character_for_one_and_draws_no_control(value):
    """What a person pasted is drawn with stand-ins (␛ for an escape), each where its character was."""
    drawn = visible(value)
    assert len(drawn) == len(value) and not UNPRINTABLE.search(drawn) and "\n" not in drawn
    assert all(a == b for a, b in zip(value, drawn) if not UNPRINTABLE.search(a) and a != "\n")
    assert visible(drawn) == drawn


@fast
@given(st.lists(st.text(), max_size=6), st.text())
def test_noise_filter_never_raises_whatever_the_words(words, title):
    assert NoiseFilter(words).is_noise(title) in (True, False)


@fast
@given(st.text(), st.sampled_from(DEFAULT_NOISE_WORDS), st.sampled_from(["", "s", "ed", "d"]),
       st.text(string.ascii_letters + string.digits, min_size=1, max_size=4))
def test_noise_words_match_whole_words_only(title, word, ending, glue):
    noise = NoiseFilter()
    assume(not noise.is_noise(title))
    assert noise.is_noise(f"{title} {word}{ending}") and noise.is_noise(f"{word.upper()}{ending} ({title})")
    assert not noise.is_noise(f"{glue}{word}{glue}")


@fast
@given(st.text(), st.sampled_from(["ESH_API_URL", "ESH_ACCOUNTS_URL", "SPOTIFY_REDIRECT_URI"]))
@example("http://[::1", "ESH_API_URL")
@example("http://127.0.0.1:99999/cb", "SPOTIFY_REDIRECT_URI")
@example("http://127.0.0.1:8765/callback", "SPOTIFY_REDIRECT_URI")
def test_settings_urls_are_usable_or_a_config_error(value, name):
    import httpx
    from urllib.parse import urlsplit

    try:
        settings_ = load_settings({"ESH_DATA_DIR": "/nonexistent/esh", name: value}, cwd=Path("/nonexistent"))
    except ConfigError as exc:
        assert "\n" not in str(exc) and not UNPRINTABLE.search(str(exc))
        return
    url = {"ESH_API_URL": settings_.api_url, "ESH_ACCOUNTS_URL": settings_.accounts_url,
           "SPOTIFY_REDIRECT_URI": settings_.redirect_uri}[name]
    httpx.URL(url)  # usable by the client
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.hostname
    if name == "SPOTIFY_REDIRECT_URI":
        assert parts.hostname in ("127.0.0.1", "::1") and 0 < parts.port < 65536


@pytest.mark.parametrize("argv, needle", [
    (["artists", "list"], "is a FIFO, not a database file"),  # the store itself
    (["artists", "import", "{fifo}"], "names no artists"),
    (["artists", "restore", "{fifo}"], "not valid JSON"),
])
def test_a_fifo_nobody_writes_or_reads_is_refused_in_one_line_never_waited_on(tmp_path, argv, needle):
    import os
    import subprocess
    import sys

    data = tmp_path / "data"
    data.mkdir()
    fifo = tmp_path / "pipe"
    os.mkfifo(data / "offline.db" if argv == ["artists", "list"] else fifo)
    env = {**os.environ, "ESH_DATA_DIR": str(data)}
    done = subprocess.run([sys.executable, "-m", "esh_tui", *[a.replace("{fifo}", str(fifo)) for a in argv]],
                          env=env, capture_output=True, text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode in (1, 2) and len(lines) == 1 and needle in lines[0], done.stderr


def test_an_export_to_a_fifo_nobody_reads_is_refused_in_one_line_after_the_readers_grace(tmp_path, capsys,
                                                                                       monkeypatch):
    """The grace lets a reader started just before esh-tui open its end (5 s; a fifth of a second here)."""
    import os

    from esh_tui import files
    from esh_tui.cli import main

    monkeypatch.setattr(files, "READER_GRACE_SECONDS", 0.2)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["artists", "export", str(fifo)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "no process reads from it" in lines[0], lines


def test_a_pipe_with_a_process_behind_it_imports_and_exports_as_a_file_would(tmp_path):
    import os
    import subprocess

    env = {**os.environ, "ESH_DATA_DIR": str(tmp_path / "data")}
    esh = f"'{sys.executable}' -m esh_tui"
    script = (f"{esh} artists export >(cat > '{tmp_path}/backup.json') && "
              f"{esh} artists import <(printf 'Nightjar Motel\\nNightjar Motel\\n')")
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "0 artists added from /dev/fd/" in done.stderr and "1 already tracked, 1 repeated line" in done.stderr


def test_a_backup_with_an_escape_sequence_in_its_source_or_a_nan_is_refused_and_nothing_changes(tmp_path, capsys):
    from esh_tui.cli import main

    assert main(["artists", "export", str(tmp_path / "good.json")]) == 0
    good = json.loads((tmp_path / "good.json").read_text())
    hostile = json.loads(json.dumps(good))
    hostile["artists"][0]["source"] = "\x1b]0;pwned-title\x07\x1b[2J\tEXTRA\nFAKE\tROW"
    (tmp_path / "hostile.json").write_text(json.dumps(hostile))
    (tmp_path / "nan.json").write_text(json.dumps(good).replace('"settings": {}', '"settings": {"x": NaN}', 1)
                                       .replace('"version": 1', '"version": NaN', 1))
    capsys.readouterr()
    for name, needle in (("hostile.json", "control characters or escape sequences"), ("nan.json", "not JSON")):
        assert main(["artists", "restore", str(tmp_path / name)]) == 2
        assert needle in capsys.readouterr().err
    assert main(["artists", "export", str(tmp_path / "after.json")]) == 0
    assert json.loads((tmp_path / "after.json").read_text())["artists"] == good["artists"]


def test_names_with_c1_controls_and_bidi_overrides_reach_scripts_escaped_and_people_cleaned(capsys):
    from esh_tui.cli import main
    from esh_tui.runtime import open_runtime

    hostile = "Evil\u009b31mName\u202eesreveR\u2066"
    with open_runtime() as runtime:
        artist_id = runtime.store.artists()[0].id
        runtime.store.db.execute("UPDATE artists SET name = ?, source = ? WHERE id = ?",
                                 (hostile, "manual\x1b[2J", artist_id))
        runtime.store.db.conn.commit()
    capsys.readouterr()
    for argv in (["artists", "list", "--format", "json"], ["artists", "export", "-"]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert not re.search("[\u0080-\u009f\u202a-\u202e\u2066-\u2069\x1b]", out), argv
        assert hostile in out.encode().decode("unicode_escape", "ignore") or "\\u009b" in out
    assert main(["artists", "list", "--format", "tsv"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert all(len(row) == 5 for row in rows) and not any("\x1b" in cell for row in rows for cell in row)


def test_a_path_or_argument_with_an_escape_sequence_is_echoed_without_it(tmp_path, capsys):
    from esh_tui.cli import main

    assert main(["artists", "restore", "\x1b[31mred.json"]) == 2
    assert main(["artists", "import", "\x1b]0;title\x07.txt"]) == 2
    with pytest.raises(SystemExit):
        main(["--format", "\x1b[2Jjson"])
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and err.count("\n") == 3


def test_a_store_whose_schema_holds_bytes_that_are_not_text_is_damaged_in_one_line(tmp_path, capsys):
    """Found by fuzzing the store file: when a damaged page leaves bytes that are not UTF-8 in a table's CREATE
    statement, SQLite's own error message quotes them, Python cannot decode that message, and a
    UnicodeDecodeError ended the command with a traceback instead of 'the store is damaged'."""
    import sqlite3

    store = _store(tmp_path)
    store.parent.mkdir(parents=True)
    conn = sqlite3.connect(store)
    conn.execute("CREATE TABLE artists (id TEXT PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    damaged = store.read_bytes().replace(b"CREATE TABLE artists", b"CREATE \x80ABLE artists")
    store.write_bytes(damaged)
    for argv in (["artists", "list"], ["stats"], ["artists", "export", "-"], ["track", "--format", "ids"]):
        code, out, err = _run(capsys, argv)
        _assert_refused(code, err, "is damaged", expected_code=1)
        assert "move it aside" in err and out == ""
    assert store.read_bytes() == damaged, "never overwritten"


def test_a_directory_whose_name_is_not_utf8_prints_under_a_strict_utf8_stdout(tmp_path):
    """Found by fuzzing the environment in a subprocess: ESH_DATA_DIR or ESH_CONFIG_DIR with bytes that are not
    UTF-8 (Python keeps them as lone surrogates) made 'esh-tui config' end in a UnicodeEncodeError traceback where
    stdout encodes strictly (a UTF-8 locale). `clean` shows such bytes as U+FFFD; `safe_json` escapes them."""
    import os
    import subprocess

    from esh_tui.text import safe_json

    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "ESH_DATA_DIR": str(tmp_path / "data\udcff"),
           "ESH_CONFIG_DIR": str(tmp_path / "config\udcfe")}
    for argv in (["config"], ["artists", "list"], ["artists", "export", "-"], ["stats"]):
        done = subprocess.run([sys.executable, "-m", "esh_tui", *argv], env=env, capture_output=True, timeout=120)
        assert done.returncode == 0 and b"Traceback" not in done.stderr, (argv, done.stderr[-500:])
        done.stdout.decode("utf-8")  # strict: nothing undecodable was written
    assert "data\ufffd" in clean(tmp_path / "data\udcff")
    assert safe_json("a\udcffb") == '"a\\udcffb"'


def test_lines_of_a_dotenv_file_that_are_not_name_value_are_one_note_in_eshs_words(tmp_path, capsys, tracked):
    """Found by fuzzing .env files: python-dotenv logged 'python-dotenv could not parse statement starting at line
    N' for each line it skips, an extra stderr line beside esh-tui's own, and a second line under a refusal. The
    lines are still skipped (a .env in the working directory may be another tool's), with one note that names
    their numbers, never their text (a line may hold a secret)."""
    (tmp_path / ".env").write_text("ESH_MARKET=SE\n'SPOTIFY_CLIENT_SECRET=s3cr3t\nnot a line\n", encoding="utf-8")
    code, out, err = _run(capsys, ["artists", "list"])
    assert code == 0 and out, err
    assert err == f"esh-tui: note: .env ({tmp_path / '.env'}): lines 2, 3 not NAME=value, ignored\n"
    (tmp_path / ".env").write_text("'broken\nESH_API_URL=ftp://x\n", encoding="utf-8")
    code, out, err = _run(capsys, ["artists", "list"])
    _assert_refused(code, err, "ESH_API_URL = 'ftp://x' is not an http(s) URL")
    (tmp_path / ".env").unlink()
    _assert_unchanged(tmp_path, capsys, tracked)


def test_damage_sqlite_cannot_see_is_one_line_saying_the_store_is_damaged(tmp_path, capsys, tracked):
    """Found by the long fuzz run (2,000 damaged stores): SQLite keeps no checksums, so a changed byte can leave a
    store it opens happily. A byte of the schema read as part of a column's name made that name bytes Python
    cannot decode (a UnicodeDecodeError at the first SELECT *); a byte of a date made it '2026-10-0\\x00' (a
    ValueError where the storage layer turned it back into a date). Both ended in a traceback; now the schema is
    read whole when the store is opened, and a value the storage layer cannot read back is the store's damage."""
    import sqlite3

    store = _store(tmp_path)
    conn = sqlite3.connect(store)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    pristine = store.read_bytes()
    at = pristine.index(b' "added_at" TEXT NOT NULL')
    store.write_bytes(pristine[:at] + b"\x80" + pristine[at + 1:])  # the column before added_at gets its name
    for argv in (["artists", "list"], ["artists", "export", "-"], ["stats"], ["track", "--format", "ids"]):
        code, out, err = _run(capsys, argv)
        _assert_refused(code, err, "is damaged", expected_code=1)
        assert "move it aside" in err and out == ""

    store.write_bytes(pristine)
    conn = sqlite3.connect(store)
    conn.execute("UPDATE isrc_earliest SET release_date = '2026-10-0' || char(0)")
    conn.commit()
    conn.close()
    code, out, err = _run(capsys, ["track", "--format", "ids"])
    said = err.splitlines()[-1] + "\n"  # after the run's note that it is the offline Spotify
    _assert_refused(code, said, "is damaged (it holds a value esh-tui did not write: ValueError", expected_code=1)
    assert "Traceback" not in err and out == ""


def test_a_data_or_config_directory_named_too_long_to_look_up_is_one_line(tmp_path, capsys, monkeypatch):
    """Found by the long fuzz run of the environment: a directory name past the file system's limit raised
    OSError (ENAMETOOLONG) where pathlib's exists() and is_file() are asked about it, ending 'artists list',
    'stats', 'config' and 'logout' in a traceback (or blaming a .env that was not there)."""
    too_long = str(tmp_path / ("x" * 300))
    monkeypatch.setenv("ESH_DATA_DIR", too_long)
    for argv in (["artists", "list"], ["stats"], ["artists", "export", "-"], ["track", "--format", "ids"]):
        code, out, err = _run(capsys, argv)
        _assert_refused(code, err, "cannot use the data directory", expected_code=1)
        assert "File name too long" in err and "ESH_DATA_DIR" in err
    assert _run(capsys, ["config"])[0] == 0
    assert _run(capsys, ["logout"])[2] == "Not logged in; nothing to forget.\n"
    monkeypatch.setenv("ESH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ESH_CONFIG_DIR", too_long)
    for argv in (["artists", "list"], ["config"], ["stats"], ["logout"]):
        code, out, err = _run(capsys, argv)
        _assert_refused(code, err, "cannot be used (File name too long); set ESH_CONFIG_DIR")


@pytest.mark.parametrize("ending", ["\x9b0", "\x1b[3", "\x1b]8;;"])
def test_a_path_ending_in_a_cut_short_escape_sequence_does_not_eat_the_words_after_it(tmp_path, capsys, ending,
                                                                                        monkeypatch):
    """Found by the long fuzz run of paths: a file named '\\x9b0' made 'PATH does not exist' read '.../oes not
    exist', since the message was cleaned whole and '\\x9b0 d' is a complete CSI sequence. Each path is cleaned on
    its own now, before it is put in the message."""
    missing = tmp_path / f"list{ending}"
    directory = tmp_path / f"dir{ending}"
    directory.mkdir()
    for argv, words in ((["artists", "import", str(missing)], "does not exist; nothing was imported"),
                        (["artists", "restore", str(missing)], "does not exist"),
                        (["artists", "export", str(directory)], ": it is a directory; name a file in it")):
        code, out, err = _run(capsys, argv)
        _assert_refused(code, err, words)
        assert str(tmp_path / "list") in err or str(tmp_path / "dir") in err
    config = tmp_path / f"config{ending}"
    config.mkdir()
    (config / "config.toml").write_text("[nope]\n")
    monkeypatch.setenv("ESH_CONFIG_DIR", str(config))
    code, out, err = _run(capsys, ["artists", "list"])  # (inside the path, the sequence is the path's own)
    _assert_refused(code, err, "): unknown section [nope]; known: cache")
