"""The runtime as every CLI command opens it: the core's, with the settings' notes said on stderr."""

from __future__ import annotations

from esh_tui import runtime as core
from esh_tui.cli.errors import note


def open_runtime() -> core.Runtime:
    runtime = core.open_runtime()
    for message in runtime.settings.notes:
        note(f"esh-tui: note: {message}")
    return runtime
