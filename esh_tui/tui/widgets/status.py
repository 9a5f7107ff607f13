"""The status line: where the data comes from, the API mode, what is going on, how much is shown, the budget."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.widgets import Static

from esh_tui.tracker.plan import DailyBudget


class StatusLine(Static):
    """One line, at any width: the longest of its forms that fits. The counts always show whole; a long state
    (a wait, a failure) keeps its first part, and is cut short only when even that does not fit."""

    def show(self, *, offline: bool, mode: str, state: str, last_run: str, artists: str, releases: str,
             budget: str = "") -> None:
        self._parts = (offline, mode, state, last_run, artists, releases, budget)
        self._draw()

    def on_resize(self) -> None:
        if hasattr(self, "_parts"):
            self._draw()

    def _draw(self) -> None:
        offline, mode, state, last_run, artists, releases, budget = self._parts
        room = self.size.width or 10_000  # the content's width: the padding is outside it
        counts = f"{artists} artists · {releases} releases"
        spent = f" · {budget}" if budget else ""
        main = state.split(" · ")[0]  # "waiting 23 s: Spotify rate limit" of "… · refreshing 3 of 12"
        name, long, short = "esh-tui ", " OFFLINE SIMULATOR ", " OFFLINE "
        # (name, source, the rest) from the longest down; the counts stay whole in every form, the state goes last
        forms = ((name, long, f" · {mode} mode · {state} · last run {last_run} · {counts}{spent}"),
                 (name, long, f" · {mode} mode · {state} · last run {last_run} · {counts}"),
                 (name, short, f" · {state} · last {last_run} · {counts}{spent}"),
                 (name, short, f" · {state} · last {last_run} · {counts}"),
                 (name, short, f" · {state} · {counts}"),
                 ("", short, f" · {state} · {counts}"),
                 ("", short, f" · {main} · {counts}"))
        for title, source, rest in forms:
            source = source if offline else "Spotify"
            if cell_len(title + source + rest) <= room:
                break
        else:  # a long state on a narrow screen: as much of it as fits, then the counts
            left = max(2, room - cell_len(source + f" ·  · {counts}"))
            if cell_len(main) > left:
                main = set_cell_size(main, left - 1).rstrip() + "…"
            rest = f" · {main} · {counts}"
        self.update(Text.assemble(
            (title, "bold"),
            Text(source, style="bold reverse") if offline else Text(source, style="bold"), rest),
            layout=False)  # one line, always: no need to lay out the whole screen again


def budget_text(budget: DailyBudget | None, next_run_calls: int | None) -> str:
    """"budget 420/1,000 · next ~630": API calls today against the daily budget, the next run's estimate."""
    if budget is None:
        return ""
    used = f"budget {budget.used:,}/{budget.limit:,}" if budget.limit else f"{budget.used:,} calls today"
    return used + ("" if next_run_calls is None else f" · next ~{next_run_calls:,}")
