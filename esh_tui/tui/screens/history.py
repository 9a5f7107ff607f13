"""How cost went over days: API calls per day, cache hit rate and calls per release per run, releases per week.

The figures are the store's rollups (storage/rollups.py), the same `esh-tui stats --format json` prints; the
plots follow runs of any process as they are written.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Static
from plotext import _utility as plotext_utility
from textual_plotext import PlotextPlot

from esh_tui.tui.widgets.key_footer import KeyFooter

# plotext removes duplicate ticks through a set, so the order it places the labels in (and which one yields when
# two would meet) changes with Python's hash seed from one start to the next; its own commented-out alternative
# keeps the order, and the same figures then look the same every time.
plotext_utility.no_duplicates = lambda data: list(dict.fromkeys(data))

DAYS = (7, 30, 90, 365)  # the spans `t` steps through
MIN_SLOTS = 10  # a plot has room for this many bars at least: one bar is a bar, not a wall
REFRESH_EVERY = 2.0  # seconds: a run in another process shows up while the view is open


class BarPlot(PlotextPlot):
    """A bar chart drawn afresh for its size at each render: plotext keeps state between builds, so a plot set
    up once and resized would not look the same each time."""

    def __init__(self, id: str) -> None:
        super().__init__(id=id)
        self.figures: tuple = ("", [], [], "", "", None)

    def show(self, title: str, labels: list[str], values: list[float], unit: str, xlabel: str,
             top: float | None) -> None:
        self.figures = (title, labels, values, unit, xlabel, top)
        self.refresh()

    def render(self):
        title, labels, values, unit, xlabel, top = self.figures
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        if values:
            positions = list(range(1, len(labels) + 1))
            plt.bar(positions, values, marker="hd", width=0.6)
            step = _label_step(labels, self.size.width)
            plt.xticks(positions[::step], labels[::step])
            plt.xlim(0.5, max(len(values), MIN_SLOTS) + 0.5)  # a few bars stay bars, not one wall
            plt.ylim(0, top or max(values) * 1.1 or 1)
            plt.xlabel(xlabel)
            plt.ylabel(unit)
        return super().render()


class HistoryScreen(Screen[None]):
    BINDINGS = [Binding("escape,h", "app.pop_screen", "Back"), Binding("t", "next_span", "Span")]

    def __init__(self, days: int = 30) -> None:
        super().__init__()
        self.days = days

    def compose(self) -> ComposeResult:
        yield Static(id="history-title")
        with Grid(id="history-plots"):
            for plot_id in ("calls-per-day", "hit-rate", "calls-per-release", "releases-per-week"):
                yield BarPlot(id=plot_id)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.redraw()
        self.set_interval(REFRESH_EVERY, self.redraw)

    def action_next_span(self) -> None:
        self.days = DAYS[(DAYS.index(self.days) + 1) % len(DAYS)] if self.days in DAYS else DAYS[0]
        self.redraw()

    def redraw(self) -> None:
        history = self.app.runtime.store.history(self.days, now=self.app.clock())
        runs = history.runs
        self.query_one("#history-title", Static).update(
            f"History · last {self.days} days · {len(runs)} run{'s' if len(runs) != 1 else ''} · "
            f"{sum(c for _, c in history.calls_per_day):,} API calls · t: {'/'.join(map(str, DAYS))} days")
        self._bars("calls-per-day", "API calls per day", [d[5:] for d, _ in history.calls_per_day],
                   [c for _, c in history.calls_per_day], "calls")
        rated = [r for r in runs if r["hit_rate"] is not None]
        self._bars("hit-rate", "Cache hit rate per run (%)", [str(r["id"]) for r in rated],
                   [round(100 * r["hit_rate"]) for r in rated], "%", xlabel="run", top=100)
        costed = [r for r in runs if r["calls_per_release"] is not None]
        self._bars("calls-per-release", "API calls per release, per run", [str(r["id"]) for r in costed],
                   [r["calls_per_release"] for r in costed], "calls/release", xlabel="run")
        self._bars("releases-per-week", "Releases found per week", [w[5:] for w, _ in history.releases_per_week],
                   [c for _, c in history.releases_per_week], "releases", xlabel="week of")

    def _bars(self, plot_id: str, title: str, labels: list[str], values: list[float], unit: str,
              xlabel: str = "day", top: float | None = None) -> None:
        if not values:
            title = f"{title}: nothing in the last {self.days} days"
        self.query_one(f"#{plot_id}", BarPlot).show(title, labels[-30:], values[-30:], unit, xlabel, top)


def _label_step(labels: list[str], width: int) -> int:
    """Label every n-th bar so that labels never meet (plotext drops labels that would, differently at each size)."""
    slot = max(1, width - 8) / max(len(labels), MIN_SLOTS)  # columns per bar; the y axis' numbers take 8
    widest = max(len(label) for label in labels) + 1
    return max(1, -(-widest // max(1, int(slot))))
