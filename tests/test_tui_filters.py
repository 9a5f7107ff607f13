"""The dashboard's release filter panel: f (or the palette) opens it, each toggle changes the releases shown at once."""

from __future__ import annotations

from textual.widgets import SelectionList

from esh_tui.tracker.release_filter import ReleaseFilter
from esh_tui.tui.screens.release_filters import ReleaseFiltersScreen
from esh_tui.tui.widgets.releases import ReleasesTable

from tui_support import make_app, settle

SIZE = (110, 34)


def _types(table: ReleasesTable) -> set[str]:
    return {table.releases[str(key.value)].album_type for key in table.rows}


async def test_f_opens_the_filter_panel_and_hiding_singles_takes_them_off_the_table_at_once():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        releases = app.query_one(ReleasesTable)
        before = set(releases.releases)
        assert {"album", "single"} <= _types(releases), "the sample shows both"
        calls = app.client.log.calls
        await pilot.press("f")
        assert isinstance(app.screen, ReleaseFiltersScreen)
        choices = app.screen.query_one(SelectionList)
        assert choices.get_option_at_index(1).value == "type:single"
        await pilot.press("down", "space")  # "show singles" off
        await pilot.pause()
        assert "single" not in _types(releases) and releases.row_count < len(before)
        assert app.tracker.release_filter.types == frozenset({"album", "ep", "compilation"})
        title = str(app.dashboard.query_one("#releases-title").render())
        assert title == "Releases · types album, ep, compilation", "the pane says what is hidden"
        await pilot.press("space")  # and on again: everything is back, from the store
        await pilot.pause()
        assert set(releases.releases) == before
        await pilot.press("escape")
        assert app.screen is app.dashboard
        assert app.client.log.calls == calls, "a filter only hides: no API call"


async def test_the_next_run_keeps_the_filter_chosen_in_the_panel():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.dashboard.apply_release_filter(ReleaseFilter(types=frozenset({"single"})))
        await pilot.press("R")  # a forced refresh: every artist asked again
        await settle(app, pilot)
        result = app.last_result
        assert result is not None and result.releases
        assert {r.album_type for r in result.releases} == {"single"} == _types(app.query_one(ReleasesTable))


async def test_the_palette_offers_the_release_filters_and_the_panel_names_configs_patterns_literally():
    app, _ = make_app(release_filter=ReleaseFilter(block=(r"\[bold\]x",), block_artists=("[red]Red[/] Alert",)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "Release filters" in {c.title for c in app.get_system_commands(app.screen)}
        app.dashboard.action_release_filters()
        await pilot.pause()
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert r"\[bold\]x" in text and "[red]Red[/] Alert" in text, "shown as written, never as markup"


async def test_an_artists_details_list_its_releases_as_the_filter_shows_them():
    from esh_tui.tui.screens.artist_detail import ArtistScreen

    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        store, cutoff = app.runtime.store, app.cutoff()

        def kinds(artist_id: str) -> set[str]:
            return {r.album_type for r, _ in store.artist_releases(artist_id, cutoff)}

        artist = next(a for a in store.artists() if {"album", "single"} <= kinds(a.id))
        every = store.artist_releases(artist.id, cutoff)
        app.dashboard.apply_release_filter(ReleaseFilter(types=frozenset({"album"})))
        app.push_screen(ArtistScreen(artist.id))
        await pilot.pause()
        albums = [r for r, _ in every if r.album_type == "album"]
        title = str(app.screen.query_one("#artist-releases-title").render())
        assert f" {len(albums)} since" in title and len(albums) < len(every)
        assert app.screen.query_one("#artist-releases-table").content.row_count == len(albums)  # a rich Table


def test_a_remap_onto_f_is_refused_by_name_as_the_release_filters_key():
    from esh_tui.tui.app import EshApp, keymap_clashes
    from esh_tui.tui.screens.dashboard import DashboardScreen

    bindings = [*DashboardScreen.BINDINGS, *EshApp.BINDINGS]
    assert keymap_clashes(bindings, {"history": "f"}) == [("history", "release_filters", "f")]
    assert keymap_clashes(bindings, {"release_filters": "F"}) == [], "f's action may move to a free key"


async def test_a_start_on_a_store_with_releases_shows_them_as_the_filter_does_from_the_first_paint():
    """The table is filled from the store before the first paint and between frames after it: through the filter."""
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert {"album", "single"} <= _types(app.query_one(ReleasesTable))
    app.runtime.close()

    app, _ = make_app(autostart=False, release_filter=ReleaseFilter(types=frozenset({"single"})))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        releases = app.query_one(ReleasesTable)
        assert releases.row_count and _types(releases) == {"single"}
        assert app.client.log.calls == 0, "from the store"
