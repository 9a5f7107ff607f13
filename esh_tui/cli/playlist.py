"""`esh-tui playlist sync` (and `track --to-playlist`): the releases a run reports, in a private playlist in your
Spotify account."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

from esh_tui.cli.errors import EXIT_FAILED, EXIT_LATER, EXIT_OK, UsageError, note
from esh_tui.cli.runtime import open_runtime
from esh_tui.delivery.playlist import PlaylistAccessError, PlaylistSync, SyncOutcome, access_problem, check_name
from esh_tui.models import Release
from esh_tui.runtime import Runtime
from esh_tui.text import clean
from esh_tui.tracker.engine import RunResult


def cmd_sync(args: argparse.Namespace) -> int:
    from esh_tui.cli.track import run_tracker

    name = playlist_name(args.name)
    with open_runtime() as runtime:
        check_access(runtime)
        cutoff = runtime.today() - dt.timedelta(days=args.days)

        async def run_then_sync() -> tuple[RunResult, SyncOutcome]:
            _, result = await run_tracker(runtime, args, cutoff)
            return result, await sync_releases(runtime, result, name, args.replace)

        try:
            result, outcome = asyncio.run(run_then_sync())
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None
    print(clean(outcome.summary()), flush=True)
    if result.status in ("quota", "rate_limited", "budget"):
        note(f"esh-tui: {result.message}")
        return EXIT_LATER
    return EXIT_FAILED if result.failed else EXIT_OK


def playlist_name(name: str) -> str:
    try:
        return check_name(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_access(runtime: Runtime) -> None:
    """Before anything is fetched or written: no login, or one without the playlist scope, is a usage error."""
    problem = access_problem(runtime.settings, bool(runtime.offline))
    if problem:
        raise UsageError(problem)


async def sync_releases(runtime: Runtime, result: RunResult, name: str, replace: bool) -> SyncOutcome:
    """Put the run's releases in the playlist; `replace` removes what left them only after a run that checked
    every artist (one stopped early, or with artists that failed, would take releases it missed for gone)."""
    whole = result.status == "ok" and not result.failed
    if replace and not whole:
        note("esh-tui: not removing anything from the playlist: this run did not check every artist")
    return await sync_list(runtime, result.releases, name, replace and whole)


async def sync_list(runtime: Runtime, releases: list[Release], name: str, replace: bool = False) -> SyncOutcome:
    try:
        async with runtime.playlist_writer() as client:
            outcome = await PlaylistSync(client, runtime.store, name).sync(releases, replace)
    except PlaylistAccessError as exc:
        raise UsageError(str(exc)) from None
    if outcome.recreated:
        note(f"esh-tui: the playlist {name} was deleted in Spotify; made a new one")
    if outcome.kept_back:
        some = "1 track" if outcome.kept_back == 1 else f"{outcome.kept_back} tracks"
        note(f"esh-tui: {some} you took out of the playlist {'stays' if outcome.kept_back == 1 else 'stay'} out")
    return outcome
