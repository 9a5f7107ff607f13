"""The command line: the offline default works, bad input is one line and exit 2."""

from __future__ import annotations

import json

import pytest

from esh_tui.cli import main


def test_bare_command_runs_on_the_simulator_and_says_so(capsys):
    assert main(["--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "offline Spotify" in err and "simulated catalog" in err
    releases = json.loads(out)
    assert releases, "the sample artists have releases in the last 90 days"
    assert all({"date", "artist", "track", "album", "type", "isrc", "url"} <= set(r) for r in releases)
    dates = [r["date"] for r in releases]
    assert dates == sorted(dates, reverse=True)


def test_track_command_tsv(capsys):
    assert main(["track", "--days", "30", "--format", "tsv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(len(line.split("\t")) == 7 for line in lines)


@pytest.mark.parametrize("argv, needle", [
    (["--days", "-3"], "--days"),
    (["--days", "lots"], "whole number"),
    (["--since", "2026-02-30"], "real date"),
    (["--days", "3", "--since", "2026-01-01"], "not allowed with"),
    (["--format", "xml"], "invalid choice"),
    (["--artist", "spotify:track:0TnOYISbd1XYRBk9myaseg"], "not an artist"),
    (["--artist", "https://open.spotify.com/artist/nope"], "not a valid"),
    (["--artist", "Some Name Nobody Has"], "finds no artist named"),
    (["--artist", "0" * 22], "no artist with id"),
    (["artists", "add", "Velvet"], "did you mean"),
    (["artists", "remove", "Nobody Tracked"], "not among the artists you track"),
    (["artists", "import", "missing-file.txt"], "does not exist"),
    (["artists", "restore", "missing-backup.json"], "does not exist"),
    (["sim", "serve", "--fault-rate", "2"], "between 0 and 1"),
    (["sim", "serve", "--faults", "500,explode"], "unknown fault kinds"),
    (["sim", "oracle", "--artists", "5"], "between 10 and 10000"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(argv, needle, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_credentials_without_artists_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "id")
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "secret")
    assert main([]) == 2
    assert "no artists tracked yet" in capsys.readouterr().err


def test_sim_oracle_report(capsys):
    assert main(["sim", "oracle", "--seed", "1", "--artists", "10", "--today", "2026-11-23", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["catalog"]["albums"] > 0 and report["expected_releases"] > 0
    dev, ext = report["minimum_calls"]["development"], report["minimum_calls"]["extended"]
    assert ext["total"] < dev["total"]
    assert "GET /albums" in ext and "GET /albums" not in dev
    assert report["minimum_calls_next_week"]["development"]["total"] < dev["total"]


def _tracked(capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["artists", "list", "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_import_liked_followed_and_own_playlist_on_the_offline_spotify(capsys):
    from esh_tui.config import load_settings
    from esh_tui.sim.offline import offline_spotify

    catalog = offline_spotify(load_settings()).catalog
    before = {a["id"] for a in _tracked(capsys)}
    assert main(["artists", "import-followed"]) == 0
    followed = {a["id"] for a in _tracked(capsys)}
    assert followed - before == set(catalog.user.followed_artist_ids) - before
    assert main(["artists", "import-liked", "--min-tracks", "5"]) == 0
    liked = {a["id"]: a for a in _tracked(capsys)}
    assert {a["source"] for a in liked.values()} >= {"sample", "followed artists", "liked songs"}
    own = next(p for p in catalog.playlists.values() if p.owner_id == catalog.user.id)
    assert main(["artists", "import-playlist", f"https://open.spotify.com/playlist/{own.id}?si=abc"]) == 0
    on_playlist = {a for t in own.track_ids for a in catalog.tracks[t].artist_ids}
    assert on_playlist <= {a["id"] for a in _tracked(capsys)}


def test_import_of_someone_elses_playlist_in_development_mode_is_refused(capsys):
    from esh_tui.config import load_settings
    from esh_tui.sim.offline import offline_spotify

    catalog = offline_spotify(load_settings()).catalog
    before = _tracked(capsys)
    curated = next(p for p in catalog.playlists.values() if p.owner_id == "spotify")
    assert main(["artists", "import-playlist", curated.id]) == 2
    assert "only read playlists you own" in capsys.readouterr().err
    assert _tracked(capsys) == before


def test_user_commands_without_login_say_so(monkeypatch, capsys):
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "id")
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "secret")
    assert main(["artists", "import-liked"]) == 2
    assert "esh-tui login" in capsys.readouterr().err


def test_track_a_playlists_artists_without_adding_them(capsys):
    from esh_tui.config import load_settings
    from esh_tui.sim.offline import offline_spotify

    catalog = offline_spotify(load_settings()).catalog
    before = [a["id"] for a in _tracked(capsys)]
    own = next(p for p in catalog.playlists.values() if p.owner_id == catalog.user.id)
    assert main(["track", "--playlist", own.id, "--days", "365", "--format", "json"]) == 0
    releases = json.loads(capsys.readouterr().out)
    on_playlist = {catalog.artists[a].name for t in own.track_ids for a in catalog.tracks[t].artist_ids}
    assert releases and all(any(n in r["artist"] for n in on_playlist) for r in releases)
    assert [a["id"] for a in _tracked(capsys)] == before, "a --playlist run adds nobody to the list"
    assert main(["track", "--playlist", "spotify:album:0TnOYISbd1XYRBk9myaseg"]) == 2


def test_json_says_which_releases_are_new_until_seen_and_delta_only_prints_each_once(monkeypatch, capsys):
    from esh_tui.runtime import open_runtime

    assert main(["track", "--format", "json", "--days", "90"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first and all(r["new"] is True for r in first)
    runtime = open_runtime()
    try:
        runtime.store.mark_seen([first[0]["isrc"] or f"track:{first[0]['track_id']}"])
    finally:
        runtime.close()
    assert main(["track", "--format", "json", "--days", "90"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert [r["new"] for r in again] == [False] + [True] * (len(first) - 1)
    assert main(["track", "--delta-only", "--format", "ids", "--days", "14"]) == 0
    narrow = capsys.readouterr().out.split()
    assert main(["track", "--delta-only", "--format", "ids", "--days", "90"]) == 0
    wide = capsys.readouterr().out.split()
    assert sorted(narrow + wide) == sorted(r["track_id"] for r in first), "each release printed once"
    assert main(["track", "--delta-only", "--format", "ids", "--days", "90"]) == 0
    assert capsys.readouterr().out == ""


def test_version_and_help_load_neither_the_engine_nor_the_store_nor_the_simulator():
    import subprocess
    import sys

    code = ("import sys\nfrom esh_tui.cli import main\nfor argv in (['--version'], ['--help'], ['artists', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "heavy = sorted(m for m, loaded in sys.modules.items() if loaded and m.startswith(('esh_tui.sim', "
            "'esh_tui.storage', "
            "'esh_tui.tracker.engine', 'esh_tui.spotify', 'esh_tui.runtime', 'textual', 'httpx', 'rich')))\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "[]"


def test_a_run_on_a_terminal_shows_a_progress_bar_then_a_summary_on_stderr(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = {**os.environ, "ESH_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "esh_tui", "track", "--format", "ids"], env=env,
                               stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the run ended and closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out, _ = process.communicate(timeout=120)
    os.close(leader)
    text = shown.decode("utf-8", "replace")
    assert process.returncode == 0 and out.strip()
    assert "artists" in text and "━" in text, "a rich progress bar was drawn while the run lasted"
    assert "API calls" in text and "fresh from the cache" in text


def test_config_command_shows_both_paths_every_source_and_never_the_secret(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "an-app-id")
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "s3cr3t-value-never-shown")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("[network]\nmax_connections = 4\n")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "s3cr3t-value-never-shown" not in out
    lines = {line.split("  ")[0].strip(): line for line in out.splitlines()}
    assert str(tmp_path / "config" / "config.toml") in lines["config file"]
    assert str(tmp_path / "data") in lines["data directory"] and "environment" in lines["data directory"]
    assert lines["SPOTIFY_CLIENT_SECRET"].split()[1] == "set"
    assert "4" in lines["[network] max_connections"] and "config.toml" in lines["[network] max_connections"]


def test_a_config_file_left_in_the_data_directory_still_applies_and_commands_say_to_move_it(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "config.toml").write_text("[network]\nmax_connections = 3\n")
    assert main(["artists", "list", "--format", "tsv"]) == 0
    err = capsys.readouterr().err
    assert "config.toml found in the data directory" in err and str(tmp_path / "config") in err
    assert main(["config"]) == 0
    assert "3" in next(line for line in capsys.readouterr().out.splitlines() if "max_connections" in line)


SIX_MONTHS = 183 * 86_400.0


@pytest.fixture
def expired_login(monkeypatch):
    """Spotify on loopback (extended mode) with this app's credentials, and a login made six months ago: its
    refresh token has expired. Yields the simulator."""
    import asyncio

    import httpx
    from conftest import fresh_catalog, log_in, spotify_on_loopback

    from esh_tui.config import load_settings
    from esh_tui.sim.api import SimConfig, SimSpotify

    now = [1000.0]
    sim = SimSpotify(fresh_catalog(1, 30), SimConfig(mode="extended", refresh_token_ttl=SIX_MONTHS),
                     clock=lambda: now[0])
    with spotify_on_loopback(monkeypatch, sim):
        async def login_then() -> None:
            async with httpx.AsyncClient() as spotify:
                await log_in(load_settings(), spotify)

        asyncio.run(login_then())
        now[0] += SIX_MONTHS
        yield sim


def _grants(sim) -> list[str]:
    return [grant for grant, _ in sim.accounts.token_requests]


def test_import_liked_after_the_login_expired_says_log_in_again_and_exits_2(expired_login, capsys):
    assert main(["artists", "import-liked"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("esh-tui: error: your Spotify login has expired: run esh-tui login")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert _grants(expired_login) == ["authorization_code", "refresh_token"], "one refresh, no retries"
    assert expired_login.calls() == 0


def test_a_public_playlist_is_still_read_with_the_apps_credentials_after_the_login_expired(expired_login, capsys):
    catalog = expired_login.catalog
    public = next(p for p in catalog.playlists.values() if p.public and p.owner_id != catalog.user.id)
    assert main(["artists", "import-playlist", public.id]) == 0
    on_playlist = {a for t in public.track_ids for a in catalog.tracks[t].artist_ids}
    assert on_playlist <= {a["id"] for a in _tracked(capsys)}
    assert _grants(expired_login) == ["authorization_code", "refresh_token", "client_credentials"]


@pytest.mark.parametrize("argv", [["artists", "list"], ["artists", "list", "--format", "json"],
                                  ["track", "--format", "tsv"], ["sim", "oracle", "--artists", "10"]])
def test_output_into_a_closed_pipe_ends_quietly_with_exit_0(tmp_path, argv):
    """As `esh-tui artists list | head -1` once head has exited: every write meets a closed pipe."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "ESH_DATA_DIR": str(tmp_path / "data")}
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run([sys.executable, "-m", "esh_tui", *argv], env=env, stdout=writer,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(writer)
    assert done.returncode == 0 and "Traceback" not in done.stderr and "Broken pipe" not in done.stderr, done.stderr
