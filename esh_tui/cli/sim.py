"""`esh-tui sim ...`: serve the built-in offline Spotify, and ask its oracle what a correct tracker must find."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json

from esh_tui.cli.errors import EXIT_FAILED, EXIT_OK, UsageError, note
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.report import oracle_report, pretty_report
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
    report = oracle_report(args.seed, args.artists, args.today or dt.date.today(), args.days)
    print(json.dumps(report, indent=2) if args.format == "json" else pretty_report(report))
    return EXIT_OK
