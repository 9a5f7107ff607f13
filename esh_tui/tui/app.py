"""The esh-tui App: the engine (client, tracker, prefetcher) and its runs, the key map, notices and commands.

What is shown lives in the dashboard screen (screens/dashboard.py), the app's default screen. One app factory
(`create_app`) serves the CLI and the tests.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from esh_tui.delivery.playlist import PlaylistSync, SyncOutcome, access_problem
from esh_tui.metrics import Metrics, Snapshot
from esh_tui.models import Release
from esh_tui.runtime import Runtime
from esh_tui.text import clean
from esh_tui.tracker.artists import ArtistService
from esh_tui.tracker.engine import RunResult, Tracker
from esh_tui.tracker.prefetch import Prefetcher
from esh_tui.tracker.release_filter import ReleaseFilter
from esh_tui.tui.collector import CHECK_EVERY_S, IdleCollector
from esh_tui.tui.errors import error_text
from esh_tui.tui.events import EngineMessages
from esh_tui.storage.errors import StoreError
from esh_tui.tui.screens.dashboard import DashboardScreen
from esh_tui.tui.screens.help import key_list
from esh_tui.tui.screens.welcome import WelcomeScreen

STALL_PROBE_EVERY = 0.05
WELCOME_SHOWN = "welcome_shown"  # in the store's settings: the welcome screen was shown on its first start


class EshApp(App):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere find it too
    TITLE = "esh-tui"
    SHOW_ETA = True
    BINDINGS = [Binding("q", "quit", "Quit", id="quit")]  # the dashboard's keys are the dashboard's
    # Classes every screen gets by its size, which app.tcss lays out by (80x24 is neither wide nor tall).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (160, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-normal-height"), (45, "-tall")]

    def __init__(self, runtime: Runtime, days: int = 90, autostart: bool = True, prefetch: bool = True,
                 clock: Callable[[], float] = time.time, budget: int | None = None,
                 release_filter: ReleaseFilter | None = None):
        super().__init__()
        self.runtime, self.days, self.autostart, self.clock = runtime, days, autostart, clock
        self.prefetch_enabled = prefetch and runtime.tuning.prefetch_calls_per_minute > 0
        self.dashboard = DashboardScreen()
        self.client = runtime.client()
        self.tracker = Tracker(self.client, runtime.store, runtime.cache(clock), today=runtime.today,
                               on_event=EngineMessages(self.dashboard), budget=runtime.budget(budget, clock),
                               release_filter=release_filter or runtime.settings.filters)
        self.prefetcher = Prefetcher(self.tracker, self.cutoff, budget_per_minute=runtime.tuning.prefetch_calls_per_minute,
                                     clock=clock)
        self.metrics = Metrics(self.client, runtime.store)
        self.next_run_calls: int | None = None  # the next run's estimate, worked out when a run ends
        self.artists = ArtistService(runtime, forget=self.tracker.cache.forget_artist, clock=clock)
        self.state = "idle"
        self.run_worker_handle: Worker | None = None
        self.prefetch_worker: Worker | None = None
        self.playlist_worker: Worker | None = None
        self.max_stall_ms = 0.0
        self._expected_tick = 0.0
        self.collector = IdleCollector(busy=lambda: self.running)
        self.started_at = time.perf_counter()
        self.first_paint_s: float | None = None
        self._load_keymap()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self.collector.touched()  # no full garbage collection pass right now
        await super().on_event(event)

    def get_default_screen(self) -> Screen:
        return self.dashboard

    def cutoff(self) -> dt.date:
        return self.runtime.today() - dt.timedelta(days=self.days)

    def on_mount(self) -> None:
        saved = self.runtime.store.settings().get("theme")
        self.theme = saved if saved in self.available_themes else "textual-dark"
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self._expected_tick = time.monotonic() + STALL_PROBE_EVERY
        self.set_interval(STALL_PROBE_EVERY, self._probe_stall)
        if self.runtime.offline and self._welcomed():  # else the welcome screen says so
            self.notify("No Spotify credentials: this is the built-in offline Spotify with sample artists. "
                        "esh-tui setup connects your own.", title="Offline simulator", timeout=8)

    def on_ready(self) -> None:
        """The dashboard is on screen: start the run that is due, or prefetch."""
        self.first_paint_s = time.perf_counter() - self.started_at
        # What exists now lives as long as the app (the offline catalog alone is hundreds of thousands of
        # objects): frozen, out of the full passes, which otherwise pause the loop ~0.7 s; and from now on full
        # passes run at idle moments only (tui/collector.py).
        self.collector.start()
        self.set_interval(CHECK_EVERY_S, self.collector.collect_if_idle)
        self._welcome_once()
        self.estimate_next_run()
        if self.autostart and self.runtime.store.due_artist_ids(self.clock()):
            self.start_run(force=False)
        else:
            self._start_prefetch()

    def _welcome_once(self) -> None:
        """The welcome screen, on the first start with this store only (a busy store: it may show once more)."""
        store = self.runtime.store
        if self._welcomed():
            return
        self.show_welcome()
        try:
            store.save_setting(WELCOME_SHOWN, True)
        except StoreError:
            pass

    def _welcomed(self) -> bool:
        store = self.runtime.store
        return store.read_only or bool(store.settings().get(WELCOME_SHOWN))

    def show_welcome(self) -> None:
        dashboard = self.dashboard
        shown = [b for b in (*dashboard.BINDINGS, *self.BINDINGS) if b.show]
        settings = self.runtime.settings
        self.push_screen(WelcomeScreen(key_list(shown, dict(getattr(self, "_keymap", {}))),
                                       offline=self.runtime.offline is not None,
                                       artists=len(self.runtime.store.artists()), redirect_uri=settings.redirect_uri,
                                       days=self.days))

    async def on_unmount(self) -> None:
        self.collector.stop()
        await self.client.aclose()

    def _remember_theme(self, theme) -> None:
        """A theme chosen in the palette is the one the dashboard opens with next time."""
        self.runtime.store.save_setting("theme", theme.name)

    def notify(self, message: str, *, markup: bool = False, **options) -> None:
        """Every notification shows its text literally, whoever asks (a widget's notify passes markup=True):
        names, paths and errors come from outside, and none of the dashboard's own messages use markup.
        Escaping instead would not do: Textual's markup escape does not survive a lone backslash."""
        super().notify(message, markup=False, **options)

    # ----- key map and commands --------------------------------------------------------------------------

    def _load_keymap(self) -> None:
        """Keys from config.toml (checked by the settings model), and what the settings want the user to know.
        A key given to two actions is refused by name, so a remap never silently hides another key."""
        wanted = dict(self.runtime.settings.keys)
        clashes = keymap_clashes([*DashboardScreen.BINDINGS, *self.BINDINGS], wanted)
        for action, other, key in clashes:
            wanted.pop(action, None)
            self.call_later(self.notify, f'config.toml: [keys] {action} = "{key}" is already the key of {other}; '
                                         f"{action} keeps its own key", severity="warning")
        self.set_keymap(wanted)
        for note in self.runtime.settings.notes:
            self.call_later(self.notify, note, severity="warning")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        dashboard = self.dashboard
        for title, help_text, action in (
            ("Add artist", "Search Spotify and track an artist", dashboard.action_add_artist),
            ("Remove artist", "Stop tracking the selected artist", dashboard.action_remove_artist),
            ("Artist details", "The selected artist: when checked and due, its last error, releases, cost",
             dashboard.action_artist_details),
            ("Undo remove", "Track the artist removed last again, with what was learned about it",
             dashboard.action_undo_remove),
            ("Import artists", "From a file, a playlist, liked songs or followed artists", dashboard.action_import_artists),
            ("Refresh", "Fetch the artists that are due", self.action_refresh),
            ("Force refresh", "Fetch every artist, fresh or not", self.action_force_refresh),
            ("Cancel run", "Stop the running refresh", self.action_cancel_run),
            ("Filter", "Narrow the focused table as you type", dashboard.action_filter),
            ("Sort", "Sort the focused table by its next column", dashboard.action_sort),
            ("Release details", "Every version of the selected release (an album's row: open or close it)",
             dashboard.action_show_release),
            ("Open release", "Open the selected release (or album) in the browser", dashboard.action_open_release),
            ("Copy URI", "Copy the selected release's (or album's) Spotify URI", dashboard.action_copy_release),
            ("Mark seen", "Clear the ★ of the selected release (an album's row: of all its tracks)", dashboard.action_mark_seen),
            ("Mark all seen", "Clear every ★", dashboard.action_mark_all_seen),
            ("Add unseen to playlist", "Put every ★ release in your Spotify playlist of new releases",
             dashboard.action_playlist),
            ("Add selected to playlist", "Put the selected release (an album's row: its tracks) in your playlist",
             dashboard.action_playlist_selection),
            ("Group by album", "One row per album with several new tracks, or one per release",
             dashboard.action_group_albums),
            ("Release filters", "Show or hide release types, features, and remix, sped-up... versions",
             dashboard.action_release_filters),
            ("Toggle event log", "Show or hide the event log", dashboard.action_toggle_log),
            ("History", "API calls per day, hit rate and calls per release per run, releases per week",
             dashboard.action_history),
            ("Help", "The dashboard's keys and what its glyphs mean", dashboard.action_help),
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
        self.state = "starting"
        self.dashboard.show_status()
        self.call_after_refresh(self.dashboard.refresh_bindings)  # (its footer, also under a modal)
        self.run_worker_handle = self.run_worker(self._run(force), group="run", exit_on_error=False)

    async def _run(self, force: bool) -> RunResult:
        result = await self.tracker.run(self.cutoff(), force=force)
        await self._deliver(result)
        return result

    async def _deliver(self, result: RunResult) -> None:
        """The run's releases to config.toml's [notify] and [feeds], as `track` delivers them (esh_tui/delivery/);
        what does not work is one line in the event log, never a failed run."""
        delivery = self.runtime.settings.delivery
        if delivery:
            from esh_tui.delivery.run import deliver

            done = await deliver(self.runtime.store, result.releases, delivery, self.dashboard.log_line)
            if done.describe():
                self.dashboard.log_line(done.describe())

    @property
    def last_result(self) -> RunResult | None:
        """The last run's result, once it finished."""
        handle = self.run_worker_handle
        return handle.result if handle is not None and handle.state == WorkerState.SUCCESS else None

    def note_progress(self, done: int, total: int) -> None:
        if self.running:  # a late event must not undo "idle"
            self.state = f"refreshing {done} of {total}"

    def action_refresh(self) -> None:
        self.start_run(force=False)

    def action_force_refresh(self) -> None:
        self.start_run(force=True)

    def action_cancel_run(self) -> None:
        if not self.running:
            self.notify("No refresh is running")
            return
        self.run_worker_handle.cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a refresh runs the footer offers x Cancel instead of r Refresh and R Force: each key is there
        only when it can act (and at 80 columns there is no room for keys that cannot)."""
        if action == "cancel_run":
            return self.running
        if action in ("refresh", "force_refresh"):
            return not self.running
        return True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place run and prefetch outcomes surface: errors become notices, never tracebacks."""
        worker = event.worker
        if worker is self.run_worker_handle:
            if worker.is_finished:
                self.collector.after_run()
            if event.state == WorkerState.SUCCESS:
                result: RunResult = worker.result
                self.dashboard.keep_releases({r.key for r in result.releases})
                self.estimate_next_run()
                if result.status in ("quota", "rate_limited", "budget"):
                    back = (time.strftime("%H:%M", time.localtime(self.clock() + result.retry_after))
                            if result.retry_after is not None else "later")
                    why = {"quota": "daily quota reached", "rate_limited": "Spotify rate limit",
                           "budget": "daily budget used"}[result.status]
                    self.state = f"{why}: back at {back}"
                    self.notify(result.message, severity="warning", timeout=15)
                elif result.failed:  # one line and one notice for the run, however many artists failed
                    self.state = failed_state(result.failed)
                    self.notify(f"{clean(self.state)}; they stay due and are retried next run", severity="warning",
                                timeout=10)
                else:
                    self.state = "idle"
                    self._start_prefetch()
            elif event.state == WorkerState.CANCELLED:
                self.state = "idle (run cancelled)"
                self.notify("Refresh cancelled; what was fetched is kept")
            elif event.state == WorkerState.ERROR:
                self.state = "idle (last run failed)"
                self.notify(error_text(worker.error), severity="error", timeout=15)
            self.dashboard.show_status()
            self.dashboard.refresh_bindings()  # its footer's keys (x, r, R), also when a modal is over it
        elif worker is self.playlist_worker:
            self._playlist_done(worker, event.state)
        elif worker is self.prefetch_worker and event.state == WorkerState.ERROR:
            self.dashboard.log_line(f"prefetch stopped: {error_text(worker.error)}")

    def estimate_next_run(self) -> None:
        """The next run's estimated cost, for the status line (worked out when a run ends, not on every redraw)."""
        self.next_run_calls = self.tracker.plan(self.cutoff()).total

    def _start_prefetch(self) -> None:
        if self.prefetch_enabled and not self.running and (self.prefetch_worker is None or self.prefetch_worker.is_finished):
            self.prefetch_worker = self.run_worker(self.prefetcher.run_forever(), group="prefetch", exit_on_error=False)

    def _stop_prefetch(self) -> None:
        if self.prefetch_worker is not None and not self.prefetch_worker.is_finished:
            self.prefetch_worker.cancel()

    # ----- the playlist ---------------------------------------------------------------------------------------

    def sync_playlist(self, releases: list[Release], when_none: str) -> None:
        """Add these releases to the user's playlist of new releases in a worker; the outcome is a notice
        (`when_none`: the notice when there are none)."""
        problem = access_problem(self.runtime.settings, bool(self.runtime.offline))
        if problem:
            self.notify(problem[0].upper() + problem[1:], severity="warning", timeout=10)
        elif not releases:
            self.notify(when_none)
        elif self.playlist_worker is not None and not self.playlist_worker.is_finished:
            self.notify("The playlist is being updated already")
        else:
            self.playlist_worker = self.run_worker(self._sync_playlist(releases), group="playlist",
                                                   exit_on_error=False)

    async def _sync_playlist(self, releases: list[Release]) -> SyncOutcome:
        async with self.runtime.playlist_writer() as client:
            return await PlaylistSync(client, self.runtime.store).sync(releases)

    def _playlist_done(self, worker: Worker, state: WorkerState) -> None:
        if state == WorkerState.SUCCESS:
            outcome: SyncOutcome = worker.result
            summary = clean(outcome.summary())  # the playlist's name and URL came from Spotify
            notice = f"Playlist: {summary}"
            if outcome.recreated:
                notice = "The playlist had been deleted in Spotify: made a new one. " + notice
            self.notify(notice, timeout=10)
            self.dashboard.log_line(f"playlist: {summary}")
        elif state == WorkerState.ERROR:
            self.notify(f"Playlist not updated: {error_text(worker.error)}", severity="error", timeout=15)

    # ----- what the fetching costs, and how free the event loop is ---------------------------------------------

    def _probe_stall(self) -> None:
        now = time.monotonic()
        self.max_stall_ms = max(self.max_stall_ms, (now - self._expected_tick) * 1000)
        self._expected_tick = now + STALL_PROBE_EVERY

    def snapshot(self) -> Snapshot:
        return self.metrics.snapshot(stall_ms=self.max_stall_ms)

    async def action_quit(self) -> None:
        if self.running:
            self.run_worker_handle.cancel()
        self._stop_prefetch()
        self.exit()


def create_app(runtime: Runtime | None = None, days: int = 90, autostart: bool = True, prefetch: bool = True,
               clock: Callable[[], float] = time.time, budget: int | None = None,
               release_filter: ReleaseFilter | None = None) -> EshApp:
    """The one way to build the dashboard, for the CLI and the tests alike (`release_filter`: else config.toml's)."""
    from esh_tui.runtime import open_runtime

    runtime = runtime or open_runtime()
    if runtime.offline:
        # Generated now: at the first run's first request it would stall the screen.
        runtime.offline.catalog  # noqa: B018
    return EshApp(runtime, days=days, autostart=autostart, prefetch=prefetch, clock=clock,
                  budget=budget, release_filter=release_filter)


def keymap_clashes(bindings: Iterable[Binding], keymap: dict[str, str]) -> list[tuple[str, str, str]]:
    """(action remapped, action that already has the key, key) for each remap that takes another action's key."""
    keys_of = {b.id: set((keymap.get(b.id) or b.key).split(",")) for b in bindings if b.id}
    clashes = []
    for action in keymap:
        for other, keys in keys_of.items():
            shared = keys_of.get(action, set()) & keys
            if other != action and shared:
                clashes.append((action, other, sorted(shared)[0]))
                break
    return clashes


def failed_state(failed: dict[str, str]) -> str:
    """'Spotify unreachable: 12 artists failed (details: l)': the most common reason, in a few words."""
    reasons = list(failed.values())
    common = max(set(reasons), key=reasons.count)
    unreachable = any(word in common for word in ("did not answer", "kept failing", "network", "connect"))
    why = "Spotify unreachable" if unreachable else clean(common)[:40]
    count = len(failed)
    return f"{why}: {count} artist{'s' if count != 1 else ''} failed (details: l)"
