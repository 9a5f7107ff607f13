"""The status line: where the data comes from, the API mode, what is going on, how much is shown, the budget."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from esh_tui.tracker.plan import DailyBudget


class StatusLine(Static):
    def show(self, *, offline: bool, mode: str, state: str, last_run: str, artists: int, releases: int,
             budget: str = "") -> None:
        source = Text(" OFFLINE SIMULATOR ", style="bold reverse") if offline else Text("Spotify", style="bold")
        self.update(Text.assemble(
            ("esh-tui ", "bold"), source, f" · {mode} mode · {state} · last run {last_run} · "
            f"{artists} artists · {releases} releases" + (f" · {budget}" if budget else "")),
            layout=False)  # one line, always: no need to lay out the whole screen again


def budget_text(budget: DailyBudget | None, next_run_calls: int | None) -> str:
    """"budget 420/1,000 · next ~630": API calls today against the daily budget, the next run's estimate."""
    if budget is None:
        return ""
    used = f"budget {budget.used:,}/{budget.limit:,}" if budget.limit else f"{budget.used:,} calls today"
    return used + ("" if next_run_calls is None else f" · next ~{next_run_calls:,}")
