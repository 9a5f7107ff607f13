"""Shell completion (argcomplete): `esh-tui completion SHELL` prints the script; completing reads the store.

argcomplete runs the real parser, so commands, options and choices (formats, shells, modes) complete as they
are defined; NAME_OR_ID completes the tracked artists' names and IDs from the store, read-only (no network,
no store created, no traceback when there is none).
"""

from __future__ import annotations

import argparse
import os

from esh_tui.cli.errors import EXIT_OK

OFFLINE_STORE = "offline.db"  # esh_tui.sim.offline's (a test checks): importing the simulator would slow every Tab


def cmd_completion(args: argparse.Namespace) -> int:
    import argcomplete

    print(argcomplete.shellcode(["esh-tui"], shell=args.shell), end="")
    return EXIT_OK


def complete(parser: argparse.ArgumentParser) -> None:
    """When a shell asks for completions (argcomplete's _ARGCOMPLETE protocol): answer and exit."""
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser, always_complete_options=False)  # options once a "-" is typed


def stored_artists(prefix: str = "") -> list[str]:
    """The tracked artists' names, then their IDs, that start with `prefix`. A name a terminal would act on
    (escape sequences, controls, bidi overrides: it came from Spotify or a file) is not offered, its ID is."""
    from esh_tui.config import load_settings
    from esh_tui.text import clean
    from esh_tui.storage.readonly import tracked_artists

    try:
        settings = load_settings()
    except Exception:  # a bad config.toml or .env: no completions (the command itself says what is wrong)
        return []
    store = settings.store_path if settings.has_credentials else settings.data_dir / OFFLINE_STORE
    artists = tracked_artists(store)
    folded = prefix.casefold()
    names = [name for _, name in artists if name and name == clean(name) and name.casefold().startswith(folded)]
    ids = [artist_id for artist_id, _ in artists if artist_id.startswith(prefix)]
    return list(dict.fromkeys(names + ids))
