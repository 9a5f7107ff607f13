"""What can be wrong with the store, said so that the user knows what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from esh_tui.text import clean


class StoreError(Exception):
    """The store cannot be used as it is; the message says what to do."""


class StoreBusyError(StoreError):
    """Another esh-tui holds the store's write lock for longer than the busy timeout."""


class StoreNeedsMigration(StoreError):
    """Opened read-only, the store has an older schema: it can be read only once it is opened to write."""


def store_error(exc: sqlite3.DatabaseError | UnicodeDecodeError, path: Path) -> StoreError:
    """SQLite's words, shortened and stripped of what a damaged page may put in them (raw bytes of the file).
    A UnicodeDecodeError is SQLite's message itself quoting bytes of a damaged schema that are not text."""
    text = "its schema holds bytes that are not text" if isinstance(exc, UnicodeDecodeError) else clean(str(exc))[:120]
    if "locked" in text or "busy" in text:
        return StoreBusyError(f"the store {path} is busy: another esh-tui is writing to it; try again in a moment")
    if any(sign in text for sign in ("not a database", "malformed", "corrupt", "decode")) \
            or isinstance(exc, UnicodeDecodeError):
        return StoreError(f"the store {path} is damaged ({text}); move it aside "
                          f"(e.g. mv '{path}' '{path}.broken') and run again")
    return StoreError(f"the store {path} cannot be used ({text}); if it persists, move it aside "
                      f"(e.g. mv '{path}' '{path}.broken') and run again")


def damaged_value(exc: Exception, path: Path) -> StoreError:
    """A value the store gave back that esh-tui cannot read: damage SQLite does not see (it keeps no checksums),
    such as a date with a byte changed. Said with the reason, for whoever looks into it."""
    reason = clean(f"{type(exc).__name__}: {exc}")[:80]
    return StoreError(f"the store {path} is damaged (it holds a value esh-tui did not write: {reason}); move it aside "
                      f"(e.g. mv '{path}' '{path}.broken') and run again")
