"""Settings, release dates, Spotify references, safe text, the noise rule and output formats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from esh_tui.config import ConfigError, load_settings
from esh_tui.formats import render
from esh_tui.models import Release, parse_release_date, parse_spotify_ref
from esh_tui.text import clean
from esh_tui.tracker.filters import NoiseFilter


# ----- settings ---------------------------------------------------------------------------------

def test_settings_defaults_mean_simulator(tmp_path):
    settings = load_settings({}, cwd=tmp_path)
    assert not settings.has_credentials  # so esh-tui runs on the built-in offline Spotify
    assert settings.api_url == "https://api.spotify.com/v1"
    assert settings.token_url == "https://accounts.spotify.com/api/token"
    assert settings.authorize_url == "https://accounts.spotify.com/authorize"


def test_settings_accept_spotipy_names_and_env_overrides_dotenv(tmp_path):
    (tmp_path / ".env").write_text("SPOTIPY_CLIENT_ID=from-file\nSPOTIPY_CLIENT_SECRET=file-secret\n"
                                   "ESH_API_URL=http://127.0.0.1:9999/v1/\n")
    settings = load_settings({"SPOTIFY_CLIENT_ID": "from-env"}, cwd=tmp_path)
    assert settings.client_id == "from-env"
    assert settings.client_secret == "file-secret"
    assert settings.api_url == "http://127.0.0.1:9999/v1"
    assert settings.has_credentials


def test_settings_data_dir_override_and_its_dotenv(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / ".env").write_text("SPOTIFY_CLIENT_ID=abc\nSPOTIFY_CLIENT_SECRET=def\n")
    settings = load_settings({"ESH_DATA_DIR": str(data)}, cwd=tmp_path)
    assert settings.data_dir == data and settings.has_credentials


def test_settings_never_show_the_secret(tmp_path):
    settings = load_settings({"SPOTIFY_CLIENT_ID": "id", "SPOTIFY_CLIENT_SECRET": "s3cr3t-value"}, cwd=tmp_path)
    assert "s3cr3t-value" not in repr(settings) and "s3cr3t-value" not in str(settings)


@pytest.mark.parametrize("env, needle", [
    ({"ESH_API_URL": "ftp://x"}, "ESH_API_URL"),
    ({"ESH_ACCOUNTS_URL": "not a url"}, "ESH_ACCOUNTS_URL"),
    ({"SPOTIFY_REDIRECT_URI": "http://localhost:8765/callback"}, "localhost"),
])
def test_settings_refuse_bad_values_by_name(tmp_path, env, needle):
    with pytest.raises(ConfigError, match=needle):
        load_settings(env, cwd=tmp_path)


# ----- dates and references -------------------------------------------------------------------

@pytest.mark.parametrize("value, precision, expected", [
    ("2019", "year", dt.date(2019, 1, 1)),
    ("2021-04", "month", dt.date(2021, 4, 1)),
    ("2026-11-23", "day", dt.date(2026, 11, 23)),
    ("2026-11-23", None, dt.date(2026, 11, 23)),
])
def test_release_dates_partial_means_first_day(value, precision, expected):
    assert parse_release_date(value, precision) == expected


@pytest.mark.parametrize("value, precision", [
    ("2026-02-30", "day"), ("2026-13", "month"), ("26", None), ("", None), ("2019", "day"), (None, None),
])
def test_release_dates_refuse_nonsense(value, precision):
    with pytest.raises(ValueError):
        parse_release_date(value, precision)


ARTIST = "0TnOYISbd1XYRBk9myaseg"


@pytest.mark.parametrize("value", [
    ARTIST, f"spotify:artist:{ARTIST}", f"https://open.spotify.com/artist/{ARTIST}",
    f"https://open.spotify.com/intl-de/artist/{ARTIST}?si=abc123", f"  {ARTIST}\n",
])
def test_artist_refs(value):
    assert parse_spotify_ref(value, "artist") == ARTIST


def test_artist_ref_of_another_kind_or_malformed_is_an_error_and_a_name_is_none():
    with pytest.raises(ValueError, match="track, not an artist"):
        parse_spotify_ref(f"spotify:track:{ARTIST}", "artist")
    with pytest.raises(ValueError, match="not a valid"):
        parse_spotify_ref("https://open.spotify.com/artist/short", "artist")
    assert parse_spotify_ref("Radiohead", "artist") is None


# ----- text from the network ---------------------------------------------------------------------

@pytest.mark.parametrize("raw, shown", [
    ("\x1b[31mANSI Red\x1b[0m", "ANSI Red"),
    ("\x1b]8;;https://example.invalid\x1b\\Linky\x1b]8;;\x1b\\", "Linky"),
    ("Tab\tSeparated", "Tab Separated"),
    ("New\nLine Collective", "New Line Collective"),
    ("[bold]Bold Brigade[/bold]", "[bold]Bold Brigade[/bold]"),
    ("Zoë 🔥 ليالي", "Zoë 🔥 ليالي"),
])
def test_clean_strips_escapes_and_controls_but_keeps_text(raw, shown):
    assert clean(raw) == shown


# ----- the noise rule -------------------------------------------------------------------------

@pytest.mark.parametrize("title", [
    "Live at Wembley", "Remastered 2011", "Demos", "Song - Live", "Song (Demo)", "Lives",
    "Song (Karaoke Version)", "Director's Commentary", "Instrumentals", "Song - Remastered 2025",
    "Album (2024 Remaster)", "LIVE IN TOKYO",
])
def test_noise_titles(title):
    assert NoiseFilter().is_noise(title)


@pytest.mark.parametrize("title", [
    "Alive", "Demons", "Oliver", "Delivery", "Olive", "Relive", "Demolition", "Livewire",
    "Instrumentalist", "Lively", "Demonstration", "Oblivion", "Deliverance", "Livestock", "夜明け",
])
def test_words_that_merely_contain_noise_are_not_noise(title):
    assert not NoiseFilter().is_noise(title)


def test_noise_words_are_configurable():
    only_live = NoiseFilter(["live"])
    assert only_live.is_noise("Live at X") and not only_live.is_noise("Song (Demo)")
    assert not NoiseFilter([]).is_noise("Live at X")


# ----- output formats ----------------------------------------------------------------------------

def _release(name="\x1b[31mRed\x1b[0m\tSong", artist="[bold]X[/bold]"):
    return Release(key="USAAA2600001", isrc="USAAA2600001", track_id="a" * 22, track_name=name,
                   artist_names=(artist, "Other"), album_id="b" * 22, album_name="Album\nTwo",
                   album_type="single", release_date=dt.date(2026, 11, 1))


def test_tsv_keeps_esh_tracker_columns_and_one_line_per_release():
    out = render([_release()], "tsv")
    fields = out.rstrip("\n").split("\t")
    assert out.count("\n") == 1
    assert fields == ["2026-11-01", "[bold]X[/bold], Other", "Red Song", "Album Two", "single", "USAAA2600001",
                      f"https://open.spotify.com/track/{'a' * 22}"]


def test_csv_json_ids_formats():
    rows = list(csv.DictReader(io.StringIO(render([_release()], "csv"))))
    assert rows[0]["track"] == "Red Song" and rows[0]["date"] == "2026-11-01"
    data = json.loads(render([_release()], "json"))
    assert data[0]["uri"] == f"spotify:track:{'a' * 22}" and data[0]["artist"] == "[bold]X[/bold], Other"
    assert render([_release()], "ids") == "a" * 22 + "\n"


def test_pretty_shows_markup_literally():
    out = render([_release()], "pretty")
    assert "[bold]X[/bold]" in out and "\x1b" not in out


# ----- the core stays free of the UI ---------------------------------------------------------------

def test_core_does_not_import_textual():
    code = ("import sys, esh_tui.cli, esh_tui.sim.server, esh_tui.sim.oracle, esh_tui.tracker.engine, esh_tui.runtime, "
            "esh_tui.formats; assert 'textual' not in sys.modules, 'textual imported by the core'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent)


# ----- --max-per-artist ------------------------------------------------------------------------------

def _r(key, day, artists, popularity=None):
    return Release(key=key, isrc=key, track_id=key.ljust(22, "x"), track_name=key, artist_names=("A",),
                   album_id="b" * 22, album_name="B", album_type="single", release_date=dt.date(2026, 11, day),
                   found_for=artists, popularity=popularity)


def test_max_per_artist_keeps_the_newest_without_popularity():
    from esh_tui.tracker.select import limit_per_artist
    releases = [_r("a3", 3, ("A",)), _r("a2", 2, ("A",)), _r("a1", 1, ("A",)), _r("b1", 1, ("B",))]
    assert [r.key for r in limit_per_artist(releases, 2)] == ["a3", "a2", "b1"]


def test_max_per_artist_uses_popularity_when_present_and_shared_releases_count_for_both():
    from esh_tui.tracker.select import limit_per_artist
    releases = [_r("new", 3, ("A",), 10), _r("hit", 1, ("A", "B"), 90), _r("mid", 2, ("A",), 50), _r("b2", 2, ("B",), 5)]
    assert [r.key for r in limit_per_artist(releases, 1)] == ["hit"]
    assert [r.key for r in limit_per_artist(releases, 2)] == ["hit", "mid", "b2"]


def test_httpx_does_not_load_its_own_command_line_into_esh_tui():
    """46 ms of every command's start (rich and pygments for it), for a command line esh-tui never runs."""
    done = subprocess.run([sys.executable, "-c", "import sys, esh_tui.runtime, httpx; "
                           "assert sys.modules['httpx._main'] is None and callable(httpx.main)"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
