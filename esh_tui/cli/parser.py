"""The command line: argument types that name what was wrong, and the parser of every command.

A command is named as (module in esh_tui.cli, function) and imported only when it runs,
so `--version` and `--help` load neither the engine, nor the store, nor the simulator.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from esh_tui import __version__
from esh_tui.cli.errors import EXIT_CODES_HELP, EXIT_USAGE
from esh_tui.cli.filter_options import add_filter_options
from esh_tui.delivery.targets import TargetError, feed_option, notify_url
from esh_tui.formats import FORMATS
from esh_tui.text import clean
from esh_tui.tracker.select import MAX_PER_ARTIST_HELP

MAX_DAYS = 36_500


# ----- argument types: each names what was wrong and what to do ---------------------------------

def days(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days (try --days 90)") from None
    if not 1 <= number <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"--days must be between 1 and {MAX_DAYS}, got {number}")
    return number


def date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a real date in the form YYYY-MM-DD (try 2026-08-01)") from None


CATALOG_DAYS = (dt.date(1900, 1, 1), dt.date(2999, 12, 31))  # a catalog spans years around its today


def catalog_today(value: str) -> dt.date:
    day = date(value)
    low, high = CATALOG_DAYS
    if not low <= day <= high:
        raise argparse.ArgumentTypeError(f"the catalog's today must be between {low} and {high}, got {day}")
    return day


def milliseconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of milliseconds") from None
    if not 0.0 <= number <= 60_000.0:  # NaN and infinity too: an endless latency would hold every request
        raise argparse.ArgumentTypeError(f"must be between 0 and 60000 ms, got {number}")
    return number


def count(low: int, high: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {number}")
        return number
    return parse


def market(value: str) -> str:
    if value != "from_token" and not (len(value) == 2 and value.isascii() and value.isalpha()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a market: a country code like SE, or from_token")
    return value if value == "from_token" else value.upper()


def rate(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number between 0 and 1") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {number}")
    return number


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_USAGE, f"{self.prog}: error: {clean(message)} (see {self.prog} --help)\n")


class _MainParser(_Parser):
    """The main help's epilog names the log file: worked out only when the help is shown, not for every command."""

    def format_help(self) -> str:
        import os

        import platformdirs  # not esh_tui.config: that loads the store's modules, which the help does without

        where = Path(os.environ.get("ESH_LOG_DIR") or platformdirs.user_log_dir("esh-tui")).expanduser() / "esh-tui.log"
        self.epilog = "\n\n".join((
            "With no Spotify credentials configured, esh-tui runs on its built-in offline Spotify.",
            "examples:\n  esh-tui                                  the dashboard\n"
            "  esh-tui track --days 30 --format tsv     new releases of the last 30 days, for scripts\n"
            "  esh-tui artists add \"Artist Name\"        track an artist\n"
            "  esh-tui COMMAND --help                   what a command does, with an example",
            f"log file: {where}\n  runs, errors, 429 waits, quota and budget stops; more with --verbose "
            "(ESH_LOG_DIR moves it; 'esh-tui config' shows the one in effect)",
            "shell completion: esh-tui completion bash|zsh|fish (see the README for where to put it)",
            EXIT_CODES_HELP))
        return super().format_help()


def _command(commands, name: str, help: str, *examples: str) -> argparse.ArgumentParser:
    """A command with its one-line description and its examples (shown by `esh-tui ... NAME --help`)."""
    return commands.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".",
                               epilog="example" + ("s" if len(examples) > 1 else "") + ":\n"
                                      + "\n".join(f"  {example}" for example in examples),
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def _stored_artists(prefix: str = "", **_) -> list[str]:
    """Shell completion of NAME_OR_ID: the tracked artists' names and IDs, read from the store (see completion.py)."""
    from esh_tui.cli.completion import stored_artists

    return stored_artists(prefix)


def _verbose(parser: argparse.ArgumentParser, default=False) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="log more: each artist's outcome (see the log file in esh-tui --help)")


def _runs(parser: argparse.ArgumentParser, module: str, function: str) -> None:
    parser.set_defaults(command_module=module, command_function=function)


# ----- the commands ----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = _MainParser(prog="esh-tui", description="Never miss a new release from the artists you care about.",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"esh-tui {__version__}")
    _verbose(parser)
    _add_run_options(parser)
    parser.set_defaults(market=None, all_markets=False, to_playlist=None)  # `track`'s own, for a headless dashboard
    _runs(parser, "track", "cmd_default")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    track = _command(commands, "track", "find new releases and print them (for cron and scripts)",
                     "esh-tui track --days 30 --format tsv",
                     "esh-tui track --since 2026-09-01 --delta-only --max-per-artist 3")
    _add_run_options(track)
    _verbose(track, default=argparse.SUPPRESS)  # `esh-tui track -v` and `esh-tui -v track` both work
    markets = track.add_mutually_exclusive_group()
    markets.add_argument("--market", type=market, metavar="CC",
                         help="your country (like SE), or from_token (your account's, after login); "
                              "default: the market setting")
    markets.add_argument("--all-markets", action="store_true",
                         help="send no market: every market's editions, releases not available in yours too")
    track.add_argument("--to-playlist", nargs="?", const=PLAYLIST_DEFAULT_NAME, metavar="NAME",
                       help="then add the releases to a private playlist in your Spotify account (NAME, default "
                            f"{PLAYLIST_DEFAULT_NAME!r}; needs 'esh-tui login --playlist'), as 'playlist sync' does")
    _add_delivery_options(track)
    _runs(track, "track", "cmd_track")

    setup = _command(commands, "setup", "connect your own Spotify app: checks its credentials and saves them",
                     "esh-tui setup",
                     "esh-tui setup --client-id ID < secret.txt   # not on a terminal: the secret from stdin "
                     "or SPOTIFY_CLIENT_SECRET")
    setup.add_argument("--client-id", metavar="ID",
                       help="the app's client id (on a terminal you are asked for it; the secret is always asked "
                            "without echo, or read from SPOTIFY_CLIENT_SECRET or stdin)")
    _verbose(setup, default=argparse.SUPPRESS)
    _runs(setup, "setup", "cmd_setup")

    login = _command(commands, "login", "log in to Spotify (for your liked songs, followed artists, playlists)",
                     "esh-tui login --no-browser", "esh-tui login --playlist")
    login.add_argument("--no-browser", action="store_true", help="print the login link instead of opening a browser")
    login.add_argument("--playlist", action="store_true",
                       help="also ask for permission to create and change your private playlists (for 'esh-tui "
                            "playlist sync'; later logins keep asking for it)")
    _runs(login, "login", "cmd_login")
    logout = _command(commands, "logout", "forget the Spotify login", "esh-tui logout")
    _runs(logout, "login", "cmd_logout")

    _add_artists_commands(commands)
    _add_playlist_commands(commands)

    stats = _command(commands, "stats", "what fetching cost: cache hits by tier, latency, API calls per release",
                     "esh-tui stats --runs 10", "esh-tui stats --format json --days 30")
    stats.add_argument("--runs", type=count(1, 1000), default=5, help="how many recent runs (default 5)")
    stats.add_argument("--format", choices=("text", "json"), default="text",
                       help="text (default), or json: the runs, the budget and the history for scripts")
    stats.add_argument("--days", type=count(1, 3650), default=30,
                       help="how far back the history goes (json: calls per day, cost per run, releases per week; "
                            "default 30)")
    _runs(stats, "stats", "cmd_stats")

    config = _command(commands, "config", "where the config file, the store and the log are, and every setting's source",
                      "esh-tui config")
    _runs(config, "config", "cmd_config")

    completion = _command(commands, "completion", "print the shell completion script for bash, zsh or fish",
                          "esh-tui completion bash > ~/.local/share/bash-completion/completions/esh-tui",
                          "esh-tui completion fish > ~/.config/fish/completions/esh-tui.fish")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="your shell")
    _runs(completion, "completion", "cmd_completion")

    _add_delivery_commands(commands)
    _add_sim_commands(commands)
    return parser


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--days", type=days, default=90, help="releases from the last N days (default 90)")
    window.add_argument("--since", type=date, help="releases on or after this date (YYYY-MM-DD)")
    parser.add_argument("--format", choices=FORMATS, default="pretty", help="output format (default pretty)")
    parser.add_argument("--artist", action="append", default=[], metavar="NAME_OR_ID",
                        help="only this artist (name, Spotify ID, URI or URL); repeat for more"
                        ).completer = _stored_artists
    parser.add_argument("--force-refresh", action="store_true", help="ask Spotify even for artists that are fresh")
    parser.add_argument("--delta-only", action="store_true", help="only releases not reported by an earlier run")
    parser.add_argument("--max-per-artist", type=count(1, 10_000), metavar="N", help=MAX_PER_ARTIST_HELP)
    parser.add_argument("--playlist", metavar="ID_OR_URL",
                        help="only the artists on this Spotify playlist (not added to your list)")
    parser.add_argument("--budget", type=count(0, 10**9), metavar="N",
                        help="spend at most N API calls today, counting every run and the dashboard's prefetching "
                             "(0: no limit; default: [network] daily_budget); artists that do not fit stay due")
    add_filter_options(parser)


def _argument(check):
    """An argument type from a delivery check (esh_tui/delivery/targets.py): its problem and fix as the error."""
    def parse(value: str):
        try:
            return check(value)
        except TargetError as exc:
            raise argparse.ArgumentTypeError("; ".join(exc.args)) from None
    return parse


def _add_delivery_options(parser: argparse.ArgumentParser) -> None:
    """--notify and --feed: where a run's new releases go besides the output (see esh_tui/delivery/)."""
    parser.add_argument("--notify", action="append", default=[], metavar="URL", type=_argument(notify_url),
                        help="after the run, one digest of new releases to this Apprise URL (ntfy://, json://, "
                             "discord://, mailto://, ...); repeat for more; added to [notify] urls")
    parser.add_argument("--feed", action="append", default=[], metavar="KIND:PATH", type=_argument(feed_option),
                        help="after the run, write an Atom feed (atom:PATH) or an iCalendar file of release dates "
                             "(ics:PATH); repeatable; instead of [feeds] in config.toml")


def _add_delivery_commands(commands) -> None:
    watch = _command(commands, "watch",
                     "keep checking artists as they become due; notify and write the feeds (until SIGTERM or Ctrl-C)",
                     "esh-tui watch --notify ntfy://ntfy.sh/my-topic --feed atom:~/public/esh-tui.xml",
                     "esh-tui watch --budget 5000 --max-sleep 1800")
    window = watch.add_mutually_exclusive_group()
    window.add_argument("--days", type=days, default=90, help="releases from the last N days (default 90)")
    window.add_argument("--since", type=date, help="releases on or after this date (YYYY-MM-DD)")
    watch.add_argument("--budget", type=count(0, 10**9), metavar="N",
                       help="spend at most N API calls a day (0: no limit; default: [network] daily_budget)")
    watch.add_argument("--max-sleep", type=count(300, 86_400), default=3600, metavar="SECONDS",
                       help="look again at least this often (default 3600)")
    _add_delivery_options(watch)
    add_filter_options(watch)
    _verbose(watch, default=argparse.SUPPRESS)
    _runs(watch, "watch", "cmd_watch")

    notify = _command(commands, "notify", "notifications of new releases (Apprise URLs in [notify] urls)",
                      "esh-tui notify test", "esh-tui notify test --notify json://127.0.0.1:8080/hook")
    notify_commands = _subcommands(notify, "notify")
    test = _command(notify_commands, "test", "send a test message to each notification URL and say whether it went",
                    "esh-tui notify test")
    test.add_argument("--notify", action="append", default=[], metavar="URL", type=_argument(notify_url),
                      help="this URL too (repeatable)")
    _runs(test, "notify", "cmd_notify_test")


def _subcommands(group: argparse.ArgumentParser, name: str):
    """A command's own commands (`esh-tui NAME COMMAND`): one is required."""
    return group.add_subparsers(dest=f"{name}_command", metavar=f"{name.upper()}_COMMAND", required=True,
                                parser_class=_Parser)


def _add_artists_commands(commands) -> None:
    artists = _command(commands, "artists", "manage the artists you track",
                       "esh-tui artists add \"Artist Name\" spotify:artist:<id>", "esh-tui artists list --format tsv")
    artist_commands = _subcommands(artists, "artists")
    add = _command(artist_commands, "add", "track artists by name, Spotify ID, URI or URL",
                   "esh-tui artists add \"Artist Name\" https://open.spotify.com/artist/<id> spotify:artist:<id>")
    add.add_argument("refs", nargs="+", metavar="NAME_OR_ID")
    _runs(add, "artists", "cmd_add")
    remove = _command(artist_commands, "remove",
                      "stop tracking artists (by name or ID; 'artists add ID' undoes it, with what was learned)",
                      "esh-tui artists remove \"Artist Name\"   (Tab completes the names and IDs you track)")
    remove.add_argument("refs", nargs="+", metavar="NAME_OR_ID").completer = _stored_artists
    _runs(remove, "artists", "cmd_remove")
    listing = _command(artist_commands, "list", "the artists you track", "esh-tui artists list --format json")
    listing.add_argument("--format", choices=("pretty", "tsv", "json"), default="pretty")
    _runs(listing, "artists", "cmd_list")
    imported = _command(artist_commands, "import",
                        "track the artists in a file (one name, ID, URI or URL a line; # comments)",
                        "esh-tui artists import my-artists.txt", "printf 'Artist One\\nArtist Two\\n' | esh-tui artists import -")
    imported.add_argument("file", metavar="FILE", help="a file, or - for standard input")
    _runs(imported, "artists", "cmd_import")
    from_playlist = _command(artist_commands, "import-playlist", "track every artist on a Spotify playlist",
                             "esh-tui artists import-playlist https://open.spotify.com/playlist/<id>")
    from_playlist.add_argument("playlist", metavar="ID_OR_URL")
    _runs(from_playlist, "artists", "cmd_import_playlist")
    liked = _command(artist_commands, "import-liked", "track the artists of your liked songs (needs login)",
                     "esh-tui artists import-liked --min-tracks 3")
    liked.add_argument("--min-tracks", type=count(1, 100_000), default=1, metavar="N",
                       help="only artists with at least N liked songs (default 1)")
    _runs(liked, "artists", "cmd_import_liked")
    followed = _command(artist_commands, "import-followed", "track the artists you follow on Spotify (needs login)",
                        "esh-tui artists import-followed")
    _runs(followed, "artists", "cmd_import_followed")
    export = _command(artist_commands, "export", "back up the artist list and settings as JSON",
                      "esh-tui artists export esh-backup.json", "esh-tui artists export - > esh-backup.json")
    export.add_argument("file", metavar="FILE", type=Path, help="the JSON file to write, or - for standard output")
    _runs(export, "artists", "cmd_export")
    restore = _command(artist_commands, "restore", "restore the artist list and settings from a backup",
                       "esh-tui artists restore esh-backup.json")
    restore.add_argument("file", metavar="FILE", type=Path)
    _runs(restore, "artists", "cmd_restore")


PLAYLIST_DEFAULT_NAME = "esh-tui: new releases"  # (delivery.playlist.DEFAULT_NAME: not imported for --help)


def _add_playlist_commands(commands) -> None:
    playlist = _command(commands, "playlist", "new releases in a private playlist in your Spotify account",
                        "esh-tui playlist sync", "esh-tui playlist sync --days 30 --replace")
    playlist_commands = _subcommands(playlist, "playlist")
    sync = _command(playlist_commands, "sync",
                    "find new releases as 'track' does, then add those not in the playlist yet (made on first use)",
                    "esh-tui playlist sync", "esh-tui playlist sync --name \"Fresh\" --days 30 --replace")
    sync.add_argument("--name", default=PLAYLIST_DEFAULT_NAME,
                      help=f"the playlist (default {PLAYLIST_DEFAULT_NAME!r}); each name is a playlist of its own")
    sync.add_argument("--days", type=days, default=90, help="releases from the last N days (default 90)")
    sync.add_argument("--replace", action="store_true",
                      help="also remove the tracks esh-tui added that fell out of the window (yours stay)")
    add_filter_options(sync)
    _verbose(sync, default=argparse.SUPPRESS)
    sync.set_defaults(artist=[], playlist=None, market=None, all_markets=False, force_refresh=False, budget=None)
    _runs(sync, "playlist", "cmd_sync")


def _add_sim_commands(commands) -> None:
    sim = _command(commands, "sim", "the built-in offline Spotify", "esh-tui sim serve --port 0 --artists 100",
                   "esh-tui sim oracle --seed 1 --artists 100 --days 90")
    sim_commands = _subcommands(sim, "sim")
    serve = _command(sim_commands, "serve", "serve the simulator on 127.0.0.1 until interrupted",
                     "esh-tui sim serve --port 0 --mode development --seed 1 --artists 100 --latency-ms 50")
    _add_catalog_options(serve)
    serve.add_argument("--port", type=count(0, 65535), default=0, help="port (default 0: any free port)")
    serve.add_argument("--mode", choices=("development", "extended"), default="development")
    serve.add_argument("--latency-ms", type=milliseconds, default=0.0, help="mean latency per request")
    serve.add_argument("--jitter-ms", type=milliseconds, default=0.0, help="latency varies by up to this much")
    serve.add_argument("--rate-limit", type=count(1, 10**9), help="requests allowed per rolling 30 s")
    serve.add_argument("--quota", type=count(1, 10**12), help="requests allowed per day")
    serve.add_argument("--fault-rate", type=rate, default=0.0, help="share of requests that fail (0 to 1)")
    serve.add_argument("--faults", default="500,502,503,timeout,drop", help="kinds of fault to inject")
    _runs(serve, "sim", "cmd_serve")

    oracle = _command(sim_commands, "oracle", "what a correct tracker must find, and its fewest API calls",
                      "esh-tui sim oracle --seed 1 --artists 100 --days 90 --format json")
    _add_catalog_options(oracle)
    oracle.add_argument("--days", type=days, default=90, help="cutoff: the last N days (default 90)")
    oracle.add_argument("--format", choices=("pretty", "json"), default="pretty")
    _runs(oracle, "sim", "cmd_oracle")


def _add_catalog_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=count(0, 2**31), default=1, help="catalog seed (default 1)")
    parser.add_argument("--artists", type=count(10, 10_000), default=100, help="catalog size (default 100)")
    parser.add_argument("--today", type=catalog_today, help="the catalog's today (default: the real today)")
