"""The dashboard screen: artists, releases and the metrics panels, live, and the keys that act on them."""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
import webbrowser
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, ProgressBar, RichLog, Static

from esh_tui.models import TrackedArtist
from esh_tui.text import clean
from esh_tui.tracker.events import ReleaseFound
from esh_tui.tui import events as engine
from esh_tui.tui.screens.artist_actions import ArtistActions
from esh_tui.tracker.release_filter import ReleaseFilter
from esh_tui.tui.screens.help import HelpScreen, key_list
from esh_tui.tui.screens.release import ReleaseScreen
from esh_tui.tui.screens.release_filters import ReleaseFiltersScreen
from esh_tui.tui.widgets.event_log import EventLog
from esh_tui.tui.widgets.filter_bar import FilterBar
from esh_tui.tui.widgets.key_footer import KeyFooter
from esh_tui.tui.widgets.metrics import ApiPanel, CachePanel, LatencyPanel
from esh_tui.tui.widgets.status import StatusLine, budget_text
from esh_tui.tui.widgets.releases import ReleasesTable
from esh_tui.tui.widgets.tables import STATE_GLYPHS, ArtistsTable, KeyedTable

if TYPE_CHECKING:
    from esh_tui.tui.app import EshApp

METRICS_EVERY = 1.0
FIRST_ROWS = 150  # rows (artists, then releases) in the tables before the first paint: more than a screen shows
_ALL_IN = object()  # (the store's rows all fit before the first paint)
ROWS_SLICE = 0.008  # seconds of the loop the rest of the store's rows take at a time, between frames
FLUSH_EVERY = 0.1
LOG_LINES = 500  # the event log's last lines
ARTIST_ROWS_EVERY = 0.25  # seconds between redraws of the artists table while a run streams in (see flush)
GROUP_ALBUMS = "group_albums"  # the setting (kept with the store, as the theme is): releases grouped by album


class DashboardScreen(ArtistActions):
    app: EshApp
    BINDINGS = [
        Binding("a", "add_artist", "Add", id="add_artist"),
        Binding("d", "remove_artist", "Remove", id="remove_artist"),
        Binding("u", "undo_remove", "Undo remove", id="undo_remove", show=False),
        Binding("i", "import_artists", "Import", id="import"),
        Binding("r", "app.refresh", "Refresh", id="refresh"),
        Binding("R", "app.force_refresh", "Force", id="force_refresh"),
        Binding("x", "app.cancel_run", "Cancel", id="cancel_run"),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("s", "sort", "Sort", id="sort", show=False),
        Binding("o", "open_release", "Open", id="open_release", show=False),
        Binding("c", "copy_release", "Copy URI", id="copy_release", show=False),
        Binding("m", "mark_seen", "Mark seen", id="mark_seen", show=False),
        Binding("M", "mark_all_seen", "Mark all seen", id="mark_all_seen", show=False),
        Binding("P", "playlist", "Add ★ to playlist", id="playlist", show=False),
        Binding("h", "history", "History", id="history", show=False),
        Binding("g", "group_albums", "Group by album", id="group_albums", show=False),
        Binding("f", "release_filters", "Release filters", id="release_filters", show=False),
        Binding("l", "toggle_log", "Log", id="toggle_log"),
        Binding("question_mark", "help", "Help", id="help"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.last_run = "never"
        self._progress: tuple[int, int] | None = None  # (done, total) not drawn yet
        self._stale = False  # the last run's time changed (see flush)
        self._fetching: set[str] = set()  # artists showing ⟳: every one is cleared when the run ends
        self._unshown: list[ReleaseFound] = []  # found during a run, not in the table yet (see flush)
        self._last_rows_at = 0.0
        self._loading: Iterator[None] | None = None  # rows from the store not in the tables yet (see on_mount)
        self._pending_artists: set[str] = set()  # tracked artists whose rows are not in yet
        # Artists whose row changes with the next flush: the glyph and detail to show (⟳ while fetching, ✗ failed),
        # or None for the row as the store has it.
        self._artist_rows_due: dict[str, tuple[str, str] | None] = {}
        self._artist_rows_at = 0.0

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Horizontal(id="main"):
            with Vertical(id="artists-pane"):
                yield Static("Artists", classes="pane-title")
                yield (artists := ArtistsTable(id="artists"))
            with Vertical(id="releases-pane"):
                yield Static("Releases", classes="pane-title", id="releases-title")
                yield ReleasesTable(id="releases", name_of=artists.name_of)
        with Horizontal(id="metrics"):
            yield CachePanel(id="cache", classes="panel")
            yield LatencyPanel(id="latency", classes="panel")
            yield ApiPanel(id="api", classes="panel")
        yield ProgressBar(id="progress", show_eta=self.app.SHOW_ETA)
        yield FilterBar(id="filter")
        yield EventLog(id="log", markup=False, wrap=True, max_lines=LOG_LINES)
        yield KeyFooter()

    def on_mount(self) -> None:
        store = self.app.runtime.store
        last = store.last_finished_run()
        self.last_run = time.strftime("%H:%M", time.localtime(last["finished_at"])) if last else "never"
        self._group_albums(store.settings().get(GROUP_ALBUMS) is True)
        tracked = list(store.iter_artists())
        self._pending_artists = {artist.id for artist in tracked}
        artist_rows, release_rows = self._artist_rows(tracked), self._release_rows([a.id for a in tracked])
        for rows in (artist_rows, release_rows):  # a screenful of each before the first paint
            for _ in itertools.islice(rows, FIRST_ROWS):
                pass
        self._loading = itertools.chain(artist_rows, release_rows, self._sort_keys_ahead())
        if next(self._loading, _ALL_IN) is _ALL_IN:
            self._loading = None
        self.query_one(ArtistsTable).resort()
        releases = self.query_one(ReleasesTable)
        releases.resort()
        releases.focus()
        if self._loading is not None:
            self.run_worker(self._load_rest(), group="load")
        self.set_interval(FLUSH_EVERY, self.flush)
        self.set_timer(METRICS_EVERY, self.refresh_metrics)
        self.refresh_metrics(reschedule=False)
        self.show_status()

    def _artist_rows(self, tracked: list[TrackedArtist]) -> Iterator[None]:
        """The tracked artists into their table, one row a step. A row the engine or the user put in meanwhile is
        newer than the store's as read at the start, and stays."""
        table, now = self.query_one(ArtistsTable), self.app.clock()
        for artist in tracked:
            self._pending_artists.discard(artist.id)
            if not table.has(artist.id):
                table.show(artist, now=now)
            yield

    def _release_rows(self, tracked: list[str]) -> Iterator[None]:
        """The releases in the window into their table, one row a step; not those of an artist removed since."""
        table, artists = self.query_one(ReleasesTable), self.query_one(ArtistsTable)
        for release, unseen in self.app.tracker.iter_stored_releases(self.app.cutoff(), tracked):
            if release.key not in table.releases and (
                    not release.found_for
                    or any(a in self._pending_artists or artists.has(a) for a in release.found_for)):
                table.show(release, new=unseen)
            yield

    def _sort_keys_ahead(self) -> Iterator[None]:
        """Each row's sort key, a row a step, so that the sort at the end of loading only compares."""
        for table in (self.query_one(ArtistsTable), self.query_one(ReleasesTable)):
            keys = table.row_keys()
            for key in list(keys):
                if key in keys:  # (not dropped meanwhile)
                    table.sort_key_of(key)
                yield

    async def _load_rest(self) -> None:
        """What did not fit before the first paint comes in as the loop allows: rows for ROWS_SLICE at a time,
        then a turn for everything else (a run's fetches, keys, frames); sorted once at the end.

        What each slice made lives as long as the tables, so it is frozen (kept out of the collector's full
        passes, as what existed at the first paint is): else each full pass walks every row loaded so far, and
        over 33,000 releases the passes grew to a third of a second."""
        while self._loading is not None:
            until = time.perf_counter() + ROWS_SLICE
            for _ in self._loading:
                if time.perf_counter() >= until:
                    break
            else:
                self._loaded()
            gc.collect(1)  # what the slice made and dropped in cycles is freed, not frozen for good
            gc.freeze()
            await asyncio.sleep(0)

    def _finish_loading(self) -> None:
        """Every row the store had, now: for what needs the whole table (a run's end, marking all seen, new rows)."""
        if self._loading is not None:
            for _ in self._loading:
                pass
            self._loaded()

    def _loaded(self) -> None:
        if self._loading is None:
            return
        self._loading = None
        self.query_one(ArtistsTable).resort()
        self.query_one(ReleasesTable).resort()
        self.show_status()

    def on_resize(self, event) -> None:
        """Below 100 columns the footer leaves out ^p palette (the help names it), so every key fits at 80."""
        self.query_one(KeyFooter).show_command_palette = event.size.width >= 100

    # ----- events from the engine (messages posted by tui/events.py) --------------------------------------------

    def on_engine_run_started(self, message: engine.RunStarted) -> None:
        event = message.event
        self._progress = (0, event.artists)
        self.log_line(f"run {event.run_id}: {event.artists} artists, releases since {event.cutoff}")

    def on_engine_artist_started(self, message: engine.ArtistStarted) -> None:
        self._fetching.add(message.event.artist_id)
        self._artist_rows_due[message.event.artist_id] = (STATE_GLYPHS["fetching"], "fetching…")  # next flush

    def on_engine_artist_done(self, message: engine.ArtistDone) -> None:
        event = message.event
        self._fetching.discard(event.artist_id)
        self._artist_rows_due[event.artist_id] = None
        if event.source == "api":
            self.log_line(f"{self._artist_name(event.artist_id)}: {event.api_calls} calls, {event.candidates} candidates")

    def on_engine_artist_failed(self, message: engine.ArtistFailed) -> None:
        event = message.event
        self._fetching.discard(event.artist_id)
        self._artist_rows_due[event.artist_id] = (STATE_GLYPHS["failed"], "failed: " + clean(event.reason)[:80])
        self.log_line(f"{self._artist_name(event.artist_id)} failed: {event.reason}")

    def on_engine_release_found(self, message: engine.ReleaseFound) -> None:
        self._unshown.append(message.event)  # into the table with the next flush

    def on_engine_progress(self, message: engine.Progress) -> None:
        self._progress = (message.event.done, message.event.total)  # drawn with the next flush

    def on_engine_run_finished(self, message: engine.RunFinished) -> None:
        event = message.event
        for artist_id in self._fetching:  # cancelled or stopped mid-artist: back to what the store says
            self._artist_rows_due[artist_id] = None
        self._fetching.clear()
        self._draw_artist_rows()
        self.last_run = time.strftime("%H:%M", time.localtime(self.app.clock()))
        self.log_line(f"run {event.run_id} {event.status}: {event.releases} releases ({event.new_releases} new), "
                      f"{event.api_calls} API calls, {event.seconds:.1f} s, "
                      f"longest event-loop stall {self.app.max_stall_ms:.0f} ms")
        self._stale = True

    def flush(self, all_rows: bool = False) -> None:
        """Draw what the engine reported since the last flush (every FLUSH_EVERY): progress, status, new rows.

        New rows go in at most once a second while a run streams in (`all_rows`: now): any change re-renders
        the table's visible rows, new rows lay the whole screen out again, and re-sorting is not free.
        """
        if not self.is_running or not (self._stale or self._unshown or self._progress or self._artist_rows_due):
            return
        if self._artist_rows_due and (all_rows or not self.app.running
                                      or time.monotonic() - self._artist_rows_at >= ARTIST_ROWS_EVERY):
            self._draw_artist_rows()
        if self._progress is not None:
            done, total = self._progress
            self.query_one(ProgressBar).update(total=total, progress=done)
            self.app.note_progress(done, total)
            self._progress = None
        if self._unshown and (all_rows or not self.app.running or time.monotonic() - self._last_rows_at >= 1.0):
            self._finish_loading()  # (is the artist a release was found for still tracked: every artist is needed)
            releases, artists = self.query_one(ReleasesTable), self.query_one(ArtistsTable)
            with self.app.batch_update():
                for found in self._unshown:
                    if not found.release.found_for or any(map(artists.has, found.release.found_for)):
                        releases.show(found.release, new=found.new)  # not one of an artist removed mid-run
                releases.resort()
            self._unshown.clear()
            self._last_rows_at = time.monotonic()
        self._stale = False
        self.show_status()

    def _draw_artist_rows(self) -> None:
        """The artists whose state changed since the last time, in one go. Any change to a table makes it put
        every visible line together again (DataTable caches lines per change count; the cells, as drawn, are
        kept): one change per artist event redrew the table dozens of times a second, most of the dashboard's CPU
        during a run."""
        due, self._artist_rows_due = self._artist_rows_due, {}
        self._artist_rows_at = time.monotonic()
        table = self.query_one(ArtistsTable)
        for artist_id, state in due.items():
            if state is None:
                self.show_artist(artist_id)
            else:
                table.set_state(artist_id, *state)

    def _artist_name(self, artist_id: str) -> str:
        shown = self.query_one(ArtistsTable).name_of(artist_id)  # (cleaned already; no query per artist done)
        if shown is not None:
            return shown
        row = self.app.runtime.store.artist(artist_id, include_removed=True)  # one removed mid-run too
        return clean(row.name) if row else artist_id

    def log_line(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.app.clock()))  # the app's clock, as "last run" is
        self.query_one(RichLog).write(Text(f"{stamp} {clean(text)}"))

    # ----- status and metrics ---------------------------------------------------------------------------------

    def show_status(self) -> None:
        app = self.app
        state = "prefetching" if app.state == "idle" and app.prefetcher.busy else app.state
        paused = app.client.paused_for() if app.running else 0.0
        if paused > 0.5:  # a 429's Retry-After: the run is not stuck, it waits for Spotify
            state = f"waiting {paused:.0f} s: Spotify rate limit · {state}"
        self.query_one(StatusLine).show(
            offline=bool(app.runtime.offline), mode=app.client.capabilities.mode, state=state, last_run=self.last_run,
            artists=_count(self.query_one(ArtistsTable)), releases=_count(self.query_one(ReleasesTable)),
            budget=budget_text(app.tracker.budget, app.next_run_calls))
        self.query_one(ProgressBar).display = app.running

    def keep_releases(self, keys: set[str]) -> None:
        """A run ended: the releases table shows what it found, nothing more."""
        self._finish_loading()
        self.query_one(ReleasesTable).keep_only(keys)

    def show_stored_releases(self) -> None:
        """The releases table as the tracker's filter shows what runs found in the window (no API call)."""
        self._finish_loading()
        store, releases = self.app.runtime.store, self.query_one(ReleasesTable)
        found = self.app.tracker.stored_releases(self.app.cutoff(), [a.id for a in store.artists()])
        with self.app.batch_update():
            releases.keep_only({release.key for release, _ in found})
            for release, unseen in found:
                releases.show(release, new=unseen)
            releases.resort()

    def action_release_filters(self) -> None:
        self.app.push_screen(ReleaseFiltersScreen(self.app.tracker.release_filter, self.apply_release_filter))

    def apply_release_filter(self, release_filter: ReleaseFilter) -> None:
        """Show what this filter keeps, now and in the runs to come (features: from the next refresh on)."""
        self.app.tracker.set_filter(release_filter)
        self.show_stored_releases()
        self._title_releases()
        self.show_status()

    def refresh_metrics(self, reschedule: bool = True) -> None:
        if not self.is_running:  # quitting: the widgets are going away, and a timer may still fire
            return
        snapshot = self.app.snapshot()
        self.query_one(CachePanel).show(snapshot)
        self.query_one(LatencyPanel).show(snapshot)
        self.query_one(ApiPanel).show(snapshot)
        if self.app.running:
            self.show_status()  # a wait for Spotify changes nothing else that would redraw it
        if reschedule:  # the next refresh is scheduled only when this one is done: never overlapping
            self.set_timer(METRICS_EVERY, self.refresh_metrics)

    # ----- releases, filter, sort, help, log ------------------------------------------------------------------

    @on(DataTable.RowSelected, "#releases")
    def show_release(self) -> None:
        """Enter on a release: its details; on an album's row: open it (its tracks beneath it) or close it."""
        table = self.query_one(ReleasesTable)
        album_id, release = table.selected_album(), table.selected_release()
        if album_id is not None:
            table.toggle_album(album_id)
        elif release is not None:
            self.app.push_screen(ReleaseScreen(release, self.app.runtime.store.versions_seen(release.key)))

    def _selected_link(self) -> tuple[str, str] | None:
        """(URL, URI) of the selected release, or of the album whose row is selected."""
        table = self.query_one(ReleasesTable)
        album_id, release = table.selected_album(), table.selected_release()
        if album_id is not None:
            first = table.album_releases(album_id)[0]
            return first.album_url, first.album_uri
        return (release.url, release.uri) if release is not None else None

    def action_open_release(self) -> None:
        link = self._selected_link()
        if link is not None and not webbrowser.open(link[0]):
            self.app.notify(f"No web browser could be opened here; the link is {link[0]}", severity="warning")

    def action_mark_seen(self) -> None:
        """The selected release is seen; on an album's row, every track of the album."""
        table = self.query_one(ReleasesTable)
        album_id, release = table.selected_album(), table.selected_release()
        if album_id is not None:
            self._mark_seen([r.key for r in table.album_releases(album_id)])
        elif release is not None:
            self._mark_seen([release.key])

    def action_mark_all_seen(self) -> None:
        self._finish_loading()
        unseen = self.query_one(ReleasesTable).unseen()
        self._mark_seen(unseen)
        self.app.notify(f"{len(unseen)} release{'s' if len(unseen) != 1 else ''} marked seen")

    def _mark_seen(self, keys: list[str]) -> None:
        """Seen is kept in the store: a star stays until the user clears it, whatever runs come and go."""
        self.app.tracker.mark_seen(keys)
        self.query_one(ReleasesTable).mark_seen(keys)

    def action_playlist(self) -> None:
        """The unseen releases (★) into the user's playlist of new releases, as `esh-tui playlist sync` does."""
        table = self.query_one(ReleasesTable)
        unseen = [table.releases[key] for key in table.unseen()]
        self.app.sync_playlist(unseen, "No unseen releases to add to the playlist")

    def action_playlist_selection(self) -> None:
        """The selected release (an album's row: all its tracks) into the playlist."""
        table = self.query_one(ReleasesTable)
        album_id, release = table.selected_album(), table.selected_release()
        chosen = table.album_releases(album_id) if album_id is not None else [release] if release else []
        nothing = ("No selected release to add to the playlist" if release is not None
                   else "No selected album to add to the playlist")
        self.app.sync_playlist(chosen, nothing)

    def action_copy_release(self) -> None:
        link = self._selected_link()
        if link is not None:
            self.app.copy_to_clipboard(link[1])  # OSC 52: the terminal decides, and never says whether it did
            self.app.notify(f"Sent {link[1]} to the terminal's clipboard (if your terminal allows OSC 52)")

    def action_group_albums(self) -> None:
        """One row per album with several new tracks, or one per release; the choice is kept with the store."""
        grouped = not self.query_one(ReleasesTable).grouped
        self._group_albums(grouped)
        self.app.runtime.store.save_setting(GROUP_ALBUMS, grouped)
        self.show_status()

    def _group_albums(self, grouped: bool) -> None:
        self.query_one(ReleasesTable).group_albums(grouped)
        self._title_releases()

    def _title_releases(self) -> None:
        """'Releases', 'by album' when grouped, and what the filter hides or adds when it does (f changes it)."""
        title = "Releases by album" if self.query_one(ReleasesTable).grouped else "Releases"
        shown = self.app.tracker.release_filter
        if shown.hides_anything or shown.appears_on:
            title += f" · {shown.describe()}"
        self.query_one("#releases-title", Static).update(Text(clean(title)))

    def _focused_table(self) -> KeyedTable:
        focused = self.focused
        return focused if isinstance(focused, KeyedTable) else self.query_one(ReleasesTable)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self._focused_table())

    @on(Input.Changed, "#filter")
    def filtered(self) -> None:
        self.show_status()

    def action_sort(self) -> None:
        self._focused_table().cycle_sort()

    def action_toggle_log(self) -> None:
        log = self.query_one(RichLog)
        log.display = not log.display
        self.set_class(log.display, "-log-open")  # app.tcss: on a short terminal it takes the metrics' place

    def action_show_release(self) -> None:
        self.show_release()

    def action_history(self) -> None:
        from esh_tui.tui.screens.history import HistoryScreen  # plotext: loaded when first asked for

        self.app.push_screen(HistoryScreen())

    def action_help(self) -> None:
        keymap = dict(getattr(self.app, "_keymap", {}))
        self.app.push_screen(HelpScreen(key_list([*self.BINDINGS, *self.app.BINDINGS], keymap)))


def _count(table: KeyedTable) -> str:
    """How many rows (releases, grouped or not) a table shows: "20 of 267" while a filter hides some."""
    shown, total = table.counts()
    return f"{shown} of {total}" if shown != total else str(total)
