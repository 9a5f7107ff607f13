"""The welcome screen of the dashboard's first start: what the panels are, the main keys, how to connect your
own Spotify (`esh-tui setup`). Shown once per store (the app remembers it); the help screen shows it again."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from esh_tui.text import clean

PANELS = (
    ("Artists", "left: who you track. ✓ checked · ⟳ fetching · ✗ failed; Enter on one for its details"),
    ("Releases", "right: their new tracks, newest first. ★ not seen yet; Enter for details, o opens it in Spotify"),
    ("Panels", "below: what fetching costs: cache hits, latency, API calls per release"),
    ("Status", "top: the run going on, the app's mode, when the next check is due"),
)


class WelcomeScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter", "dismiss(None)", "Close"),
                Binding("s", "connect", "Connect your Spotify")]

    def __init__(self, keys: list[tuple[str, str]], offline: bool, artists: int, redirect_uri: str, days: int) -> None:
        super().__init__()
        self.keys, self.offline, self.artists, self.days = keys, offline, artists, days
        self.redirect_uri = clean(redirect_uri)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="welcome"):
            yield Static(Text.assemble(("Welcome to esh-tui", "bold"), " — new releases of the artists you follow"))
            yield Static(self._where(), classes="welcome-para")
            yield Static(Text("\n").join(Text.assemble((f"{name:<9}", "bold"), text) for name, text in PANELS),
                         classes="welcome-para")
            yield Static(Text.assemble(("Keys     ", "bold"), " · ".join(f"{key} {what}" for key, what in self.keys)),
                         classes="welcome-para")
            yield Static(Text.assemble(("Your own Spotify: ", "bold"), "quit (q) and run ", ("esh-tui setup", "bold"),
                                       " in a shell; s here says what it does."), id="welcome-connect-line")
            with Vertical(id="welcome-connect", classes="welcome-para"):
                yield from self._connect()
            yield Static(Text("Enter or Esc: to the dashboard · ? then w shows this again", style="italic"),
                         classes="welcome-para")

    def _where(self) -> Text:
        if self.offline:
            return Text(f"This is the offline demo: a simulated Spotify built into esh-tui, and {self.artists} "
                        f"sample artists (invented names), checked for releases of the last {self.days} days. "
                        "Everything works as it will with your own account.")
        return Text(f"Connected to your Spotify app: {self.artists} artists tracked, checked for releases of the "
                    f"last {self.days} days. a adds an artist, i imports them (a file, a playlist, your liked songs).")

    def _connect(self) -> ComposeResult:
        steps = (
            f"says what to create on developer.spotify.com/dashboard, and the redirect URI to paste: "
            f"{self.redirect_uri}",
            "asks for the app's client id and secret (the secret is not shown as you type)",
            "checks them with Spotify (one token request, one API call), tells the app's mode (development or "
            "extended) and remembers it: runs start in that mode",
            "writes them to .env in the config directory (esh-tui config shows where), readable by you only",
        )
        yield Static(Text.assemble(("Connect your own Spotify", "bold"), ": run ",
                                   ("esh-tui setup", "bold reverse"), " in a shell. It"))
        for number, step in enumerate(steps, 1):
            yield Static(Text(f"{number}. {step}"), classes="welcome-step")
        yield Static(Text.assemble("Then ", ("esh-tui login", "bold"), " for your liked songs and followed artists, "
                                   "and ", ("esh-tui", "bold"), " opens your own library (the demo's stays apart)."))

    def on_mount(self) -> None:
        self._show_connect(self.app.size.height >= 30)  # a short terminal shows it on s, in place of the panels

    def _show_connect(self, shown: bool) -> None:
        """How to connect your Spotify: only on the offline demo (connected, there is nothing to connect)."""
        self.query_one("#welcome-connect").display = shown and self.offline
        self.query_one("#welcome-connect-line").display = not shown and self.offline

    def action_connect(self) -> None:
        if not self.offline:
            return
        self._show_connect(True)
        scroll = self.query_one("#welcome", VerticalScroll)
        self.call_after_refresh(scroll.scroll_to_widget, self.query_one("#welcome-connect"), top=True, animate=False)
