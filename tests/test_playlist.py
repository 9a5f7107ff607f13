"""New releases in a playlist of the user's own, against the simulator: made once, topped up without repeats,
trimmed with --replace, 100 items a request, a deleted playlist made anew, and no login or scope said in one line.

Each test counts the API calls the simulator answered (`sim.counts`, by endpoint template).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace

import httpx
import pytest
from conftest import fresh_catalog, spotify_on_loopback

from esh_tui.cli import main
from esh_tui.config import load_settings
from esh_tui.delivery.playlist import DEFAULT_NAME, SETTING, MAX_ITEMS, PlaylistSync, access_problem
from esh_tui.models import Release
from esh_tui.sim import offline
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.spotify.auth import PLAYLIST_SCOPE, READ_SCOPES, login_scopes, save_user_token
from esh_tui.spotify.errors import ForbiddenError

TODAY = dt.date(2026, 11, 23)
CREATE, ADD, REMOVE, READ = ("POST /me/playlists", "POST /playlists/{id}/items", "DELETE /playlists/{id}/items",
                             "GET /playlists/{id}/items")
MODES = ("development", "extended")


def calls(sim: SimSpotify, template: str, status: int | None = None) -> int:
    return sim.calls(template, status)


@pytest.fixture(params=MODES)
def world(request, monkeypatch):
    """One offline Spotify for every command of a test (so its calls add up and its clock can move), as of TODAY,
    in the mode the test is run in."""
    import esh_tui.runtime as runtime_module

    made: dict[str, offline.OfflineSpotify] = {}

    def shared(settings, seed=offline.SAMPLE_SEED, size=offline.SAMPLE_SIZE, today=None, mode="development"):
        if "spotify" not in made:
            made["spotify"] = offline.offline_spotify(settings, seed, size, TODAY, request.param)
        return replace(made["spotify"], settings=replace(settings, client_id=offline.OFFLINE_CLIENT_ID,
                                                         client_secret=offline.OFFLINE_CLIENT_SECRET))

    monkeypatch.setattr(runtime_module, "offline_spotify", shared)
    main(["artists", "list"])  # the offline Spotify and its sample artists, before any test counts a call
    spotify = made["spotify"]
    spotify.sim.reset_counts()
    return spotify


def remembered(name: str = DEFAULT_NAME) -> dict:
    from esh_tui.runtime import open_runtime

    with open_runtime() as runtime:
        return runtime.store.settings().get(SETTING, {}).get(name)


def playlist_tracks(world, name: str = DEFAULT_NAME) -> list[str]:
    return world.catalog.playlists[remembered(name)["id"]].track_ids


def summary_line(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return out.strip()


# ----- playlist sync on the command line ----------------------------------------------------------------------


def test_sync_twice_adds_nothing_the_second_time_and_sends_no_post(world, capsys):
    assert main(["playlist", "sync", "--days", "60"]) == 0
    first = summary_line(capsys)
    sim, catalog = world.sim, world.catalog
    entry = remembered()
    made = catalog.playlists[entry["id"]]
    assert made.owner_id == catalog.user.id and made.public is False and made.name == DEFAULT_NAME
    assert made.track_ids and len(made.track_ids) == len(set(made.track_ids))
    assert first.startswith(f"added {len(made.track_ids)} tracks, removed 0 · {DEFAULT_NAME} · "
                            f"https://open.spotify.com/playlist/{made.id}")
    assert calls(sim, CREATE) == 1 and calls(sim, ADD) == -(-len(made.track_ids) // MAX_ITEMS)

    sim.reset_counts()
    assert main(["playlist", "sync", "--days", "60"]) == 0
    assert summary_line(capsys).startswith("added 0 tracks, removed 0")
    assert calls(sim, CREATE) == 0 and calls(sim, ADD) == 0 and calls(sim, REMOVE) == 0
    assert calls(sim, READ) == -(-len(made.track_ids) // 50), "only the playlist's items were read"
    assert catalog.playlists[entry["id"]].track_ids == made.track_ids


def test_the_synced_tracks_are_the_releases_track_reports(world, capsys):
    assert main(["track", "--days", "60", "--format", "ids"]) == 0
    reported = capsys.readouterr().out.split()
    assert main(["playlist", "sync", "--days", "60"]) == 0
    assert reported and playlist_tracks(world) == list(dict.fromkeys(reported))


def test_the_release_filters_apply_to_the_sync_as_to_track(world, capsys, tmp_path):
    """config.toml's [filters] and the run's options choose what goes in, as they choose what `track` prints."""
    from esh_tui.config import load_settings

    config_dir = load_settings().config_dir
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('[filters]\ntypes = ["album", "ep", "compilation"]\n')
    assert main(["track", "--days", "60", "--format", "ids"]) == 0
    albums_only = capsys.readouterr().out.split()
    assert main(["track", "--days", "60", "--format", "ids", "--types", "single"]) == 0
    singles = capsys.readouterr().out.split()
    assert albums_only and singles and not set(albums_only) & set(singles)
    assert main(["playlist", "sync", "--days", "60", "--types", "single"]) == 0
    assert playlist_tracks(world) == list(dict.fromkeys(singles))


def test_replace_after_the_window_moves_removes_exactly_what_fell_out(world, capsys):
    assert main(["playlist", "sync", "--days", "30"]) == 0
    capsys.readouterr()
    before = list(playlist_tracks(world))
    assert main(["track", "--days", "30", "--format", "json"]) == 0
    import json

    dates = {r["url"].rsplit("/", 1)[-1]: r["date"] for r in json.loads(capsys.readouterr().out)}
    world.catalog.advance(20)  # the window's start moves twenty days on
    cutoff = (TODAY + dt.timedelta(days=20) - dt.timedelta(days=30)).isoformat()
    fell_out = [t for t in before if dates[t] < cutoff]
    assert fell_out, "some releases are older than the new cutoff"
    assert main(["track", "--days", "30", "--format", "json"]) == 0
    now_reported = [r["url"].rsplit("/", 1)[-1] for r in json.loads(capsys.readouterr().out)]
    world.sim.reset_counts()

    assert main(["playlist", "sync", "--days", "30", "--replace"]) == 0
    line = summary_line(capsys)
    new = [t for t in now_reported if t not in before]
    assert line.startswith(f"added {len(new)} track{'s' if len(new) != 1 else ''}, removed {len(fell_out)} ·")
    assert playlist_tracks(world) == [t for t in before if t not in fell_out] + new
    assert calls(world.sim, REMOVE) == 1


def test_replace_never_removes_the_users_own_tracks(world, capsys):
    assert main(["playlist", "sync", "--days", "30"]) == 0
    theirs = next(t for t in world.catalog.user.saved_track_ids if t not in playlist_tracks(world))
    playlist_tracks(world).append(theirs)  # the user adds a song of their own in the app
    world.catalog.advance(400)  # every release falls out
    assert main(["playlist", "sync", "--days", "30", "--replace"]) == 0
    assert playlist_tracks(world) == [theirs]


def test_a_track_the_user_took_out_is_not_put_back(world, capsys):
    assert main(["playlist", "sync", "--days", "60"]) == 0
    taken = playlist_tracks(world).pop(0)
    world.sim.reset_counts()
    assert main(["playlist", "sync", "--days", "60"]) == 0
    assert taken not in playlist_tracks(world) and calls(world.sim, ADD) == 0
    assert "1 track you took out of the playlist stays out" in capsys.readouterr().err


def test_a_deleted_playlist_is_made_anew_and_said(world, capsys):
    assert main(["playlist", "sync", "--days", "60"]) == 0
    first = remembered()["id"]
    count = len(playlist_tracks(world))
    world.catalog.delete_playlist(first)
    world.sim.reset_counts()
    capsys.readouterr()

    assert main(["playlist", "sync", "--days", "60"]) == 0
    out, err = capsys.readouterr()
    second = remembered()["id"]
    assert second != first and second in world.catalog.playlists
    assert f"the playlist {DEFAULT_NAME} was deleted in Spotify; made a new one" in err
    assert out.startswith(f"added {count} tracks") and second in out
    assert calls(world.sim, READ, 404) == 1 and calls(world.sim, CREATE) == 1
    assert len(playlist_tracks(world)) == count


@pytest.mark.parametrize("garbage", [b"not json", b"\xff\xfe"], ids=["not JSON", "not UTF-8"])
def test_a_remembered_playlist_setting_that_is_garbage_counts_as_unset_and_the_sync_makes_one(world, capsys, garbage):
    from esh_tui.runtime import open_runtime

    with open_runtime() as runtime:
        runtime.store.db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, CAST(? AS TEXT))",
                                 (SETTING, garbage))
    assert main(["playlist", "sync", "--days", "60"]) == 0
    assert summary_line(capsys).startswith("added ")
    assert remembered()["id"] in world.catalog.playlists, "the garbage was replaced by the playlist it made"


def test_each_name_is_a_playlist_of_its_own(world, capsys):
    assert main(["playlist", "sync", "--days", "20", "--name", "Fresh"]) == 0
    assert main(["playlist", "sync", "--days", "60"]) == 0
    assert remembered("Fresh")["id"] != remembered()["id"]
    assert world.catalog.playlists[remembered("Fresh")["id"]].name == "Fresh"


def test_the_offline_listeners_playlist_outlives_the_command(world, tmp_path, capsys):
    """A newcomer with no credentials: the second command finds the playlist the first one made."""
    assert main(["playlist", "sync", "--days", "60"]) == 0
    made = remembered()["id"]
    assert (tmp_path / "data" / offline.OFFLINE_PLAYLISTS).is_file()
    world.catalog.playlists.pop(made)  # a new process: a catalog without it, then the kept file read back
    assert main(["playlist", "sync", "--days", "60"]) == 0
    assert made in world.catalog.playlists and "deleted" not in capsys.readouterr().err


def test_track_to_playlist_prints_the_releases_then_syncs_them(world, capsys):
    assert main(["track", "--days", "60", "--format", "ids", "--to-playlist", "From track"]) == 0
    out, err = capsys.readouterr()
    assert out.split() and len(playlist_tracks(world, "From track")) == len(set(out.split()))
    assert "esh-tui: playlist: added" in err and "From track" in err


@pytest.mark.parametrize("argv, needle", [
    (["playlist", "sync", "--name", "  "], "playlist name"),
    (["playlist", "sync", "--name", "x" * 101], "playlist name"),
    (["playlist", "sync", "--days", "0"], "--days"),
    (["track", "--to-playlist", "bad\x07name"], "playlist name"),
])
def test_bad_playlist_input_is_one_line_and_exit_2_with_nothing_sent(world, argv, needle, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own checks
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert world.sim.calls() == 0


# ----- the core: batches, ownership, limits ---------------------------------------------------------------------


def _releases(catalog, count: int) -> list[Release]:
    tracks = [t for t in catalog.tracks.values() if catalog.visible_track(t.id)][:count]
    return [Release(t.isrc or f"track:{t.id}", t.isrc, t.id, t.name, (), t.album_id, "", "single", TODAY)
            for t in tracks]


def _sync(world, releases, replace=False, name=DEFAULT_NAME):
    from esh_tui.runtime import open_runtime

    async def go():
        with open_runtime() as runtime:
            async with runtime.playlist_writer() as client:
                return await PlaylistSync(client, runtime.store, name).sync(releases, replace)

    return asyncio.run(go())


def test_more_than_100_tracks_go_in_batches_of_100(world):
    releases = _releases(world.catalog, 250)
    outcome = _sync(world, releases)
    assert outcome.added == 250 and outcome.created
    assert calls(world.sim, ADD, 201) == 3 and calls(world.sim, ADD, 400) == 0
    assert playlist_tracks(world) == [r.track_id for r in releases]

    world.sim.reset_counts()
    outcome = _sync(world, releases[:20], replace=True)
    assert outcome.removed == 230 and calls(world.sim, REMOVE, 200) == 3 and calls(world.sim, REMOVE, 400) == 0
    assert playlist_tracks(world) == [r.track_id for r in releases[:20]]


def test_a_remembered_playlist_of_another_user_is_refused_and_nothing_is_added(world):
    from esh_tui.runtime import open_runtime

    curated = next(p for p in world.catalog.playlists.values() if p.owner_id != world.catalog.user.id)
    before = list(curated.track_ids)
    with open_runtime() as runtime:
        runtime.store.save_setting(SETTING, {DEFAULT_NAME: {"id": curated.id, "added": []}})
    with pytest.raises(ForbiddenError):
        _sync(world, _releases(world.catalog, 5))
    assert curated.track_ids == before
    assert calls(world.sim, ADD, 201) == 0 and calls(world.sim, CREATE) == 0


def test_an_interrupted_sync_remembers_each_batch_spotify_took(world):
    """The process dies after Spotify took the first batch: the next sync adds only the rest (nothing twice)."""
    releases = _releases(world.catalog, 150)
    original = world.sim.handle
    posts = []

    def failing_second_post(method, url, headers, body=b""):
        if method == "POST" and url.endswith("/items"):
            posts.append(url)
            if len(posts) == 2:
                raise KeyboardInterrupt  # Ctrl-C while the second batch is on its way
        return original(method, url, headers, body)

    world.sim.handle = failing_second_post
    with pytest.raises(KeyboardInterrupt):
        _sync(world, releases)
    world.sim.handle = original
    assert len(playlist_tracks(world)) == 100
    outcome = _sync(world, releases)
    assert outcome.added == 50 and playlist_tracks(world) == [r.track_id for r in releases]


# ----- login and scopes ------------------------------------------------------------------------------------------


@pytest.fixture
def real_spotify(monkeypatch):
    """Spotify on loopback with this app's credentials (no offline listener): logins are real PKCE logins."""
    sim = SimSpotify(fresh_catalog(1, 30), SimConfig(mode="development"))
    with spotify_on_loopback(monkeypatch, sim):
        yield sim


def _login(scopes: tuple[str, ...]) -> frozenset[str]:
    """`esh-tui login` asking for `scopes`, with a browser that approves at once."""
    from esh_tui.spotify.auth import login

    async def go() -> frozenset[str]:
        async with httpx.AsyncClient() as spotify:
            async def browser(url: str) -> None:
                approved = await spotify.get(url)
                async with httpx.AsyncClient() as local:
                    assert (await local.get(approved.headers["location"])).status_code == 200

            return await login(load_settings(), spotify, browser, scopes=scopes)

    return asyncio.run(go())


def _store_settings() -> dict:
    from esh_tui.runtime import open_runtime

    with open_runtime() as runtime:
        return runtime.store.settings()


@pytest.mark.parametrize("logged_in", [False, True], ids=["no login", "login without the playlist scope"])
def test_no_login_or_no_playlist_scope_is_one_line_naming_login_exit_2_nothing_sent_or_written(
        real_spotify, logged_in, capsys):
    main(["artists", "add", next(iter(real_spotify.catalog.artists))])
    if logged_in:
        assert PLAYLIST_SCOPE not in _login(READ_SCOPES)
    real_spotify.reset_counts()
    before = _store_settings()
    capsys.readouterr()
    for argv in (["playlist", "sync"], ["track", "--to-playlist"]):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "esh-tui login --playlist" in err, err
        assert err.startswith("esh-tui: error: ")
    assert real_spotify.calls() == 0, "no run and no playlist call"
    assert _store_settings() == before


def test_with_the_playlist_scope_sync_works_on_spotify(real_spotify, capsys):
    main(["artists", "add", *list(real_spotify.catalog.artists)[:3]])
    assert PLAYLIST_SCOPE in _login((*READ_SCOPES, PLAYLIST_SCOPE))
    assert main(["playlist", "sync"]) == 0
    made = real_spotify.catalog.playlists[remembered()["id"]]
    assert made.owner_id == real_spotify.catalog.user.id and not made.public
    assert real_spotify.calls(CREATE, 201) == 1


def test_login_asks_for_the_playlist_scope_when_asked_and_keeps_it_once_granted():
    settings = load_settings()
    assert login_scopes(settings) == READ_SCOPES
    assert login_scopes(settings, playlist=True) == (*READ_SCOPES, PLAYLIST_SCOPE)
    assert access_problem(settings, offline=False).endswith("run 'esh-tui login --playlist'")
    save_user_token(settings.data_dir / "user-token.json",
                    {"refresh_token": "r", "scope": " ".join((*READ_SCOPES, PLAYLIST_SCOPE))})
    assert login_scopes(settings) == (*READ_SCOPES, PLAYLIST_SCOPE), "logging in again keeps the permission"
    assert access_problem(settings, offline=False) is None
    assert access_problem(settings, offline=True) is None


def test_login_with_playlist_asks_spotify_for_the_scope_and_a_later_login_keeps_it(real_spotify, monkeypatch, capsys):
    import threading
    from urllib.parse import parse_qs, urlsplit

    from esh_tui.cli import login as login_command

    asked: list[set[str]] = []

    def browser(url: str) -> bool:
        """The user approves in the browser (a thread: the login's listener answers on the command's loop)."""
        asked.append(set(parse_qs(urlsplit(url).query)["scope"][0].split()))

        def approve() -> None:
            approved = httpx.get(url)
            httpx.get(approved.headers["location"])

        threading.Thread(target=approve, daemon=True).start()
        return True

    monkeypatch.setattr(login_command.webbrowser, "open", browser)
    assert main(["login", "--playlist"]) == 0
    assert "permission to create and change your private playlists" in capsys.readouterr().err
    assert main(["login"]) == 0
    assert asked == [{*READ_SCOPES, PLAYLIST_SCOPE}] * 2
    assert access_problem(load_settings(), offline=False) is None
