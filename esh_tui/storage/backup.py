"""Backing up and restoring the artist list and settings as JSON: round-trip exact, all or nothing."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from esh_tui.files import open_to_read, open_to_write
from esh_tui.models import is_name, is_spotify_id
from esh_tui.text import clean, safe_json
from esh_tui.storage.store import Store

FORMAT = "esh-tui-backup"
VERSION = 1
MAX_BYTES = 50 * 1024 * 1024


class BackupError(ValueError):
    """The backup file cannot be used; nothing was changed."""


def export_backup(store: Store) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "artists": [{"id": a.id, "name": a.name, "source": a.source, "added_at": a.added_at} for a in store.artists()],
        "settings": store.settings(),
    }


def write_backup(store: Store, path: Path) -> int:
    """Write a file atomically (a temporary file, then rename); `-`, a pipe or a device is written to, never
    replaced. Returns how many artists were saved."""
    data = export_backup(store)
    text = safe_json(data) + "\n"
    shown = clean(path)  # on its own: an escape sequence cut short at its end would eat the words after it
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return len(data["artists"])
    tmp = None
    try:
        if path.is_dir():  # (inside: a name too long to look up raises, where a missing one is False)
            raise BackupError(f"cannot write {shown}: it is a directory; name a file in it")
        tmp = path.with_name(path.name + ".tmp")  # (after: '' and '.' have no name to add to)
        if path.exists() and not path.is_file():  # a pipe or a device: written to (if someone reads it)
            with open_to_write(path) as stream:
                stream.write(text.encode("utf-8"))
        else:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        raise BackupError(f"cannot write {shown}: {exc.strerror}") from None
    return len(data["artists"])


def read_backup(path: Path) -> dict[str, Any]:
    """Read and check a backup (`-`: standard input) completely before anything is changed."""
    shown = clean(path)  # on its own: an escape sequence cut short at its end would eat the words after it
    try:
        if str(path) == "-":
            raw = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open_to_read(path) as handle:
                raw = handle.read(MAX_BYTES + 1)  # bounded: a device or an endless file is refused, not read forever
        if len(raw) > MAX_BYTES:
            raise BackupError(f"{shown} is larger than {MAX_BYTES // 2**20} MiB: not an esh-tui backup")
        data = json.loads(raw.decode("utf-8-sig"), parse_constant=_not_a_number)
    except BackupError:
        raise
    except FileNotFoundError:
        raise BackupError(f"{shown} does not exist") from None
    except IsADirectoryError:
        raise BackupError(f"{shown} is a directory, not a backup file") from None
    except UnicodeDecodeError:
        raise BackupError(f"{shown} is not text: not an esh-tui backup") from None
    except json.JSONDecodeError as exc:
        raise BackupError(f"{shown} is not valid JSON (line {exc.lineno}): not an esh-tui backup") from None
    except (ValueError, RecursionError):  # numbers too long to convert, nesting too deep to parse
        raise BackupError(f"{shown} is not JSON esh-tui can read: not an esh-tui backup") from None
    except OSError as exc:
        raise BackupError(f"cannot read {shown}: {exc.strerror}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{shown} is not an esh-tui backup (no \"format\": \"{FORMAT}\")")
    if data.get("version") != VERSION or isinstance(data.get("version"), bool):
        raise BackupError(f"{shown} is backup version {data.get('version')!r}; this esh-tui reads version {VERSION}")
    artists, settings = data.get("artists"), data.get("settings", {})
    if not isinstance(artists, list):
        raise BackupError(f"{shown}: \"artists\" must be a list")
    if not isinstance(settings, dict):
        raise BackupError(f"{shown}: \"settings\" must be an object")
    seen = set()
    for index, artist in enumerate(artists):
        where = f"{shown}: artist #{index + 1}"
        if not isinstance(artist, dict):
            raise BackupError(f"{where} is not an object")
        for key in ("id", "name", "source", "added_at"):
            if not isinstance(artist.get(key), str):
                raise BackupError(f"{where} has no text \"{key}\"")
            if not is_name(artist[key]):
                raise BackupError(f"{where} has a \"{key}\" that is too long or not valid Unicode")
            if key in ("source", "added_at") and clean(artist[key]) != artist[key]:
                raise BackupError(f"{where} has a \"{key}\" with control characters or escape sequences")
        if not is_spotify_id(artist["id"]):
            raise BackupError(f"{where} has an invalid Spotify id {artist['id'][:40]!r}")
        if artist["id"] in seen:
            raise BackupError(f"{where} repeats id {artist['id']}")
        seen.add(artist["id"])
    try:
        json.dumps(settings, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError):
        raise BackupError(f"{shown}: \"settings\" hold text that is not valid Unicode") from None
    return data


def restore_backup(store: Store, path: Path) -> int:
    return restore_data(store, read_backup(path))


def restore_data(store: Store, data: dict[str, Any]) -> int:
    """Restore a backup `read_backup` has checked; returns how many artists."""
    store.replace_artists_and_settings(data["artists"], data.get("settings", {}))
    return len(data["artists"])


def _not_a_number(name: str) -> None:
    """NaN and Infinity are not JSON, though Python's reader takes them."""
    raise ValueError(f"{name} is not a JSON value")
