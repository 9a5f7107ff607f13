"""The runtime as every CLI command opens it: the core's, with the settings' notes said on stderr."""

from __future__ import annotations

from esh_tui import runtime as core
from esh_tui.cli.errors import note


def open_runtime(read_only: bool = False) -> core.Runtime:
    """`read_only`: the command only reads the store (list, export, stats): a read-only store works for it."""
    runtime = core.open_runtime(read_only=read_only)
    for message in runtime.settings.notes:
        note(f"esh-tui: note: {message}")
    return runtime
