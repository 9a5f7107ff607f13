"""Where the benchmarks run: a simulated Spotify (loopback server or in-process) and esh-tui sessions.

A *world* is one simulated Spotify with its catalog, a fake wall clock for the
engine's freshness (so "an hour later" and "a week later" cost no real time)
and a copy of the catalog in this process for the oracle. The loopback server
runs as a child process (`esh-tui sim serve`), so its CPU and memory are not
counted as esh-tui's. A *session* is one esh-tui process: a client, a store,
a cache and a tracker, built from `EngineOptions`.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from esh_tui.config import Settings
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.accounting import CallRecord
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.options import EngineOptions

TODAY = dt.date(2026, 11, 23)
DAYS = 90
EPOCH = 1_800_000_000.0  # the engine's fake "now" at the first run (seconds)
HOUR, DAY = 3600.0, 86_400.0
FAULTS = "500,502,503,timeout,drop"
CLIENT_ID, CLIENT_SECRET = "esh-bench", "esh-bench-secret"  # the simulator accepts any


_catalogs: dict[tuple[int, int], Catalog] = {}


def catalog_for(seed: int, size: int) -> Catalog:
    """The catalog for (seed, size) as of TODAY; generated once per process, its clock reset on every call."""
    catalog = _catalogs.get((seed, size))
    if catalog is None:
        catalog = _catalogs[(seed, size)] = Catalog.generate(seed, size, TODAY)
    catalog.today = catalog.start_today
    return catalog


def tracked_ids(catalog: Catalog) -> list[str]:
    return [a.id for a in catalog.real_artists()]


class World:
    """A simulated Spotify, a fake clock, and the catalog as the oracle sees it."""

    kind = "abstract"

    def __init__(self, catalog: Catalog, mode: str, *, latency_ms: float = 0.0, jitter_ms: float = 0.0,
                 rate_limit: int | None = None, fault_rate: float = 0.0, faults: str = FAULTS):
        self.catalog, self.mode = catalog, mode
        self.latency_ms, self.jitter_ms = latency_ms, jitter_ms
        self.rate_limit, self.fault_rate, self.faults = rate_limit, fault_rate, faults
        self.now = EPOCH
        self.ids = tracked_ids(catalog)
        self._dir = tempfile.TemporaryDirectory(prefix="esh-bench-")
        self.dir = Path(self._dir.name)

    def clock(self) -> float:
        return self.now

    @property
    def cutoff(self) -> dt.date:
        return self.catalog.today - dt.timedelta(days=DAYS)

    def wait(self, seconds: float) -> None:
        """Time passes for the engine (its freshness clock), not for the catalog."""
        self.now += seconds

    def advance(self, days: int, *, clock: bool = True) -> None:
        """Days pass: new releases appear in the simulator and in the oracle's catalog (and, with
        `clock`, the engine's clock moves the same days)."""
        self.catalog.advance(days)
        if clock:
            self.now += days * DAY

    def transport(self) -> httpx.AsyncBaseTransport | None:
        return None

    def settings(self) -> Settings:
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        """{"api_calls": n, "connections": n or None}, as the simulator counts them."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "latency_ms": self.latency_ms, "jitter_ms": self.jitter_ms,
                "rate_limit_per_30s": self.rate_limit, "fault_rate": self.fault_rate,
                "faults": self.faults if self.fault_rate else None}

    def close(self) -> None:
        self._dir.cleanup()

    def __enter__(self) -> "World":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LoopbackWorld(World):
    """`esh-tui sim serve` on 127.0.0.1 in a child process; real TCP, real latency."""

    kind = "loopback"

    def __init__(self, catalog: Catalog, mode: str, **knobs: Any):
        super().__init__(catalog, mode, **knobs)
        command = [sys.executable, "-m", "esh_tui", "sim", "serve", "--port", "0", "--mode", mode,
                   "--seed", str(catalog.seed), "--artists", str(catalog.size), "--today", TODAY.isoformat(),
                   "--latency-ms", str(self.latency_ms), "--jitter-ms", str(self.jitter_ms)]
        if self.rate_limit:
            command += ["--rate-limit", str(self.rate_limit)]
        if self.fault_rate:
            command += ["--fault-rate", str(self.fault_rate), "--faults", self.faults]
        self._log = open(self.dir / "server.log", "w+")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, text=True)
        lines = [self.process.stdout.readline() for _ in range(3)]
        found = dict(line.strip().split("=", 1) for line in lines[1:] if "=" in line)
        if "ESH_API_URL" not in found:
            self.close()
            raise RuntimeError(f"the simulator did not start: {lines!r}")
        self.api_url, self.accounts_url = found["ESH_API_URL"], found["ESH_ACCOUNTS_URL"]
        self._control = httpx.Client(base_url=self.accounts_url, timeout=30)

    def settings(self) -> Settings:
        return Settings(data_dir=self.dir, api_url=self.api_url, accounts_url=self.accounts_url,
                        client_id=CLIENT_ID, client_secret=CLIENT_SECRET)

    def advance(self, days: int, *, clock: bool = True) -> None:
        self._control.post("/_sim/advance", params={"days": days}).raise_for_status()
        super().advance(days, clock=clock)

    def stats(self) -> dict[str, Any]:
        stats = self._control.get("/_sim/stats").json()
        calls = sum(n for template, statuses in stats["requests"].items()
                    if not template.startswith(("POST /api/token", "GET /authorize")) for n in statuses.values())
        return {"api_calls": calls, "connections": stats["connections_accepted"],
                "faults_injected": sum(stats["faults_injected"].values())}

    def close(self) -> None:
        if getattr(self, "process", None) is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_control", None) is not None:
            self._control.close()
        self._log.close()
        super().close()


class InProcessWorld(World):
    """The simulator inside this process, through its httpx transport: for scale, where TCP does not matter."""

    kind = "in-process"

    def __init__(self, catalog: Catalog, mode: str, **knobs: Any):
        super().__init__(catalog, mode, **knobs)
        faults = tuple(f for f in self.faults.split(",") if f)
        self.sim = SimSpotify(catalog, SimConfig(mode=mode, latency_ms=self.latency_ms, jitter_ms=self.jitter_ms,
                                                 rate_limit=self.rate_limit, fault_rate=self.fault_rate,
                                                 faults=faults, seed=catalog.seed))

    def transport(self) -> httpx.AsyncBaseTransport:
        return SimTransport(self.sim)

    def settings(self) -> Settings:
        return Settings(data_dir=self.dir, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)

    def stats(self) -> dict[str, Any]:
        return {"api_calls": self.sim.calls(), "connections": None,
                "faults_injected": sum(self.sim.faults_injected.values())}


def make_world(transport: str, catalog: Catalog, mode: str, **knobs: Any) -> World:
    return (LoopbackWorld if transport == "loopback" else InProcessWorld)(catalog, mode, **knobs)


class Session:
    """One esh-tui process over the world's store file: client, store, cache and tracker, with these options."""

    def __init__(self, world: World, options: EngineOptions, *, timeout: float = 15.0):
        self.world, self.options = world, options
        self.store = Store(world.dir / "esh.db")
        self.store.add_artists((i, world.catalog.artists[i].name, "bench") for i in world.ids)
        self.client = SpotifyClient(world.settings(), world.transport(), timeout=timeout, **options.client_kwargs())
        self.cache = ReleaseCache(self.store, clock=world.clock, **options.cache_kwargs())
        self.tracker = Tracker(self.client, self.store, self.cache, today=lambda: world.catalog.today, options=options)
        self.records: list[CallRecord] = []  # every send, whatever the log keeps
        self.client.log.listeners.append(self.records.append)

    async def close(self) -> None:
        await self.client.aclose()
        self.store.close()

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
