"""What features (appears_on) cost, and what changing a filter costs, against the oracle.

Per API mode, on the simulator's catalog with version releases: a cold 90-day run without features and one with
them (each in a store of its own), their calls against the oracle's fewest, and the releases each reports (checked
against the oracle with the same filter); then, in the store without features, an hour later (every artist
fresh): a run hiding singles, remixes and sped-up versions (no call), one with features turned on (every artist
listed again) and one with them off again (no call).

    python -m benchmarks.features [--artists 100] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
from pathlib import Path

from esh_tui.config import Settings
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.release_filter import ReleaseFilter

from benchmarks.world import TODAY

DAYS = 90


class _World:
    def __init__(self, catalog: Catalog, mode: str, path: Path):
        self.catalog, self.path, self.now = catalog, path, 1_800_000_000.0
        self.sim = SimSpotify(catalog, SimConfig(mode=mode), clock=lambda: self.now)
        self.ids = [a.id for a in catalog.real_artists()]

    async def run(self, release_filter: ReleaseFilter) -> tuple[int, int]:
        """(API calls, releases reported), the releases checked against the oracle."""
        store = Store(self.path)
        try:
            store.add_artists((i, self.catalog.artists[i].name, "bench") for i in self.ids)
            before = self.sim.calls()
            settings = Settings(data_dir=self.path.parent, client_id="bench", client_secret="bench-secret")
            async with SpotifyClient(settings, SimTransport(self.sim), clock=lambda: self.now) as client:
                tracker = Tracker(client, store, ReleaseCache(store, clock=lambda: self.now),
                                  today=lambda: self.catalog.today, release_filter=release_filter)
                result = await tracker.run(self.catalog.today - dt.timedelta(days=DAYS), self.ids)
        finally:
            store.close()
        want = oracle.expected_releases(self.catalog, self.ids, self.catalog.today - dt.timedelta(days=DAYS),
                                        filters=oracle.Filters.like(release_filter))
        assert {r.key for r in result.releases} == set(want), "the oracle disagrees"
        return self.sim.calls() - before, len(result.releases)


async def _mode(catalog: Catalog, mode: str, directory: Path) -> None:
    cutoff = catalog.today - dt.timedelta(days=DAYS)
    ids = [a.id for a in catalog.real_artists()]
    print(f"\n{mode} mode, {len(ids)} artists, {DAYS} days")
    plain = _World(catalog, mode, directory / f"{mode}-plain.db")
    calls_off, releases_off = await plain.run(ReleaseFilter())
    featuring = _World(catalog, mode, directory / f"{mode}-features.db")
    calls_on, releases_on = await featuring.run(ReleaseFilter(appears_on=True))
    bound_off = oracle.minimum_calls(catalog, ids, cutoff, mode).total
    bound_on = oracle.minimum_calls(catalog, ids, cutoff, mode, groups=oracle.Filters(appears_on=True).groups).total
    print(f"  cold, no features:   {calls_off:6,} calls (oracle min {bound_off:,}, {calls_off / bound_off:.2f}x), "
          f"{releases_off} releases")
    print(f"  cold, with features: {calls_on:6,} calls (oracle min {bound_on:,}, {calls_on / bound_on:.2f}x), "
          f"{releases_on} releases: features cost {calls_on / calls_off - 1:+.0%} calls")
    plain.now += 3600
    for label, chosen in (("hide singles, remixes, sped-up", ReleaseFilter(types=frozenset({"album", "ep", "compilation"}),
                                                                        exclude=frozenset({"remix", "sped-up"}))),
                          ("features turned on", ReleaseFilter(appears_on=True)),
                          ("features off again", ReleaseFilter())):
        calls, releases = await plain.run(chosen)
        print(f"  +1 h, {label + ':':32} {calls:6,} calls, {releases} releases")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artists", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    catalog = Catalog.generate(args.seed, args.artists, TODAY, versions=True)
    with tempfile.TemporaryDirectory() as directory:
        for mode in ("development", "extended"):
            asyncio.run(_mode(catalog, mode, Path(directory)))


if __name__ == "__main__":
    main()
