"""Where new releases go: notification URLs and feed paths, from config.toml ([notify], [feeds]) and the command line.

Checked here without loading Apprise or the feed libraries (config.py reads this for every command); whether
Apprise knows a URL is checked before a run (notify.check_urls), so a typo never costs a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FEED_KINDS = ("atom", "ics")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


class TargetError(ValueError):
    """A notification URL or feed path that cannot be used: (the setting, what is wrong, what to do)."""


@dataclass(frozen=True)
class Delivery:
    """What to do with a run's releases: send a digest to these Apprise URLs, write these feeds."""

    urls: tuple[str, ...] = ()
    atom: Path | None = None
    ics: Path | None = None

    def __bool__(self) -> bool:
        return bool(self.urls or self.atom or self.ics)

    def feeds(self) -> dict[str, Path]:
        return {kind: path for kind in FEED_KINDS if (path := getattr(self, kind)) is not None}

    def with_options(self, urls: list[str], feeds: list[tuple[str, Path]]) -> Delivery:
        """The command line's `--notify URL` (added to the config's) and `--feed KIND:PATH` (instead of it)."""
        paths = {**self.feeds(), **dict(feeds)}
        return Delivery(tuple(dict.fromkeys((*self.urls, *urls))), paths.get("atom"), paths.get("ics"))


def notify_url(value: str) -> str:
    """One Apprise URL as written: `scheme://...`, one word (the URL itself is never echoed: it may hold a token)."""
    if not isinstance(value, str) or not _URL.fullmatch(value):
        raise TargetError("is not a notification URL", "write an Apprise URL like ntfy://ntfy.sh/TOPIC "
                                                        "or json://HOST:PORT/PATH; the README lists more")
    return value


def feed_option(value: str) -> tuple[str, Path]:
    """`atom:PATH` or `ics:PATH`."""
    kind, _, path = value.partition(":")
    if kind not in FEED_KINDS or not path:
        raise TargetError(f"{value!r} is not KIND:PATH", "write --feed atom:PATH or --feed ics:PATH")
    return kind, feed_path(path, f"--feed {kind}")


def feed_path(value: str, setting: str) -> Path:
    """A feed's path as written, `~` and `~user` expanded: a NUL or a `~user` with no home is a TargetError
    (pathlib would raise ValueError or RuntimeError, not an OSError, and end the command in a traceback)."""
    if "\x00" in value:
        raise TargetError(f"{setting} contains a NUL character", "name a file path without one")
    try:
        return Path(value).expanduser()
    except RuntimeError:
        user = value[1:].split("/", 1)[0]
        raise TargetError(f"{setting}: there is no user {user!r} to find ~{user} of",
                          "write the whole path, or ~/ for your own home") from None


def from_config(table: dict[str, Any]) -> tuple[Delivery, dict[str, str]]:
    """The [notify] and [feeds] sections of config.toml; TargetError names the setting that is wrong. Returns the
    delivery and the settings it read (for `esh-tui config`'s sources)."""
    notify, feeds = table.get("notify", {}), table.get("feeds", {})
    for section, known in (("notify", {"urls"}), ("feeds", set(FEED_KINDS))):
        unknown = sorted(set(table.get(section, {})) - known)
        if unknown:
            raise TargetError(f"unknown setting [{section}] {unknown[0]}", f"known: {', '.join(sorted(known))}")
    urls = notify.get("urls", [])
    if not isinstance(urls, list):
        raise TargetError("[notify] urls must be a list", 'write urls = ["ntfy://ntfy.sh/TOPIC"]')
    for number, url in enumerate(urls, 1):
        try:
            notify_url(url)
        except TargetError as exc:
            raise TargetError(f"[notify] urls: entry {number} {exc.args[0]}", exc.args[1]) from None
    paths = {}
    for kind in FEED_KINDS:
        if kind in feeds:
            if not isinstance(feeds[kind], str) or not feeds[kind].strip():
                raise TargetError(f"[feeds] {kind} must be a file path", f'write {kind} = "~/feeds/releases.{kind}"')
            paths[kind] = feed_path(feeds[kind], f"[feeds] {kind}")
    read = {"[notify] urls": "urls"} if "urls" in notify else {}
    read.update({f"[feeds] {kind}": kind for kind in paths})
    return Delivery(tuple(dict.fromkeys(urls)), paths.get("atom"), paths.get("ics")), read
