"""Building the dashboard for tests: a fixed date, a fixed clock, an isolated data directory."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import re
from collections import deque

import httpx
from rich.console import Console
from textual.geometry import Region
from textual.widgets import Static

from esh_tui.config import load_settings
from esh_tui.runtime import open_runtime
from esh_tui.sim.names import HOSTILE_NAMES
from esh_tui.sim.offline import OFFLINE_STORE, SAMPLE_ARTISTS, offline_spotify
from esh_tui.storage.store import Store
from esh_tui.sim.transport import SimTransport
from esh_tui.text import clean
from esh_tui.tracker.events import RunFinished
from esh_tui.tui.app import WELCOME_SHOWN, EshApp
from esh_tui.metrics import Snapshot

TODAY = dt.date(2026, 11, 23)
NOW = 1_795_478_400.0  # 2026-11-23 20:00 UTC


class GatedTransport(SimTransport):
    """Holds every request whose URL contains `hold` until `gate` is set (a run frozen mid-way)."""

    def __init__(self, sim, hold: str, sleep=asyncio.sleep):
        super().__init__(sim, sleep=sleep)
        self.hold, self.gate, self.reached = hold, asyncio.Event(), asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.hold in str(request.url):
            self.reached.set()
            await self.gate.wait()
        return await super().handle_async_request(request)


def runtime(gate_artist_index: int | None = None, hostile: bool = False, welcome: bool = False):
    """The offline runtime of a first start on TODAY: the demo library, or with `hostile` the catalog's
    `tracked_sample` (four of its hostile names among twelve); the welcome screen already seen unless `welcome`."""
    settings = load_settings()
    if hostile:
        track_hostile_sample(settings)
    rt = open_runtime(settings, today=TODAY)
    if not welcome:
        rt.store.save_setting(WELCOME_SHOWN, True)
    gated = None
    if gate_artist_index is not None:
        artist_id = rt.store.artists()[gate_artist_index].id
        gated = GatedTransport(rt.offline.sim, f"/artists/{artist_id}/albums")
        rt.offline.transport = gated
    return rt, gated


def track_hostile_sample(settings) -> None:
    """Before the first start: the offline store tracks the catalog's sample with hostile names, not the demo."""
    catalog = offline_spotify(settings, today=TODAY).catalog
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.data_dir / OFFLINE_STORE)
    try:
        store.add_artists((i, catalog.artists[i].name, "sample") for i in catalog.tracked_sample(SAMPLE_ARTISTS))
    finally:
        store.close()


class FrozenMetricsApp(EshApp):
    """Latency figures, the ETA, a running run's call counts, a run's duration and the longest event-loop stall
    vary run to run; snapshots show fixed ones (the real ones are tested elsewhere)."""

    SHOW_ETA = False
    LATENCIES = (0.4, 0.9, 0.6, 2.0, 0.5, 1.2) * 10  # the latency chart's last 60 calls, in ms

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        post = self.tracker.on_event

        def fixed_duration(event) -> None:  # the log's "run 1 ok: …, 0.5 s"
            post(dataclasses.replace(event, seconds=0.5) if isinstance(event, RunFinished) else event)

        self.tracker.on_event = fixed_duration

    def _probe_stall(self) -> None:
        """The longest stall stays 0 (it depends on the machine's load)."""

    def snapshot(self) -> Snapshot:
        real = super().snapshot()
        if self.running:  # how far a run has got when the snapshot is taken depends on the machine's load
            real.api_calls, real.by_endpoint = 36, [("GET /artists/{id}/albums", 12)]
        return Snapshot(tiers={"memory": {"hits": 0, "misses": 118, "evictions": 0, "p50_ms": 0.004, "p95_ms": 0.009},
                               "store": {"hits": 0, "misses": 118, "evictions": 0, "p50_ms": 0.05, "p95_ms": 0.2}},
                        recent_hit_rates=["0%"], scope=real.scope, mode=real.mode, api_calls=real.api_calls,
                        by_endpoint=real.by_endpoint, connections_seen=real.connections_seen,
                        releases=real.releases, batching_saved=real.batching_saved, coalesced=real.coalesced,
                        retries=0, rate_limited=real.rate_limited, in_flight=0, bound=8, connections_opened=0,
                        connections_reused=0, api_p50_ms=1.0, api_p95_ms=2.0, latencies=deque(self.LATENCIES))


def make_app(gate_artist_index: int | None = None, frozen: bool = False, hostile: bool = False, welcome: bool = False,
             **options) -> tuple[EshApp, GatedTransport | None]:
    rt, gated = runtime(gate_artist_index, hostile, welcome)
    cls = FrozenMetricsApp if frozen else EshApp
    app = cls(rt, prefetch=False, clock=lambda: NOW, **options)
    if gate_artist_index is not None:
        app.tracker.artist_concurrency = 1  # one artist at a time: everything before the gate is done
    return app, gated


async def settle(app, pilot):
    """Wait for the app's workers, then apply queued engine events."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.dashboard.flush(all_rows=True)
    await pilot.pause()


def seed_history(store, days: int = 12) -> None:
    """Runs of the `days` days before NOW, one a day, each with its cost: a cold start, then cheap refreshes."""
    from esh_tui.storage import rollups

    for day in range(days):
        started = NOW - (days - day) * 86400 + 3600
        calls = 900 if day == 0 else 40 + 7 * (day % 4)
        releases = 300 if day == 0 else day % 3
        run_id = store.db["runs"].insert({"started_at": started, "finished_at": started + 60, "cutoff": "2026-08-25",
                                          "forced": 0, "status": "ok", "mode": "development", "artists": 12,
                                          "api_calls": calls, "releases": releases}).last_pk
        hits = 0 if day == 0 else 100 - 5 * (day % 3)
        with store.transaction():
            rollups.write(store.db, run_id, rollups.CostUpdate(
                run={"calls": calls, "releases": releases},
                tiers={"memory": {"hits": hits, "misses": 100 - hits, "evictions": 0, "p50_ms": None, "p95_ms": None},
                       "store": {"hits": 0, "misses": 100 - hits, "evictions": 0, "p50_ms": None, "p95_ms": None}},
                endpoints={("GET /artists/{id}/albums", "200"): (calls, 30.0 * calls)},
                minutes={int(started // 60 * 60): {"calls": calls, "releases": releases}}))
            store.db.conn.executemany(
                "INSERT INTO releases (key, track_id, release_date, first_seen_run, first_seen_at) VALUES (?, ?, ?, ?, ?)",
                [(f"seed-{run_id}-{i}", f"t{run_id}-{i}", "2026-11-01", run_id, started) for i in range(releases)])
# ----- what the terminal shows ---------------------------------------------------------------------------------

# Anything a terminal would act on instead of showing: C0 controls but the line break, DEL, C1, bidi controls.
UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# The catalog's hostile names as a person must see them: markup literally, escapes and controls gone.
HOSTILE_SHOWN = tuple(clean(name) for name in HOSTILE_NAMES)


def screen_text(app) -> str:
    """The screen as the terminal draws it, as plain text: the current screen over the ones behind it (what
    `export_screenshot` renders), one line per row."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, color_system=None,
                      record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)


def flowed_text(widget) -> str:
    """A widget's rendered lines run together, without whitespace: text it wrapped (a dialog line, a toast, at
    spaces or inside a long path) in one piece, as drawn (markup that was interpreted is not in it)."""
    width, height = widget.outer_size
    lines = widget.render_lines(Region(0, 0, width, height))
    return "".join("".join(strip.text.strip(" ▌▐┃│▕▏").split()) for strip in lines)


def not_shown(app, texts) -> tuple[list[str], str]:
    """Of `texts`, those not on the screen literally, and the screen's text. A text is shown within one row, or
    wrapped over the rows of one visible Static (a label, a dialog line, a toast) of the current screen (compared
    without whitespace, which wrapping moves). The screen is drawn once for all the texts: a draw at 200x60 costs
    tens of milliseconds, and the walk asks hundreds of times."""
    screen = screen_text(app)
    missing = [text for text in texts if text not in screen]
    if missing:
        flows = [flowed_text(widget) for widget in app.screen.walk_children()  # query(Static) misses toasts
                 if isinstance(widget, Static) and widget.display and widget.region.area]
        missing = [text for text in missing if not any("".join(text.split()) in flow for flow in flows)]
    return missing, screen


async def assert_shown(pilot, *texts: str, seconds: float = 5.0) -> None:
    """Each text comes on the screen literally (a toast, a search's results take a moment), and nothing on it
    is a control a terminal would act on."""
    app = pilot.app
    for _ in range(int(seconds / 0.01)):
        missing, screen = not_shown(app, texts)
        if not missing:
            break
        await pilot.pause(0.01)
    assert not UNPRINTABLE.search(screen.replace("\n", "")), f"a control character on screen: {screen!r}"
    assert not missing, f"not shown literally: {missing}\n{screen}"


async def until(pilot, condition, what: str, seconds: float = 20.0) -> None:
    """Let the app run until `condition()` holds (a condition, not a fixed sleep), for at most `seconds`."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never happened: {what}\n{screen_text(pilot.app)}")
