"""The release filter panel: which release types, features and versions the releases table shows.

Each toggle applies at once (the releases table changes as you go); Esc closes. The choice lasts this session:
config.toml's [filters] sets what the dashboard opens with. Title patterns and blocked artists come from there
and are only named here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from esh_tui.text import clean
from esh_tui.tracker.release_filter import RELEASE_TYPES, VERSIONS, ReleaseFilter

FEATURES = "appears_on"
TYPE_LABELS = {"album": "albums", "single": "singles", "ep": "EPs (singles of 4 tracks or more)",
               "compilation": "compilations"}


class ReleaseFiltersScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f", "dismiss(None)", "Close")]

    def __init__(self, current: ReleaseFilter, apply: Callable[[ReleaseFilter], None]) -> None:
        super().__init__()
        self.current, self.apply = current, apply

    def compose(self) -> ComposeResult:
        current = self.current
        choices = [Selection(f"show {TYPE_LABELS[t]}", f"type:{t}", t in current.types) for t in RELEASE_TYPES]
        choices.append(Selection("show features on others' releases (listed at the next refresh)", FEATURES,
                                 current.appears_on))
        choices += [Selection(f"hide {v.replace('-', ' ')} versions", f"hide:{v}", v in current.exclude)
                    for v in VERSIONS]
        with Vertical(id="dialog"):
            yield Label(Text("Release filters", style="bold"))
            yield SelectionList[str](*choices, id="filters")
            blocked = []
            if current.block:
                blocked.append("titles matching " + ", ".join(current.block))
            if current.block_artists:
                blocked.append("releases of " + ", ".join(current.block_artists))
            if blocked:
                yield Static(Text(clean("Hidden by config.toml: " + "; ".join(blocked))))
            yield Static(Text("Space toggles (the list changes at once) · Esc closes · for this session: "
                              "[filters] in config.toml keeps a choice", style="dim"), id="status")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    @on(SelectionList.SelectedChanged)
    def changed(self) -> None:
        chosen = set(self.query_one(SelectionList).selected)
        self.current = replace(self.current,
                               types=frozenset(t for t in RELEASE_TYPES if f"type:{t}" in chosen),
                               appears_on=FEATURES in chosen,
                               exclude=frozenset(v for v in VERSIONS if f"hide:{v}" in chosen))
        self.apply(self.current)
