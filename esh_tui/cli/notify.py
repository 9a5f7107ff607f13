"""`esh-tui notify test`, and the delivery a command was asked for ([notify], [feeds], --notify, --feed)."""

from __future__ import annotations

import argparse

from esh_tui.cli.errors import EXIT_FAILED, EXIT_OK, UsageError, note
from esh_tui.config import Settings, load_settings
from esh_tui.delivery.targets import Delivery, TargetError


def delivery_of(settings: Settings, args: argparse.Namespace, feeds: bool = True) -> Delivery:
    """config.toml's [notify] and [feeds] with the command line's --notify and --feed, checked before anything
    runs (UsageError: one line, exit 2); `feeds=False`: the notification URLs alone."""
    from esh_tui.delivery.run import check

    delivery = settings.delivery.with_options(getattr(args, "notify", None) or [], getattr(args, "feed", None) or [])
    if not feeds:
        delivery = Delivery(urls=delivery.urls)
    try:
        check(delivery)
    except TargetError as exc:
        problem, fix = exc.args
        raise UsageError(f"{problem}; {fix}") from None
    return delivery


def cmd_notify_test(args: argparse.Namespace) -> int:
    """A test message to every notification URL; one line per URL saying whether it went."""
    from esh_tui.delivery import notify
    from esh_tui.delivery.digest import TEST_BODY, TEST_TITLE

    delivery = delivery_of(load_settings(), args, feeds=False)
    if not delivery.urls:
        raise UsageError("no notification URLs: add [notify] urls = [\"ntfy://ntfy.sh/TOPIC\"] to config.toml "
                         "(esh-tui config shows where it is), or pass --notify URL")
    outcomes = notify.send(delivery.urls, TEST_TITLE, TEST_BODY)
    for outcome in outcomes:
        if outcome.sent:
            print(f"sent     {outcome.shown}", flush=True)
        else:
            print(f"failed   {outcome.shown}: {outcome.reason}", flush=True)
    failed = sum(not o.sent for o in outcomes)
    if failed:
        note(f"esh-tui: {failed} of {len(outcomes)} notification URLs failed")
    return EXIT_FAILED if failed else EXIT_OK
