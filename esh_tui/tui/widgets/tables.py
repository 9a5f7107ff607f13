"""Keyed tables (rows updated by diffing, never markup) and the artists panel; the releases table is in releases.py."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual._two_way_dict import TwoWayDict
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from esh_tui.models import TrackedArtist
from esh_tui.text import clean


def safe(value: object) -> Text:
    """Network text as a cell: escape sequences and controls gone, markup shown literally."""
    return Text(clean(value if value is not None else ""))


_NEWLINE = Text("\n")
CACHED_LINES = 250  # drawn rows and lines a table keeps: four screens of a tall terminal
CACHED_CELLS = 2_000  # drawn cells a table keeps: as many, of its widest rows


class _OneLineRows(Sequence):
    """The (row key, line within the row) of each line of a table whose rows are all one line high."""

    def __init__(self, table: DataTable) -> None:
        self.table = table

    def __len__(self) -> int:
        return self.table.row_count

    def __getitem__(self, y):
        if isinstance(y, slice):
            return [self[i] for i in range(*y.indices(len(self)))]
        if y < 0:
            y += len(self)
        if not 0 <= y < len(self):
            raise IndexError(y)
        return self.table._row_locations.get_key(y), 0

    def clear(self) -> None:
        """(DataTable.clear empties its own list; there is nothing kept here.)"""


class KeyedTable(DataTable):
    """A DataTable whose rows are keyed, updated in place, and sortable by column."""

    COLUMNS: tuple[tuple[str, str], ...] = ()  # (key, label)
    # Fixed widths (None: share what is left). Auto-sized columns would make DataTable measure every new
    # cell on each render, which stalls the event loop once thousands of rows stream in.
    WIDTHS: tuple[int | None, ...] = ()
    # The last OPTIONAL columns are laid out in view, in order, only while every flexible column keeps FLEX_MIN
    # cells; the others wait to the right, a scroll away. A wide terminal shows them all; at 80 columns the
    # names get the room.
    OPTIONAL = 0
    FLEX_MIN = 20
    BINDINGS = [Binding("j", "cursor_down", "Down", show=False), Binding("k", "cursor_up", "Up", show=False)]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.filter_text = ""
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._rows: dict[str, tuple] = {}  # every row, shown or filtered out
        self._sort_keys: dict[str, tuple[tuple, tuple[str, ...]]] = {}  # key -> (its cells, their sort key)
        # DataTable keeps 10,000 drawn cells and 1,000 drawn rows and lines. Its rows and lines are keyed by its
        # change count, so a run's changes leave them stale (the cells are kept by what they show: _render_cell):
        # with each line's caches, 100,000 of the 400,000 objects the full garbage collection after a 1,000-artist
        # run walked. A few screens' worth is what a frame reuses.
        self._cell_render_cache = LRUCache(CACHED_CELLS)
        self._row_render_cache = LRUCache(CACHED_LINES)
        self._row_renderable_cache = LRUCache(CACHED_LINES)
        self._line_cache = LRUCache(CACHED_LINES)

    def on_mount(self) -> None:
        for (key, label), width in zip(self.COLUMNS, self.WIDTHS or (None,) * len(self.COLUMNS)):
            self.add_column(label, key=key, width=width or 12)
        self._label_sorted_column()

    def in_view(self, width: int) -> int:
        """How many of the columns a table `width` cells wide lays out in view: the optional ones only while
        the flexible ones keep FLEX_MIN cells each."""
        least = len(self.COLUMNS) - self.OPTIONAL
        return next((count for count in range(len(self.COLUMNS), least, -1)
                     if self._share(width, count) >= self.FLEX_MIN), least)

    def _share(self, width: int, count: int) -> int:
        """The cells each flexible column gets when the first `count` columns share `width`."""
        widths = (self.WIDTHS or (None,) * len(self.COLUMNS))[:count]
        flexible = sum(1 for w in widths if w is None) or 1
        return (width - 1 - 2 * count - sum(w for w in widths if w)) // flexible  # the scrollbar, cell padding

    def on_resize(self, event) -> None:
        """Give the flexible columns in view an equal share of the width the fixed ones leave.

        When the fixed columns do not all fit (a narrow pane), the flexible ones share what the
        columns before them leave, and the rest scroll sideways. Flexible columns out of view get FLEX_MIN.
        """
        widths = self.WIDTHS or (None,) * len(self.COLUMNS)
        count = self.in_view(event.size.width)
        flexible = [key for (key, _), width in zip(self.COLUMNS[:count], widths) if width is None]
        if not flexible:
            return
        share = self._share(event.size.width, count)
        if share < 10:  # narrow: fill the visible width up to the last flexible column; the rest scrolls
            last_flexible = max(i for i, w in enumerate(widths[:count]) if w is None)
            before = sum(w for w in widths[:last_flexible + 1] if w)
            share = (event.size.width - 1 - 2 * (last_flexible + 1) - before) // len(flexible)
        share = max(8, share)
        for (key, _), width in zip(self.COLUMNS, widths):
            if width is None:
                self.columns[key].width = share if key in flexible else self.FLEX_MIN
        self._require_update_dimensions = True
        self.refresh()

    def _fixed_layout(self) -> bool:
        """Every column has a fixed width: a cell's width never changes a column's."""
        return not any(column.auto_width for column in self.columns.values())

    def _update_dimensions(self, new_rows) -> None:
        """DataTable measures every cell of every new row, for auto-width columns and auto-height rows; with
        fixed widths and one-line rows (all this table has) only the scrollable size changes. Measuring was
        most of the first paint over 10,000 releases (7 s)."""
        super()._update_dimensions(() if self._fixed_layout() else new_rows)

    def _update_column_widths(self, updated_cells) -> None:
        """As `_update_dimensions`: an updated cell cannot widen a fixed-width column."""
        if not self._fixed_layout():
            super()._update_column_widths(updated_cells)

    @property
    def _y_offsets(self) -> Sequence[tuple[RowKey, int]]:
        """DataTable lists every line's row, again after every change to the table (each new row, each cell):
        with tens of thousands of rows that list was most of a frame. Every row here is one line high (no row
        is added with another height), so line y is row y, looked up when asked."""
        return _OneLineRows(self)

    # ----- a frame's styles, worked out once: DataTable asks for the table's style and each line's row style on every
    # line, and each is worked out from the styles of the table and all its ancestors (a fifth of a line's drawing)
    _frame_styles: dict[str, Style] | None = None

    def render_lines(self, crop):
        self._frame_styles = {}
        try:
            return super().render_lines(crop)
        finally:
            self._frame_styles = None

    def _once_a_frame(self, name: str, work_out) -> Style:
        """The style `work_out()` gives, worked out once within a frame (outside one: each time asked)."""
        frame = self._frame_styles
        if frame is None:
            return work_out()
        if name not in frame:
            frame[name] = work_out()
        return frame[name]

    @property
    def rich_style(self) -> Style:
        return self._once_a_frame("", lambda: super(KeyedTable, self).rich_style)

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        if row_index < self.fixed_rows or not self.zebra_stripes:  # (the header, fixed rows, no stripes: as asked)
            return super()._get_row_style(row_index, base_style)
        name = "datatable--odd-row" if row_index % 2 else "datatable--even-row"
        return self._once_a_frame(name, lambda: self.get_component_styles(name).rich_style)

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int, cursor: bool = False,
                     hover: bool = False) -> list[list[Segment]]:
        """A body cell holding one line of Text, drawn as DataTable draws it (the Text cropped to the column, cell
        padding each side, the row's and the cursor's styles around the Text's own) without Rich's general
        layout of a renderable: that was two thirds of a frame, 70 ms a page scrolled on a loaded machine.
        Anything else (the header, a cell that is not plain one-line Text) is DataTable's."""
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        column_key = self._column_locations.get_key(column_index) if column_index >= 0 else None
        cell = self._data.get(row_key, {}).get(column_key) if row_key is not None else None
        if (column_key is None or not isinstance(cell, Text) or row_index < self.fixed_rows
                or column_index < self.fixed_columns or self.rows[row_key].height != 1
                or cell.justify not in (None, "default") or cell.no_wrap is False
                or "\n" in cell.plain or "\t" in cell.plain):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        # Keyed by what the drawing depends on, not by the table's change count, which every new row and cell
        # moves on: a frame after a flush draws again only the cells that changed or moved. A cell's Text is
        # replaced, never changed in place (`upsert`), so the one drawn is the one kept beside its lines.
        cache_key = (row_key, column_key, row_index, column_index, width, base_style, cursor, hover,
                     self._show_hover_cursor, self._pseudo_class_state)
        kept = self._cell_render_cache.get(cache_key)
        lines = kept[1] if kept is not None and kept[0] is cell else None
        if lines is None:
            component_style, post_style = self._get_styles_to_render_cell(
                False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
                self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
            pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
            padding = self.cell_padding
            inner = max(0, width - 2 * padding)
            text = cell.copy()
            text.truncate(inner, overflow=cell.overflow or "fold")
            console = self.app.console
            text = _NEWLINE.join([text])  # (as Rich lays out Text: the Text's own style becomes a span)
            line = Segment.adjust_line_length(list(text.render(console, end="")), inner, style=Style.null())
            if padding:
                line = [Segment(" " * padding, Style.null()), *line, Segment(" " * padding, Style.null())]
            line = Segment.adjust_line_length(line, width)  # (a column narrower than its padding)
            lines = [list(Segment.apply_style(line, pre_style, post_style))]
            self._cell_render_cache[cache_key] = (cell, lines)
        return lines

    def upsert(self, key: str, cells: tuple) -> None:
        """Add or update one row, touching only the cells that changed."""
        old = self._rows.get(key)
        self._rows[key] = cells
        if not self._shows(key, cells):
            if key in self.rows:
                self.remove_row(key)
            return
        if key not in self.rows:
            self.add_row(*cells, key=key)
        elif old != cells:
            for (column, _), new, before in zip(self.COLUMNS, cells, old or (None,) * len(cells)):
                if new != before:
                    self.update_cell(key, column, new)

    def drop(self, key: str) -> None:
        self._rows.pop(key, None)
        self._sort_keys.pop(key, None)
        if key in self.rows:
            self.remove_row(key)

    def _shows(self, key: str, cells: tuple) -> bool:
        """Whether the filter keeps this row."""
        return self._matches(cells)

    def _matches(self, cells: tuple) -> bool:
        if not self.filter_text:
            return True
        needle = self.filter_text.casefold()
        return any(needle in str(cell).casefold() for cell in cells)

    def apply_filter(self, text: str) -> None:
        self.filter_text = text
        self.clear()
        for key, cells in self._rows.items():
            if self._shows(key, cells):
                self.add_row(*cells, key=key)
        self.resort()

    @property
    def total_rows(self) -> int:
        """Every row, the ones the filter hides too."""
        return len(self._rows)

    def counts(self) -> tuple[int, int]:
        """(shown, in all), for the status line."""
        return self.row_count, self.total_rows

    def sort_by(self, column: str) -> None:
        self.sort_reverse = not self.sort_reverse if self.sort_column == column else column in ("date", "last")
        self.sort_column = column
        self._sort_keys.clear()
        self._label_sorted_column()
        self.resort()

    def _label_sorted_column(self) -> None:
        """An arrow on the column the rows are sorted by: ▲ ascending, ▼ descending."""
        for key, label in self.COLUMNS:
            arrow = (" ▼" if self.sort_reverse else " ▲") if key == self.sort_column and label.strip() else ""
            self.columns[key].label = Text(label + arrow)
        self.refresh()

    def sort_key(self, cells: tuple) -> tuple[str, ...]:
        """A row's place: its text in the chosen column, then in the others, so ties always come out in the
        same order."""
        text = [str(cell).casefold() for cell in cells]
        chosen = [key for key, _ in self.COLUMNS].index(self.sort_column) if self.sort_column else 0
        return (text[chosen], *text[:chosen], *text[chosen + 1:])

    def ordered_keys(self) -> list[str]:
        """The rows shown, in the order they should be in."""
        shown = self._rows if len(self._rows) == self.row_count else (key for key in self._rows if key in self.rows)
        return sorted(shown, key=self.sort_key_of, reverse=self.sort_reverse)  # (every row shown: no lookups)

    def row_keys(self):
        """The key of every row, shown or filtered out."""
        return self._rows.keys()

    def sort_key_of(self, key: str) -> tuple[str, ...]:
        """A row's sort key, kept until its cells or the sort column change: re-sorting 10,000 rows after a
        batch of new ones must not casefold every cell again."""
        cells = self._rows[key]
        kept = self._sort_keys.get(key)
        if kept is None or kept[0] is not cells:
            kept = self._sort_keys[key] = (cells, self.sort_key(cells))
        return kept[1]

    def resort(self) -> None:
        if self.sort_column and self.row_count:
            self.put_in_order(self.ordered_keys())

    def put_in_order(self, keys: list[str]) -> None:
        """Show the rows in this order (a row not in `keys` goes last, as it was). DataTable.sort would sort
        again what is sorted, through a key function called with each row's cells: a third of a second over
        33,000 rows; the row order is one mapping, set here as DataTable.sort sets it."""
        if len(keys) != self.row_count:
            keys = [key for key in keys if key in self.rows]
        order = {RowKey(key): place for place, key in enumerate(keys)}
        if len(order) < len(self.rows):
            for row_key in sorted((k for k in self.rows if k not in order), key=self._row_locations.get):
                order[row_key] = len(order)
        self._row_locations = TwoWayDict(order)
        self._update_count += 1
        self.refresh()

    def cycle_sort(self) -> None:
        keys = [key for key, _ in self.COLUMNS]
        current = keys.index(self.sort_column) if self.sort_column in keys else -1
        self.sort_by(keys[(current + 1) % len(keys)])

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.sort_by(str(event.column_key.value))

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - an empty or shrinking table has no cursor row
            return None


class ArtistsTable(KeyedTable):
    COLUMNS = (("state", " "), ("name", "Artist"), ("next", "Next check"), ("last", "Last release"),
               ("class", "Activity"))
    WIDTHS = (1, None, 18, 12, 10)  # "fresh to Tue 06:00", "Last release", "occasional"
    OPTIONAL = 3

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sort_column = "name"

    def name_of(self, artist_id: str) -> str | None:
        """The tracked artist's name as its row shows it, or None when it is not tracked (any more)."""
        cells = self._rows.get(artist_id)
        return str(cells[1]) if cells is not None else None

    def show(self, artist: TrackedArtist, state: str | None = None, now: float | None = None) -> None:
        short, detail = artist_state(artist, now or time.time())
        self.upsert(artist.id, (Text(state or short), safe(artist.name), Text(detail),
                                Text(artist.last_release or "—"), Text(artist.frequency or "—")))

    def has(self, artist_id: str) -> bool:
        """The artist has a row (shown, or hidden by the filter): it is tracked."""
        return artist_id in self._rows

    def set_state(self, artist_id: str, state: str, detail: str | None = None) -> None:
        cells = self._rows.get(artist_id)
        if cells is not None:
            self.upsert(artist_id, (Text(state), cells[1], Text(detail) if detail is not None else cells[2], *cells[3:]))


STATE_GLYPHS = {"fresh": "✓", "due": "·", "fetching": "⟳", "failed": "✗"}


def artist_state(artist: TrackedArtist, now: float) -> tuple[str, str]:
    """A one-character state (see STATE_GLYPHS) and the detail: when it is checked next, or why it failed."""
    if artist.failed_reason:
        return STATE_GLYPHS["failed"], "failed: " + clean(artist.failed_reason)[:80]
    if artist.next_due is None or artist.next_due <= now:
        return STATE_GLYPHS["due"], "due now"
    return STATE_GLYPHS["fresh"], "fresh to " + time.strftime("%a %H:%M", time.localtime(artist.next_due))
