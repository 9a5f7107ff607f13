"""The keys of the dashboard and what its glyphs mean."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


def key_list(bindings: Iterable[Binding], keymap: Mapping[str, str]) -> list[tuple[str, str]]:
    """(key, what it does) for each binding, as the key map has it."""
    return [(keymap.get(b.id, b.key).replace("question_mark", "?").replace("slash", "/"), b.description)
            for b in bindings]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss(None)", "Close")]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Label("[b]esh-tui[/b] — never miss a new release")
            for key, description in self.keys:
                yield Static(Text.assemble((f"{key:>8}  ", "bold"), description))
            yield Static("On a release: Enter details · o open link · c copy URI · m mark seen (M all) · ★ not seen yet")
            yield Static("Artists: ✓ fresh · · due · ⟳ fetching · ✗ failed (the Next check column says more)")
            yield Static("ctrl+p: the command palette, every action by name · j/k or ↑↓ move · ← → the columns a narrow "
                         "terminal keeps to the side · Tab next panel")
            yield Static(Text.assemble(("Panels", "bold"), "\n"
                "Cache: lookups answered from memory or the store since the dashboard started; "
                "the hit rates of the last runs, newest first.\n"
                "Latency: median and 95th percentile of a lookup in each tier and of an API call; "
                "the bars are the last 60 calls.\n"
                "API: calls of this run (or the last one), calls per release it found, the busiest endpoint, "
                "requests shared with an identical one in flight, batching (extended mode only), "
                "429 answers, requests in flight of the current bound, and connections opened or reused."))
            yield Static(Text('Remap keys in config.toml: [keys] refresh = "f5" (esh-tui config shows where)'))
