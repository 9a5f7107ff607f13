"""The status line: where the data comes from, the API mode, what is going on, how much is shown, the budget."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from esh_tui.tracker.plan import DailyBudget


class StatusLine(Static):
    """One line, at any width: the longest of its forms that fits (at 80 columns the counts must still show)."""

    def show(self, *, offline: bool, mode: str, state: str, last_run: str, artists: str, releases: str,
             budget: str = "") -> None:
        self._parts = (offline, mode, state, last_run, artists, releases, budget)
        self._draw()

    def on_resize(self) -> None:
        if hasattr(self, "_parts"):
            self._draw()

    def _draw(self) -> None:
        offline, mode, state, last_run, artists, releases, budget = self._parts
        room = self.size.width - 2 if self.size.width else 10_000
        counts = f"{artists} artists · {releases} releases"
        spent = f" · {budget}" if budget else ""
        full = f" · {mode} mode · {state} · last run {last_run} · {counts}"
        short = f" · {state} · last {last_run} · {counts}"
        forms = ((" OFFLINE SIMULATOR ", full + spent), (" OFFLINE SIMULATOR ", full), (" OFFLINE ", short + spent),
                 (" OFFLINE ", short))
        for source, rest in forms:
            if len("esh-tui ") + len(source if offline else "Spotify") + len(rest) <= room:
                break
        self.update(Text.assemble(
            ("esh-tui ", "bold"),
            Text(source, style="bold reverse") if offline else Text("Spotify", style="bold"), rest),
            layout=False)  # one line, always: no need to lay out the whole screen again


def budget_text(budget: DailyBudget | None, next_run_calls: int | None) -> str:
    """"budget 420/1,000 · next ~630": API calls today against the daily budget, the next run's estimate."""
    if budget is None:
        return ""
    used = f"budget {budget.used:,}/{budget.limit:,}" if budget.limit else f"{budget.used:,} calls today"
    return used + ("" if next_run_calls is None else f" · next ~{next_run_calls:,}")
