"""`esh-tui config`: where the config file and the store are, and every setting with where it came from."""

from __future__ import annotations

import argparse

from esh_tui.cli.errors import EXIT_OK
from esh_tui.config import load_settings, render_settings


def cmd_config(args: argparse.Namespace) -> int:
    print(render_settings(load_settings()), end="")
    return EXIT_OK
