"""What the dashboard looks like in its main states (pytest-textual-snapshot; --snapshot-update to accept).

The states are produced for real on the offline Spotify: a rate limit, the daily quota and an outage are the
simulator's own (its `rate_limit`, `quota` and `fault_rate`), a run held mid-way waits on a gated transport.
Only figures that vary from run to run are fixed (FrozenMetricsApp), and the clocks a wait is measured by.
Each state is drawn at 80x24, where everything must fit, and at 200x60, where the room is used.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from tui_support import make_app

SIZES = {"80x24": (80, 24), "200x60": (200, 60)}
sizes = pytest.mark.parametrize("size", SIZES)


@pytest.fixture(autouse=True)
def _utc():
    """Times on screen ("last run 00:00", "back at 00:00") read the same in every time zone."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = before
    time.tzset()


async def _settled(pilot):
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.dashboard.flush(all_rows=True)
    app.dashboard.refresh_metrics(reschedule=False)
    await pilot.pause()


async def _idle_after_a_run(pilot):
    """The first run done; the offline simulator's greeting dismissed."""
    await _settled(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


async def _greeting_dismissed(pilot):
    await pilot.pause()  # the offline simulator's greeting is raised as the app mounts
    pilot.app.clear_notifications()
    await pilot.pause()


async def _run(pilot):
    """A run started from a clean screen (no greeting), to its end."""
    await _greeting_dismissed(pilot)
    pilot.app.start_run(force=False)
    await _settled(pilot)


async def _no_wait(seconds):
    return None


def test_first_start_on_the_simulator(snap_compare):
    app, _ = make_app(autostart=False, frozen=True)
    assert snap_compare(app, terminal_size=(80, 24))


FIRST_START_SIZES = {"120x35": (120, 35), "80x24": (80, 24)}


@pytest.mark.parametrize("size", FIRST_START_SIZES)
def test_first_start_shows_the_demo_library_under_the_welcome_screen(snap_compare, size):
    """A newcomer's first start, offline: the demo's sample artists after their first run, the welcome on top
    (at 120x35 with how to connect your Spotify; at 80x24 that is a key away)."""
    app, _ = make_app(frozen=True, welcome=True)
    assert snap_compare(app, terminal_size=FIRST_START_SIZES[size], run_before=_idle_after_a_run)


@pytest.mark.parametrize("size", FIRST_START_SIZES)
def test_first_start_after_closing_the_welcome_screen(snap_compare, size):
    app, _ = make_app(frozen=True, welcome=True)

    async def welcome_closed(pilot):
        await _idle_after_a_run(pilot)
        await pilot.press("escape")
        await pilot.pause()

    assert snap_compare(app, terminal_size=FIRST_START_SIZES[size], run_before=welcome_closed)


@sizes
def test_idle_after_a_run(snap_compare, size):
    app, _ = make_app(frozen=True)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=_idle_after_a_run)


def test_finished_run_at_a_middle_size(snap_compare):
    """140x40: wider than the narrow layout, below the wide one (160 columns) and the tall one (45 rows)."""
    app, _ = make_app(frozen=True)
    assert snap_compare(app, terminal_size=(140, 40), run_before=_idle_after_a_run)


@sizes
def test_mid_run_with_releases_streaming_in(snap_compare, size):
    """Six artists done, the seventh held mid-way: ✓ and ⟳, the progress bar, 'refreshing 6 of 12'."""
    app, gated = make_app(gate_artist_index=6, frozen=True)

    async def frozen_mid_run(pilot):
        await asyncio.wait_for(gated.reached.wait(), 30)
        app.clear_notifications()
        await pilot.pause()
        app.dashboard.flush(all_rows=True)
        app.dashboard.refresh_metrics(reschedule=False)  # the panels' 1 s timer may not have fired since the start
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=frozen_mid_run)


@sizes
def test_waiting_out_a_rate_limit(snap_compare, size):
    """The simulator allows 40 requests a rolling 30 s; the 41st gets a 429 with Retry-After 30 and the run
    waits: "waiting 30 s: Spotify rate limit". The clocks of the simulator and the client stand still and the
    client's sleep never ends, so the snapshot is taken during the wait at its start."""
    app, _ = make_app(autostart=False, frozen=True)
    app.tracker.artist_concurrency = 1  # artists one after the other: which are done when the 429 comes is fixed
    sim = app.runtime.offline.sim
    sim.config.rate_limit, sim.clock = 40, lambda: 1000.0
    waiting = asyncio.Event()

    async def held(seconds):
        waiting.set()
        await asyncio.Event().wait()  # until the app ends

    app.client._clock, app.client._sleep = (lambda: 5000.0), held

    async def in_the_wait(pilot):
        await _greeting_dismissed(pilot)
        app.start_run(force=False)
        await asyncio.wait_for(waiting.wait(), 30)  # a run that never waits fails here, not hangs
        await pilot.pause()
        app.dashboard.flush(all_rows=True)
        app.dashboard.refresh_metrics(reschedule=False)
        await pilot.pause()
        assert "waiting 30 s: Spotify rate limit" in str(app.dashboard.query_one("#status").render())

    assert snap_compare(app, terminal_size=SIZES[size], run_before=in_the_wait)


@sizes
def test_daily_quota_reached(snap_compare, size):
    """The simulator's daily quota of 60 requests runs out mid-run (six artists listed, six left due): the run
    stops, keeps what it fetched, and says when to come back (a day after the clock the app was given: 00:00).
    Its notice is dismissed: it says the same by the wall clock, which a snapshot cannot fix."""
    app, _ = make_app(autostart=False, frozen=True)
    sim = app.runtime.offline.sim
    sim.config.quota, sim.clock = 60, lambda: 1000.0  # Retry-After: the whole day, to the second

    async def quota_gone(pilot):
        await _run(pilot)
        assert "daily quota reached: back at 00:00" in str(app.dashboard.query_one("#status").render())
        assert any("come back after" in n.message for n in app._notifications)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=quota_gone)


@sizes
def test_spotify_unreachable(snap_compare, size):
    """Every request of the simulator fails with a 503: each artist fails after its retries (✗), one line and
    one notice say so for the run ("Spotify unreachable: 12 artists failed (details: l)", at 80 columns cut
    after "failed" so the counts fit)."""
    app, _ = make_app(autostart=False, frozen=True)
    sim = app.runtime.offline.sim
    sim.config.fault_rate, sim.config.faults = 1.0, ("503",)
    app.client._sleep = _no_wait  # the retries' backoff

    async def outage(pilot):
        await _run(pilot)
        assert "Spotify unreachable: 12 artists failed" in str(app.dashboard.query_one("#status").render())

    assert snap_compare(app, terminal_size=SIZES[size], run_before=outage)


@sizes
def test_a_cancelled_run(snap_compare, size):
    """x during a run held at the fifth artist: four ✓, no ⟳ left, 'idle (run cancelled)' and its notice."""
    app, gated = make_app(gate_artist_index=4, frozen=True)

    async def cancelled(pilot):
        await asyncio.wait_for(gated.reached.wait(), 30)
        app.clear_notifications()
        await pilot.press("x")
        await _settled(pilot)
        assert "⟳" not in {str(app.dashboard.query_one("#artists").get_row_at(r)[0]) for r in range(12)}

    assert snap_compare(app, terminal_size=SIZES[size], run_before=cancelled)


@sizes
def test_help(snap_compare, size):
    app, _ = make_app(frozen=True)

    async def help_open(pilot):
        await _idle_after_a_run(pilot)
        await pilot.press("question_mark")

    assert snap_compare(app, terminal_size=SIZES[size], run_before=help_open)


@sizes
def test_the_log_open(snap_compare, size):
    """The log after a run: each artist's calls, the run's end (its duration and stall fixed); at 80x24 it takes
    the metrics panels' place."""
    app, _ = make_app(frozen=True)

    async def log_open(pilot):
        await _idle_after_a_run(pilot)
        await pilot.press("l")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=log_open)


def test_add_artist_modal_with_search_results(snap_compare):
    app, _ = make_app(autostart=False, frozen=True)

    async def search(pilot):
        await pilot.press("a", *"the")
        screen = pilot.app.screen
        screen.search("the")
        await screen.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=search)


def test_error_notice(snap_compare, tmp_path):
    app, _ = make_app(autostart=False, frozen=True)
    missing = tmp_path / "no-such-file.txt"

    async def failed_import(pilot):
        app.clear_notifications()
        await pilot.press("i", "enter")
        pilot.app.screen.query_one("#where").value = str(missing).replace(str(tmp_path), "/tmp")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=failed_import)


def _history_app(monkeypatch):
    import time

    from tui_support import seed_history

    monkeypatch.setenv("TZ", "UTC")  # the days and weeks are local ones
    time.tzset()
    app, _ = make_app(autostart=False, frozen=True)
    seed_history(app.runtime.store)
    return app


async def _history(pilot):
    await pilot.pause()
    pilot.app.clear_notifications()  # the offline banner would cover a plot
    await pilot.press("h")
    await pilot.pause()


def test_history_view_at_80x24(snap_compare, monkeypatch):
    assert snap_compare(_history_app(monkeypatch), terminal_size=(80, 24), run_before=_history)


def test_history_view_at_200x60(snap_compare, monkeypatch):
    assert snap_compare(_history_app(monkeypatch), terminal_size=(200, 60), run_before=_history)
async def _grouped_with_the_top_album_open(pilot):
    await _settled(pilot)
    pilot.app.clear_notifications()  # the offline notice would cover the rows
    await pilot.press("g")
    releases = pilot.app.query_one("#releases")
    for row in range(releases.row_count):  # the newest album of several tracks
        releases.move_cursor(row=row)
        if releases.selected_album() is not None:
            break
    assert releases.selected_album() is not None, "an album of several tracks"
    await pilot.press("enter")
    await pilot.pause()


def test_releases_grouped_by_album_at_80x24(snap_compare):
    app, _ = make_app(frozen=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_grouped_with_the_top_album_open)


def test_releases_grouped_by_album_at_200x60(snap_compare):
    app, _ = make_app(frozen=True)
    assert snap_compare(app, terminal_size=(200, 60), run_before=_grouped_with_the_top_album_open)


async def _open_details(pilot, artist_id: str):
    app = pilot.app
    app.clear_notifications()
    app.runtime.store.db.execute("UPDATE artists SET added_at = '2026-11-01T09:30:00+00:00'")  # added as the test ran
    artists = app.query_one("#artists")
    artists.focus()
    artists.move_cursor(row=artists.get_row_index(artist_id))
    await pilot.press("enter")
    await pilot.pause()


def test_artist_details_at_80x24_show_a_name_in_markup_literally(snap_compare):
    app, _ = make_app(frozen=True, hostile=True)

    async def details(pilot):
        await _settled(pilot)
        await _open_details(pilot, next(a.id for a in app.runtime.store.artists() if a.name.startswith("[link=")))

    assert snap_compare(app, terminal_size=(80, 24), run_before=details)


def test_artist_details_at_200x60_list_the_releases_of_the_busiest_artist(snap_compare):
    app, _ = make_app(frozen=True)

    async def details(pilot):
        await _settled(pilot)
        store = app.runtime.store
        await _open_details(pilot, max(store.artists(), key=lambda a: len(store.artist_releases(a.id, app.cutoff()))).id)

    assert snap_compare(app, terminal_size=(200, 60), run_before=details)
