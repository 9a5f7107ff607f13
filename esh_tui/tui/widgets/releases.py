"""The releases table: one row per release, or grouped by album (an album with several new tracks is one row
that opens to show them beneath it)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text

from esh_tui.models import Release
from esh_tui.text import clean
from esh_tui.tui.widgets.tables import KeyedTable, safe

ALBUM_KEY = "album:"  # an album row's key is this and the album id; a release's key is an ISRC or track:<id>


class ReleasesTable(KeyedTable):
    COLUMNS = (("new", "★"), ("date", "Date"), ("artist", "Artist"), ("track", "Track"), ("album", "Album"),
               ("type", "Type"), ("found", "Found for"))
    WIDTHS = (1, 10, None, None, None, 11, None)  # "compilation"
    OPTIONAL = 3  # the album, its type, and which of your artists it was found for

    def __init__(self, name_of: Callable[[str], str | None] = lambda artist_id: None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.name_of = name_of  # a tracked artist's name, for the Found for column
        self.sort_column, self.sort_reverse = "date", True
        self.releases: dict[str, Release] = {}
        self._new: dict[str, bool] = {}
        self._albums: dict[str, dict[str, None]] = {}  # album id -> its releases' keys (an ordered set)
        self.grouped = False  # an album with several releases is one row
        self.expanded: set[str] = set()  # albums (ids) whose tracks show beneath their row

    def is_new(self, key: str) -> bool:
        return self._new.get(key, False)

    # ----- what is shown -----------------------------------------------------------------------------------

    def show(self, release: Release, new: bool) -> None:
        """Add or update a release; grouped, it goes into its album's row."""
        key, album_id = release.key, release.album_id
        before = self.releases.get(key)
        self.releases[key], self._new[key] = release, new
        if before is not None and before.album_id != album_id:  # its earliest release turned out to be another
            self._leave(key, before.album_id)
        self._albums.setdefault(album_id, {})[key] = None
        if self.grouped:
            self._place(album_id)
        else:
            self.upsert(key, self._cells(key))

    def keep_only(self, keys: set[str]) -> list[tuple[Release, bool]]:
        """Drop every release but these; returns those dropped, each with whether it showed ★."""
        dropped = []
        for key in [k for k in self.releases if k not in keys]:
            release = self.releases.pop(key)
            dropped.append((release, self._new.pop(key, False)))
            self.drop(key)
            self._leave(key, release.album_id)
        return dropped

    def drop_artist(self, artist_id: str, tracked: set[str]) -> list[tuple[Release, bool]]:
        """An artist is no longer tracked: its releases go, unless another tracked artist has them too.
        Returns those that went (an undo puts them back)."""
        return self.keep_only({key for key, release in self.releases.items()
                               if not release.found_for or (set(release.found_for) - {artist_id}) & tracked})

    def mark_seen(self, keys: list[str]) -> None:
        for key in keys:
            self.show(self.releases[key], new=False)

    def unseen(self) -> list[str]:
        return [key for key in self.releases if self.is_new(key)]

    def group_albums(self, grouped: bool) -> None:
        """One row per album with several releases (grouped), or one row per release; the cursor stays on what it
        was on (a release inside a closed album: the album's row)."""
        if grouped == self.grouped:
            return
        key = self.selected_key
        release = self.releases.get(key) if key else None
        album_id = key.removeprefix(ALBUM_KEY) if key and key.startswith(ALBUM_KEY) else None
        self.grouped = grouped
        self._rows.clear()
        self.clear()
        for album in self._albums:
            if grouped:
                self._place(album)
            else:
                for member in self._albums[album]:
                    self.upsert(member, self._cells(member))
        self.resort()
        if release is not None:
            self._move_to(release.key if self._stands_alone(release.key) or release.album_id in self.expanded
                          else ALBUM_KEY + release.album_id)
        elif album_id is not None and self._albums.get(album_id):
            self._move_to(next(iter(self._albums[album_id])))

    def toggle_album(self, album_id: str) -> None:
        """Open an album's row (its tracks show beneath it), or close it."""
        self.expanded ^= {album_id}
        self._place(album_id)
        self.resort()

    def _leave(self, key: str, album_id: str) -> None:
        members = self._albums.get(album_id, {})
        members.pop(key, None)
        if not members:
            self._albums.pop(album_id, None)
            self.expanded.discard(album_id)
        if self.grouped:
            self._place(album_id)

    def _place(self, album_id: str) -> None:
        """An album's rows as grouping wants them: its release's own row when it has one, else the album's row,
        with its tracks beneath it while it is open."""
        keys = list(self._albums.get(album_id, ()))
        if len(keys) < 2:
            self.drop(ALBUM_KEY + album_id)
            for key in keys:
                self.upsert(key, self._cells(key))
            return
        self.upsert(ALBUM_KEY + album_id, self._album_cells(album_id, keys))
        for key in keys:
            if album_id in self.expanded:
                self.upsert(key, self._cells(key, beneath=True))
            else:
                self.drop(key)

    def _stands_alone(self, key: str) -> bool:
        """A release shown as a row of its own, not beneath an album's (grouped or not)."""
        return not self.grouped or len(self._albums.get(self.releases[key].album_id, ())) < 2

    def _move_to(self, key: str) -> None:
        if key in self.rows:
            self.move_cursor(row=self.get_row_index(key))

    # ----- cells -------------------------------------------------------------------------------------------

    def _cells(self, key: str, beneath: bool = False) -> tuple:
        r = self.releases[key]
        track = Text.assemble((" └ ", "dim"), clean(r.track_name)) if beneath else safe(r.track_name)
        return (Text("★" if self._new[key] else " ", style="bold"), Text(r.release_date.isoformat()),
                safe(", ".join(r.artist_names)), track, safe(r.album_name), Text(r.album_type),
                self._found_for(r.found_for))

    def _album_cells(self, album_id: str, keys: list[str]) -> tuple:
        """'▸ 10 tracks' (▾ while open) and the album's name in its own column (at 80 columns both still show), the
        artists every track has, the newest date, ★ if any track is unseen."""
        releases = [self.releases[key] for key in keys]
        first = releases[0]
        names = ([n for n in first.artist_names if all(n in r.artist_names for r in releases)]
                 or list(dict.fromkeys(n for r in releases for n in r.artist_names)))
        marker = "▾" if album_id in self.expanded else "▸"
        return (Text("★" if any(self._new[key] for key in keys) else " ", style="bold"),
                Text(max(r.release_date for r in releases).isoformat()), safe(", ".join(names)),
                Text(f"{marker} {len(keys)} tracks"), safe(first.album_name), Text(first.album_type),
                self._found_for(dict.fromkeys(a for r in releases for a in r.found_for)))

    def _found_for(self, artist_ids) -> Text:
        return safe(", ".join(filter(None, map(self.name_of, artist_ids))))

    # ----- filter, counts, order ---------------------------------------------------------------------------

    def _shows(self, key: str, cells: tuple) -> bool:
        """A release shows when the filter matches its own cells (whatever row it is in); an album's row when it
        matches one of its tracks'."""
        if not self.filter_text:
            return True
        if key.startswith(ALBUM_KEY):
            return any(self._matches(self._cells(k)) for k in self._albums.get(key.removeprefix(ALBUM_KEY), ()))
        return self._matches(self._cells(key))

    def counts(self) -> tuple[int, int]:
        """(releases the filter keeps, all releases): an album's row counts as its tracks, not as one."""
        total = len(self.releases)
        if not self.filter_text:
            return total, total
        return sum(1 for key in self.releases if self._matches(self._cells(key))), total

    def ordered_keys(self) -> list[str]:
        """Grouped: albums and single releases in the chosen order, each open album's tracks beneath it in the same
        order (an album's row sorts by its name in the Track column too)."""
        if not self.grouped:
            return super().ordered_keys()
        shown = [key for key in self._rows if key in self.rows]
        tops = [key for key in shown if key.startswith(ALBUM_KEY) or self._stands_alone(key)]
        ordered = []
        for key in sorted(tops, key=self._top_sort_key, reverse=self.sort_reverse):
            ordered.append(key)
            album_id = key.removeprefix(ALBUM_KEY)
            if key.startswith(ALBUM_KEY) and album_id in self.expanded:
                ordered.extend(sorted((k for k in self._albums[album_id] if k in self.rows),
                                      key=lambda k: self.sort_key(self._rows[k]), reverse=self.sort_reverse))
        return ordered

    def _top_sort_key(self, key: str) -> tuple[str, ...]:
        if not key.startswith(ALBUM_KEY):
            return self.sort_key(self._rows[key])
        cells = self._rows[key]
        return self.sort_key((*cells[:3], cells[4], *cells[4:]))

    # ----- the selected row --------------------------------------------------------------------------------

    def selected_release(self) -> Release | None:
        """The release on the cursor row (None on an album's row)."""
        key = self.selected_key
        return self.releases.get(key) if key else None

    def selected_album(self) -> str | None:
        """The album (id) whose row the cursor is on, if it is on an album's row."""
        key = self.selected_key
        return key.removeprefix(ALBUM_KEY) if key and key.startswith(ALBUM_KEY) else None

    def album_releases(self, album_id: str) -> list[Release]:
        return [self.releases[key] for key in self._albums.get(album_id, ())]
