"""`esh-tui watch`: check artists as they become due, notify, write the feeds; until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys

from esh_tui.cli.errors import EXIT_OK, UsageError, note
from esh_tui.cli.notify import delivery_of
from esh_tui.cli.runtime import open_runtime
from esh_tui.cli.track import _interrupted_by_signals  # the run's own: a signal records it interrupted, keeps its work
from esh_tui.delivery.targets import Delivery
from esh_tui.logs import logger
from esh_tui.runtime import Runtime

log = logger("esh_tui.watch")


def cmd_watch(args: argparse.Namespace) -> int:
    with open_runtime() as runtime:
        delivery = delivery_of(runtime.settings, args)
        if not runtime.store.artists():
            raise UsageError("no artists tracked yet: add some with 'esh-tui artists add NAME_OR_URL'")
        try:
            asyncio.run(_watch(runtime, args, delivery))
        except asyncio.CancelledError:  # SIGTERM or Ctrl-C: a run going on is recorded interrupted, its work kept
            pass
    note("esh-tui watch: stopped; what was fetched is kept")
    log.info("watch stopped")
    return EXIT_OK


async def _watch(runtime: Runtime, args: argparse.Namespace, delivery: Delivery) -> None:
    from esh_tui.cli.filter_options import release_filter
    from esh_tui.delivery.watch import Watcher
    from esh_tui.tracker.engine import Tracker

    def cutoff() -> dt.date:
        return args.since or (runtime.today() - dt.timedelta(days=args.days))

    async with runtime.tracking_client(runtime.settings.market) as client:
        tracker = Tracker(client, runtime.store, runtime.cache(), today=runtime.today,
                          budget=runtime.budget(args.budget),
                          release_filter=release_filter(args, runtime.settings.filters))
        watcher = Watcher(tracker, runtime.store, delivery, cutoff, say=_say, warn=note,
                          max_sleep=args.max_sleep)
        with _interrupted_by_signals(tracker):
            _say(f"esh-tui watch: watching {len(runtime.store.artists())} artists on {runtime.describe()} "
                 f"(Ctrl-C or SIGTERM stops it)")
            log.info("watch started on %s", runtime.describe())
            await watcher.forever()


def _say(line: str) -> None:
    """One line on stdout (a tmux pane, journald), shown without escapes or controls."""
    from esh_tui.text import clean

    print(clean(line), file=sys.stdout, flush=True)
