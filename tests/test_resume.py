"""A run stopped part way (quota, faults, a cancel) keeps what it fetched, and the next run goes on from there."""

from __future__ import annotations

import pytest

from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.events import ArtistDone

from reliability_support import FakeWorld, tracked_ids


@pytest.mark.parametrize("mode", ["development", "extended"])
async def test_capabilities_are_saved_as_soon_as_learned_not_only_when_the_run_ends(catalog_factory, tmp_path, mode):
    catalog = catalog_factory(1, 20)
    world = FakeWorld(catalog, tmp_path / "esh.db", mode=mode)
    ids = tracked_ids(catalog)
    store = Store(world.path)
    store.add_artists((i, catalog.artists[i].name, "test") for i in ids)
    saved_and_known = []  # after each artist: what another process finds in the store, what the client knows

    def on_event(event) -> None:
        if isinstance(event, ArtistDone):
            other = Store(world.path)
            try:
                saved = other.capabilities(world.settings.api_url)
                saved_and_known.append((saved and (saved.batch, saved.page_max),
                                        (client.capabilities.batch, client.capabilities.page_max)))
            finally:
                other.close()

    try:
        async with SpotifyClient(world.settings, world.transport(), sleep=world.time.sleep,
                                 clock=world.time.clock) as client:
            tracker = Tracker(client, store, ReleaseCache(store, clock=world.time.clock), today=lambda: catalog.today,
                              on_event=on_event)
            await tracker.run(world.cutoff(), ids)
    finally:
        store.close()
    assert all(saved == known for saved, known in saved_and_known), "saved while the run still goes on"
    assert saved_and_known[-1][0] == (mode == "extended", 50 if mode == "extended" else 10)
