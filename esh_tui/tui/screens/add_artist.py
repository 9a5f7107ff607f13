"""The add-artist dialog: search Spotify as you type, or paste an ID, URI or URL."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from esh_tui.spotify.errors import SpotifyError
from esh_tui.text import clean
from esh_tui.tracker.artists import ArtistNotFound, resolve_artist
from esh_tui.tui.widgets.inputs import SafeInput

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
            yield SafeInput(placeholder="Artist name or link", id="query")
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
