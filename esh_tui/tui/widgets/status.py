"""The status line: where the data comes from, the API mode, what is going on, and how much is shown."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusLine(Static):
    def show(self, *, offline: bool, mode: str, state: str, last_run: str, artists: str, releases: str) -> None:
        source = Text(" OFFLINE SIMULATOR ", style="bold reverse") if offline else Text("Spotify", style="bold")
        self.update(Text.assemble(
            ("esh-tui ", "bold"), source, f" · {mode} mode · {state} · last run {last_run} · "
            f"{artists} artists · {releases} releases"),
            layout=False)  # one line, always: no need to lay out the whole screen again
