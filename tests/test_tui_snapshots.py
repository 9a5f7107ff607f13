"""What the dashboard looks like in its main states (pytest-textual-snapshot; --snapshot-update to accept)."""

from __future__ import annotations

from tui_support import make_app


async def _settled(pilot):
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.dashboard.flush(all_rows=True)
    app.dashboard.refresh_metrics(reschedule=False)
    await pilot.pause()


def test_first_start_on_the_simulator(snap_compare):
    app, _ = make_app(autostart=False, frozen=True)
    assert snap_compare(app, terminal_size=(80, 24))


def test_finished_run_with_hostile_names_at_80x24(snap_compare):
    app, _ = make_app(frozen=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settled)


def test_finished_run_uses_a_large_terminal(snap_compare):
    app, _ = make_app(frozen=True)
    assert snap_compare(app, terminal_size=(140, 40), run_before=_settled)


def test_mid_run_with_releases_streaming_in(snap_compare):
    app, gated = make_app(gate_artist_index=6, frozen=True)

    async def frozen_mid_run(pilot):
        await gated.reached.wait()
        await pilot.pause()
        app.dashboard.flush(all_rows=True)
        app.dashboard.refresh_metrics(reschedule=False)  # the panels' 1 s timer may not have fired since the start
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=frozen_mid_run)


def test_add_artist_modal_with_search_results(snap_compare):
    app, _ = make_app(autostart=False, frozen=True)

    async def search(pilot):
        await pilot.press("a", *"the")
        screen = pilot.app.screen
        screen.search("the")
        await screen.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=search)


def test_help(snap_compare):
    app, _ = make_app(autostart=False, frozen=True)
    assert snap_compare(app, terminal_size=(100, 30), press=["question_mark"])


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
    releases.move_cursor(row=0)
    assert releases.selected_album() is not None, "the newest row is an album of several tracks"
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
    app, _ = make_app(frozen=True)

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
