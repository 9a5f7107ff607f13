"""The tables draw their cells without Rich's general layout (tables.KeyedTable._render_cell): every cell must come
out exactly as DataTable draws it, segment for segment, in every state a cell is drawn in."""

from __future__ import annotations

import pytest
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.dom import DOMNode
from textual.geometry import Region
from textual.widgets import DataTable

from esh_tui.tui.widgets.releases import ReleasesTable
from esh_tui.tui.widgets.tables import CACHED_CELLS, ArtistsTable

from tui_support import make_app, settle

EXTRA = {  # cells the offline catalog does not have: wide characters cut at the edge, styles, ellipsis, empty
    "wide": Text("夜行バス夜行バス夜行バス夜行バス夜行バス夜行バス夜行バス夜行バス"),
    "styled": Text.assemble((" └ ", "dim"), "Track [b]x[/b] ", ("red on blue", "bold red")),
    "ellipsis": Text("A very long title that cannot fit in any column of these tables at all", overflow="ellipsis"),
    "cropped": Text("A very long title that cannot fit in any column of these tables at all", overflow="crop"),
    "empty": Text(""),
    "right-to-left": Text("\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 and more words after it"),
    "left-justified on a background": Text("ab  ", style="on red", justify="left"),  # (DataTable's own drawing)
    "wrapping": Text("alpha beta gamma delta epsilon zeta eta theta iota kappa", no_wrap=False),  # (likewise)
}


def _drawn_both_ways(table, row: int, column: int, base: Style, cursor: bool, hover: bool):
    table._cell_render_cache.clear()
    fast = table._render_cell(row, column, base, table.ordered_columns[column].get_render_width(table), cursor, hover)
    table._cell_render_cache.clear()
    general = DataTable._render_cell(table, row, column, base,
                                     table.ordered_columns[column].get_render_width(table), cursor, hover)
    return fast, general


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_every_cell_is_drawn_exactly_as_datatable_draws_it(size):
    app, _ = make_app(hostile=True)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        releases, artists = app.query_one(ReleasesTable), app.query_one(ArtistsTable)
        first = next(iter(releases.releases))
        for name, cell in EXTRA.items():  # into the first release's row, each column in turn
            for column, _ in releases.COLUMNS:
                releases.update_cell(first, column, cell)
            for row in range(1):
                for column in range(len(releases.columns)):
                    fast, general = _drawn_both_ways(releases, releases.get_row_index(first), column, Style(),
                                                     False, False)
                    assert fast == general, (name, column)
        compared = 0
        for table in (artists, releases):
            zebra = (Style(), Style(bgcolor="grey11"))
            for row in range(table.row_count):
                for column in range(len(table.columns)):
                    for cursor, hover in ((False, False), (True, False), (False, True), (True, True)):
                        fast, general = _drawn_both_ways(table, row, column, zebra[row % 2], cursor, hover)
                        assert fast == general, (type(table).__name__, row, column, cursor, hover)
                        compared += 1
        assert compared > 500


class _CountingCache(LRUCache):
    """A table's cell cache that counts the body cells drawn (the header's are DataTable's)."""

    def __init__(self, table) -> None:
        super().__init__(CACHED_CELLS)
        self.header, self.drawn = table._header_row_key, 0

    def __setitem__(self, key, value) -> None:
        self.drawn += key[0] != self.header
        super().__setitem__(key, value)


def _screenful(table) -> list:
    return [table.render_line(y) for y in range(table.size.height)]


async def test_a_changed_cell_alone_is_drawn_again_and_every_line_shows_what_the_table_holds():
    """A frame after a change (a run's new rows and states) draws again the cells that changed or moved, and
    takes the rest as drawn; what it shows must equal a drawing from nothing, so no cell is ever stale."""
    app, _ = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one(ArtistsTable)
        table._cell_render_cache = _CountingCache(table)
        table._clear_caches()  # (the lines of the app's last frame too)
        _screenful(table)
        assert table._cell_render_cache.drawn > 30, "the first frame draws every cell in view"

        for change in range(3):
            key = table.ordered_keys()[change]
            cells = table._rows[key]
            drawn_before = table._cell_render_cache.drawn
            table.upsert(key, (cells[0], Text(f"Renamed {change}"), *cells[2:]))
            with_cache = _screenful(table)
            assert table._cell_render_cache.drawn - drawn_before == 1, "only the renamed cell is drawn again"
            table._clear_caches()
            assert with_cache == _screenful(table), "what the cache gave equals what is drawn from nothing"
            assert any(f"Renamed {change}" in strip.text for strip in with_cache)


async def test_a_frame_works_out_the_tables_styles_once_and_draws_what_datatable_draws(monkeypatch):
    """The table's style and its rows' are worked out once a frame, not on each line; each frame still draws
    exactly what DataTable draws, after a change of theme and of focus too."""
    worked_out = {"styles": 0}
    style_of = DOMNode.rich_style.fget

    def counted(node):
        worked_out["styles"] += 1
        return style_of(node)

    monkeypatch.setattr(DOMNode, "rich_style", property(counted))

    def drawn(table, how) -> tuple[list, int]:
        table._clear_caches()
        table._styles_cache.clear()
        worked_out["styles"] = 0
        lines = how(table, Region(0, 0, *table.size))
        return lines, worked_out["styles"]

    app, _ = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        tables = (app.query_one(ArtistsTable), app.query_one(ReleasesTable))
        for table, other in (tables, tables[::-1]):
            for change in ("as it started", "another theme", "the focus moved"):
                focused = table.has_focus
                if change == "another theme":
                    app.theme = "nord" if app.theme != "nord" else "gruvbox"
                elif change == "the focus moved":
                    (other if focused else table).focus()
                await pilot.pause()
                assert change != "the focus moved" or table.has_focus != focused
                ours, ours_worked_out = drawn(table, type(table).render_lines)
                datatables, datatables_worked_out = drawn(table, DataTable.render_lines)
                assert ours == datatables, (type(table).__name__, change)
                assert 2 * ours_worked_out < datatables_worked_out, (type(table).__name__, change)
