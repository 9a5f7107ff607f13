"""A store bigger than a screen: the dashboard paints a screenful, then loads the rest between frames."""

from __future__ import annotations

import dataclasses
import gc
import datetime as dt

from esh_tui.models import FoundRelease, Learned, Release
from esh_tui.tui.screens import dashboard
from esh_tui.tui.widgets.releases import ReleasesTable
from esh_tui.tui.widgets.tables import ArtistsTable

from tui_support import NOW, TODAY, make_app

EXTRA_ARTISTS, EXTRA_RELEASES = 400, 1_200


def _fill(store) -> None:
    """Many more artists and releases than FIRST_ROWS, all fresh (no run is due), dates with many ties."""
    ids = [f"loadtest{i:05d}" for i in range(EXTRA_ARTISTS)]
    store.add_artists((artist_id, f"Artist {i % 37} [b]x[/b]", "test") for i, artist_id in enumerate(ids))
    with store.transaction():
        store.db.conn.executemany("UPDATE artists SET next_due = ? WHERE id = ?", [(NOW + 86_400, i) for i in ids])
    found = [FoundRelease(Release(key=f"LOADTEST{i:05d}", isrc=f"LOADTEST{i:05d}", track_id=f"t{i}",
                                  track_name=f"Track {i % 50}", artist_names=(f"Artist {i % 37}",),
                                  album_id=f"a{i // 3}", album_name=f"Album {i // 3}", album_type="single",
                                  release_date=TODAY - dt.timedelta(days=i % 30), found_for=(ids[i % EXTRA_ARTISTS],)),
                          NOW) for i in range(EXTRA_RELEASES)]
    store.save_progress(None, Learned(releases=found), NOW)


def _order(table) -> list[str]:
    return [table.coordinate_to_cell_key((row, 0)).row_key.value for row in range(table.row_count)]


async def test_a_big_store_loads_every_row_after_the_first_paint_in_the_same_order_as_all_at_once_and_frozen():
    app, _ = make_app(autostart=False)
    _fill(app.runtime.store)
    expected_artists = {a.id for a in app.runtime.store.artists()}
    expected_releases = {r.key for r, _ in app.runtime.store.releases_since(app.cutoff())}
    async with app.run_test(size=(110, 34)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        artists, releases = app.query_one(ArtistsTable), app.query_one(ReleasesTable)
        assert app.dashboard._loading is None
        assert set(artists._rows) == expected_artists and artists.row_count == len(expected_artists)
        assert set(releases.releases) == expected_releases and releases.row_count == len(expected_releases)
        assert _order(artists) == artists.ordered_keys() and _order(releases) == releases.ordered_keys()
        collected = {id(o) for o in gc.get_objects()}  # what the collector's passes walk (not what is frozen)
        assert not any(id(cells) in collected for cells in releases._rows.values()), \
            "the rows loaded after the first paint are kept out of the collector's full passes"


async def test_rows_the_engine_changed_while_the_store_loads_are_not_overwritten_by_the_stores_older_ones(monkeypatch):
    monkeypatch.setattr(dashboard, "ROWS_SLICE", 0.0)  # one row a turn of the loop: the load is still going on
    app, _ = make_app(autostart=False)
    _fill(app.runtime.store)
    last = app.runtime.store.artists()[-1]
    newest = next(r for r, _ in reversed(app.runtime.store.releases_since(app.cutoff())))
    async with app.run_test(size=(110, 34)) as pilot:
        artists, releases = app.query_one(ArtistsTable), app.query_one(ReleasesTable)
        assert app.dashboard._loading is not None and not artists.has(last.id) and newest.key not in releases.releases
        artists.show(dataclasses.replace(last, name="Renamed meanwhile"), now=NOW)
        releases.show(newest, new=False)  # seen meanwhile: the store read at the start still says unseen
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert artists.name_of(last.id) == "Renamed meanwhile"
        assert releases.is_new(newest.key) is False
        assert artists.row_count == len(app.runtime.store.artists())
