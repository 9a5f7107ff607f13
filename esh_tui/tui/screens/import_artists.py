"""The import dialog: where to import artists from (a file, a playlist, liked songs, followed artists)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from esh_tui.tui.widgets.inputs import SafeInput


class ImportScreen(ModalScreen[tuple[str, str] | None]):
    """Choose where to import artists from; a file or a playlist also needs a path or link."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    SOURCES = (("file", "A file (one name, ID or link a line)"), ("playlist", "A Spotify playlist (link or ID)"),
               ("liked", "Your liked songs"), ("followed", "The artists you follow"))

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Import artists from…")
            yield OptionList(*(Option(label, id=key) for key, label in self.SOURCES), id="sources")
            yield SafeInput(placeholder="Path or playlist link, then Enter", id="where")
            yield Static("", id="status")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id in ("liked", "followed"):
            self.dismiss((event.option.id, ""))
        else:
            self.query_one("#where", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        sources = self.query_one("#sources", OptionList)
        kind = sources.get_option_at_index(sources.highlighted or 0).id
        if not event.value.strip():
            self.query_one("#status", Static).update("Type a path or a playlist link first")
            return
        self.dismiss((kind if kind in ("file", "playlist") else "file", event.value.strip()))
