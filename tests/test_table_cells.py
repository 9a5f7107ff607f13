"""The tables draw their cells without Rich's general layout (tables.KeyedTable._render_cell): every cell must come
out exactly as DataTable draws it, segment for segment, in every state a cell is drawn in."""

from __future__ import annotations

import pytest
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from esh_tui.tui.widgets.releases import ReleasesTable
from esh_tui.tui.widgets.tables import ArtistsTable

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
