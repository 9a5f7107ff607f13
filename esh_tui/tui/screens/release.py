"""A release in detail: its artists, date, album, ISRC, link and the other versions seen."""

from __future__ import annotations

import webbrowser

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from esh_tui.models import Release
from esh_tui.text import clean


class ReleaseScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter", "dismiss(None)", "Close"), Binding("o", "open", "Open in browser"),
                Binding("c", "copy", "Copy URI")]

    def __init__(self, release: Release, versions: list[dict]) -> None:
        super().__init__()
        self.release, self.versions = release, versions

    def compose(self) -> ComposeResult:
        r = self.release
        lines = [
            ("Track", r.track_name), ("Artists", ", ".join(r.artist_names)),
            ("Released", f"{r.release_date.isoformat()} on {r.album_name} ({r.album_type})"),
            ("ISRC", r.isrc or "none (matched by track only)"), ("Link", r.url),
        ]
        with Vertical(id="dialog"):
            for label, value in lines:
                yield Static(Text.assemble((f"{label:<9}", "bold"), clean(value)))
            others = [v for v in self.versions if v["id"] != r.album_id]
            yield Static(Text.assemble(("Also on  ", "bold"), clean("; ".join(
                f"{v['name']} ({v['album_type']}, {v['release_date']})" for v in others) or "no other version seen")))
            yield Label("o open in browser · c copy URI · Esc close")

    def action_open(self) -> None:
        webbrowser.open(self.release.url)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.release.uri)
        self.app.notify(f"Copied {self.release.uri}")
