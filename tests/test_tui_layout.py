"""The dashboard uses the room it has: at 80x24 everything fits and the names get the room, at 200x60 the panes,
columns, log and latency bars grow; a resize lays it out again."""

from __future__ import annotations

import asyncio

from textual.widgets import RichLog, Sparkline
from textual.widgets._footer import FooterKey

from esh_tui.text import clean
from esh_tui.tui.screens import dashboard
from esh_tui.tui.widgets.key_footer import KeyFooter
from esh_tui.tui.widgets.releases import ReleasesTable
from esh_tui.tui.widgets.tables import ArtistsTable

from tui_support import make_app, screen_text, settle


def _in_view(table) -> list[str]:
    """The columns drawn whole without scrolling sideways."""
    room, right, keys = table.scrollable_content_region.width, 0, []
    for key, column in table.columns.items():
        right += column.get_render_width(table)
        if right <= room:
            keys.append(str(key.value))
    return keys


async def test_at_80x24_the_names_get_the_room_and_at_200x60_every_column_shows():
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        artists, releases = app.query_one(ArtistsTable), app.query_one(ReleasesTable)

        def at_80x24():
            assert _in_view(artists) == ["state", "name"]
            assert _in_view(releases) == ["new", "date", "artist", "track"], "the album and the rest: a scroll away"
            assert releases.columns["artist"].width >= 16 and artists.columns["name"].width >= 18
            lines = screen_text(app).splitlines()
            assert len(lines) == 24 and lines[-1].rstrip().endswith("l Log  ? Help  q Quit"), "the footer fits"
            assert lines[0].rstrip().endswith("12 artists · 49 releases"), "the status line's counts fit"

        at_80x24()
        await pilot.resize_terminal(200, 60)
        await settle(app, pilot)
        assert app.screen.has_class("-wide", "-tall")
        assert _in_view(artists) == ["state", "name", "next", "last", "class"]
        assert _in_view(releases) == ["new", "date", "artist", "track", "album", "type", "found"]
        assert min(releases.columns[key].width for key in ("artist", "track", "album", "found")) >= 20
        assert artists.columns["name"].width >= 20 and artists.columns["next"].width == len("fresh to Tue 06:00")
        assert app.dashboard.query_one("#artists-pane").size.width > 200 * 0.35
        found = {str(releases.get_row(key)[6]) for key in releases.releases}
        names = {clean(a.name) for a in app.runtime.store.artists()}
        assert found and all(set(cell.split(", ")) <= names for cell in found if cell), "Found for: tracked names"
        app.dashboard.refresh_metrics(reschedule=False)  # the chart shows once there are calls to chart
        await pilot.pause()
        assert app.dashboard.query_one("#latency-spark", Sparkline).size.height == 4, "taller latency bars"
        await pilot.resize_terminal(80, 24)
        await settle(app, pilot)
        at_80x24()


async def test_on_a_short_terminal_the_open_log_takes_the_metrics_place_and_on_a_tall_one_it_is_taller():
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        releases = app.query_one(ReleasesTable)
        rows = releases.size.height
        await pilot.press("l")
        await pilot.pause()
        log, metrics = app.dashboard.query_one(RichLog), app.dashboard.query_one("#metrics")
        assert log.display and log.size.height > 0 and not metrics.display
        assert releases.size.height == rows, "the releases keep their rows"
        assert "event-loop stall" in screen_text(app), "the log wraps its long lines at 80 columns"
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert metrics.display and log.outer_size.height == 14
        await pilot.press("l")
        await pilot.pause()
        assert not log.display and metrics.display


async def test_the_status_line_keeps_its_counts_whole_at_80_columns_whatever_the_state():
    """The longest form that fits: at 80 columns a long state drops "last …", the name, then what follows its
    first part, and is cut short (…) only when even that does not fit; the counts always show whole."""
    from rich.cells import cell_len
    from textual.app import App

    from esh_tui.tui.widgets.status import StatusLine

    class One(App):
        CSS = "StatusLine { padding: 0 1; }"  # as app.tcss has it

        def compose(self):
            yield StatusLine()

    states = {
        "idle": "esh-tui  OFFLINE  · idle · last 00:00 · 12 artists · 95 releases",
        "waiting 30 s: Spotify rate limit · refreshing 2 of 12":
            " OFFLINE  · waiting 30 s: Spotify rate limit · 12 artists · 95 releases",
        "daily quota reached: back at 00:00":
            " OFFLINE  · daily quota reached: back at 00:00 · 12 artists · 95 releases",
        "Spotify unreachable: 12 artists failed (details: l)":
            " OFFLINE  · Spotify unreachable: 12 artists failed… · 12 artists · 95 releases",
    }
    app = One()
    async with app.run_test(size=(80, 24)) as pilot:
        line = app.query_one(StatusLine)
        for state, drawn in states.items():
            line.show(offline=True, mode="development", state=state, last_run="00:00", artists="12",
                      releases="95", budget="259 calls today · next ~0")
            await pilot.pause()
            text = str(line.render())
            assert text == drawn and cell_len(text) <= 78
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert str(line.render()).endswith(
            "· development mode · Spotify unreachable: 12 artists failed (details: l) · last run 00:00 "
            "· 12 artists · 95 releases · 259 calls today · next ~0")


async def test_a_closed_log_keeps_its_last_lines_only_and_shows_them_when_opened():
    app, _ = make_app(autostart=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for i in range(3 * dashboard.LOG_LINES):
            app.dashboard.log_line(f"line number {i}")
        log = app.dashboard.query_one(RichLog)
        assert len(log._deferred_renders) <= dashboard.LOG_LINES, "a closed log does not grow without end"
        await pilot.press("l")
        await pilot.pause()
        shown = [strip.text for strip in log.lines]
        assert len(shown) == dashboard.LOG_LINES
        assert shown[-1].endswith(f"line number {3 * dashboard.LOG_LINES - 1}")
        assert shown[0].endswith(f"line number {2 * dashboard.LOG_LINES}")


async def test_the_footer_is_rebuilt_only_when_its_keys_change():
    app, gated = make_app(gate_artist_index=0)
    async with app.run_test(size=(120, 30)) as pilot:
        gated.gate.set()
        await settle(app, pilot)
        footer = app.dashboard.query_one(KeyFooter)
        keys = list(footer.query(FooterKey))
        assert "r Refresh" in screen_text(app)
        for _ in range(4):  # focus moves between the tables: the bindings are refreshed, the keys shown are not
            await pilot.press("tab")
            await pilot.pause()
        assert list(footer.query(FooterKey)) == keys, "the same keys, not built again"
        gated.gate.clear(), gated.reached.clear()
        await pilot.press("R")
        await asyncio.wait_for(gated.reached.wait(), 20)
        await pilot.pause()
        assert "x Cancel" in screen_text(app) and "R Force" not in screen_text(app)
        gated.gate.set()
        await settle(app, pilot)
        assert "R Force" in screen_text(app) and "x Cancel" not in screen_text(app)


async def test_the_footers_keys_mount_with_its_look_and_are_never_restyled_for_it(monkeypatch):
    """A key bound to the footer's look gets it before it mounts, so no key changes class (and has the stylesheet
    applied again) once mounted; the command palette's key keeps Textual's compact look."""
    restyled = []
    restyle = FooterKey.update_node_styles
    monkeypatch.setattr(FooterKey, "update_node_styles",
                        lambda key, *args, **kwargs: (restyled.append(key), restyle(key, *args, **kwargs))[-1])
    app, _ = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("tab", "r")  # the bindings change: the footer is composed again
        await settle(app, pilot)
        footer = app.dashboard.query_one(KeyFooter)
        keys = list(footer.query(FooterKey))
        bound = [key for key in keys if not key.has_class("-command-palette")]
        assert len(bound) >= 5 and not footer.compact
        assert not [key for key in restyled if not key.has_class("-command-palette")], "no bound key restyled"
        assert not any(key.has_class("-compact") for key in bound), "each bound key has the footer's look"
        palette = [key for key in keys if key.has_class("-command-palette")]
        assert len(palette) == 1 and palette[0].has_class("-compact"), "at 120 columns: the palette's key, compact"
