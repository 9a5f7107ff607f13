"""The `esh-tui` command.

Exit codes: 0 success; 1 Spotify or the network failed; 2 bad input (nothing
was changed); 3 rate limit or daily quota reached (what was fetched is kept;
run again later); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Sequence

from esh_tui import __version__
from esh_tui.config import ConfigError, load_settings
from esh_tui.formats import FORMATS, render
from esh_tui.models import parse_spotify_ref
from esh_tui.spotify.errors import QuotaExceededError, RateLimitedError, SpotifyError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LATER, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
MAX_DAYS = 36_500


class UsageError(Exception):
    """Bad input from the user: one line, exit 2, nothing changed."""


# ----- argument types: each names what was wrong and what to do ---------------------------------

def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days (try --days 90)") from None
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"--days must be between 1 and {MAX_DAYS}, got {days}")
    return days


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a real date in the form YYYY-MM-DD (try 2026-08-01)") from None


def _count(low: int, high: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {number}")
        return number
    return parse


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number between 0 and 1") from None
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {rate}")
    return rate


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--days", type=_days, default=90, help="releases from the last N days (default 90)")
    window.add_argument("--since", type=_date, help="releases on or after this date (YYYY-MM-DD)")
    parser.add_argument("--format", choices=FORMATS, default="pretty", help="output format (default pretty)")
    parser.add_argument("--artist", action="append", default=[], metavar="ID_OR_URL",
                        help="track this artist (Spotify ID, URI or URL); repeat for more")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="esh-tui", description="Never miss a new release from the artists you care about.",
                     epilog="With no Spotify credentials configured, esh-tui runs on its built-in offline Spotify. "
                            "Exit codes: 0 ok, 1 Spotify/network failure, 2 bad input, 3 rate limit or quota reached.")
    parser.add_argument("--version", action="version", version=f"esh-tui {__version__}")
    _add_run_options(parser)
    parser.set_defaults(func=cmd_track)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    track = commands.add_parser("track", help="find new releases and print them (for cron and scripts)")
    _add_run_options(track)
    track.set_defaults(func=cmd_track)

    login = commands.add_parser("login", help="log in to Spotify (for your liked songs, followed artists, playlists)")
    login.add_argument("--no-browser", action="store_true", help="print the login link instead of opening a browser")
    login.set_defaults(func=cmd_login)
    logout = commands.add_parser("logout", help="forget the Spotify login")
    logout.set_defaults(func=cmd_logout)

    sim = commands.add_parser("sim", help="the built-in offline Spotify")
    sim_commands = sim.add_subparsers(dest="sim_command", metavar="SIM_COMMAND", required=True, parser_class=_Parser)
    serve = sim_commands.add_parser("serve", help="serve the simulator on 127.0.0.1 until interrupted")
    _add_catalog_options(serve)
    serve.add_argument("--port", type=_count(0, 65535), default=0, help="port (default 0: any free port)")
    serve.add_argument("--mode", choices=("development", "extended"), default="development")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="mean latency per request")
    serve.add_argument("--jitter-ms", type=float, default=0.0, help="latency varies by up to this much")
    serve.add_argument("--rate-limit", type=_count(1, 10**9), help="requests allowed per rolling 30 s")
    serve.add_argument("--quota", type=_count(1, 10**12), help="requests allowed per day")
    serve.add_argument("--fault-rate", type=_rate, default=0.0, help="share of requests that fail (0 to 1)")
    serve.add_argument("--faults", default="500,502,503,timeout,drop", help="kinds of fault to inject")
    serve.set_defaults(func=cmd_sim_serve)

    oracle = sim_commands.add_parser("oracle", help="what a correct tracker must find, and its fewest API calls")
    _add_catalog_options(oracle)
    oracle.add_argument("--days", type=_days, default=90, help="cutoff: the last N days (default 90)")
    oracle.add_argument("--format", choices=("pretty", "json"), default="pretty")
    oracle.set_defaults(func=cmd_sim_oracle)
    return parser


def _add_catalog_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=_count(0, 2**31), default=1, help="catalog seed (default 1)")
    parser.add_argument("--artists", type=_count(10, 10_000), default=100, help="catalog size (default 100)")
    parser.add_argument("--today", type=_date, help="the catalog's today (default: the real today)")


# ----- commands ----------------------------------------------------------------------------------

def cmd_track(args: argparse.Namespace) -> int:
    from esh_tui.sim.offline import offline_spotify
    from esh_tui.spotify.client import SpotifyClient
    from esh_tui.tracker.pipeline import find_releases

    settings = load_settings()
    artist_ids = []
    for ref in args.artist:
        try:
            artist_id = parse_spotify_ref(ref, "artist")
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if artist_id is None:
            raise UsageError(f"{ref!r} is not a Spotify artist ID, URI or URL "
                             "(copy it from Spotify: Share → Copy link to artist)")
        artist_ids.append(artist_id)
    cutoff = args.since or (dt.date.today() - dt.timedelta(days=args.days))
    transport = None
    if settings.uses_simulator:
        offline = offline_spotify(settings)
        settings, transport = offline.settings, offline.transport
        artist_ids = artist_ids or offline.sample_artist_ids()
        cutoff = args.since or (offline.catalog.today - dt.timedelta(days=args.days))
        _note(f"No Spotify credentials configured: running on {offline.describe()}, "
              f"tracking {len(artist_ids)} sample artists.")
    elif not artist_ids:
        raise UsageError("no artists to track: pass --artist with a Spotify artist ID or URL")

    async def run():
        async with SpotifyClient(settings, transport) as client:
            return await find_releases(client, artist_ids, cutoff)

    result = asyncio.run(run())
    sys.stdout.write(render(result.releases, args.format))
    return EXIT_OK


def cmd_login(args: argparse.Namespace) -> int:
    import webbrowser

    import httpx

    from esh_tui.spotify.auth import login

    settings = load_settings()
    if not settings.client_id:
        raise UsageError("logging in needs a Spotify app: set SPOTIFY_CLIENT_ID (see the README); "
                         "the built-in offline Spotify needs no login")

    def open_browser(url: str) -> None:
        _note(f"Log in to Spotify in your browser: {url}")
        if not args.no_browser:
            webbrowser.open(url)

    async def run() -> frozenset[str]:
        async with httpx.AsyncClient(timeout=15) as http:
            return await login(settings, http, open_browser)

    scopes = asyncio.run(run())
    _note(f"Logged in to Spotify ({', '.join(sorted(scopes)) or 'no scopes'}).")
    return EXIT_OK


def cmd_logout(args: argparse.Namespace) -> int:
    from esh_tui.spotify.auth import logout

    _note("Logged out of Spotify." if logout(load_settings()) else "Not logged in; nothing to forget.")
    return EXIT_OK


def cmd_sim_serve(args: argparse.Namespace) -> int:
    from esh_tui.sim.api import SimConfig, SimSpotify
    from esh_tui.sim.catalog import Catalog
    from esh_tui.sim.server import SimServer

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
        print(f"esh-tui: error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_sim_oracle(args: argparse.Namespace) -> int:
    from esh_tui.sim import oracle
    from esh_tui.sim.catalog import Catalog

    catalog = Catalog.generate(args.seed, args.artists, args.today or dt.date.today())
    ids = [a.id for a in catalog.artists.values() if a.profile != "various"]
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


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, ConfigError) as exc:
        print(f"esh-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (QuotaExceededError, RateLimitedError) as exc:
        print(f"esh-tui: {exc}", file=sys.stderr)
        return EXIT_LATER
    except SpotifyError as exc:
        print(f"esh-tui: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("esh-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
