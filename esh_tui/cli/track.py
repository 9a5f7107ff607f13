"""`esh-tui` and `esh-tui track`: the dashboard on a terminal, or a run that prints releases for cron and scripts."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import shutil
import signal
import sys
from collections.abc import Iterator

from esh_tui.cli.errors import EXIT_FAILED, EXIT_LATER, EXIT_OK, UsageError, note
from esh_tui.cli.filter_options import release_filter
from esh_tui.cli.progress import progress_bar
from esh_tui.formats import render
from esh_tui.cli.runtime import open_runtime
from esh_tui.runtime import Runtime
from esh_tui.tracker.artists import ArtistService, resolve_artist
from esh_tui.tracker.engine import RunResult, Tracker
from esh_tui.tracker.events import Progress
from esh_tui.tracker.select import limit_per_artist

PLAN_SHOWN_FROM = 100  # estimated calls from which a run's estimate is said on a terminal


def cmd_default(args: argparse.Namespace) -> int:
    """The dashboard on a terminal; a headless run when output goes to a pipe or a file."""
    headless = (args.format != "pretty" or args.artist or args.playlist or args.delta_only or args.max_per_artist
                or args.since or not (sys.stdin.isatty() and sys.stdout.isatty()))
    if headless:
        return cmd_track(args)
    from esh_tui.tui.app import create_app

    from esh_tui.logs import logger

    from esh_tui.runtime import open_runtime as open_dashboard_runtime

    runtime = open_dashboard_runtime()
    app = create_app(runtime, days=args.days, budget=args.budget,
                     release_filter=release_filter(args, runtime.settings.filters))
    logger("esh_tui.tui").info("dashboard opened (%s)", app.runtime.describe())
    try:
        app.run()
    finally:
        app.runtime.close()
        logger("esh_tui.tui").info("dashboard closed")
    return EXIT_OK


def cmd_track(args: argparse.Namespace) -> int:
    from esh_tui.cli.notify import delivery_of

    to_playlist = getattr(args, "to_playlist", None)
    if to_playlist is not None:
        from esh_tui.cli import playlist

        to_playlist = playlist.playlist_name(to_playlist)
    with open_runtime() as runtime:
        delivery = delivery_of(runtime.settings, args)  # checked before the run: a typo costs no API calls
        if to_playlist is not None:
            playlist.check_access(runtime)  # before the run: nothing fetched or written for a sync that cannot be
        cutoff = args.since or (runtime.today() - dt.timedelta(days=args.days))
        try:
            tracker, result = asyncio.run(run_tracker(runtime, args, cutoff))
        except asyncio.CancelledError:  # SIGINT or SIGTERM: the run is recorded as interrupted, nothing printed
            raise KeyboardInterrupt from None
        _print_releases(runtime, tracker, result, args)
        if to_playlist is not None:
            note(f"esh-tui: playlist: {asyncio.run(playlist.sync_releases(runtime, result, to_playlist, False)).summary()}")
        if delivery:  # the digest and the feeds (esh_tui/delivery/): what fails is said, and never fails the run
            from esh_tui.delivery.run import deliver

            asyncio.run(deliver(runtime.store, result.releases, delivery, note))
    _report_failures(result.failed)
    if sys.stderr.isatty():
        note(f"{len(result.releases)} releases ({len(result.new_keys)} new) · {result.api_calls} API calls · "
             f"{result.artists_fetched} artists fetched, {result.artists_cached} fresh from the cache")
    if result.status in ("quota", "rate_limited", "budget"):
        note(f"esh-tui: {result.message}")
        return EXIT_LATER
    return EXIT_FAILED if result.failed else EXIT_OK


async def run_tracker(runtime: Runtime, args: argparse.Namespace, cutoff: dt.date) -> tuple[Tracker, RunResult]:
    market = None if args.all_markets else args.market or runtime.settings.market
    async with runtime.tracking_client(market) as client:
        ids = [await resolve_artist(client, ref) for ref in args.artist] if args.artist else None
        if args.playlist:
            ids = (ids or []) + await ArtistService(runtime).playlist_artists(args.playlist)
        if ids is None and not runtime.store.artists():
            raise UsageError("no artists tracked yet: add some with 'esh-tui artists add NAME_OR_URL'")
        if runtime.offline:
            note(f"No Spotify credentials configured: running on {runtime.describe()}.")
        from esh_tui.logs import logger

        logger("esh_tui.cli").info("esh-tui track on %s", runtime.describe())
        with progress_bar("artists") as update:
            def on_event(event) -> None:
                if update and isinstance(event, Progress):
                    update(event.done, event.total)

            tracker = Tracker(client, runtime.store, runtime.cache(), today=runtime.today, on_event=on_event,
                              budget=runtime.budget(args.budget),
                              release_filter=release_filter(args, runtime.settings.filters))
            chosen = [i for i, _ in ids] if ids else None
            _say_plan(tracker, cutoff, chosen, args.force_refresh)
            with _interrupted_by_signals(tracker):
                return tracker, await tracker.run(cutoff, chosen, force=args.force_refresh)


def _say_plan(tracker: Tracker, cutoff: dt.date, ids: list[str] | None, force: bool) -> None:
    """Before a run that will not fit in today's budget (or, on a terminal, a big one): its estimate, in one line."""
    plan = tracker.plan(cutoff, ids, force)
    if plan.split()[1] or (sys.stderr.isatty() and plan.total >= PLAN_SHOWN_FROM):
        note(f"esh-tui: {plan.describe()}")


def _print_releases(runtime: Runtime, tracker: Tracker, result: RunResult, args: argparse.Namespace) -> None:
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
            tracker.mark_reported(r.key for r in releases)


def _report_failures(failed: dict[str, str]) -> None:
    """One line per reason: a network outage is one line, not one per artist."""
    failed_for: dict[str, list[str]] = {}
    for artist_id, reason in failed.items():
        failed_for.setdefault(reason, []).append(artist_id)
    for reason, ids in failed_for.items():
        if len(ids) == 1:
            note(f"esh-tui: could not check artist {ids[0]}: {reason} (it stays due and is retried next run)")
        else:
            some = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
            note(f"esh-tui: could not check {len(ids)} artists ({some}): {reason} "
                 "(they stay due and are retried next run)")


@contextlib.contextmanager
def _interrupted_by_signals(tracker: Tracker) -> Iterator[None]:
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
