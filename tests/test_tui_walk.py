"""A walk through every screen, modal, toast and the log of the dashboard, as a person would take it, with the
offline catalog's hostile names (markup, escape sequences, newlines, right-to-left scripts) and an import file
whose path holds markup and an escape character.

At every step: nothing raises (the app ends with no error), every name from outside is on the screen literally
(markup as written, escapes and controls gone: `text.clean`), and nothing on the screen is a control character
a terminal would act on.
"""

from __future__ import annotations

import asyncio

import pytest
from textual import events
from textual.command import CommandList, CommandPalette
from textual.widgets import Input, OptionList, RichLog

from esh_tui.text import clean, visible
from esh_tui.tui.screens import add_artist
from esh_tui.tui.screens.add_artist import AddArtistScreen
from esh_tui.tui.screens.confirm import ConfirmScreen
from esh_tui.tui.screens.help import HelpScreen
from esh_tui.tui.screens.import_artists import ImportScreen
from esh_tui.tui.screens.release import ReleaseScreen
from esh_tui.tui.widgets.releases import ReleasesTable
from esh_tui.tui.widgets.tables import ArtistsTable

from tui_support import HOSTILE_SHOWN, assert_shown, flowed_text, make_app, screen_text, settle, until

# (terminal size, characters of a name a table cell shows at that size: the checks look for that much of it)
SIZES = {"80x24": ((80, 24), 16), "200x60": ((200, 60), 23)}


def _hostile_import_dir(tmp_path):
    """A directory and a file name with markup and an escape sequence in them (a Linux path may hold any byte
    but / and NUL)."""
    where = tmp_path / "[link=x]imports[/link]" / "[red]mine\x1b[2J"
    where.mkdir(parents=True)
    return where


@pytest.mark.parametrize("size", SIZES)
async def test_every_screen_shows_hostile_names_literally_and_nothing_raises(size, tmp_path, monkeypatch):
    (width, height), cell = SIZES[size]
    monkeypatch.setattr(add_artist, "SEARCH_DEBOUNCE_SECONDS", 0.01)  # the walk sets whole queries, not keys
    app, gated = make_app(gate_artist_index=4, hostile=True)  # Pilot Kaleidoscope: not one the walk removes
    gated.gate.set()  # the first run goes through; the gate is closed again for the run that is cancelled
    store, catalog = app.runtime.store, app.runtime.offline.catalog
    tracked_hostile = [a for a in store.artists() if clean(a.name) in HOSTILE_SHOWN]
    assert len(tracked_hostile) == 4, "the sample tracks four of the catalog's hostile names"

    notices: list[tuple[str, str]] = []  # (severity, message) of every notice the walk raises
    notify = app.notify
    app.notify = lambda message, **options: (notices.append((options.get("severity", "information"), message)),
                                             notify(message, **options))[-1]

    async with app.run_test(size=(width, height), notifications=True) as pilot:
        # ----- the dashboard after the first run: artists and releases with hostile names
        await settle(app, pilot)
        app.clear_notifications()
        await pilot.pause()
        artists, releases = app.query_one(ArtistsTable), app.query_one(ReleasesTable)
        await assert_shown(pilot, *(clean(a.name)[:cell] for a in tracked_hostile))
        await assert_shown(pilot, "esh-tui", "12 artists")

        # ----- help, scrolled to its end
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("end")
        await pilot.pause()
        await assert_shown(pilot, 'Remap keys in config.toml: [keys] refresh = "f5"')
        await pilot.press("escape")

        # ----- add-artist dialog: a search whose results carry markup and escape sequences
        await pilot.press("a")
        assert isinstance(app.screen, AddArtistScreen)
        for query, found in (("red", "[red]Red[/] Alert"), ("red", "ANSI Red"), ("click", "Click Me[/link]")):
            app.screen.query_one("#query", Input).value = query
            dialog = app.screen
            await until(pilot, lambda: any(found in str(o.prompt)
                                           for o in dialog.query_one("#results", OptionList).options),
                        f"a search for {query!r} lists {found!r}")
            await dialog.workers.wait_for_complete()
            await pilot.pause()
            await assert_shown(pilot, found, "found — ↓ to choose, Enter to add")
        await pilot.press("escape")
        assert app.screen is app.dashboard

        # ----- remove: the confirm names the artist literally; No keeps it, Yes removes it with a literal toast
        victim = next(a for a in tracked_hostile if a.name.startswith("[red]"))
        artists.focus()
        artists.move_cursor(row=artists.get_row_index(victim.id))
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await assert_shown(pilot, f"Stop tracking {victim.name}?")
        await pilot.press("n")
        assert store.artist(victim.id) is not None
        await pilot.press("d")
        await pilot.press("y")
        await pilot.pause()
        assert store.artist(victim.id) is None
        await assert_shown(pilot, f"Stopped tracking {victim.name}")
        app.clear_notifications()

        # ----- import from a path with markup and an escape character in it: the dialog, then the toast
        folder = _hostile_import_dir(tmp_path)
        new = [a for a in catalog.real_artists() if store.artist(a.id) is None][:2]
        good = folder / "[red]artists\x1b[31m.txt"
        good.write_text("".join(f"spotify:artist:{a.id}\n" for a in new))
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        await pilot.press("enter")  # a file
        where = app.screen.query_one("#where", Input)
        where.post_message(events.Paste(str(good)))
        await pilot.press("home", "end")  # the end of the path in view
        await pilot.pause()
        assert where.value == str(good), "the path is kept exactly"
        await assert_shown(pilot, visible(str(good))[-40:])  # with ␛ for the escapes
        await pilot.press("enter")
        await until(pilot, lambda: any("added" in n.message for n in app._notifications), "the import's toast")
        await pilot.pause()
        assert all(store.artist(a.id) for a in new)
        await assert_shown(pilot, f"2 artists added from {clean(good)}")
        app.clear_notifications()
        bad = folder / "[bold]bad\x1b]8;;evil.invalid\x07.txt"
        bad.write_text("[red]Nobody At All[/red]\n")
        await pilot.press("i", "enter")
        app.screen.query_one("#where", Input).post_message(events.Paste(str(bad)))
        await pilot.press("enter")
        await until(pilot, lambda: any("Nothing imported" in n.message for n in app._notifications),
                    "the failed import's toast")
        await pilot.pause()
        await assert_shown(pilot, f"{clean(bad)} line 1", "'[red]Nobody At All[/red]'")
        app.clear_notifications()

        # ----- a run (r) fetches the imported artists; then a forced run (R), held mid-way and cancelled (x)
        releases.focus()
        await pilot.press("r")
        await settle(app, pilot)
        assert app.state == "idle" and all(store.artist(a.id).next_due for a in new)
        gated.gate.clear(), gated.reached.clear()
        await pilot.press("R")
        await asyncio.wait_for(gated.reached.wait(), 20)
        await pilot.pause()
        app.dashboard.flush(all_rows=True)
        assert app.running and "⟳" in screen_text(app)
        await pilot.press("x")
        await settle(app, pilot)
        assert app.state == "idle (run cancelled)" and "⟳" not in screen_text(app)
        await assert_shown(pilot, "run cancelled", "Refresh cancelled; what was fetched is kept")
        gated.gate.set()
        app.clear_notifications()

        # ----- the release detail screen of a release on an album with a hostile name
        def hostility(release) -> int:
            return sum(clean(text) in HOSTILE_SHOWN for text in (release.track_name, release.album_name,
                                                                 *release.artist_names))

        hostile_release = max(releases.releases.values(), key=hostility)
        assert hostility(hostile_release) >= 2
        releases.move_cursor(row=releases.get_row_index(hostile_release.key))
        await pilot.press("enter")
        assert isinstance(app.screen, ReleaseScreen)
        await assert_shown(pilot, f"Track {clean(hostile_release.track_name)}",
                           f"Artists {clean(', '.join(hostile_release.artist_names))}",
                           f"on {clean(hostile_release.album_name)} ({hostile_release.album_type})")
        await pilot.press("escape")

        # ----- the filter bar: filtering by markup shows the rows that carry it, and the bar shows it literally
        await pilot.press("slash", *"[link=")
        await pilot.pause()
        shown_rows = [releases.get_row_at(r) for r in range(releases.row_count)]
        assert shown_rows and all("[link=" in " ".join(map(str, row)) for row in shown_rows)
        await assert_shown(pilot, "[link=", f"{len(shown_rows)} of {releases.total_rows} releases")
        await pilot.press("escape")
        await pilot.pause()
        assert releases.row_count == releases.total_rows
        # ----- and each hostile title or name in the releases' columns in view, found by filtering for it
        in_view = [key for key, _ in releases.COLUMNS[:releases.in_view(releases.size.width)]]
        fields = {"artist": lambda r: r.artist_names, "track": lambda r: [r.track_name],
                  "album": lambda r: [r.album_name]}
        hostile_titles = sorted({clean(text) for release in releases.releases.values() for key in in_view if key in fields
                         for text in fields[key](release) if clean(text) in HOSTILE_SHOWN})
        assert len(hostile_titles) >= 5, hostile_titles
        for title in hostile_titles:
            await pilot.press("slash")
            app.dashboard.query_one("#filter", Input).value = title
            await pilot.pause()
            assert releases.row_count, title
            await assert_shown(pilot, title[:releases.columns["track"].width])
            await pilot.press("escape")

        # ----- sort by each column in turn, with its arrow
        for _ in range(len(releases.columns)):
            await pilot.press("s")
            await pilot.pause()
            label = str(releases.columns[releases.sort_column].label)
            assert "▲" in label or "▼" in label

        # ----- mark one release seen (m), then all (M)
        releases.move_cursor(row=0)
        key = releases.selected_key
        assert releases.is_new(key)
        await pilot.press("m")
        assert not releases.is_new(key)
        await pilot.press("M")
        await pilot.pause()
        assert not releases.unseen()
        await assert_shown(pilot, "marked seen")
        app.clear_notifications()

        # ----- the log: each artist's line names it literally
        await pilot.press("l")
        await pilot.pause()
        log = app.dashboard.query_one(RichLog)
        assert log.display
        logged = "\n".join(strip.text for strip in log.lines)
        for artist in tracked_hostile:
            if artist.id != victim.id:
                assert f"{clean(artist.name)}: " in logged, logged
        assert "\x1b" not in logged and " cancelled: " in logged
        await pilot.press("l")

        # ----- grouped by album (g), an album opened, then flat again
        await pilot.press("g")
        await pilot.pause()
        assert any(key.value.startswith("album:") for key in releases.rows), "an album of several releases is one row"
        await pilot.press("g")

        # ----- each hostile artist's details (Enter on its row): its name and its releases' titles literally
        artists_table = app.dashboard.query_one(ArtistsTable)
        artists_table.focus()
        visited = 0
        for artist in tracked_hostile:
            if artist.id == victim.id or artist.id not in artists_table.rows:
                continue
            visited += 1
            artists_table.move_cursor(row=artists_table.get_row_index(artist.id))
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is not app.dashboard, "the artist's details open")
            await assert_shown(pilot, clean(artist.name)[:50])
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.dashboard, "back on the dashboard")
        assert visited >= 3, "the hostile artists' details were walked"
        releases.focus()

        # ----- the history of what runs cost (h)
        await pilot.press("h")
        await until(pilot, lambda: app.screen is not app.dashboard, "the history opens")
        await assert_shown(pilot, "API calls per day", "Releases found per week")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, "back from the history")

        # ----- the command palette: each of the dashboard's entries is found by its title
        titles = [c.title for c in app.get_system_commands(app.dashboard)]
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        palette = app.screen
        results = palette.query_one(CommandList)
        for title in titles:
            palette.query_one(Input).value = title
            await until(pilot, lambda: any(title in str(o.prompt) for o in results.options),
                        f"the palette finds {title!r}")
            await pilot.pause()
            assert "".join(title.split()) in flowed_text(results), f"{title!r} is drawn in the palette's list"
        palette.query_one(Input).value = "Toggle event log"  # an entry run from the palette
        await until(pilot, lambda: results.option_count and "Toggle event log" in str(results.options[0].prompt),
                    "the palette's first entry is Toggle event log")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.dashboard and log.display, "the log opened from the palette")
        await pilot.press("l")
        await pilot.press("ctrl+p")
        palette = app.screen
        # ----- and a theme chosen through it
        palette.query_one(Input).value = "theme"
        await until(pilot, lambda: palette.query_one(CommandList).option_count, "the palette's theme entry")
        await pilot.press("enter")
        await pilot.pause()
        themes = app.screen
        themes.query_one(Input).value = "nord"
        await until(pilot, lambda: themes.query_one(CommandList).option_count, "the theme list finds nord")
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "nord" and app.screen is app.dashboard
        await assert_shown(pilot, *(clean(a.name)[:cell] for a in tracked_hostile if a.id != victim.id))

        await pilot.press("q")
        await pilot.pause()
    assert app.return_code in (0, None) and app._exception is None
    troubles = [(severity, message) for severity, message in notices if severity != "information"]
    assert [severity for severity, _ in troubles] == ["error"] and "Nothing imported" in troubles[0][1], troubles
