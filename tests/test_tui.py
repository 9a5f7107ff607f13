"""The dashboard driven from the keyboard, as a person would (Textual's pilot)."""

from __future__ import annotations

import subprocess
import sys
import time

from textual import events
from textual.widgets import Input

from esh_tui.sim import oracle
from esh_tui.storage.store import Store
from esh_tui.text import clean
from esh_tui.tui.screens import add_artist
from esh_tui.tui.widgets.releases import ReleasesTable
from esh_tui.tui.widgets.tables import ArtistsTable

from tui_support import NOW, TODAY, assert_shown, make_app, settle as _settle, until

SIZE = (110, 34)


async def test_first_start_runs_on_the_simulator_and_shows_hostile_names_literally():
    app, _ = make_app(hostile=True)
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
        await until(pilot, lambda: app.runtime.store.artist(target.id) is not None, "the chosen artist is added")
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


async def test_text_pasted_into_a_field_is_kept_exactly_and_drawn_with_its_escapes_as_stand_ins():
    """Textual draws an Input's value as it is: a pasted escape sequence (here OSC 52, which writes the clipboard)
    would reach the terminal. Each field keeps the value (a path may hold it) and draws ␛ instead."""
    pasted = "x\x1b[2J\x1b]52;c;ZXZpbA==\x07y"
    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        for keys, field in ((["a"], "#query"), (["i", "enter"], "#where"), (["slash"], "#filter")):
            await pilot.press(*keys)
            widget = app.screen.query_one(field, Input)
            widget.post_message(events.Paste(pasted))
            await pilot.pause()
            assert widget.value == pasted
            await assert_shown(pilot, "x␛[2J␛]52;c;ZXZpbA==␇y")
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is app.dashboard


async def test_filter_and_sort_say_what_they_show():
    """The status line counts "N of M" while filtered; the sorted column carries an arrow."""
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        releases = app.query_one(ReleasesTable)
        total = releases.row_count
        assert str(releases.columns["date"].label) == "Date ▼"
        await pilot.press("slash", *"hollow")  # the demo's Hollow Pines Orchestra, and titles with the word
        await pilot.pause()
        shown = [releases.get_row_at(r) for r in range(releases.row_count)]
        assert 0 < len(shown) < total and all("hollow" in " ".join(map(str, row)).casefold() for row in shown)
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
    # in the dashboard's order (the order the help screen lists the keys in), the app's own last
    assert KEY_ACTIONS == tuple(b.id for b in [*DashboardScreen.BINDINGS, *EshApp.BINDINGS] if b.id)


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
    app, _ = make_app(autostart=False, hostile=True)
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
        app.screen.notify(hostile)  # a widget's notify asks for markup
        await pilot.pause()  # the toasts are drawn: markup would have raised here
        messages = [n.message for n in app._notifications if hostile in n.message]
        assert not any(n.markup for n in app._notifications)
    assert f"Tracking {hostile}; r fetches its releases" in messages and f"{hostile} is already tracked" in messages
    assert hostile in messages


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
    assert {"Filter", "Sort", "Release details", "Open release", "Copy URI", "Help", "Group by album",
            "Artist details"} <= set(titles)
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
    quota_app.runtime.offline.sim.clock = lambda: 1000.0  # the quota's Retry-After: a whole day, to the second
    async with quota_app.run_test(size=SIZE) as pilot:
        quota_app.start_run(force=False)
        await _settle(quota_app, pilot)
        status = str(quota_app.dashboard.query_one("#status").render())
        await pilot.press("l")  # the log draws its lines once it is shown
        await pilot.pause()
        logged = [strip.text for strip in quota_app.dashboard.query_one("#log").lines]
    back = time.strftime("%H:%M", time.localtime(NOW + 86_400))  # the app's clock, not the wall's
    assert f"daily quota reached: back at {back}" in status
    stamps = {line[:9] for line in logged if line[:2].isdigit()}  # a long line wraps onto lines of its own
    assert stamps == {time.strftime("%H:%M:%S ", time.localtime(NOW))}, logged

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


async def test_history_view_shows_the_runs_the_store_has_and_steps_through_spans():
    from esh_tui.tui.screens.history import HistoryScreen

    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        calls = app.runtime.store.runs(1)[0]["api_calls"]
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        title = str(app.screen.query_one("#history-title").render())
        assert f"last 30 days · 1 run · {calls:,} API calls" in title
        await pilot.press("t")
        assert "last 90 days" in str(app.screen.query_one("#history-title").render())
        await pilot.press("escape")
        assert app.screen is app.dashboard
    titles = [c.title for c in app.get_system_commands(app.dashboard)]
    assert "History" in titles


async def test_sorting_orders_rows_by_their_text_a_name_before_the_longer_names_it_begins():
    """Rows sort by what they say (casefolded), not by how Python writes the cells out (repr put "Echo's" first,
    in other quotes, and a name after the longer names it begins, its closing quote sorting after a space)."""
    from esh_tui.models import TrackedArtist

    app, _ = make_app(autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ArtistsTable)
        for number, name in enumerate(["Echo Park", "echo", "Echo's", "Back\\slash"]):
            table.show(TrackedArtist(id=f"sortcheck{number}", name=name, source="test", added_at="2026-11-01"))
        table.resort()
        await pilot.pause()
        names = [str(table.get_row_at(r)[1]) for r in range(table.row_count)]
        mine = [n for n in names if n in ("Echo Park", "echo", "Echo's", "Back\\slash")]
        assert mine == ["Back\\slash", "echo", "Echo Park", "Echo's"]


def _shown_keys(table) -> list[str]:
    return [table.coordinate_to_cell_key((row, 0)).row_key.value for row in range(table.row_count)]


def _albums(table) -> dict[str, list[str]]:
    """Album id -> the keys of its releases in the table."""
    albums: dict[str, list[str]] = {}
    for key, release in table.releases.items():
        albums.setdefault(release.album_id, []).append(key)
    return albums


def _grouped_rows(table) -> set[str]:
    """The rows grouping should show with every album closed: an album's row for each album of several releases."""
    return {f"album:{album_id}" if len(keys) > 1 else keys[0] for album_id, keys in _albums(table).items()}


async def test_g_groups_releases_by_album_and_enter_opens_and_closes_an_albums_row():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        releases = app.query_one(ReleasesTable)
        flat = releases.row_count
        albums = _albums(releases)
        album_id, keys = max(albums.items(), key=lambda item: len(item[1]))
        assert len(keys) >= 3 and flat == len(releases.releases)
        await pilot.press("g")
        assert set(_shown_keys(releases)) == _grouped_rows(releases) and releases.row_count < flat
        assert str(app.dashboard.query_one("#releases-title").render()) == "Releases by album"
        row = releases.get_row(f"album:{album_id}")
        name = clean(releases.releases[keys[0]].album_name)
        assert (str(row[0]), str(row[3]), str(row[4])) == ("★", f"▸ {len(keys)} tracks", name)
        dates = [str(releases.get_row_at(r)[1]) for r in range(releases.row_count)]
        assert dates == sorted(dates, reverse=True), "albums and single releases, newest first"

        releases.move_cursor(row=releases.get_row_index(f"album:{album_id}"))
        await pilot.press("enter")
        shown = _shown_keys(releases)
        at = shown.index(f"album:{album_id}")
        assert set(shown[at + 1:at + 1 + len(keys)]) == set(keys), "its tracks, right beneath it"
        assert all(str(releases.get_row(k)[3]).startswith(" └ ") for k in keys)
        assert str(releases.get_row(f"album:{album_id}")[3]).startswith("▾ ")
        assert app.screen is app.dashboard, "Enter on an album's row opens it, not a release's details"
        await pilot.press("s")  # sorted by another column, the tracks stay beneath their album
        shown = _shown_keys(releases)
        at = shown.index(f"album:{album_id}")
        assert set(shown[at + 1:at + 1 + len(keys)]) == set(keys)
        releases.move_cursor(row=at)
        await pilot.press("enter")
        assert set(_shown_keys(releases)) == _grouped_rows(releases), "closed again"

        await pilot.press("g")
        assert releases.row_count == flat and set(_shown_keys(releases)) == set(releases.releases)
        assert str(app.dashboard.query_one("#releases-title").render()) == "Releases"


async def test_an_albums_row_counts_as_its_tracks_in_the_status_and_m_o_c_act_on_the_whole_album(monkeypatch):
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        releases = app.query_one(ReleasesTable)
        total = len(releases.releases)
        await pilot.press("g")
        status = str(app.dashboard.query_one("#status").render())
        assert f"· {total} releases" in status, "the count is of releases, not of rows"

        albums = _albums(releases)
        album_id, keys = max(albums.items(), key=lambda item: len(item[1]))
        word = next(w for w in releases.releases[keys[0]].album_name.split() if w.isalpha()).casefold()
        await pilot.press("slash", *word)
        await pilot.pause()
        matching = [k for k, r in releases.releases.items()
                    if word in " ".join([r.release_date.isoformat(), clean(", ".join(r.artist_names)),
                                         clean(r.track_name), clean(r.album_name), r.album_type]).casefold()]
        assert len(keys) <= len(matching) < total
        assert f"{len(matching)} of {total} releases" in str(app.dashboard.query_one("#status").render())
        assert f"album:{album_id}" in _shown_keys(releases)
        await pilot.press("escape")
        await pilot.pause()

        releases.focus()
        releases.move_cursor(row=releases.get_row_index(f"album:{album_id}"))
        await pilot.press("o", "c")
        await pilot.pause()
        first = releases.releases[keys[0]]
        assert opened == [f"https://open.spotify.com/album/{album_id}"]
        assert any(f"Sent spotify:album:{album_id} " in str(n.message) for n in app._notifications)

        others = [k for k in releases.releases if k not in keys]
        await pilot.press("m")
        assert not any(releases.is_new(k) for k in keys) and all(releases.is_new(k) for k in others)
        assert str(releases.get_row(f"album:{album_id}")[0]) == " "
        assert app.runtime.store.unseen(keys) == set() and app.runtime.store.unseen(others) == set(others)
        assert first.album_id == album_id


async def test_releases_found_while_grouped_go_into_their_albums_row():
    import dataclasses

    from esh_tui.tracker.events import ReleaseFound

    app, gated = make_app(gate_artist_index=6)
    async with app.run_test(size=SIZE) as pilot:
        await gated.reached.wait()
        await pilot.press("g")
        app.dashboard.flush(all_rows=True)
        releases = app.query_one(ReleasesTable)
        assert set(_shown_keys(releases)) == _grouped_rows(releases)
        single = next(keys[0] for keys in _albums(releases).values() if len(keys) == 1)
        lone = releases.releases[single]
        app.tracker.on_event(ReleaseFound(dataclasses.replace(lone, key="second-track", track_name="Second"), new=True))
        await pilot.pause()
        app.dashboard.flush(all_rows=True)
        assert f"album:{lone.album_id}" in _shown_keys(releases) and single not in _shown_keys(releases)
        assert str(releases.get_row(f"album:{lone.album_id}")[3]) == "▸ 2 tracks"
        gated.gate.set()
        await _settle(app, pilot)
        ids = [a.id for a in app.runtime.store.artists()]
        assert set(releases.releases) == set(oracle.expected_releases(app.runtime.offline.catalog, ids, app.cutoff()))
        assert set(_shown_keys(releases)) == _grouped_rows(releases), "every release in its album's row"


async def test_grouping_by_album_is_kept_and_the_next_start_opens_grouped():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("g")
        grouped = set(_shown_keys(app.query_one(ReleasesTable)))
    app.runtime.close()
    again, _ = make_app(autostart=False)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        releases = again.query_one(ReleasesTable)
        assert releases.grouped and set(_shown_keys(releases)) == grouped == _grouped_rows(releases)
        await pilot.press("g")
    again.runtime.close()
    third, _ = make_app(autostart=False)
    async with third.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not third.query_one(ReleasesTable).grouped


def _rendered(renderable, width: int = 200) -> str:
    """What a widget's content looks like as plain text (rich renders it as the widget would)."""
    from rich.console import Console

    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()


async def _open_artist(app, pilot, artist_id: str):
    from esh_tui.tui.screens.artist_detail import ArtistScreen

    table = app.query_one(ArtistsTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(artist_id))
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, ArtistScreen) and app.screen.artist_id == artist_id
    facts = _rendered(app.screen.query_one("#artist-facts").content)
    releases = (_rendered(app.screen.query_one("#artist-releases-title").content)
                + _rendered(app.screen.query_one("#artist-releases-table").content))
    return " ".join(facts.split()), releases


async def test_enter_on_an_artist_shows_when_it_was_checked_and_is_due_its_releases_and_what_it_costs():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        store = app.runtime.store
        artist = max(store.artists(), key=lambda a: len(store.artist_releases(a.id, app.cutoff())))
        found = store.artist_releases(artist.id, app.cutoff())
        facts, releases = await _open_artist(app, pilot, artist.id)
        assert artist.id in facts and "from sample" in facts and "Error none" in facts
        assert "Checked" in facts and "(just now)" in facts
        assert "fresh until" in facts and f"checked every {artist.interval_hours:g} h" in facts
        assert artist.frequency in facts and f"last release {artist.last_release}" in facts
        assert artist.last_scan_calls == artist.total_calls > 0
        assert (f"last check {artist.last_scan_calls} API calls · all checks {artist.total_calls} · "
                f"{artist.total_calls / len(found):.1f} calls per release ({len(found)} found)") in facts
        assert f"{len(found)} since {app.cutoff().isoformat()} (90 days), {len(found)} not seen yet ★" in releases
        assert all(clean(r.track_name)[:10] in releases for r, _ in found)
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_a_failed_artists_details_say_why_that_it_is_due_and_what_its_failed_check_cost():
    async def no_wait(seconds):
        return None

    app, _ = make_app(autostart=False)
    app.runtime.offline.sim.config.fault_rate = 1.0
    app.runtime.offline.sim.config.faults = ("503",)
    app.client._sleep = no_wait
    async with app.run_test(size=SIZE) as pilot:
        app.start_run(force=False)
        await _settle(app, pilot)
        failed = next(a for a in app.runtime.store.artists() if a.failed_reason)
        facts, releases = await _open_artist(app, pilot, failed.id)
        assert f"Error {' '.join(clean(failed.failed_reason).split())}" in facts
        assert "due now: it failed, and the next refresh tries again" in facts
        assert failed.last_scan_calls > 0 and f"last check {failed.last_scan_calls} API calls" in facts
        assert "0 since" in releases and "none in the window" in releases


async def test_artist_details_show_hostile_names_literally():
    app, _ = make_app(hostile=True)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        store = app.runtime.store
        hostile = [a for a in store.artists() if a.name.startswith(("[link=", "[red]", "\x1b", "New\n"))]
        assert len(hostile) >= 3
        for artist in hostile:
            facts, releases = await _open_artist(app, pilot, artist.id)
            assert f"Name {clean(artist.name)} ID" in facts
            assert "\x1b" not in facts + releases
            for release, _ in store.artist_releases(artist.id, app.cutoff()):
                assert clean(release.album_name)[:8] in releases
            await pilot.press("escape")
        link = next(a.id for a in hostile if a.name.startswith("[link="))
        assert "Name [link=https://example.invalid]Click Me[/link] ID" in (await _open_artist(app, pilot, link))[0]
        assert any(a.name == "New\nLine Collective" for a in hostile)


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
        notice = list(app._notifications)[-1]
        assert f"Tracking {name} again" in notice.message
        assert not notice.markup, "the name is Spotify's text: the toast shows it literally, never as markup"
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
        notice = list(app._notifications)[-1]
        assert f"Tracking {name} again" in notice.message and not notice.markup, "Spotify's text, shown literally"
