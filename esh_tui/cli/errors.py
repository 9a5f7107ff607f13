"""Exit codes, and which error ends a command with which code and line."""

from __future__ import annotations

import os
import sqlite3
import sys
import traceback

from esh_tui.text import clean

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LATER, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = (
    (EXIT_OK, "ok"),
    (EXIT_FAILED, "Spotify or the network failed (an artist that failed stays due and is retried next run)"),
    (EXIT_USAGE, "bad input: nothing was changed"),
    (EXIT_LATER, "rate limit, daily quota or daily budget reached: what was fetched is kept; run again later"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C or SIGTERM): what was fetched is kept"),
)
EXIT_CODES_HELP = "exit codes:\n" + "\n".join(f"  {code:<5}{meaning}" for code, meaning in EXIT_CODES)


class UsageError(Exception):
    """Bad input from the user: one line, exit 2, nothing changed."""


def note(message: str) -> None:
    """Say one line on stderr; whatever it quotes (a path, a name) is shown without escapes or controls."""
    print(clean(message), file=sys.stderr, flush=True)


def exit_for(exc: Exception) -> int | None:
    """Say what went wrong in one line and return the exit code, or None when `exc` is not an expected failure.
    The error classes are imported here, after the fact, so that `--version` and `--help` load none of them."""
    from esh_tui.config import ConfigError
    from esh_tui.spotify.errors import QuotaExceededError, RateLimitedError, SpotifyError
    from esh_tui.storage.errors import StoreError, damaged_value, store_error
    from esh_tui.tracker.artists import ArtistInputError

    if isinstance(exc, (UsageError, ConfigError, ArtistInputError)):
        note(f"esh-tui: error: {exc}")
        return EXIT_USAGE
    if isinstance(exc, StoreError):
        note(f"esh-tui: error: {exc}")
        return EXIT_FAILED
    if isinstance(exc, sqlite3.DatabaseError):  # damage found after the store was opened (opening checks the header)
        note(f"esh-tui: error: {store_error(exc, _store_path())}")
        return EXIT_FAILED
    if _read_from_the_store(exc):  # damage SQLite did not see: a value the storage layer cannot turn back into one
        note(f"esh-tui: error: {damaged_value(exc, _store_path())}")
        return EXIT_FAILED
    if isinstance(exc, (QuotaExceededError, RateLimitedError)):
        note(f"esh-tui: {exc}")
        return EXIT_LATER
    if isinstance(exc, SpotifyError):
        note(f"esh-tui: error: {exc}")
        return EXIT_FAILED
    return None


def _read_from_the_store(exc: Exception) -> bool:
    """Whether `exc` was raised as the storage layer read a value back (the innermost esh-tui frame is in
    esh_tui/storage/): a date, a JSON list or a row that is not what esh-tui wrote."""
    if not isinstance(exc, (ValueError, TypeError, KeyError)):
        return False
    ours = [frame.f_code.co_filename for frame, _ in traceback.walk_tb(exc.__traceback__)
            if f"{os.sep}esh_tui{os.sep}" in frame.f_code.co_filename]
    return bool(ours) and f"{os.sep}esh_tui{os.sep}storage{os.sep}" in ours[-1]


def _store_path():
    """The store this command used (as `open_runtime` picks it), to name it in a message."""
    from esh_tui.config import ConfigError, load_settings
    from esh_tui.sim.offline import OFFLINE_STORE

    try:
        settings = load_settings()
    except ConfigError:
        return "in the data directory"
    return settings.store_path if settings.has_credentials else settings.data_dir / OFFLINE_STORE
