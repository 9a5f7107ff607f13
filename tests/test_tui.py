"""The dashboard driven from the keyboard, as a person would (Textual's pilot)."""

from __future__ import annotations

import subprocess
import sys

from textual.widgets import Input

from esh_tui.sim import oracle
from esh_tui.storage.store import Store
from esh_tui.text import clean
from esh_tui.tui.screens import add_artist
from esh_tui.tui.widgets.tables import ArtistsTable, ReleasesTable

from tui_support import TODAY, make_app, settle as _settle

SIZE = (110, 34)


async def test_first_start_runs_on_the_simulator_and_shows_hostile_names_literally():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        artists, releases = app.query_one(ArtistsTable), app.query_one(ReleasesTable)
        catalog = app.runtime.offline.catalog
        ids = [a.id for a in app.runtime.store.artists()]
        expected = oracle.expected_releases(catalog, ids, app.cutoff())
        assert set(releases.releases) == set(expected)
        assert releases.row_count == len(expected)
        names = {str(artists.get_row(i)[1]) for i in ids}
        assert {str(artists.get_row(i)[0]) for i in ids} == {"✓"}
        assert "[red]Red[/] Alert" in names and "ANSI Red" in names and "New Line Collective" in names
        assert "OFFLINE SIMULATOR" in str(app.query_one("#status").render())
        dates = [str(releases.get_row_at(r)[1]) for r in range(releases.row_count)]
        assert dates == sorted(dates, reverse=True), "newest first"
        assert app.max_stall_ms < 1000


async def test_add_by_search_and_by_url():
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        catalog = app.runtime.offline.catalog
        target = next(a for a in catalog.artists.values() if a.name == "The Velvet")
        await pilot.press("a")
        await pilot.press(*"velv")
        screen = app.screen
        for _ in range(5000):  # until the debounced search has run (a condition, not a fixed sleep)
            if screen.searches:
                break
            await pilot.pause()
        assert add_artist.SEARCH_DEBOUNCE_SECONDS > 0
        assert screen.searches == 1, "typing four letters searches once, after the pause"
        await screen.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.runtime.store.artist(target.id) is not None
        other = next(a for a in catalog.artists.values() if app.runtime.store.artist(a.id) is None
                     and a.profile != "various")
        await pilot.press("a")
        app.screen.query_one("#query", Input).value = f"https://open.spotify.com/artist/{other.id}?si=x"
        await pilot.press("enter")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert app.runtime.store.artist(other.id).name == other.name
        assert app.query_one(ArtistsTable).row_count == 14


async def test_add_of_something_unknown_says_so_and_adds_nothing():
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        before = len(app.runtime.store.artists())
        await pilot.press("a")
        app.screen.query_one("#query", Input).value = "spotify:track:0TnOYISbd1XYRBk9myaseg"
        await pilot.press("enter")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert "not an artist" in str(app.screen.query_one("#status").render())
        await pilot.press("escape")
        assert len(app.runtime.store.artists()) == before


async def test_remove_with_confirm():
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ArtistsTable)
        table.focus()
        await pilot.press("down")
        victim = table.selected_key
        await pilot.press("d", "n")
        assert app.runtime.store.artist(victim) is not None
        await pilot.press("d", "y")
        await pilot.pause()
        assert app.runtime.store.artist(victim) is None and victim not in table.rows


async def test_import_a_file(tmp_path):
    app, _ = make_app(autostart=False)
    catalog = app.runtime.offline.catalog
    new = [a for a in catalog.real_artists() if app.runtime.store.artist(a.id) is None][:3]
    path = tmp_path / "artists.txt"
    path.write_text("# mine\n" + "\n".join(f"spotify:artist:{a.id}" for a in new) + "\n")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i", "enter")
        app.screen.query_one("#where", Input).value = str(path)
        await pilot.press("enter")
        await _settle(app, pilot)
        assert all(app.runtime.store.artist(a.id) for a in new)
        bad = tmp_path / "bad.txt"
        bad.write_bytes(b"\x00\x01")
        await pilot.press("i", "enter")
        app.screen.query_one("#where", Input).value = str(bad)
        await pilot.press("enter")
        await _settle(app, pilot)
        assert any("not a text file" in str(n.message) for n in app._notifications)


async def test_a_bad_line_in_an_imported_file_is_named_by_number_and_nothing_is_added(tmp_path):
    app, _ = make_app(autostart=False)
    catalog = app.runtime.offline.catalog
    new = [a for a in catalog.real_artists() if app.runtime.store.artist(a.id) is None][:2]
    path = tmp_path / "artists.txt"
    path.write_text(f"spotify:artist:{new[0].id}\n# a comment\nNo Such Artist Anywhere\nspotify:artist:{new[1].id}\n")
    before = len(app.runtime.store.artists())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i", "enter")
        app.screen.query_one("#where", Input).value = str(path)
        await pilot.press("enter")
        await _settle(app, pilot)
        shown = [str(n.message) for n in app._notifications if "Nothing imported" in str(n.message)]
    assert len(app.runtime.store.artists()) == before
    assert shown and f"{path} line 3: Spotify finds no artist named 'No Such Artist Anywhere'" in shown[-1]


async def test_filter_and_sort_say_what_they_show():
    """The status line counts "N of M" while filtered; the sorted column carries an arrow."""
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        releases = app.query_one(ReleasesTable)
        total = releases.row_count
        assert str(releases.columns["date"].label) == "Date ▼"
        await pilot.press("slash", *"red")
        await pilot.pause()
        shown = [releases.get_row_at(r) for r in range(releases.row_count)]
        assert 0 < len(shown) < total and all("red" in " ".join(map(str, row)).casefold() for row in shown)
        assert f"{len(shown)} of {total} releases" in str(app.dashboard.query_one("#status").render())
        await pilot.press("escape")
        await pilot.pause()
        assert releases.row_count == total
        assert f"· {total} releases" in str(app.dashboard.query_one("#status").render())
        await pilot.press("s")
        label = str(releases.columns[releases.sort_column].label)
        assert releases.sort_column != "date" and ("▲" in label or "▼" in label)


async def test_refresh_then_force_refresh_and_details():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        calls = app.client.log.calls
        await pilot.press("r")
        await _settle(app, pilot)
        assert app.client.log.calls == calls, "everything was fresh: no call"
        await pilot.press("R")
        await _settle(app, pilot)
        assert app.client.log.calls > calls
        releases = app.query_one(ReleasesTable)
        releases.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ReleaseScreen"
        await pilot.press("escape")


async def test_cancel_mid_run_keeps_the_store_consistent():
    app, gated = make_app(gate_artist_index=4)
    async with app.run_test(size=SIZE) as pilot:
        await gated.reached.wait()
        assert app.running
        await pilot.press("x")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.running and "cancelled" in app.state
        states = [str(app.query_one(ArtistsTable).get_row_at(r)[0]) for r in range(12)]
        assert states.count("✓") == 4 and states.count("⟳") <= 1
        store = app.runtime.store
        assert store.integrity_ok()
        assert store.runs(1)[0]["status"] == "cancelled"
        scanned = [a for a in store.artists() if a.next_due is not None]
        assert len(scanned) == 4, "the four artists before the gate are whole; the rest untouched"


async def test_releases_found_mid_run_go_in_once_a_second_and_all_by_the_end():
    """Each table change re-renders it and new rows lay the screen out again: mid-run, rows are batched."""
    import dataclasses
    import time

    from esh_tui.tracker.events import ReleaseFound

    app, gated = make_app(gate_artist_index=6)
    async with app.run_test(size=SIZE) as pilot:
        await gated.reached.wait()
        await pilot.pause()
        releases = app.query_one(ReleasesTable)
        app.dashboard.flush(all_rows=True)
        shown = releases.row_count
        assert shown > 0 and app.running
        app.dashboard._last_rows_at = time.monotonic()  # rows just went in
        some = next(iter(releases.releases.values()))
        app.tracker.on_event(ReleaseFound(dataclasses.replace(some, key="found-just-now"), new=True))
        await pilot.pause()  # the event, now a message, reaches the dashboard
        app.dashboard.flush()
        assert releases.row_count == shown, "held until a second has passed"
        app.dashboard.flush(all_rows=True)
        assert releases.row_count == shown + 1
        gated.gate.set()
        await _settle(app, pilot)
        ids = [a.id for a in app.runtime.store.artists()]
        assert set(releases.releases) == set(oracle.expected_releases(app.runtime.offline.catalog, ids, app.cutoff()))
        dates = [str(releases.get_row_at(r)[1]) for r in range(releases.row_count)]
        assert dates == sorted(dates, reverse=True)


async def test_quit_during_a_run_exits_cleanly(tmp_path):
    app, gated = make_app(gate_artist_index=2)
    async with app.run_test(size=SIZE) as pilot:
        await gated.reached.wait()
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code in (0, None)
    app.dashboard.refresh_metrics(), app.dashboard.flush(all_rows=True)  # a timer firing while the app closes does nothing
    store = Store(app.runtime.settings.data_dir / "offline.db")
    assert store.integrity_ok() and len(store.artists()) == 12


async def test_keys_can_be_remapped_in_the_config_file():
    from esh_tui.config import load_settings
    settings = load_settings()
    settings.config_dir.mkdir(parents=True, exist_ok=True)
    settings.config_path.write_text('[keys]\nrefresh = "f5"\nnot_a_key = "z"\n')
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await _settle(app, pilot)
        assert app.runtime.store.runs(1), "f5 started a refresh"
        assert any("not_a_key" in str(n.message) for n in app._notifications)


def test_the_settings_know_every_remappable_action_of_the_dashboard():
    from esh_tui.config import KEY_ACTIONS
    from esh_tui.tui.app import EshApp
    from esh_tui.tui.screens.dashboard import DashboardScreen
    assert sorted(KEY_ACTIONS) == sorted(b.id for b in [*EshApp.BINDINGS, *DashboardScreen.BINDINGS] if b.id)


async def test_command_palette_lists_every_action():
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE):
        titles = {c.title for c in app.get_system_commands(app.screen)}
    assert {"Add artist", "Remove artist", "Undo remove", "Import artists", "Refresh", "Force refresh", "Cancel run",
            "Toggle event log", "Keys"} <= titles


# Every module outside esh_tui/tui (but __main__, which runs the CLI), imported one by one in a fresh interpreter.
_IMPORT_THE_CORE = """
import importlib, pathlib, sys, esh_tui
root = pathlib.Path(esh_tui.__file__).parent
names = sorted(".".join(("esh_tui",) + p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
               for p in root.rglob("*.py") if p.relative_to(root).parts[0] != "tui" and p.name != "__main__.py")
for name in names:
    importlib.import_module(name)
    assert "textual" not in sys.modules, f"{name} imports textual"
print(" ".join(names))
"""


def test_textual_is_only_imported_by_the_tui():
    import esh_tui.tui.app  # noqa: F401 - the dashboard itself may import textual
    checked = subprocess.run([sys.executable, "-c", _IMPORT_THE_CORE], check=True, capture_output=True,
                             text=True).stdout.split()
    assert {"esh_tui.metrics", "esh_tui.spotify.client", "esh_tui.cli", "esh_tui.tracker.engine"} <= set(checked)
    assert not any(name.startswith("esh_tui.tui") for name in checked)
    assert TODAY.year == 2026 and clean("x") == "x"


async def test_removing_an_artist_named_in_markup_shows_its_name_literally_in_the_toast():
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ArtistsTable)
        hostile = next(a for a in app.runtime.store.artists() if a.name.startswith("[link="))
        table.focus()
        table.move_cursor(row=table.get_row_index(hostile.id))
        await pilot.press("d", "y")
        await pilot.pause()
        toast = list(app._notifications)[-1]
        assert toast.message == f"Stopped tracking {hostile.name} · u to undo" and not toast.markup


async def test_adding_and_failing_toasts_carry_outside_text_literally_never_as_markup():
    """"Tracking …", "… is already tracked" and a run's failure notice quote names and reasons from Spotify."""
    from esh_tui.tui.app import failed_state

    app, _ = make_app(autostart=False)
    hostile = "[link=https://example.invalid]Click[/link] [red]Me"  # unbalanced: parsing it as markup raises
    fresh = next(a for a in app.runtime.offline.catalog.real_artists() if app.runtime.store.artist(a.id) is None)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(2):
            await pilot.press("a")
            await pilot.pause()
            app.screen.dismiss((fresh.id, hostile))
            await pilot.pause()
        app.notify(failed_state({fresh.id: hostile}), severity="warning")  # as the run's end does
        await pilot.pause()  # the toasts are drawn: markup would have raised here
        messages = [n.message for n in app._notifications if hostile in n.message]
        assert not any(n.markup for n in app._notifications)
    assert f"Tracking {hostile}; r fetches its releases" in messages and f"{hostile} is already tracked" in messages


async def test_remove_acts_only_on_the_focused_artists_panel_and_enter_on_the_confirm_says_no():
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        before = {a.id for a in app.runtime.store.artists()}
        app.query_one(ReleasesTable).focus()
        await pilot.press("d")
        await pilot.pause()
        assert not app.screen.query("#yes"), "no confirm while the artists panel does not have the focus"
        assert any("Tab to the Artists panel" in str(n.message) for n in app._notifications)
        app.query_one(ArtistsTable).focus()
        await pilot.press("d", "enter")
        await pilot.pause()
        assert {a.id for a in app.runtime.store.artists()} == before, "Enter on the first focus is No"


async def test_removing_an_artist_takes_its_own_releases_off_the_table_and_keeps_shared_ones():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        releases = app.query_one(ReleasesTable)
        artists = app.query_one(ArtistsTable)
        by_artist: dict[str, list] = {}
        for release in releases.releases.values():
            for artist_id in release.found_for:
                by_artist.setdefault(artist_id, []).append(release)
        victim = max(by_artist, key=lambda a: len(by_artist[a]))
        shared = [r.key for r in by_artist[victim] if set(r.found_for) - {victim}]
        own = [r.key for r in by_artist[victim] if set(r.found_for) == {victim}]
        assert own, "the catalog gives the artist releases of its own"
        artists.focus()
        artists.move_cursor(row=artists.get_row_index(victim))
        await pilot.press("d", "y")
        await pilot.pause()
        assert not set(own) & set(releases.releases) and set(shared) <= set(releases.releases)


async def test_a_key_given_to_two_actions_is_refused_by_name_and_both_keep_working(tmp_path):
    from esh_tui.config import config_dir

    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "config.toml").write_text('[keys]\nquit = "a"\n')
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any('quit = "a" is already the key of add_artist' in str(n.message) for n in app._notifications)
        await pilot.press("a")
        await pilot.pause()
        assert app.is_running and app.screen.query("#query"), "a still opens Add"


async def test_j_and_k_move_the_cursor_and_open_without_a_browser_shows_the_link(monkeypatch):
    import webbrowser

    monkeypatch.setattr(webbrowser, "open", lambda url: False)
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        releases = app.query_one(ReleasesTable)
        releases.focus()
        await pilot.press("j", "j", "k")
        assert releases.cursor_row == 1
        await pilot.press("o")
        await pilot.pause()
        url = releases.selected_release().url
        assert any(url in str(n.message) and "No web browser" in str(n.message) for n in app._notifications)


async def test_command_palette_offers_filter_sort_details_open_and_copy():
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE):
        titles = [c.title for c in app.get_system_commands(app.screen)]
    assert {"Filter", "Sort", "Release details", "Open release", "Copy URI", "Help"} <= set(titles)
    assert len(titles) == len(set(titles)), "no entry twice"


async def test_api_panel_labels_its_scope_and_counts_only_the_runs_calls_per_release_it_found():
    from esh_tui.tui.widgets.metrics import ApiPanel, _short

    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        app.dashboard.refresh_metrics(reschedule=False)
        text = str(app.dashboard.query_one(ApiPanel).render())
        run = app.runtime.store.runs(1)[0]
        assert f"API last run\n{run['api_calls']} calls · {run['api_calls'] / run['releases']:.2f}/release" in text
        assert "no batching" in text and "in-process: no network" in text
        assert all(len(line) <= 26 for line in text.splitlines()), "each line fits a third of 80 columns"
        assert _short("GET /artists/{id}/albums") != _short("GET /albums"), "two endpoints never read alike"
        await app.client.get("/search", {"q": "the", "type": "artist"}, template="GET /search")  # the add dialog
        app.dashboard.refresh_metrics(reschedule=False)
        assert f"API last run\n{run['api_calls']} calls" in str(app.dashboard.query_one(ApiPanel).render())


async def test_status_line_says_the_run_waits_for_a_rate_limit_instead_of_looking_stuck(monkeypatch):
    app, gated = make_app(gate_artist_index=3)
    async with app.run_test(size=SIZE) as pilot:
        await gated.reached.wait()
        monkeypatch.setattr(app.client, "paused_for", lambda: 23.0)
        app.dashboard.refresh_metrics(reschedule=False)
        await pilot.pause()
        status = str(app.dashboard.query_one("#status").render())
        gated.gate.set()
        await _settle(app, pilot)
    assert "waiting 23 s: Spotify rate limit" in status


async def test_quota_reached_and_spotify_unreachable_each_say_so_in_the_status_line_with_one_notice():
    async def no_wait(seconds):
        return None

    quota_app, _ = make_app(autostart=False)
    quota_app.runtime.offline.sim.config.quota = 5
    async with quota_app.run_test(size=SIZE) as pilot:
        quota_app.start_run(force=False)
        await _settle(quota_app, pilot)
        status = str(quota_app.dashboard.query_one("#status").render())
    assert "daily quota reached: back at " in status

    down_app, _ = make_app(autostart=False)
    down_app.runtime.offline.sim.config.fault_rate = 1.0
    down_app.runtime.offline.sim.config.faults = ("503",)
    down_app.client._sleep = no_wait  # the retries' backoff, not what is tested here
    async with down_app.run_test(size=SIZE) as pilot:
        down_app.clear_notifications()
        down_app.start_run(force=False)
        await _settle(down_app, pilot)
        status = str(down_app.dashboard.query_one("#status").render())
        notices = [str(n.message) for n in down_app._notifications]
    failed = sum(1 for a in down_app.runtime.store.artists() if a.failed_reason)
    assert failed > 1 and f"Spotify unreachable: {failed} artists failed (details: l)" in status
    assert len([n for n in notices if "failed" in n]) == 1, notices


async def test_a_theme_chosen_in_the_palette_is_the_one_the_next_start_opens_with():
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "nord"
        await pilot.pause()
    app.runtime.close()
    again, _ = make_app(autostart=False)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "nord"


def _victim_with_own_releases(releases: ReleasesTable) -> tuple[str, set[str]]:
    """The artist with the most releases no other artist has, and those releases."""
    own: dict[str, set[str]] = {}
    for key, release in releases.releases.items():
        if len(release.found_for) == 1:
            own.setdefault(release.found_for[0], set()).add(key)
    victim = max(own, key=lambda a: len(own[a]))
    return victim, own[victim]


async def test_u_undoes_a_removal_with_the_artists_row_and_releases_back_and_no_api_call():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        releases, artists = app.query_one(ReleasesTable), app.query_one(ArtistsTable)
        victim, own = _victim_with_own_releases(releases)
        name = app.runtime.store.artist(victim).name
        row, shown = artists.get_row(victim), set(releases.releases)
        sim = app.runtime.offline.sim
        calls = sim.calls()
        artists.focus()
        artists.move_cursor(row=artists.get_row_index(victim))
        await pilot.press("d", "y")
        await pilot.pause()
        assert list(app._notifications)[-1].message == f"Stopped tracking {name} · u to undo"
        assert victim not in artists.rows and not own & set(releases.releases)
        await pilot.press("u")
        await pilot.pause()
        assert app.runtime.store.artist(victim) is not None
        assert artists.get_row(victim) == row, "its row as it was: fresh, same next check"
        assert set(releases.releases) == shown and releases.row_count == len(shown), "its releases are back"
        assert sim.calls() == calls, "no API call"
        assert f"Tracking {name} again" in list(app._notifications)[-1].message
        await pilot.press("r")
        await _settle(app, pilot)
        assert app.last_result.status == "ok" and app.last_result.api_calls == 0, "fresh: the store answers"
        assert set(releases.releases) == shown
        await pilot.press("u")
        await pilot.pause()
        assert "Nothing to undo" in list(app._notifications)[-1].message


async def test_an_artist_removed_mid_run_leaves_no_orphan_rows_and_u_brings_it_back_with_what_the_run_found():
    from reliability_support import half_written_artists, orphan_rows

    app, gated = make_app(gate_artist_index=3)
    victim = app.runtime.store.artists()[3].id
    async with app.run_test(size=SIZE) as pilot:
        await gated.reached.wait()  # the run is scanning the victim: its album listing is held
        artists, releases = app.query_one(ArtistsTable), app.query_one(ReleasesTable)
        artists.focus()
        artists.move_cursor(row=artists.get_row_index(victim))
        await pilot.press("d", "y")
        await pilot.pause()
        gated.gate.set()
        await _settle(app, pilot)
        path = app.runtime.store.path
        assert orphan_rows(path) == [] and half_written_artists(path) == []
        assert victim not in artists.rows
        assert all(set(r.found_for) - {victim} for r in releases.releases.values()), "none of its own shown"
        catalog = app.runtime.offline.catalog
        everyone = [a.id for a in app.runtime.store.artists()] + [victim]
        await pilot.press("u")
        await pilot.pause()
        assert str(artists.get_row(victim)[0]) == "✓", "back fresh, from the scan that finished after its removal"
        assert set(releases.releases) == set(oracle.expected_releases(catalog, everyone, app.cutoff()))
        calls = app.runtime.offline.sim.calls()
        await pilot.press("r")
        await _settle(app, pilot)
        assert app.runtime.offline.sim.calls() == calls


async def test_undo_remove_can_be_remapped_and_the_toast_names_its_key():
    from esh_tui.config import load_settings
    settings = load_settings()
    settings.config_dir.mkdir(parents=True, exist_ok=True)
    settings.config_path.write_text('[keys]\nundo_remove = "ctrl+z"\n')
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        artists = app.query_one(ArtistsTable)
        artists.focus()
        victim = artists.selected_key
        await pilot.press("d", "y")
        await pilot.pause()
        assert list(app._notifications)[-1].message.endswith(" · ctrl+z to undo")
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.runtime.store.artist(victim) is not None and victim in artists.rows


async def test_adding_a_removed_artist_back_with_a_brings_its_releases_back_too():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        releases, artists = app.query_one(ReleasesTable), app.query_one(ArtistsTable)
        victim, own = _victim_with_own_releases(releases)
        name, shown = app.runtime.store.artist(victim).name, set(releases.releases)
        artists.focus()
        artists.move_cursor(row=artists.get_row_index(victim))
        await pilot.press("d", "y")
        await pilot.pause()
        assert not own & set(releases.releases)
        await pilot.press("a")
        await pilot.pause()
        app.screen.dismiss((victim, name))  # picked in the search
        await pilot.pause()
        assert victim in artists.rows and set(releases.releases) == shown
        assert f"Tracking {name} again" in list(app._notifications)[-1].message
