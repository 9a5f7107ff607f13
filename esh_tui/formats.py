"""Printing releases for people and scripts: pretty, tsv, csv, json, ids.

Columns follow esh-tracker: date, artist, track, album, type, isrc, url.
Everything that came from the network is cleaned of escape sequences and
control characters first; pretty output never interprets markup.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence

from esh_tui.models import Release
from esh_tui.text import clean, safe_json

FORMATS = ("pretty", "tsv", "csv", "json", "ids")
COLUMNS = ("date", "artist", "track", "album", "type", "isrc", "url")


def release_row(release: Release) -> dict[str, str]:
    return {
        "date": release.release_date.isoformat(),
        "artist": clean(", ".join(release.artist_names)),
        "track": clean(release.track_name),
        "album": clean(release.album_name),
        "type": clean(release.album_type),
        "isrc": clean(release.isrc or ""),
        "url": release.url,
    }


def render(releases: Sequence[Release], fmt: str, console_width: int | None = None,
           unseen: Collection[str] = ()) -> str:
    """`unseen`: keys of releases the user has not seen yet (json says so in its "new" field)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    rows = [release_row(r) for r in releases]
    if fmt == "ids":
        return "".join(f"{r.track_id}\n" for r in releases)
    if fmt == "tsv":
        return "".join("\t".join(row[c] for c in COLUMNS) + "\n" for row in rows)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    if fmt == "json":
        return safe_json([{**row, "uri": r.uri, "track_id": r.track_id, "album_id": r.album_id, "new": r.key in unseen}
                          for row, r in zip(rows, releases)]) + "\n"
    return _pretty(rows, console_width)


def _pretty(rows: list[dict[str, str]], width: int | None) -> str:
    from rich.console import Console  # here, not at the top: the CLI's parser imports FORMATS, and --help stays quick
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(rows)} new release{'s' if len(rows) != 1 else ''}", title_justify="left")
    for column, style in (("date", "cyan"), ("artist", "bold"), ("track", ""), ("album", "dim"), ("type", "dim")):
        table.add_column(column.capitalize(), style=style, overflow="fold")
    for row in rows:
        table.add_row(*(Text(row[c]) for c in ("date", "artist", "track", "album", "type")))
    console = Console(file=io.StringIO(), width=width or 120, force_terminal=False, color_system=None)
    console.print(table)
    return console.file.getvalue()
