"""The dashboard: artists and releases live, and what the fetching costs, at a glance.

One app factory (`create_app`) serves the CLI and the tests. Engine events are
queued and applied in batches by a short interval timer inside
`batch_update()`; the metrics panels are refreshed by a timer that reschedules
itself after each refresh, so refreshes never overlap.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, ProgressBar, RichLog, Static
from textual.worker import Worker, WorkerState

from esh_tui.config import ConfigError
from esh_tui.metrics import Metrics, Snapshot
from esh_tui.runtime import Runtime
from esh_tui.spotify.errors import AuthError, ForbiddenError, NotFoundError, SpotifyError
from esh_tui.text import clean
from esh_tui.tracker.artists import ArtistNotFound, resolve_artist
from esh_tui.tracker.engine import RunResult, Tracker
from esh_tui.tracker.events import (
    ArtistDone, ArtistFailed, ArtistStarted, Progress, ReleaseFound, RunFinished, RunStarted,
)
from esh_tui.tracker.imports import ImportFileError, followed_artists, liked_artists, playlist_artists, read_artist_file
from esh_tui.tracker.prefetch import Prefetcher
from esh_tui.tui.collector import full_collections_deferred
from esh_tui.tui.screens.add_artist import AddArtistScreen
from esh_tui.tui.screens.confirm import ConfirmScreen
from esh_tui.tui.screens.help import HelpScreen
from esh_tui.tui.screens.import_artists import ImportScreen
from esh_tui.tui.screens.release import ReleaseScreen
from esh_tui.tui.widgets.filter_bar import FilterBar
from esh_tui.tui.widgets.metrics import ApiPanel, CachePanel, LatencyPanel
from esh_tui.tui.widgets.tables import STATE_GLYPHS, ArtistsTable, KeyedTable, ReleasesTable
from esh_tui.tuning import CONFIG_FILE, read_config

METRICS_EVERY = 1.0
FLUSH_EVERY = 0.1
STALL_PROBE_EVERY = 0.05


class EshApp(App):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere find it too
    TITLE = "esh-tui"
    SHOW_ETA = True
    BINDINGS = [
        Binding("a", "add_artist", "Add", id="add_artist"),
        Binding("d", "remove_artist", "Remove", id="remove_artist"),
        Binding("i", "import_artists", "Import", id="import"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("R", "force_refresh", "Force", id="force_refresh"),
        Binding("x", "cancel_run", "Cancel", id="cancel_run"),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("s", "sort", "Sort", id="sort", show=False),
        Binding("o", "open_release", "Open", id="open_release", show=False),
        Binding("c", "copy_release", "Copy URI", id="copy_release", show=False),
        Binding("m", "mark_seen", "Mark seen", id="mark_seen", show=False),
        Binding("M", "mark_all_seen", "Mark all seen", id="mark_all_seen", show=False),
        Binding("l", "toggle_log", "Log", id="toggle_log"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, runtime: Runtime, days: int = 90, autostart: bool = True, prefetch: bool = True,
                 clock: Callable[[], float] = time.time):
        super().__init__()
        self.runtime, self.days, self.autostart, self.clock = runtime, days, autostart, clock
        self.prefetch_enabled = prefetch and runtime.tuning.prefetch_calls_per_minute > 0
        self.client = runtime.client()
        self.tracker = Tracker(self.client, runtime.store, runtime.cache(clock), today=runtime.today, on_event=self._queue)
        self.prefetcher = Prefetcher(self.tracker, self.cutoff, budget_per_minute=runtime.tuning.prefetch_calls_per_minute,
                                     clock=clock)
        self.metrics = Metrics(self.client, runtime.store, self.tracker.cache)
        self.state = "idle"
        self.last_run: str = "never"
        self.pending: deque = deque()
        self.run_worker_handle: Worker | None = None
        self.prefetch_worker: Worker | None = None
        self.max_stall_ms = 0.0
        self._expected_tick = 0.0
        self.started_at = time.perf_counter()
        self.first_paint_s: float | None = None
        self._fetching: set[str] = set()  # artists showing ⟳: every one is cleared when the run ends
        self._unshown: list[ReleaseFound] = []  # found during a run, not in the table yet (see _flush)
        self._last_rows_at = 0.0
        self._load_keymap()

    # ----- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Horizontal(id="main"):
            with Vertical(id="artists-pane"):
                yield Static("Artists", classes="pane-title")
                yield ArtistsTable(id="artists")
            with Vertical(id="releases-pane"):
                yield Static("Releases", classes="pane-title", id="releases-title")
                yield ReleasesTable(id="releases")
        with Horizontal(id="metrics"):
            yield CachePanel(id="cache", classes="panel")
            yield LatencyPanel(id="latency", classes="panel")
            yield ApiPanel(id="api", classes="panel")
        yield ProgressBar(id="progress", show_eta=self.SHOW_ETA)
        yield FilterBar(id="filter")
        yield RichLog(id="log", markup=False, max_lines=500)
        yield Footer()

    def cutoff(self) -> dt.date:
        return self.runtime.today() - dt.timedelta(days=self.days)

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        artists = self.query_one(ArtistsTable)
        now = self.clock()
        tracked = self.runtime.store.artists()
        for artist in tracked:
            artists.show(artist, now=now)
        artists.resort()
        last = self.runtime.store.last_finished_run()
        self.last_run = time.strftime("%H:%M", time.localtime(last["finished_at"])) if last else "never"
        releases = self.query_one(ReleasesTable)
        for release, unseen in self.runtime.store.releases_since(self.cutoff(), artist_ids=[a.id for a in tracked]):
            releases.show(release, new=unseen)
        releases.resort()
        releases.focus()
        # What exists now lives as long as the app (the offline catalog alone is hundreds of thousands of
        # objects): keep it out of the collector's full passes, which otherwise pause the loop ~0.7 s.
        gc.freeze()
        self.set_interval(FLUSH_EVERY, self._flush)
        self._expected_tick = time.monotonic() + STALL_PROBE_EVERY
        self.set_interval(STALL_PROBE_EVERY, self._probe_stall)
        self.set_timer(METRICS_EVERY, self._refresh_metrics)
        self._refresh_metrics(reschedule=False)
        self._show_status()
        if self.runtime.offline:
            self.notify("No Spotify credentials: this is the built-in offline Spotify with sample artists. "
                        "See the README to use your own.", title="Offline simulator", timeout=8)
        if self.autostart and self.runtime.store.due_artist_ids(now):
            self.start_run(force=False)
        else:
            self._start_prefetch()

    def on_ready(self) -> None:
        self.first_paint_s = time.perf_counter() - self.started_at

    async def on_unmount(self) -> None:
        await self.client.aclose()

    def notify(self, message: str, *, markup: bool = False, **options) -> None:
        """Notifications show their text literally: names, paths and errors come from outside, and none of
        the dashboard's own messages use markup."""
        super().notify(message, markup=markup, **options)

    # ----- key map ---------------------------------------------------------------------------------------

    def _load_keymap(self) -> None:
        path = self.runtime.settings.data_dir / CONFIG_FILE
        try:
            keys = read_config(self.runtime.settings.data_dir).get("keys", {})
        except ConfigError as exc:  # changed since the start
            self.call_later(self.notify, f"{exc}; keys left as they are", severity="warning")
            return
        if not isinstance(keys, dict):
            self.call_later(self.notify, f"{path}: [keys] must be a table like [keys] refresh = \"f5\"", severity="warning")
            return
        known = {b.id for b in self.BINDINGS if b.id}
        unknown = sorted(set(keys) - known)
        if unknown:
            self.call_later(self.notify, f"{path}: unknown key ids {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                            severity="warning")
        self.set_keymap({k: str(v) for k, v in keys.items() if k in known and isinstance(v, str)})

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in (
            ("Add artist", "Search Spotify and track an artist", self.action_add_artist),
            ("Remove artist", "Stop tracking the selected artist", self.action_remove_artist),
            ("Import artists", "From a file, a playlist, liked songs or followed artists", self.action_import_artists),
            ("Refresh", "Fetch the artists that are due", self.action_refresh),
            ("Force refresh", "Fetch every artist, fresh or not", self.action_force_refresh),
            ("Cancel run", "Stop the running refresh", self.action_cancel_run),
            ("Mark seen", "Clear the ★ of the selected release", self.action_mark_seen),
            ("Mark all seen", "Clear every ★", self.action_mark_all_seen),
            ("Toggle event log", "Show or hide the event log", self.action_toggle_log),
            ("Keys", "Show the key bindings", self.action_help),
        ):
            yield SystemCommand(title, help_text, action)

    # ----- runs ---------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.run_worker_handle is not None and self.run_worker_handle.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def start_run(self, force: bool) -> None:
        if self.running:
            self.notify("A refresh is already running (x cancels it)")
            return
        self._stop_prefetch()
        self.metrics.start_run()
        self.state = "starting"
        self._show_status()
        self.run_worker_handle = self.run_worker(self._run(force), group="run", exit_on_error=False)

    async def _run(self, force: bool) -> RunResult:
        with full_collections_deferred():
            return await self.tracker.run(self.cutoff(), force=force)

    @property
    def last_result(self) -> RunResult | None:
        """The last run's result, once it finished."""
        handle = self.run_worker_handle
        return handle.result if handle is not None and handle.state == WorkerState.SUCCESS else None

    def action_refresh(self) -> None:
        self.start_run(force=False)

    def action_force_refresh(self) -> None:
        self.start_run(force=True)

    def action_cancel_run(self) -> None:
        if not self.running:
            self.notify("No refresh is running")
            return
        self.run_worker_handle.cancel()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker outcomes surface: errors become notices, never tracebacks."""
        worker = event.worker
        if worker is self.run_worker_handle:
            if event.state == WorkerState.SUCCESS:
                result: RunResult = worker.result
                self.query_one(ReleasesTable).keep_only({r.key for r in result.releases})
                if result.status in ("quota", "rate_limited"):
                    until = (time.strftime("%H:%M:%S", time.localtime(self.clock() + result.retry_after))
                             if result.retry_after is not None else "later")
                    self.state = ("quota exhausted" if result.status == "quota" else "rate-limited") + f" until {until}"
                    self.notify(result.message, severity="warning", timeout=15)
                else:
                    self.state = "idle"
                    self._start_prefetch()
            elif event.state == WorkerState.CANCELLED:
                self.state = "idle (run cancelled)"
                self.notify("Refresh cancelled; what was fetched is kept")
            elif event.state == WorkerState.ERROR:
                self.state = "idle (last run failed)"
                self.notify(_message(worker.error), severity="error", timeout=15)
            self._show_status()
        elif worker is self.prefetch_worker and event.state == WorkerState.ERROR:
            self.log_line(f"prefetch stopped: {_message(worker.error)}")

    def _start_prefetch(self) -> None:
        if self.prefetch_enabled and not self.running and (self.prefetch_worker is None or self.prefetch_worker.is_finished):
            self.prefetch_worker = self.run_worker(self.prefetcher.run_forever(), group="prefetch", exit_on_error=False)

    def _stop_prefetch(self) -> None:
        if self.prefetch_worker is not None and not self.prefetch_worker.is_finished:
            self.prefetch_worker.cancel()

    # ----- events from the engine, applied in batches ----------------------------------------------------

    def _queue(self, event) -> None:
        self.pending.append(event)

    def _flush(self, all_rows: bool = False) -> None:
        """Apply queued events; `all_rows`: put every release found so far in the table now."""
        if not self.is_running or (not self.pending and not self._unshown):
            return
        artists, releases = self.query_one(ArtistsTable), self.query_one(ReleasesTable)
        progress = self.query_one(ProgressBar)
        with self.batch_update():
            while self.pending:
                event = self.pending.popleft()
                if isinstance(event, RunStarted):
                    progress.update(total=event.artists, progress=0)
                    if self.running:
                        self.state = f"refreshing 0 of {event.artists}"
                    self.log_line(f"run {event.run_id}: {event.artists} artists, releases since {event.cutoff}")
                elif isinstance(event, ArtistStarted):
                    self._fetching.add(event.artist_id)
                    artists.set_state(event.artist_id, STATE_GLYPHS["fetching"], "fetching…")
                elif isinstance(event, ArtistDone):
                    self._fetching.discard(event.artist_id)
                    row = self.runtime.store.artist(event.artist_id)
                    if row is not None:
                        artists.show(row, now=self.clock())
                    if event.source == "api":
                        self.log_line(f"{self._artist_name(event.artist_id)}: {event.api_calls} calls, {event.candidates} candidates")
                elif isinstance(event, ArtistFailed):
                    self._fetching.discard(event.artist_id)
                    artists.set_state(event.artist_id, STATE_GLYPHS["failed"], "failed: " + clean(event.reason)[:80])
                    self.log_line(f"{self._artist_name(event.artist_id)} failed: {event.reason}")
                elif isinstance(event, ReleaseFound):
                    self._unshown.append(event)
                elif isinstance(event, Progress):
                    progress.update(total=event.total, progress=event.done)
                    if self.running:  # a late event must not undo "idle"
                        self.state = f"refreshing {event.done} of {event.total}"
                elif isinstance(event, RunFinished):
                    for artist_id in self._fetching:  # cancelled or stopped mid-artist: back to what the store says
                        row = self.runtime.store.artist(artist_id)
                        if row is not None:
                            artists.show(row, now=self.clock())
                    self._fetching.clear()
                    self.last_run = time.strftime("%H:%M", time.localtime(self.clock()))
                    self.log_line(f"run {event.run_id} {event.status}: {event.releases} releases ({event.new_releases} new), "
                                  f"{event.api_calls} API calls, {event.seconds:.1f} s, "
                                  f"longest event-loop stall {self.max_stall_ms:.0f} ms")
            # New rows go in at most once a second while a run streams in: any change re-renders the
            # table's visible rows, new rows lay the whole screen out again, and re-sorting is not free.
            if self._unshown and (all_rows or not self.running or time.monotonic() - self._last_rows_at >= 1.0):
                for found in self._unshown:
                    releases.show(found.release, new=found.new)
                self._unshown.clear()
                releases.resort()
                self._last_rows_at = time.monotonic()
        self._show_status()

    def _artist_name(self, artist_id: str) -> str:
        row = self.runtime.store.artist(artist_id)
        return clean(row.name) if row else artist_id

    def log_line(self, text: str) -> None:
        self.query_one(RichLog).write(Text(f"{time.strftime('%H:%M:%S')} {clean(text)}"))

    def _probe_stall(self) -> None:
        now = time.monotonic()
        self.max_stall_ms = max(self.max_stall_ms, (now - self._expected_tick) * 1000)
        self._expected_tick = now + STALL_PROBE_EVERY

    # ----- status and metrics ---------------------------------------------------------------------------------

    def _show_status(self) -> None:
        if self.runtime.offline:
            source = Text(" OFFLINE SIMULATOR ", style="bold reverse")
        else:
            source = Text("Spotify", style="bold")
        mode = self.client.capabilities.mode
        state = "prefetching" if self.state == "idle" and self.prefetcher.busy else self.state
        self.query_one("#status", Static).update(Text.assemble(
            ("esh-tui ", "bold"), source, f" · {mode} mode · {state} · last run {self.last_run} · "
            f"{self.query_one(ArtistsTable).row_count} artists · {self.query_one(ReleasesTable).row_count} releases"),
            layout=False)  # one line, always: no need to lay out the whole screen again
        self.query_one(ProgressBar).display = self.running

    def snapshot(self) -> Snapshot:
        return self.metrics.snapshot(releases=self.query_one(ReleasesTable).row_count, stall_ms=self.max_stall_ms)

    def _refresh_metrics(self, reschedule: bool = True) -> None:
        if not self.is_running:  # quitting: the widgets are going away, and a timer may still fire
            return
        snapshot = self.snapshot()
        self.query_one(CachePanel).show(snapshot)
        self.query_one(LatencyPanel).show(snapshot)
        self.query_one(ApiPanel).show(snapshot)
        if reschedule:  # the next refresh is scheduled only when this one is done: never overlapping
            self.set_timer(METRICS_EVERY, self._refresh_metrics)

    # ----- artists ------------------------------------------------------------------------------------------

    def action_add_artist(self) -> None:
        def added(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            artist_id, name = choice
            if self.runtime.store.add_artists([(artist_id, name, "manual")]):
                self.query_one(ArtistsTable).show(self.runtime.store.artist(artist_id), now=self.clock())
                self.notify(f"Tracking {clean(name)}; r fetches its releases")
            else:
                self.notify(f"{clean(name)} is already tracked")
            self._show_status()

        self.push_screen(AddArtistScreen(self.client), added)

    def action_remove_artist(self) -> None:
        table = self.query_one(ArtistsTable)
        artist_id = table.selected_key
        row = self.runtime.store.artist(artist_id) if artist_id else None
        if row is None:
            self.notify("Select an artist in the Artists panel first")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.runtime.store.remove_artists([row.id])
                self.tracker.cache.forget_artist(row.id)
                table.drop(row.id)
                self.notify(f"Stopped tracking {clean(row.name)}")
                self._show_status()

        self.push_screen(ConfirmScreen(f"Stop tracking {clean(row.name)}?"), answered)

    def action_import_artists(self) -> None:
        def chosen(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                self.run_worker(self._import(*choice), group="import", exit_on_error=False)

        self.push_screen(ImportScreen(), chosen)

    async def _import(self, kind: str, where: str) -> None:
        try:
            if kind == "file":
                refs = read_artist_file(where)
                found = [await resolve_artist(self.client, ref) for _, ref in refs]
            else:
                reader = self.runtime.playlist_client() if kind == "playlist" else self.runtime.client(user=True)
                async with reader as client:
                    if kind == "playlist":
                        from esh_tui.models import parse_spotify_ref
                        playlist_id = parse_spotify_ref(where, "playlist")
                        if playlist_id is None:
                            raise ArtistNotFound(f"{clean(where)} is not a Spotify playlist link or ID")
                        found = await playlist_artists(client, playlist_id)
                    elif kind == "liked":
                        found = await liked_artists(client)
                    else:
                        found = await followed_artists(client)
        except (ImportFileError, ArtistNotFound, ValueError, AuthError, NotFoundError, ForbiddenError, SpotifyError) as exc:
            self.notify(f"Nothing imported: {_message(exc)}", severity="error", timeout=10)
            return
        added = self.runtime.store.add_artists((i, name, kind) for i, name in found)
        table = self.query_one(ArtistsTable)
        for artist_id, _ in found:
            row = self.runtime.store.artist(artist_id)
            if row is not None:
                table.show(row, now=self.clock())
        table.resort()
        self.notify(f"{added} artists added, {len(found) - added} already tracked; r fetches their releases")
        self._show_status()

    # ----- releases, filter, sort, help, log ------------------------------------------------------------------

    def _selected_release(self):
        table = self.query_one(ReleasesTable)
        key = table.selected_key
        return table.releases.get(key) if key else None

    def on_data_table_row_selected(self, event) -> None:
        if event.data_table.id == "releases":
            release = self._selected_release()
            if release is not None:
                self.push_screen(ReleaseScreen(release, self.runtime.store.versions_seen(release.key)))

    def action_open_release(self) -> None:
        release = self._selected_release()
        if release is not None:
            import webbrowser
            webbrowser.open(release.url)

    def action_mark_seen(self) -> None:
        release = self._selected_release()
        if release is not None:
            self._mark_seen([release.key])

    def action_mark_all_seen(self) -> None:
        table = self.query_one(ReleasesTable)
        unseen = [key for key in table.releases if table.is_new(key)]
        self._mark_seen(unseen)
        self.notify(f"{len(unseen)} release{'s' if len(unseen) != 1 else ''} marked seen")

    def _mark_seen(self, keys: list[str]) -> None:
        """Seen is kept in the store: a star stays until the user clears it, whatever runs come and go."""
        self.tracker.mark_seen(keys)
        table = self.query_one(ReleasesTable)
        for key in keys:
            table.show(table.releases[key], new=False)

    def action_copy_release(self) -> None:
        release = self._selected_release()
        if release is not None:
            self.copy_to_clipboard(release.uri)
            self.notify(f"Copied {release.uri}")

    def _focused_table(self) -> KeyedTable:
        focused = self.focused
        return focused if isinstance(focused, KeyedTable) else self.query_one(ReleasesTable)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self._focused_table())

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self._show_status()

    def action_sort(self) -> None:
        self._focused_table().cycle_sort()

    def action_toggle_log(self) -> None:
        log = self.query_one(RichLog)
        log.display = not log.display

    def action_help(self) -> None:
        keymap = dict(self._keymap) if hasattr(self, "_keymap") else {}
        keys = [(keymap.get(b.id, b.key).replace("question_mark", "?").replace("slash", "/"), b.description)
                for b in self.BINDINGS]
        self.push_screen(HelpScreen(keys))

    async def action_quit(self) -> None:
        if self.running:
            self.run_worker_handle.cancel()
        self._stop_prefetch()
        self.exit()


def _message(exc: BaseException | None) -> str:
    text = str(exc) if exc is not None else "unknown error"
    return clean(text)[:300] or exc.__class__.__name__


def create_app(runtime: Runtime | None = None, days: int = 90, autostart: bool = True, prefetch: bool = True,
               clock: Callable[[], float] = time.time) -> EshApp:
    """The one way to build the dashboard, for the CLI and the tests alike."""
    from esh_tui.runtime import open_runtime

    return EshApp(runtime or open_runtime(), days=days, autostart=autostart, prefetch=prefetch, clock=clock)

