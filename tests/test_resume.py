"""A run stopped part way (quota, faults, a cancel) keeps what it fetched, and the next run goes on from there."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from esh_tui.sim import oracle

from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.events import ArtistDone

from conftest import catalog_copy
from reliability_support import FakeWorld, assert_matches_oracle, expected, tracked_ids


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


async def _yield(seconds: float) -> None:
    await asyncio.sleep(0)  # the simulator's latency, without waiting: requests still overlap


# Development mode with overlapping answers (many requests in flight when the quota runs out). Extended mode's
# batches leave on a wall-clock window, so overlapping answers make its figures vary run to run (1.6-3.3% on seed
# 1): there the answers come at once, and batches leave at the next turn of the event loop rather than after a
# few real milliseconds (in which a loaded machine did more or less), so the figures are the same every time.
@pytest.mark.parametrize("mode, latency_ms", [("development", 20.0), ("extended", 0.0)])
def test_a_cold_run_stopped_by_the_quota_then_resumed_costs_at_most_3_percent_more_than_one_clean_run(
        mode, latency_ms, monkeypatch):
    from benchmarks.resume import measure
    from esh_tui.spotify.batching import BatchLoader

    if mode == "extended":
        monkeypatch.setattr(BatchLoader.__init__, "__defaults__", (0.0, 0.0))  # window, batch_window

    figures = measure(mode, 100, 1, latency_ms=latency_ms, sleep=_yield)
    assert figures["stopped_status"] == "quota" and figures["resumed_status"] == "ok", figures
    assert figures["same_as_clean"] and figures["exact"], "the same releases as a clean run, and as the oracle"
    # The requests the quota refused were on the wire when it ran out: those, and at most 3% more, are asked again.
    assert figures["total_calls"] - figures["refused"] <= 1.03 * figures["clean_calls"], figures


async def test_at_half_server_errors_a_prolific_artist_completes_because_each_attempt_keeps_what_it_fetched(tmp_path):
    catalog = catalog_copy(3, 40)
    prolific = max(tracked_ids(catalog), key=lambda a: oracle.minimum_calls(catalog, [a], catalog.today - dt.timedelta(days=365),
                                                                            "development").total)
    clean, full_scan = await FakeWorld(catalog, tmp_path / "clean.db").run(365, [prolific])
    world = FakeWorld(catalog, tmp_path / "esh.db", fault_rate=0.5, faults=("500", "502", "503"))
    attempts = []
    for _ in range(6):
        result, calls = await world.run(365, [prolific])
        attempts.append((result.status, calls - world.sim.calls(status=500) - world.sim.calls(status=502)
                         - world.sim.calls(status=503)))
        world.sim.reset_counts()
        if result.status == "ok":
            break
    assert attempts[0][0] == "partial", "at 50% server errors the first attempt fails part way"
    assert attempts[-1][0] == "ok" and len(attempts) <= 4, attempts
    assert all(answered < full_scan for _, answered in attempts[1:]), (attempts, full_scan)
    assert sum(answered for _, answered in attempts) <= full_scan * 1.1, "nothing answered is asked for again"
    assert_matches_oracle(result, expected(catalog, [prolific], 365))
    assert_matches_oracle(clean, expected(catalog, [prolific], 365))


def test_a_listing_goes_past_albums_a_stopped_scan_kept_and_stops_at_older_known_ones():
    from esh_tui.tracker.listing import Listing, take

    def album(name: str, day: int) -> dict:
        return {"id": name.ljust(22, "x"), "name": name, "album_type": "album", "release_date": f"2026-11-{day:02d}",
                "release_date_precision": "day", "artists": [{"id": "a" * 22, "name": "A"}]}

    cutoff, complete_back_to, partial_back_to = (dt.date(2026, 11, d) for d in (1, 1, 10))
    known = {"kept".ljust(22, "x"), "old".ljust(22, "x")}
    listing = Listing(cutoff, known, complete_back_to, partial_back_to)
    assert take(album("kept", 20), "album", listing) is False, "kept by a stopped scan: an unread one may follow"
    assert take(album("unread", 15), "album", listing) is False
    assert take(album("old", 5), "album", listing) is True, "known before any stopped scan: older ones were seen"
    assert [a["name"] for a in listing.found] == ["unread"] and not listing.gap and not listing.skipped
    without = Listing(cutoff, known, complete_back_to)
    assert take(album("kept", 20), "album", without) is True, "a complete listing's known album ends its group"
