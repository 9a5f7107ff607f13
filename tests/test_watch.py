"""`esh-tui watch`: under a simulated clock it runs each artist when it becomes due (never before), sleeps at most
its cap, stays within the daily budget; a real process stops with exit 0 on SIGTERM, its store intact."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

from esh_tui.delivery.targets import Delivery
from esh_tui.delivery.watch import MAX_SLEEP, MIN_SLEEP, Watcher
from esh_tui.runtime import open_runtime
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.events import ArtistDone
from tests.delivery_support import receiver

DAY = 86_400.0


class SimulatedClock:
    """time.time and asyncio.sleep for the watch loop: sleeping moves the clock on at once."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 23, 12, 0).timestamp()
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def _watch(days: float, budget: int = 0, delivery: Delivery = Delivery(), max_sleep: float = MAX_SLEEP):
    """Turns of the loop until `days` of simulated time went by: [(time, due before, fetched, turn)], lines."""
    clock, fetched, lines, turns = SimulatedClock(), set(), [], []
    runtime = open_runtime()
    store = runtime.store

    def on_event(event) -> None:
        if isinstance(event, ArtistDone) and event.source == "api":
            fetched.add(event.artist_id)

    try:
        async with runtime.tracking_client(None) as client:
            tracker = Tracker(client, store, runtime.cache(clock), today=runtime.today, on_event=on_event,
                              budget=runtime.budget(budget, clock))
            cutoff = runtime.today() - dt.timedelta(days=90)
            watcher = Watcher(tracker, store, delivery, lambda: cutoff, clock=clock, sleep=clock.sleep,
                              say=lines.append, max_sleep=max_sleep)
            end = clock.now + days * DAY
            while clock.now < end:
                due = {a.id for a in store.artists() if a.next_due is None or a.next_due <= clock.now}
                fetched.clear()
                turn = await watcher.turn()
                turns.append((clock.now, due, set(fetched), turn))
                await clock.sleep(turn.sleep)
            days_used = {day: store.budget_used(day) for day in {dt.datetime.fromtimestamp(t).date().isoformat()
                                                                 for t, *_ in turns}}
    finally:
        runtime.close()
    return turns, lines, clock, days_used


async def test_watch_runs_each_artist_exactly_when_it_becomes_due_and_never_sleeps_past_an_hour():
    turns, lines, clock, _ = await _watch(days=8)
    runs = [t for t in turns if t[3].result is not None]
    assert runs[0][2] == runs[0][1] and len(runs[0][2]) == 12, "the first run checks every artist"
    for at, due, fetched, turn in turns:
        assert fetched == (due if turn.result is not None else set()), "each due artist is checked, no other"
        assert (turn.result is not None) == bool(due), "a run exactly when something is due"
    checked = [len(fetched) for _, _, fetched, turn in runs[1:]]
    assert checked and sum(checked) >= 12, "over a week every artist came due again and was checked"
    assert all(MIN_SLEEP <= s <= MAX_SLEEP for s in clock.slept), "it looks again at least hourly"
    assert len(lines) == len(runs) and all("esh-tui watch: run" in line for line in lines), "one line per run"


async def test_watch_sleeps_until_the_next_artist_is_due_and_wakes_only_to_run():
    turns, _, clock, _ = await _watch(days=8, max_sleep=8 * DAY)
    assert all(due and fetched == due for _, due, fetched, _ in turns), "every wake-up finds artists due, and checks them"
    assert len(turns) >= 3 and max(clock.slept) > MAX_SLEEP and min(clock.slept) >= MIN_SLEEP


async def test_watch_stays_within_the_daily_budget_and_checks_the_rest_on_later_days():
    limit = 150
    turns, lines, _, days_used = await _watch(days=4, budget=limit)
    assert all(used <= limit for used in days_used.values()), days_used
    assert sum(1 for used in days_used.values() if used > 0) >= 2, "a cold start spread over days"
    checked = set().union(*(fetched for _, _, fetched, _ in turns))
    assert len(checked) == 12, "every artist was checked within the budget, days apart"
    stops = [line for line in lines if "budget" in line]
    assert stops and len(stops) <= 4 * 2, "a budget stop is said once a day, not at every hourly look"


async def test_watch_notifies_once_per_run_with_new_releases():
    with receiver() as hook:
        turns, *_ = await _watch(days=1, delivery=Delivery(urls=(hook.url(),)))
        runs = [t for t in turns if t[3].result is not None]
        assert len(runs) >= 2
        assert len(hook.messages) == 1, "the first run found everything; later runs found nothing new"
        assert runs[0][3].delivered.notified == len(runs[0][3].result.releases)


def _start_watch(tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "esh_tui", "watch", "--feed", f"atom:{tmp_path / 'f.xml'}"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True)


def _store_after() -> list[str]:
    """The statuses of the runs the offline store recorded, newest first, once it is checked whole."""
    from esh_tui.config import load_settings
    from esh_tui.sim.offline import OFFLINE_STORE
    from esh_tui.storage.store import Store

    store = Store(load_settings().data_dir / OFFLINE_STORE)
    try:
        assert store.integrity_ok()
        return [run["status"] for run in store.runs(50)]
    finally:
        store.close()


def _sigterm_once(tmp_path: Path, ready: str) -> tuple[int, str, list[str]]:
    """Start `esh-tui watch`, wait for a line with `ready` on its output, SIGTERM it: (exit code, stderr, the
    statuses of the runs its store recorded)."""
    process = _start_watch(tmp_path)
    try:
        for line in process.stdout:  # readiness is read from its output, never waited for by sleeping
            if ready in line:
                break
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "Traceback" not in err
    return process.returncode, err, _store_after()


def test_sigterm_while_watch_sleeps_exits_0_with_the_run_kept(tmp_path):
    code, err, statuses = _sigterm_once(tmp_path, "esh-tui watch: run")  # its first run is done: it sleeps
    assert code == 0, err
    assert "stopped" in err and statuses == ["ok"]
    assert (tmp_path / "f.xml").read_bytes().startswith(b"<?xml")


def test_sigterm_as_watch_starts_exits_0_and_leaves_no_run_half_recorded(tmp_path):
    code, err, statuses = _sigterm_once(tmp_path, "watching")  # its first run is starting
    assert code == 0, err
    assert "running" not in statuses and set(statuses) <= {"ok", "interrupted"}


async def test_a_run_that_fails_whole_is_one_line_and_watch_tries_again_later(monkeypatch):
    from esh_tui.storage.errors import StoreError

    async def busy(self, *args, **kwargs):
        raise StoreError("the store is busy: another esh-tui is writing to it")

    monkeypatch.setattr(Tracker, "run", busy)
    turns, lines, clock, _ = await _watch(days=0.1)
    assert turns and all(turn.result is None and turn.sleep == MIN_SLEEP for *_, turn in turns)
    assert len(lines) == len(turns) and all("the run failed: the store is busy" in line for line in lines)


async def test_watch_stopped_mid_run_records_it_interrupted_and_keeps_what_was_fetched():
    """What SIGTERM does to `esh-tui watch` (track's handler: stop_reason "interrupted", then cancel), on a run
    held mid-way by a gated transport, so the stop lands inside the run for sure."""
    import asyncio

    from tests.tui_support import runtime as gated_runtime

    runtime, gated = gated_runtime(gate_artist_index=5)
    clock = SimulatedClock()
    try:
        async with runtime.tracking_client(None) as client:
            tracker = Tracker(client, runtime.store, runtime.cache(clock), today=runtime.today)
            tracker.artist_concurrency = 1  # one artist at a time: those before the gate are done
            cutoff = runtime.today() - dt.timedelta(days=90)
            watcher = Watcher(tracker, runtime.store, Delivery(), lambda: cutoff, clock=clock, sleep=clock.sleep,
                              say=lambda line: None)
            task = asyncio.ensure_future(watcher.forever())
            await gated.reached.wait()
            tracker.stop_reason = "interrupted"
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        store = runtime.store
        assert [run["status"] for run in store.runs(5)] == ["interrupted"]
        checked = [a for a in store.artists() if a.next_due is not None]
        assert 0 < len(checked) < len(store.artists()), "the artists finished before the stop are kept"
        assert store.integrity_ok()
    finally:
        runtime.close()


def test_watch_applies_the_configured_filters_and_its_options_to_what_it_delivers(tmp_path):
    """config.toml's [filters] and watch's own options choose what reaches the feed, as they do for `track`."""
    import feedparser

    from esh_tui.config import load_settings

    config_dir = load_settings().config_dir
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('[filters]\ntypes = ["single"]\n')
    process = subprocess.Popen([sys.executable, "-m", "esh_tui", "watch", "--types", "album",
                                "--feed", f"atom:{tmp_path / 'f.xml'}"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in process.stdout:
            if "esh-tui watch: run" in line:  # the first run is done and delivered: it sleeps
                break
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    kinds = {entry.summary.rsplit(" released ", 1)[0].rsplit(", ", 1)[-1]
             for entry in feedparser.parse(str(tmp_path / "f.xml")).entries}
    assert kinds == {"album"}, "--types album over config.toml's singles: albums only"
