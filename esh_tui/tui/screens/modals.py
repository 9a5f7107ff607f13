"""The dashboard's modals: add an artist, confirm, import, release details, help."""

from __future__ import annotations

import webbrowser

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from esh_tui.models import Release
from esh_tui.spotify.errors import SpotifyError
from esh_tui.text import clean
from esh_tui.tracker.artists import ArtistNotFound, resolve_artist

SEARCH_DEBOUNCE_SECONDS = 0.3


class AddArtistScreen(ModalScreen[tuple[str, str] | None]):
    """Search Spotify as you type (debounced) and pick an artist; an ID, URI or URL works too."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, client) -> None:
        super().__init__()
        self.client = client
        self._debounce: Timer | None = None
        self.searches = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Add an artist: type a name, or paste a Spotify ID, URI or URL")
            yield Input(placeholder="Artist name or link", id="query")
            yield OptionList(id="results")
            yield Static("", id="status")

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        text = event.value.strip()
        if len(text) >= 2 and not text.startswith(("spotify:", "http")):
            self._debounce = self.set_timer(SEARCH_DEBOUNCE_SECONDS, lambda: self.search(text))

    @work(exclusive=True, group="search")
    async def search(self, text: str) -> None:
        self.searches += 1
        status = self.query_one("#status", Static)
        try:
            page = await self.client.page("/search", {"q": text, "type": "artist"}, template="GET /search", key="artists")
        except SpotifyError as exc:
            status.update(Text(str(exc)))
            return
        results = self.query_one("#results", OptionList)
        results.clear_options()
        items = [a for a in (page or {}).get("items") or [] if isinstance(a, dict) and isinstance(a.get("id"), str)]
        for artist in items:
            results.add_option(Option(Text(clean(artist.get("name", ""))), id=artist["id"]))
        status.update(Text(f"{len(items)} found — ↓ to choose, Enter to add" if items else f"nothing found for {clean(text)}"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss((event.option.id, str(event.option.prompt)))

    def on_key(self, event) -> None:
        if event.key == "down" and self.focused is self.query_one("#query", Input):
            self.query_one("#results", OptionList).focus()

    @work(exclusive=True, group="resolve")
    async def on_input_submitted(self, event: Input.Submitted) -> None:
        results = self.query_one("#results", OptionList)
        if results.option_count and not event.value.strip().startswith(("spotify:", "http")) and \
                len(event.value.strip()) < 22:
            option = results.get_option_at_index(results.highlighted or 0)
            self.dismiss((option.id, str(option.prompt)))
            return
        try:
            self.dismiss(await resolve_artist(self.client, event.value))
        except (ArtistNotFound, SpotifyError) as exc:
            self.query_one("#status", Static).update(Text(str(exc)))


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.question))
            with Horizontal(id="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ImportScreen(ModalScreen[tuple[str, str] | None]):
    """Choose where to import artists from; a file or a playlist also needs a path or link."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    SOURCES = (("file", "A file (one name, ID or link a line)"), ("playlist", "A Spotify playlist (link or ID)"),
               ("liked", "Your liked songs"), ("followed", "The artists you follow"))

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Import artists from…")
            yield OptionList(*(Option(label, id=key) for key, label in self.SOURCES), id="sources")
            yield Input(placeholder="Path or playlist link, then Enter", id="where")
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


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss(None)", "Close")]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("[b]esh-tui[/b] — never miss a new release")
            for key, description in self.keys:
                yield Static(Text.assemble((f"{key:>8}  ", "bold"), description))
            yield Static("On a release: Enter details · o open link · c copy URI · m mark seen (M all) · ★ not seen yet")
            yield Static("Artists: ✓ fresh · · due · ⟳ fetching · ✗ failed (the Next check column says more)")
            yield Static("Remap keys in config.toml in the data directory, e.g. [keys] refresh = \"f5\"")
