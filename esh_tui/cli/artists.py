"""`esh-tui artists ...`: add, remove, list, import, export and restore the artists you track."""

from __future__ import annotations

import argparse
import asyncio

from esh_tui.cli.errors import EXIT_OK, UsageError, note
from esh_tui.cli.progress import progress_bar
from esh_tui.cli.runtime import open_runtime
from esh_tui.storage.store import REMOVED_KEPT_DAYS
from esh_tui.text import clean, safe_json
from esh_tui.tracker.artists import Added, ArtistInputError, ArtistService, check_backup


def cmd_add(args: argparse.Namespace) -> int:
    with open_runtime() as runtime:
        added = asyncio.run(ArtistService(runtime).add(args.refs))  # all resolved before anything is written
    for artist_id, name in added.found:
        again = " again, with what was learned about it before" if artist_id in added.restored else ""
        note(f"tracking {clean(name)} ({artist_id}){again}")
    note(added.summary())
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    with open_runtime() as runtime:
        removed = ArtistService(runtime).remove(args.refs)
    for artist in removed:
        note(f"stopped tracking {clean(artist.name)} ({artist.id})")
    note(f"{len(removed)} artist{'s' if len(removed) != 1 else ''} removed; to undo: esh-tui artists add "
         f"{' '.join(a.id for a in removed)} (what was learned is kept {REMOVED_KEPT_DAYS} days: adding it back "
         "costs no API call while it is fresh)")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with open_runtime(read_only=True) as runtime:
        artists = runtime.store.artists()
    if args.format == "json":
        print(safe_json([{"id": a.id, "name": a.name, "source": a.source, "added_at": a.added_at,
                          "last_release": a.last_release, "frequency": a.frequency,
                          "failed": a.failed_reason} for a in artists]))
    else:
        for a in artists:
            fields = (a.id, clean(a.name), clean(a.source), clean(a.last_release or ""), clean(a.frequency or ""))
            print("\t".join(fields) if args.format == "tsv" else f"{a.id}  {clean(a.name):<40} {a.frequency or 'not checked yet'}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    with progress_bar("lines") as update:
        return _import(lambda service: service.import_file(args.file, on_progress=update))


def cmd_import_playlist(args: argparse.Namespace) -> int:
    return _import(lambda service: service.import_playlist(args.playlist))


def cmd_import_liked(args: argparse.Namespace) -> int:
    return _import(lambda service: service.import_liked(args.min_tracks))


def cmd_import_followed(args: argparse.Namespace) -> int:
    return _import(lambda service: service.import_followed())


def _import(work) -> int:
    with open_runtime() as runtime:
        try:
            added: Added = asyncio.run(work(ArtistService(runtime)))
        except ArtistInputError as exc:
            raise UsageError(f"{exc}; nothing was imported") from None
    note(added.summary())
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    with open_runtime(read_only=True) as runtime:
        count = ArtistService(runtime).export_backup(args.file)
    note(f"{count} artists and the settings saved to {'standard output' if str(args.file) == '-' else args.file}")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    backup = check_backup(args.file)  # a bad file is refused before the store is even opened
    with open_runtime() as runtime:
        count = ArtistService(runtime).restore_backup(backup)
    note(f"restored {count} artists and the settings from {'standard input' if str(args.file) == '-' else args.file}")
    return EXIT_OK
