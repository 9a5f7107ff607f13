"""Connection pooling: N requests through one pooled client vs a new client per request.

Runs the simulator's loopback server in its own thread (so its work does not
share the client's event loop) with realistic latency, and prints wall time and
TCP connections accepted by the server for each way.

    python -m benchmarks.pooling [--requests 500] [--latency-ms 50] [--jitter-ms 0] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from esh_tui.config import Settings
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.server import SimServer
from esh_tui.spotify.client import SpotifyClient

from benchmarks.world import TODAY


async def _pooled(settings: Settings, paths: list[str], concurrency: int) -> None:
    async with SpotifyClient(settings, max_connections=concurrency, concurrency=concurrency,
                             max_concurrency=concurrency) as client:
        await asyncio.gather(*(client.get(p, {"n": i}, template="GET /artists/{id}") for i, p in enumerate(paths)))


async def _no_keepalive(settings: Settings, paths: list[str], concurrency: int) -> None:
    """One client and token, but a fresh TCP connection for every request."""
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=0))
    async with SpotifyClient(settings, transport, concurrency=concurrency, max_concurrency=concurrency) as client:
        await asyncio.gather(*(client.get(p, {"n": i}, template="GET /artists/{id}") for i, p in enumerate(paths)))


async def _new_client_each(settings: Settings, paths: list[str], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int, path: str) -> None:
        async with gate:
            async with SpotifyClient(settings) as client:
                await client.get(path, {"n": i}, template="GET /artists/{id}")

    await asyncio.gather(*(one(i, p) for i, p in enumerate(paths)))


def measure(requests: int, latency_ms: float, jitter_ms: float, concurrency: int) -> dict[str, dict[str, float]]:
    catalog = Catalog.generate(1, 100, TODAY)
    ids = list(catalog.artists)
    paths = [f"/artists/{ids[i % len(ids)]}" for i in range(requests)]
    results = {}
    ways = (("pooled client", _pooled), ("one client, keep-alive off", _no_keepalive),
            ("new client per request", _new_client_each))
    for name, way in ways:
        sim = SimSpotify(catalog, SimConfig(mode="development", latency_ms=latency_ms, jitter_ms=jitter_ms))
        server = SimServer(sim).start_in_thread()
        try:
            settings = Settings(data_dir=Path(tempfile.gettempdir()), api_url=server.api_url, accounts_url=server.url,
                                client_id="bench", client_secret="bench")
            started = time.perf_counter()
            asyncio.run(way(settings, paths, concurrency))
            results[name] = {"wall_s": time.perf_counter() - started,
                             "connections": server.connections_accepted,
                             "api_calls": sim.calls(), "token_calls": sim.counts[("POST /api/token", 200)]}
        finally:
            server.stop_thread()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    results = measure(args.requests, args.latency_ms, args.jitter_ms, args.concurrency)
    print(f"{args.requests} requests, loopback simulator, {args.latency_ms:g} ms ± {args.jitter_ms:g} ms latency, "
          f"{args.concurrency} in flight")
    print(f"{'way':<28} {'wall s':>8} {'connections':>12} {'api calls':>10} {'token calls':>12}")
    for name, r in results.items():
        print(f"{name:<28} {r['wall_s']:>8.2f} {r['connections']:>12} {r['api_calls']:>10} {r['token_calls']:>12}")
    pooled, naive = results["pooled client"], results["new client per request"]
    print(f"pooling: {naive['wall_s'] / pooled['wall_s']:.1f}x faster, "
          f"{naive['connections'] / max(1, pooled['connections']):.0f}x fewer connections")


if __name__ == "__main__":
    main()
