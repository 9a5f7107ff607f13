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
    BINDINGS = [Binding("escape,question_mark,q", "dismiss(None)", "Close"),
                Binding("w", "welcome", "The welcome screen")]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Label("[b]esh-tui[/b] — never miss a new release")
            yield Static("w: the welcome screen again (the panels, and how to connect your own Spotify)")
            for key, description in self.keys:
                yield Static(Text.assemble((f"{key:>8}  ", "bold"), description))
            yield Static("On a release: Enter details · o open link · c copy URI · m mark seen (M all) · ★ not seen yet")
            yield Static("P puts every ★ release in your private Spotify playlist of new releases (as esh-tui "
                         "playlist sync does; the palette adds just the selection)")
            yield Static("g groups releases by album: Enter opens or closes an album's row (▸ closed, ▾ open, its "
                         "tracks beneath it); o and c take the album's link, m marks all its tracks seen")
            yield Static("Artists: ✓ fresh · · due · ⟳ fetching · ✗ failed (the Next check column says more); "
                         "Enter on one: when it was checked and is due, its last error, its releases, what it costs")
            yield Static("ctrl+p: the command palette, every action by name · j/k or ↑↓ move · ← → the columns a narrow "
                         "terminal keeps to the side · Tab next panel")
            yield Static(Text.assemble(("Panels", "bold"), "\n"
                "Every figure is the newest run's, read from the store as it is written: this dashboard's run, "
                "or a `track` run by another process (labelled with its pid, live while it goes).\n"
                "Cache: that run's lookups answered from memory or the store; "
                "the hit rates of the last runs, newest first.\n"
                "Latency: median and 95th percentile of a lookup in each tier and of that run's API calls; "
                "the bars are this dashboard's last 60 calls.\n"
                "API: that run's calls, calls per release it found, the busiest endpoint, "
                "requests shared with an identical one in flight, batching (extended mode only), "
                "429 answers, requests in flight now and the limit on them (it drops after a 429 and grows back), "
                "and connections opened or reused.\n"
                "h: the history: API calls per day, hit rate and calls per release of each run, releases found "
                "per week (t changes the span; esh-tui stats --format json gives the same figures)."))
            yield Static(Text('Remap keys in config.toml: [keys] refresh = "f5" (esh-tui config shows where)'))

    def action_welcome(self) -> None:
        self.dismiss(None)
        self.app.call_later(self.app.show_welcome)
