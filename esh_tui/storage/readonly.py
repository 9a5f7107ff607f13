"""The tracked artists, read without opening a `Store`: for shell completion, which runs on every Tab press.

It must be quick and change nothing: no migration, no WAL switch, no directory made, no sample artists added,
and never a traceback (no store yet, a locked or damaged one, an older schema: no completions).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def tracked_artists(path: Path) -> list[tuple[str, str]]:
    """(id, name) of each artist tracked in the store at `path`, by name; [] when it cannot be read."""
    if not path.is_file():
        return []
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.Error:
        return []
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(artists)")}
        if not {"id", "name"} <= columns:
            return []
        tracked = " WHERE removed_at IS NULL" if "removed_at" in columns else ""
        return [(str(i), str(n or "")) for i, n in
                conn.execute(f"SELECT id, name FROM artists{tracked} ORDER BY name COLLATE NOCASE, id")]
    except sqlite3.Error:
        return []
    finally:
        conn.close()
