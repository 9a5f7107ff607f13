"""The dashboard's playlist key (P) and palette entries: the ★ releases, or the selection, into the playlist."""

from __future__ import annotations

from esh_tui.delivery.playlist import DEFAULT_NAME, SETTING
from esh_tui.tui.widgets.releases import ReleasesTable

from tui_support import make_app, settle

SIZE = (110, 34)
ADD = "POST /playlists/{id}/items"


def _playlist(app):
    entry = app.runtime.store.settings()[SETTING][DEFAULT_NAME]
    return app.runtime.offline.catalog.playlists[entry["id"]]


async def test_p_adds_every_unseen_release_once_and_says_how_many_with_the_link():
    app, _ = make_app()
    sim = app.runtime.offline.sim
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.query_one(ReleasesTable)
        unseen = [table.releases[k].track_id for k in table.unseen()]
        assert unseen
        await pilot.press("P")
        await settle(app, pilot)
        playlist = _playlist(app)
        assert playlist.track_ids == list(dict.fromkeys(unseen)) and not playlist.public
        said = [str(n.message) for n in app._notifications]
        assert any(f"added {len(playlist.track_ids)} tracks" in m and playlist.id in m for m in said), said

        posts = sim.calls(ADD)
        await pilot.press("P")
        await settle(app, pilot)
        assert sim.calls(ADD) == posts, "nothing new: no POST"
        assert any(str(n.message).startswith("Playlist: added 0 tracks") for n in app._notifications)
        assert not any(n.markup for n in app._notifications), "the playlist's name and link are shown literally"


async def test_the_palettes_add_selected_puts_only_the_selected_release_in():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.query_one(ReleasesTable)
        table.focus()
        await pilot.pause()
        selected = table.selected_release()
        titles = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {"Add unseen to playlist", "Add selected to playlist"} <= set(titles)
        titles["Add selected to playlist"].callback()
        await settle(app, pilot)
        assert _playlist(app).track_ids == [selected.track_id]


async def test_p_without_login_on_spotify_says_to_log_in_and_sends_nothing(monkeypatch):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        monkeypatch.setattr(app.runtime, "offline", None)  # as with credentials of your own and no login
        app.sync_playlist([next(iter(app.query_one(ReleasesTable).releases.values()))],
                          "No unseen releases to add to the playlist")
        await settle(app, pilot)
        assert app.playlist_worker is None
        assert any("esh-tui login --playlist" in str(n.message) for n in app._notifications)
        assert SETTING not in app.runtime.store.settings()
