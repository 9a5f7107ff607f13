"""The artists panel and the releases table: keyed rows, updated by diffing, never markup."""

from __future__ import annotations

import time

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from esh_tui.models import Release, TrackedArtist
from esh_tui.text import clean


def safe(value: object) -> Text:
    """Network text as a cell: escape sequences and controls gone, markup shown literally."""
    return Text(clean(value if value is not None else ""))


class KeyedTable(DataTable):
    """A DataTable whose rows are keyed, updated in place, and sortable by column."""

    COLUMNS: tuple[tuple[str, str], ...] = ()  # (key, label)
    # Fixed widths (None: share what is left). Auto-sized columns would make DataTable measure every new
    # cell on each render, which stalls the event loop once thousands of rows stream in.
    WIDTHS: tuple[int | None, ...] = ()
    BINDINGS = [Binding("j", "cursor_down", "Down", show=False), Binding("k", "cursor_up", "Up", show=False)]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.filter_text = ""
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._rows: dict[str, tuple] = {}  # every row, shown or filtered out

    def on_mount(self) -> None:
        for (key, label), width in zip(self.COLUMNS, self.WIDTHS or (None,) * len(self.COLUMNS)):
            self.add_column(label, key=key, width=width or 12)
        self._label_sorted_column()

    def on_resize(self, event) -> None:
        """Give the flexible columns an equal share of the width the fixed ones leave.

        When the fixed columns do not all fit (a narrow pane), the flexible ones share what the
        columns before them leave, and the rest scroll sideways.
        """
        widths = self.WIDTHS or (None,) * len(self.COLUMNS)
        flexible = [key for (key, _), width in zip(self.COLUMNS, widths) if width is None]
        if not flexible:
            return
        room = event.size.width - 1 - 2 * len(self.COLUMNS)  # the scrollbar and each cell's padding
        share = (room - sum(w for w in widths if w)) // len(flexible)
        if share < 10:  # narrow: fill the visible width up to the last flexible column; the rest scrolls
            last_flexible = max(i for i, w in enumerate(widths) if w is None)
            before = sum(w for w in widths[:last_flexible + 1] if w)
            share = (event.size.width - 1 - 2 * (last_flexible + 1) - before) // len(flexible)
        share = max(8, share)
        for key in flexible:
            self.columns[key].width = share
        self._require_update_dimensions = True
        self.refresh()

    def upsert(self, key: str, cells: tuple) -> None:
        """Add or update one row, touching only the cells that changed."""
        old = self._rows.get(key)
        self._rows[key] = cells
        if not self._matches(cells):
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
        if key in self.rows:
            self.remove_row(key)

    def _matches(self, cells: tuple) -> bool:
        if not self.filter_text:
            return True
        needle = self.filter_text.casefold()
        return any(needle in str(cell).casefold() for cell in cells)

    def apply_filter(self, text: str) -> None:
        self.filter_text = text
        self.clear()
        for key, cells in self._rows.items():
            if self._matches(cells):
                self.add_row(*cells, key=key)
        self.resort()

    @property
    def total_rows(self) -> int:
        """Every row, the ones the filter hides too."""
        return len(self._rows)

    def sort_by(self, column: str) -> None:
        self.sort_reverse = not self.sort_reverse if self.sort_column == column else column in ("date", "last")
        self.sort_column = column
        self._label_sorted_column()
        self.resort()

    def _label_sorted_column(self) -> None:
        """An arrow on the column the rows are sorted by: ▲ ascending, ▼ descending."""
        for key, label in self.COLUMNS:
            arrow = (" ▼" if self.sort_reverse else " ▲") if key == self.sort_column and label.strip() else ""
            self.columns[key].label = Text(label + arrow)
        self.refresh()

    def resort(self) -> None:
        """Sort by the chosen column, then by the others, so ties always come out in the same order."""
        if self.sort_column and self.row_count:
            columns = [self.sort_column] + [key for key, _ in self.COLUMNS if key != self.sort_column]
            self.sort(*columns, key=lambda *cells: tuple(str(c).casefold() for c in cells), reverse=self.sort_reverse)

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
    WIDTHS = (1, None, 16, 12, 10)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sort_column = "name"

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


class ReleasesTable(KeyedTable):
    COLUMNS = (("new", "★"), ("date", "Date"), ("artist", "Artist"), ("track", "Track"), ("album", "Album"),
               ("type", "Type"))
    WIDTHS = (1, 10, None, None, None, 8)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sort_column, self.sort_reverse = "date", True
        self.releases: dict[str, Release] = {}
        self._new: dict[str, bool] = {}

    def is_new(self, key: str) -> bool:
        return self._new.get(key, False)

    def show(self, release: Release, new: bool) -> None:
        self.releases[release.key] = release
        self._new[release.key] = new
        self.upsert(release.key, (Text("★" if new else " ", style="bold"), Text(release.release_date.isoformat()),
                                  safe(", ".join(release.artist_names)), safe(release.track_name),
                                  safe(release.album_name), Text(release.album_type)))

    def selected_release(self) -> Release | None:
        key = self.selected_key
        return self.releases.get(key) if key else None

    def unseen(self) -> list[str]:
        return [key for key in self.releases if self.is_new(key)]

    def mark_seen(self, keys: list[str]) -> None:
        for key in keys:
            self.show(self.releases[key], new=False)

    def keep_only(self, keys: set[str]) -> list[tuple[Release, bool]]:
        """Drop every release but these; returns those dropped, each with whether it showed ★."""
        dropped = []
        for key in [k for k in self.releases if k not in keys]:
            dropped.append((self.releases.pop(key), self._new.pop(key, False)))
            self.drop(key)
        return dropped

    def drop_artist(self, artist_id: str, tracked: set[str]) -> list[tuple[Release, bool]]:
        """An artist is no longer tracked: its releases go, unless another tracked artist has them too.
        Returns those that went (an undo puts them back)."""
        return self.keep_only({key for key, release in self.releases.items()
                               if not release.found_for or (set(release.found_for) - {artist_id}) & tracked})


