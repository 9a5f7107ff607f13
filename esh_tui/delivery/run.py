"""After a run: its releases to the listener (one digest to the notification URLs, the feeds rewritten).

What is delivered is the list the run reports (RunResult.releases: whatever filters the tracker applies
apply here too). A digest carries the releases not notified yet and not marked seen; they are marked notified
only once every URL took it, so one that failed loses nothing: the next run's digest carries them again.
Nothing here fails a run: what did not work is said in one line each (`say`) and written to the log.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from esh_tui.delivery import feeds, notify
from esh_tui.delivery.digest import build_digest
from esh_tui.delivery.targets import Delivery, TargetError
from esh_tui.files import kind_of
from esh_tui.logs import add_secrets, logger
from esh_tui.models import Release
from esh_tui.storage.store import Store
from esh_tui.text import clean

log = logger("esh_tui.delivery")


@dataclass
class Delivered:
    notified: int = 0  # releases a digest carried (0: none was due, or it failed)
    pending: int = 0  # releases left for the next digest (it failed somewhere)
    feeds_written: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each, said already

    def describe(self) -> str:
        """'notified 3' / '3 left to notify' / 'feeds: atom, ics' (for a run's one line)."""
        parts = [f"notified {self.notified}"] if self.notified else []
        if self.pending:
            parts.append(f"{self.pending} left to notify")
        if self.feeds_written:
            parts.append(f"feeds: {', '.join(self.feeds_written)}")
        return " · ".join(parts)


def check(delivery: Delivery) -> None:
    """Before a run: every URL one Apprise knows, every feed's directory there and writable, no feed a directory
    (TargetError: one line naming it; nothing was run)."""
    add_secrets(delivery.urls)
    notify.check_urls(delivery.urls)
    for kind, path in delivery.feeds().items():
        what = kind_of(path)
        if what is not None:  # a pipe or a device would be replaced by a file: not what was meant
            raise TargetError(f"the {kind} feed {clean(path)} is {what}", "name a file to write")
        parent = path.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise TargetError(f"cannot write the {kind} feed in {clean(parent)}: it is not a directory you can write",
                              "create the directory, or name a feed path in one you can write")
        if len(os.fsencode(path.name)) > os.pathconf(parent, "PC_NAME_MAX"):  # else every run fails to write it
            raise TargetError(f"the {kind} feed's file name is longer than {clean(parent)} allows",
                              "name a shorter file")


async def deliver(store: Store, releases: Sequence[Release], delivery: Delivery,
                  say: Callable[[str], None]) -> Delivered:
    """Notify and write the feeds for a run's releases; problems said in one line each, never raised."""
    done = Delivered()
    if not delivery:
        return done
    add_secrets(delivery.urls)  # the log blanks them wherever they turn up
    names = {a.id: a.name for a in store.artists(include_removed=True)}
    if delivery.urls:
        await _notify(store, releases, delivery.urls, names, done, say)
    if delivery.feeds():
        first_seen = store.first_seen(r.key for r in releases)
        for kind, path in delivery.feeds().items():
            try:
                await asyncio.to_thread(feeds.write_feed, kind, path, releases, names, first_seen)
                done.feeds_written.append(kind)
            except OSError as exc:
                _problem(done, say, f"could not write the {kind} feed {clean(path)}: {exc.strerror or exc}; "
                                    "the next run writes it again")
            except ValueError as exc:  # feedgen's or icalendar's refusal of a value: never a failed run
                _problem(done, say, f"could not build the {kind} feed {clean(path)}: {clean(str(exc))[:120]}; "
                                    "the file is left as it was")
    return done


async def _notify(store: Store, releases: Sequence[Release], urls: Sequence[str], names: dict[str, str],
                  done: Delivered, say: Callable[[str], None]) -> None:
    keys = [r.key for r in releases]
    due = store.unnotified(keys) & store.unseen(keys)
    pending = [r for r in releases if r.key in due]
    if not pending:
        return
    digest = build_digest(pending, names)
    outcomes = await asyncio.to_thread(notify.send, urls, digest.title, digest.body)
    for outcome in outcomes:
        if outcome.sent:
            log.info("notification sent to %s (%d releases)", outcome.shown, len(digest.keys))
        else:
            _problem(done, say, f"notification to {outcome.shown} failed: {outcome.reason} "
                                f"({len(digest.keys)} releases stay pending for the next digest)")
    if all(o.sent for o in outcomes):
        store.mark_notified(digest.keys)
        done.notified = len(digest.keys)
    else:
        done.pending = len(digest.keys)


def _problem(done: Delivered, say: Callable[[str], None], line: str) -> None:
    done.problems.append(line)
    log.warning("%s", line)
    say(f"esh-tui: {line}")
