"""The `esh-tui` command.

Exit codes: 0 success; 1 Spotify or the network failed; 2 bad input (nothing
was changed); 3 rate limit or daily quota reached (what was fetched is kept;
run again later); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import shutil
import signal
import sqlite3
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from esh_tui import __version__
from esh_tui.config import ConfigError, load_settings
from esh_tui.formats import FORMATS, render
from esh_tui.models import parse_spotify_ref
from esh_tui.runtime import open_runtime
from esh_tui.storage.store import StoreError, store_error
from esh_tui.text import clean
from esh_tui.tracker.select import MAX_PER_ARTIST_HELP, limit_per_artist
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
    parser.add_argument("--artist", action="append", default=[], metavar="NAME_OR_ID",
                        help="only this artist (name, Spotify ID, URI or URL); repeat for more")
    parser.add_argument("--force-refresh", action="store_true", help="ask Spotify even for artists that are fresh")
    parser.add_argument("--delta-only", action="store_true", help="only releases not reported by an earlier run")
    parser.add_argument("--max-per-artist", type=_count(1, 10_000), metavar="N", help=MAX_PER_ARTIST_HELP)
    parser.add_argument("--playlist", metavar="ID_OR_URL",
                        help="only the artists on this Spotify playlist (not added to your list)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="esh-tui", description="Never miss a new release from the artists you care about.",
                     epilog="With no Spotify credentials configured, esh-tui runs on its built-in offline Spotify. "
                            "Exit codes: 0 ok, 1 Spotify/network failure, 2 bad input, 3 rate limit or quota reached.")
    parser.add_argument("--version", action="version", version=f"esh-tui {__version__}")
    _add_run_options(parser)
    parser.set_defaults(func=cmd_default)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    track = commands.add_parser("track", help="find new releases and print them (for cron and scripts)")
    _add_run_options(track)
    track.set_defaults(func=cmd_track)

    login = commands.add_parser("login", help="log in to Spotify (for your liked songs, followed artists, playlists)")
    login.add_argument("--no-browser", action="store_true", help="print the login link instead of opening a browser")
    login.set_defaults(func=cmd_login)
    logout = commands.add_parser("logout", help="forget the Spotify login")
    logout.set_defaults(func=cmd_logout)

    artists = commands.add_parser("artists", help="manage the artists you track")
    artist_commands = artists.add_subparsers(dest="artists_command", metavar="ARTISTS_COMMAND", required=True,
                                             parser_class=_Parser)
    add = artist_commands.add_parser("add", help="track artists by name, Spotify ID, URI or URL")
    add.add_argument("refs", nargs="+", metavar="NAME_OR_ID")
    add.set_defaults(func=cmd_artists_add)
    remove = artist_commands.add_parser("remove", help="stop tracking artists (by name or ID)")
    remove.add_argument("refs", nargs="+", metavar="NAME_OR_ID")
    remove.set_defaults(func=cmd_artists_remove)
    listing = artist_commands.add_parser("list", help="the artists you track")
    listing.add_argument("--format", choices=("pretty", "tsv", "json"), default="pretty")
    listing.set_defaults(func=cmd_artists_list)
    imported = artist_commands.add_parser("import", help="track the artists in a file (one name, ID, URI or URL a line; # comments)")
    imported.add_argument("file", metavar="FILE", help="a file, or - for standard input")
    imported.set_defaults(func=cmd_artists_import)
    from_playlist = artist_commands.add_parser("import-playlist", help="track every artist on a Spotify playlist")
    from_playlist.add_argument("playlist", metavar="ID_OR_URL")
    from_playlist.set_defaults(func=cmd_artists_import_playlist)
    liked = artist_commands.add_parser("import-liked", help="track the artists of your liked songs (needs login)")
    liked.add_argument("--min-tracks", type=_count(1, 100_000), default=1, metavar="N",
                       help="only artists with at least N liked songs (default 1)")
    liked.set_defaults(func=cmd_artists_import_liked)
    followed = artist_commands.add_parser("import-followed", help="track the artists you follow on Spotify (needs login)")
    followed.set_defaults(func=cmd_artists_import_followed)
    export = artist_commands.add_parser("export", help="back up the artist list and settings as JSON")
    export.add_argument("file", metavar="FILE", type=Path, help="the JSON file to write, or - for standard output")
    export.set_defaults(func=cmd_artists_export)
    restore = artist_commands.add_parser("restore", help="restore the artist list and settings from a backup")
    restore.add_argument("file", metavar="FILE", type=Path)
    restore.set_defaults(func=cmd_artists_restore)

    stats = commands.add_parser("stats", help="what fetching cost: cache hits by tier, latency, API calls per release")
    stats.add_argument("--runs", type=_count(1, 1000), default=5, help="how many recent runs (default 5)")
    stats.set_defaults(func=cmd_stats)

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

def cmd_default(args: argparse.Namespace) -> int:
    """The dashboard on a terminal; a headless run when output goes to a pipe or a file."""
    headless = (args.format != "pretty" or args.artist or args.playlist or args.delta_only or args.max_per_artist
                or args.since
                or not (sys.stdin.isatty() and sys.stdout.isatty()))
    if headless:
        return cmd_track(args)
    from esh_tui.tui.app import create_app

    app = create_app(days=args.days)
    try:
        app.run()
    finally:
        app.runtime.close()
    return EXIT_OK


def cmd_track(args: argparse.Namespace) -> int:
    from esh_tui.tracker.engine import Tracker

    runtime = open_runtime()
    try:
        cutoff = args.since or (runtime.today() - dt.timedelta(days=args.days))

        async def run():
            async with runtime.client() as client:
                ids = [await _resolve(client, ref) for ref in args.artist] if args.artist else None
                if args.playlist:
                    ids = (ids or []) + await _playlist_artists(runtime, args.playlist)
                if ids is None and not runtime.store.artists():
                    raise UsageError("no artists tracked yet: add some with 'esh-tui artists add NAME_OR_URL'")
                if runtime.offline:
                    _note(f"No Spotify credentials configured: running on {runtime.describe()}.")
                progress = _Progress() if sys.stderr.isatty() else None
                tracker = Tracker(client, runtime.store, runtime.cache(), today=runtime.today, on_event=progress)
                with _interrupted_by_signals(tracker):
                    return await tracker.run(cutoff, [i for i, _ in ids] if ids else None, force=args.force_refresh)

        try:
            result = asyncio.run(run())
        except asyncio.CancelledError:  # SIGINT or SIGTERM: the run is recorded as interrupted, nothing printed
            raise KeyboardInterrupt from None
        releases = result.releases
        if args.delta_only:
            unreported = runtime.store.unreported(r.key for r in releases)
            releases = [r for r in releases if r.key in unreported]
        if args.max_per_artist:
            releases = limit_per_artist(releases, args.max_per_artist)
        unseen = runtime.store.unseen(r.key for r in releases) if args.format == "json" else set()
        with _signals_held():  # a Ctrl-C or SIGTERM now waits until the output is whole and recorded
            sys.stdout.write(render(releases, args.format, _width(), unseen=unseen))
            sys.stdout.flush()
            if args.delta_only:  # reported means printed: only now that the output is written and flushed
                runtime.store.mark_reported(r.key for r in releases)
    finally:
        runtime.close()
    failed_for: dict[str, list[str]] = {}  # one line per reason: a network outage is one line, not one per artist
    for artist_id, reason in result.failed.items():
        failed_for.setdefault(reason, []).append(artist_id)
    for reason, ids in failed_for.items():
        if len(ids) == 1:
            _note(f"esh-tui: could not check artist {ids[0]}: {reason} (it stays due and is retried next run)")
        else:
            some = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
            _note(f"esh-tui: could not check {len(ids)} artists ({some}): {reason} "
                  "(they stay due and are retried next run)")
    if sys.stderr.isatty():
        _note(f"{len(result.releases)} releases ({len(result.new_keys)} new) · {result.api_calls} API calls · "
              f"{result.artists_fetched} artists fetched, {result.artists_cached} fresh from the cache")
    if result.status in ("quota", "rate_limited"):
        _note(f"esh-tui: {result.message}")
        return EXIT_LATER
    return EXIT_FAILED if result.failed else EXIT_OK


@contextlib.contextmanager
def _interrupted_by_signals(tracker) -> Iterator[None]:
    """Ctrl-C and SIGTERM (cron's timeout, a shutdown) cancel the run, which then records itself as
    interrupted and keeps what it fetched, instead of dying with the record left running."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()

    def stop() -> None:
        tracker.stop_reason = "interrupted"
        task.cancel()

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signal here
            pass
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def _playlist_artists(runtime, ref: str) -> list[tuple[str, str]]:
    """The artists on a playlist (for `track --playlist`)."""
    from esh_tui.tracker.imports import playlist_artists

    playlist_id = _playlist_id(ref)
    with _refusals("playlist"):
        async with runtime.playlist_client() as client:
            found = await playlist_artists(client, playlist_id)
    if not found:
        raise UsageError("that playlist has no artists to track")
    return found


def _playlist_id(ref: str) -> str:
    try:
        playlist_id = parse_spotify_ref(ref, "playlist")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if playlist_id is None:
        raise UsageError(f"{ref!r} is not a Spotify playlist ID or URL")
    return playlist_id


@contextlib.contextmanager
def _refusals(source: str) -> Iterator[None]:
    """Spotify refusing what the user named becomes a usage error that says why."""
    from esh_tui.spotify.errors import ForbiddenError, NotFoundError

    try:
        yield
    except NotFoundError:
        raise UsageError(f"Spotify has no such {source} (check the ID or URL)") from None
    except ForbiddenError:
        raise UsageError(f"Spotify does not let this app read that {source}: development-mode apps may only read "
                         "playlists you own (log in with 'esh-tui login' as the owner)") from None


async def _resolve(client, ref: str) -> tuple[str, str]:
    from esh_tui.tracker.artists import ArtistNotFound, resolve_artist

    try:
        return await resolve_artist(client, ref)
    except ArtistNotFound as exc:
        raise UsageError(str(exc)) from None


def cmd_artists_add(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        async def resolve_all():
            async with runtime.client() as client:
                return [await _resolve(client, ref) for ref in args.refs]

        found = asyncio.run(resolve_all())  # all resolved before anything is written
        added = runtime.store.add_artists((i, name, "manual") for i, name in found)
    finally:
        runtime.close()
    for artist_id, name in found:
        _note(f"tracking {clean(name)} ({artist_id})")
    _note(f"{added} artist{'s' if added != 1 else ''} added, {len(found) - added} already tracked")
    return EXIT_OK


def cmd_artists_remove(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        tracked = runtime.store.artists()
        ids = []
        for ref in args.refs:
            try:
                artist_id = parse_spotify_ref(ref, "artist")
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            matches = [a.id for a in tracked if a.id == artist_id or (artist_id is None and a.name.casefold() == ref.strip().casefold())]
            if not matches:
                raise UsageError(f"{ref!r} is not among the artists you track (see 'esh-tui artists list')")
            ids += matches
        removed = runtime.store.remove_artists(ids)
    finally:
        runtime.close()
    _note(f"{removed} artist{'s' if removed != 1 else ''} removed")
    return EXIT_OK


def cmd_artists_list(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        artists = runtime.store.artists()
    finally:
        runtime.close()
    if args.format == "json":
        print(json.dumps([{"id": a.id, "name": a.name, "source": a.source, "added_at": a.added_at,
                           "last_release": a.last_release, "frequency": a.frequency,
                           "failed": a.failed_reason} for a in artists], ensure_ascii=False, indent=2))
    else:
        for a in artists:
            fields = (a.id, clean(a.name), a.source, a.last_release or "", a.frequency or "")
            print("\t".join(fields) if args.format == "tsv" else f"{a.id}  {clean(a.name):<40} {a.frequency or 'not checked yet'}")
    return EXIT_OK


def cmd_artists_import(args: argparse.Namespace) -> int:
    from esh_tui.tracker.imports import ImportFileError, read_artist_file

    try:
        refs = read_artist_file(args.file)
    except ImportFileError as exc:
        raise UsageError(str(exc)) from None
    runtime = open_runtime()
    try:
        async def resolve_all():
            found = []
            async with runtime.client() as client:
                for number, ref in refs:
                    try:
                        found.append(await _resolve(client, ref))
                    except UsageError as exc:
                        raise UsageError(f"{args.file} line {number}: {exc}; nothing was imported") from None
            return found

        found = asyncio.run(resolve_all())
        added = runtime.store.add_artists((i, name, "import") for i, name in found)
    finally:
        runtime.close()
    _note(f"{added} artist{'s' if added != 1 else ''} added from {args.file}, {len(found) - added} already tracked")
    return EXIT_OK


def _import_from_spotify(source: str, fetch, reader=lambda runtime: runtime.client(user=True)) -> int:
    """Find artists with `fetch(client)`, then add them all at once (nothing is added on failure).
    `reader(runtime)`: the client to read with (the user's, unless the source is a playlist)."""
    from esh_tui.spotify.errors import AuthError

    runtime = open_runtime()
    try:
        async def run():
            async with reader(runtime) as client:
                return await fetch(client)

        try:
            with _refusals(source):
                found = asyncio.run(run())
        except AuthError as exc:
            raise UsageError(str(exc)) from None
        if not found:
            raise UsageError(f"no artists found in that {source}; nothing was added")
        added = runtime.store.add_artists((i, name, source) for i, name in found)
    finally:
        runtime.close()
    _note(f"{added} artist{'s' if added != 1 else ''} added from your {source}, {len(found) - added} already tracked")
    return EXIT_OK


def cmd_artists_import_playlist(args: argparse.Namespace) -> int:
    from esh_tui.tracker.imports import playlist_artists

    playlist_id = _playlist_id(args.playlist)
    return _import_from_spotify("playlist", lambda client: playlist_artists(client, playlist_id),
                                reader=lambda runtime: runtime.playlist_client())


def cmd_artists_import_liked(args: argparse.Namespace) -> int:
    from esh_tui.tracker.imports import liked_artists

    return _import_from_spotify("liked songs", lambda client: liked_artists(client, args.min_tracks))


def cmd_artists_import_followed(args: argparse.Namespace) -> int:
    from esh_tui.tracker.imports import followed_artists

    return _import_from_spotify("followed artists", followed_artists)


def cmd_artists_export(args: argparse.Namespace) -> int:
    from esh_tui.storage.backup import BackupError, write_backup

    runtime = open_runtime()
    try:
        count = write_backup(runtime.store, args.file)
    except BackupError as exc:
        raise UsageError(str(exc)) from None
    finally:
        runtime.close()
    _note(f"{count} artists and the settings saved to {'standard output' if str(args.file) == '-' else args.file}")
    return EXIT_OK


def cmd_artists_restore(args: argparse.Namespace) -> int:
    from esh_tui.storage.backup import BackupError, read_backup, restore_backup

    try:
        read_backup(args.file)  # refuse a bad file before the store is even opened
    except BackupError as exc:
        raise UsageError(str(exc)) from None
    runtime = open_runtime()
    try:
        count = restore_backup(runtime.store, args.file)
    finally:
        runtime.close()
    _note(f"restored {count} artists and the settings from {args.file}")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        runs = runtime.store.runs(args.runs)
        if not runs:
            print("no runs yet: run 'esh-tui track' first")
            return EXIT_OK
        for run in runs:
            calls, releases = run["api_calls"] or 0, run["releases"] or 0
            when = dt.datetime.fromtimestamp(run["started_at"]).strftime("%Y-%m-%d %H:%M")
            per = f"{calls / releases:.2f}" if releases else "n/a"
            print(f"run {run['id']} · {when} · {run['status']} · {run['mode']} mode · {releases} releases "
                  f"({run['new_releases'] or 0} new) · {calls} API calls · {per} calls/release · "
                  f"{run['artists_fetched'] or 0}/{run['artists'] or 0} artists fetched")
            for tier, st in runtime.store.cache_stats(run["id"]).items():
                total = (st["hits"] or 0) + (st["misses"] or 0)
                rate = f"{100 * st['hits'] / total:.0f}%" if total else "n/a"
                p50 = f"{st['p50_ms']:.3f}" if st["p50_ms"] is not None else "n/a"
                p95 = f"{st['p95_ms']:.3f}" if st["p95_ms"] is not None else "n/a"
                print(f"    cache {tier:<6} hit rate {rate:>4} ({st['hits']} hits, {st['misses']} misses, "
                      f"{st['evictions']} evictions) · lookup p50 {p50} ms, p95 {p95} ms")
            for template, count in runtime.store.calls_by_endpoint(run["id"]).items():
                print(f"    {count:>6}  {template}")
    finally:
        runtime.close()
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


class _Progress:
    """Progress on stderr, only when stderr is a terminal."""

    def __call__(self, event) -> None:
        from esh_tui.tracker.events import Progress, RunFinished
        if isinstance(event, Progress):
            print(f"\r{event.done}/{event.total} artists", end="", file=sys.stderr, flush=True)
        elif isinstance(event, RunFinished):
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM are held back (not lost) inside the block, and delivered after it."""
    held = {signal.SIGINT, signal.SIGTERM}
    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _width() -> int | None:
    return shutil.get_terminal_size((120, 24)).columns if sys.stdout.isatty() else None


def _store_path() -> Path | str:
    """The store this command used (as `open_runtime` picks it), to name it in a message."""
    from esh_tui.sim.offline import OFFLINE_STORE

    try:
        settings = load_settings()
    except ConfigError:
        return "in the data directory"
    return settings.store_path if settings.has_credentials else settings.data_dir / OFFLINE_STORE


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    # When a run stops early (quota, rate limit, interrupt), connection attempts still being set up are
    # cancelled; httpcore then leaves a coroutine unawaited, and Python would print a warning into cron mail.
    warnings.filterwarnings("ignore", message="coroutine 'connect_tcp.<locals>.try_connect' was never awaited",
                            category=RuntimeWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, ConfigError) as exc:
        print(f"esh-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"esh-tui: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except sqlite3.DatabaseError as exc:  # damage found after the store was opened (opening checks the header only)
        print(f"esh-tui: error: {store_error(exc, _store_path())}", file=sys.stderr)
        return EXIT_FAILED
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
