"""`esh-tui sim ...`: serve the built-in offline Spotify, and ask its oracle what a correct tracker must find."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json

from esh_tui.cli.errors import EXIT_FAILED, EXIT_OK, UsageError, note
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.server import SimServer


def cmd_serve(args: argparse.Namespace) -> int:
    faults = tuple(f.strip() for f in args.faults.split(",") if f.strip())
    try:
        config = SimConfig(mode=args.mode, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms,
                           rate_limit=args.rate_limit, quota=args.quota, fault_rate=args.fault_rate,
                           faults=faults, seed=args.seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    catalog = Catalog.generate(args.seed, args.artists, args.today or dt.date.today())

    async def serve() -> None:
        async with SimServer(SimSpotify(catalog, config), port=args.port) as server:
            print(f"esh-tui sim: {config.mode} Spotify, seed {args.seed}, {args.artists} artists, "
                  f"today {catalog.today}, listening on 127.0.0.1:{server.port}", flush=True)
            print(f"ESH_API_URL={server.api_url}", flush=True)
            print(f"ESH_ACCOUNTS_URL={server.url}", flush=True)
            await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except OSError as exc:
        note(f"esh-tui: error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}")
        return EXIT_FAILED
    return EXIT_OK
def cmd_oracle(args: argparse.Namespace) -> int:
    catalog = Catalog.generate(args.seed, args.artists, args.today or dt.date.today())
    ids = [a.id for a in catalog.real_artists()]
    cutoff = catalog.today - dt.timedelta(days=args.days)
    report = {"seed": args.seed, "artists": len(ids), "today": catalog.today.isoformat(), "days": args.days,
              "catalog": catalog.summary(), "expected_releases": len(oracle.expected_releases(catalog, ids, cutoff)),
              "minimum_calls": {}, "minimum_calls_next_week": {}}
    knowledge = oracle.Knowledge().learn(catalog, ids, cutoff)
    for mode in ("development", "extended"):
        bound = oracle.minimum_calls(catalog, ids, cutoff, mode)
        report["minimum_calls"][mode] = {"total": bound.total, **bound.by_endpoint}
    catalog.advance(7)
    later_cutoff = catalog.today - dt.timedelta(days=args.days)
    for mode in ("development", "extended"):
        bound = oracle.minimum_calls(catalog, ids, later_cutoff, mode, knowledge)
        report["minimum_calls_next_week"][mode] = {"total": bound.total, **bound.by_endpoint}
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return EXIT_OK
    c = report["catalog"]
    print(f"catalog: seed {args.seed}, {c['artists']} artists, {c['albums']} albums, {c['tracks']} tracks "
          f"visible on {report['today']} ({c['future_albums']} albums still to come)")
    print(f"expected releases, last {args.days} days: {report['expected_releases']}")
    for label, key in (("minimum API calls, cold", "minimum_calls"), ("minimum API calls, a week later", "minimum_calls_next_week")):
        for mode, calls in report[key].items():
            detail = ", ".join(f"{k} {v}" for k, v in calls.items() if k != "total")
            print(f"{label}, {mode}: {calls['total']} ({detail})")
    return EXIT_OK
