"""Notifications through Apprise (ntfy, email, Discord, Telegram, Matrix, Gotify, webhooks, ... each one URL).

Apprise is a well-kept library that speaks some hundred services from one URL each: esh-tui writes the digest,
Apprise knows how each service wants it. A URL often holds a token (a bot token, a webhook secret): it is only
ever shown as `shown(url)` (Apprise's privacy form, without its query), never logged or printed whole, and
Apprise's own log records (which may quote it) never reach stderr.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from esh_tui.delivery.targets import TargetError
from esh_tui.logs import redact
from esh_tui.text import clean

_apprise_log = logging.getLogger("apprise")
_apprise_log.addHandler(logging.NullHandler())  # without a handler, its warnings would go to stderr whole
_apprise_log.propagate = False


@dataclass(frozen=True)
class Outcome:
    shown: str  # the URL as it may be shown
    sent: bool
    reason: str = ""  # why it was not sent (one line, secrets blanked)


def _service(url: str):
    """Apprise's plugin for `url`, or None when Apprise does not know it."""
    import apprise

    instance = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    return instance or None


def shown(url: str) -> str:
    """The URL as it may be shown: its scheme and Apprise's privacy form of its host (`tgram://1...t/…`,
    `json://127.0.0.1:8080/…`); never its path or query, where webhooks and topics keep their tokens."""
    service = _service(url)
    scheme = clean(url.split("://", 1)[0]) if "://" in url else "?"
    if service is None:
        return f"{scheme}://…"
    private = service.url(privacy=True)
    host = private.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
    return clean(f"{scheme}://{host}/…")


def check_urls(urls: Iterable[str]) -> None:
    """Every URL is one Apprise knows: else a TargetError naming which (before a run, so a typo costs nothing)."""
    for number, url in enumerate(urls, 1):
        if _service(url) is None:
            raise TargetError(f"notification URL {number} ({shown(url)}) is not one Apprise knows",
                              "check its scheme and parts against https://github.com/caronc/apprise/wiki")


def send(urls: Sequence[str], title: str, body: str) -> list[Outcome]:
    """Send one message to each URL (plain text); what happened at each, in order. Never raises for a service
    that fails: that is an Outcome with its reason."""
    import apprise

    outcomes = []
    for url in urls:
        service = _service(url)
        if service is None:
            outcomes.append(Outcome(shown(url), False, "not a URL Apprise knows"))
            continue
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            try:
                sent = bool(service.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT))
            except Exception as exc:  # a plugin's own bug: one line, not a failed run
                sent, captured = False, None
                why = type(exc).__name__
        if not sent and captured is not None:
            lines = [line for line in captured.getvalue().splitlines() if line.strip()]
            why = lines[-1] if lines else "the service did not accept it"
        outcomes.append(Outcome(shown(url), sent, "" if sent else _blank(why, url)))
    return outcomes


def _blank(text: str, url: str) -> str:
    """`text` as one line without any part of `url` that may be a secret (what is not a host name)."""
    parts = urlsplit(url) if "://" in url else None
    host = (parts.hostname or "") if parts else ""
    pieces = {p for p in re.split(r"[/:@?&=#,]+", url.split("://", 1)[-1]) if len(p) >= 4}
    if re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", host):  # a host name or an IP address: useful, not secret
        pieces.discard(host)
    return clean(redact(text, tuple(sorted(pieces, key=len, reverse=True))))[:300]
