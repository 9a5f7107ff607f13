"""The log file: what runs did (start, end, status, calls, releases, seconds), errors, 429 waits and stops.

One rotating file, `esh-tui.log` in the log directory (ESH_LOG_DIR, else the platform's user log
directory), kept to LOG_BYTES a file and LOG_BACKUPS old files. The standard library's
RotatingFileHandler is all this needs: one writer per process, a size cap, a few old files; a logging
library would add a dependency for nothing here.

Nothing secret is written: every record passes `Redactor`, which blanks the client secret, bearer
tokens, Authorization headers, the values of `code=`, `state=`, token and secret parameters, notification
URLs (Apprise's `scheme://...` ones after their scheme, user:password@ in any, and the configured ones whole:
`add_secrets`).
A log that cannot be written (a full disk, a read-only directory) never fails a run: one warning
line on stderr, then esh-tui carries on without it.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

from esh_tui.text import clean

LOGGER = "esh_tui"
LOG_FILE = "esh-tui.log"
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)-7s [%(process)d] %(message)s"

log = logging.getLogger(LOGGER)
log.addHandler(logging.NullHandler())  # set up or not, esh-tui's records never reach Python's last-resort stderr


def logger(name: str) -> logging.Logger:
    """The logger of an esh_tui module: its records go to the log file once `setup` ran, and nowhere before."""
    return logging.getLogger(name)

_SECRET_PARAMETERS = r"(?:code|state|access_token|refresh_token|id_token|token|client_secret|code_verifier|password)"
_PATTERNS = (
    (re.compile(r"(?i)\b(authorization\s*[:=]\s*)(?:\"[^\"]*\"|'[^']*'|[^\s,;}]+(?:\s+[^\s,;}]+)?)"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (re.compile(rf"(?i)([?&#;\s]|^){_SECRET_PARAMETERS}=[^&#\s\"']*"),
     lambda m: f"{m.group(0).split('=', 1)[0]}=[redacted]"),
    (re.compile(rf"(?i)([\"']){_SECRET_PARAMETERS}\1\s*:\s*([\"'])[^\"']*\2"),
     lambda m: f"{m.group(0).split(':', 1)[0]}: \"[redacted]\""),
    # Apprise URLs (tgram://BOT_TOKEN/CHAT, ntfys://user:pass@host/topic, json://host/path?token=...): all but
    # the scheme. Web addresses keep their host and path (Spotify's endpoints), but not a user:password@.
    (re.compile(r"(?i)\b(?!https?://)([a-z][a-z0-9+.-]{1,19})://[^\s\"'<>]+"), r"\1://[redacted]"),
    (re.compile(r"(?i)\b(https?://)[^/\s@\"'<>]+@"), r"\1[redacted]@"),
)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with secrets, tokens, Authorization headers and secret URL parameters blanked."""
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Redactor(logging.Filter):
    """Blanks secrets in every record's message and traceback before any handler formats it; a message is
    one printable line (text from Spotify or a file never writes escape sequences into the log)."""

    def __init__(self, secrets: tuple[str, ...] = ()):
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= 4)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg, record.args = clean(redact(record.getMessage(), self.secrets)), None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = redact(record.exc_text, self.secrets)
            if record.stack_info:
                record.stack_info = redact(record.stack_info, self.secrets)
        except Exception:  # a record that cannot be formatted is not written at all, rather than written raw
            return False
        return True


def _file_handler(path: Path) -> logging.Handler:
    import logging.handlers

    class LogFile(logging.handlers.RotatingFileHandler):
        """A rotating file that, when it cannot be written, says so once and then stays quiet."""

        failed = False

        def emit(self, record: logging.LogRecord) -> None:
            if not self.failed:
                super().emit(record)

        def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
            if self.failed:
                return
            self.failed = True
            reason = sys.exc_info()[1]
            why = getattr(reason, "strerror", None) or reason or "unknown error"
            _warn(f"esh-tui: warning: cannot write the log {self.baseFilename}: {why}; carrying on without it")
            try:
                if self.stream is not None:
                    self.stream.close()
            except OSError:
                pass
            self.stream = None

    return LogFile(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8", delay=True)


def _warn(message: str) -> None:
    try:
        print(clean(message), file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


_installed: logging.Handler | None = None


def add_secrets(secrets: tuple[str, ...]) -> None:
    """Blank these too in every record from now on (notification URLs as configured: a webhook's https URL holds
    its token in the path)."""
    if _installed is not None:
        for found in _installed.filters:
            if isinstance(found, Redactor):
                found.secrets = tuple(dict.fromkeys((*found.secrets, *(s for s in secrets if s and len(s) >= 4))))


def setup(log_dir: Path, verbose: bool = False, secrets: tuple[str | None, ...] = ()) -> Path | None:
    """Send esh-tui's records to `log_dir`/esh-tui.log (INFO; DEBUG with `verbose`: each artist's outcome).
    Replaces what an earlier call set up. Returns the file, or None when the directory cannot be made (said
    once on stderr)."""
    global _installed
    shutdown()
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _warn(f"esh-tui: warning: cannot use the log directory {log_dir}: {exc.strerror or exc}; "
              "carrying on without a log (set ESH_LOG_DIR to a directory you can write)")
        return None
    handler = _file_handler(log_dir / LOG_FILE)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(Redactor(tuple(s for s in secrets if s)))
    log.addHandler(handler)
    _installed = handler
    return log_dir / LOG_FILE


def shutdown() -> None:
    """Close the log file set up by `setup`, if any."""
    global _installed
    if _installed is not None:
        log.removeHandler(_installed)
        _installed.close()
        _installed = None
