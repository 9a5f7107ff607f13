"""The status line: where the data comes from, the API mode, what is going on, and how much is shown."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusLine(Static):
    """One line, at any width: the longest of its forms that fits (at 80 columns the counts must still show)."""

    def show(self, *, offline: bool, mode: str, state: str, last_run: str, artists: str, releases: str) -> None:
        self._parts = (offline, mode, state, last_run, artists, releases)
        self._draw()

    def on_resize(self) -> None:
        if hasattr(self, "_parts"):
            self._draw()

    def _draw(self) -> None:
        offline, mode, state, last_run, artists, releases = self._parts
        room = self.size.width - 2 if self.size.width else 10_000
        forms = (
            (" OFFLINE SIMULATOR ", f" · {mode} mode · {state} · last run {last_run} · {artists} artists · {releases} releases"),
            (" OFFLINE ", f" · {mode} · {state} · last run {last_run} · {artists} artists · {releases} releases"),
            (" OFFLINE ", f" · {state} · last {last_run} · {artists} artists · {releases} releases"),
        )
        for source, rest in forms:
            if len("esh-tui ") + len(source if offline else "Spotify") + len(rest) <= room:
                break
        self.update(Text.assemble(
            ("esh-tui ", "bold"),
            Text(source, style="bold reverse") if offline else Text("Spotify", style="bold"), rest),
            layout=False)  # one line, always: no need to lay out the whole screen again
