"""One tracked artist in detail: who it is, when it was checked and is due next (and why then), its last error,
its releases in the window, and what checking it costs. Everything from outside is shown as text, never markup."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from esh_tui.models import Release, TrackedArtist
from esh_tui.text import clean

if TYPE_CHECKING:
    from esh_tui.tui.app import EshApp

RELOAD_EVERY = 1.0  # a run (or a cron run beside the dashboard) may check the artist while this is open
LABEL_WIDTH = 10


class ArtistScreen(ModalScreen[None]):
    app: EshApp
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, artist_id: str) -> None:
        super().__init__()
        self.artist_id = artist_id
        self._shown: tuple | None = None  # what the widgets show, to redraw only when it changed

    def compose(self) -> ComposeResult:
        with Vertical(id="artist-dialog"):
            yield Static(id="artist-facts")
            yield Static(id="artist-releases-title")
            with VerticalScroll(id="artist-releases"):
                yield Static(id="artist-releases-table")
            yield Label("Esc close · ↑↓ scroll the releases")

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(RELOAD_EVERY, self.reload)

    def reload(self) -> None:
        """Read the artist and its releases from the store again; redraw what changed."""
        store, cutoff = self.app.runtime.store, self.app.cutoff()
        artist = store.artist(self.artist_id)
        if artist is None:  # no longer tracked (removed by another esh-tui meanwhile)
            self.dismiss(None)
            return
        releases = self.app.tracker.artist_releases(self.artist_id, cutoff)  # as the release filter shows them
        found = len(self.app.tracker.artist_releases(self.artist_id))
        now = self.app.clock()
        shown = (artist, tuple(releases), found, int(now // 60), cutoff)
        if shown == self._shown:
            return
        self._shown = shown
        self.query_one("#artist-facts", Static).update(facts(artist, now, found))
        unseen = sum(1 for _, new in releases if new)
        days = (self.app.runtime.today() - cutoff).days
        self.query_one("#artist-releases-title", Static).update(Text.assemble(
            ("Releases".ljust(LABEL_WIDTH), "bold"),
            f"{len(releases)} since {cutoff.isoformat()} ({days} days)" + (f", {unseen} not seen yet ★" if unseen else "")))
        self.query_one("#artist-releases-table", Static).update(release_table(releases))


def facts(artist: TrackedArtist, now: float, releases_found: int) -> Table:
    """The artist's lines: name, id and source, when checked, when due and why, its last error, its cost (a long
    one wraps beneath its own text, not beneath the labels)."""
    lines = [
        ("Name", Text(clean(artist.name), style="bold")),
        ("ID", Text(f"{artist.id} · added {_added(artist.added_at)} from {clean(artist.source)}")),
        ("Checked", Text(_when(artist.last_checked, now) if artist.last_checked else "never")),
        ("Next", Text(_next(artist, now))),
        ("Activity", Text(_activity(artist))),
        ("Error", Text(clean(artist.failed_reason), style="bold") if artist.failed_reason else Text("none")),
        ("Cost", Text(_cost(artist, releases_found))),
    ]
    grid = Table.grid(expand=True)
    grid.add_column(width=LABEL_WIDTH, style="bold", no_wrap=True)
    grid.add_column(ratio=1)
    for label, value in lines:
        grid.add_row(label, value)
    return grid


def release_table(releases: list[tuple[Release, bool]]) -> Table | Text:
    """The releases, newest first, one line each (cut to fit, never wrapped)."""
    if not releases:
        return Text("none in the window")
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, show_edge=False, padding=(0, 1))
    table.add_column("★", width=1, no_wrap=True)
    table.add_column("Date", width=10, no_wrap=True)
    for name in ("Track", "Album", "Artists"):
        table.add_column(name, ratio=1, no_wrap=True, overflow="ellipsis")
    table.add_column("Type", width=8, no_wrap=True, overflow="ellipsis")
    for release, new in releases:
        table.add_row(Text("★" if new else " ", style="bold"), release.release_date.isoformat(),
                      Text(clean(release.track_name)), Text(clean(release.album_name)),
                      Text(clean(", ".join(release.artist_names))), Text(clean(release.album_type)))
    return table


def _added(added_at: str) -> str:
    try:
        return dt.datetime.fromisoformat(added_at).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return clean(added_at)


def _when(at: float, now: float) -> str:
    """'Mon 23 Nov 20:00 (2 h ago)'."""
    stamp = time.strftime("%a %d %b %H:%M", time.localtime(at))
    ago = now - at
    return f"{stamp} ({'just now' if ago < 60 else _span(ago) + ' ago'})" if ago >= 0 else stamp


def _next(artist: TrackedArtist, now: float) -> str:
    if artist.failed_reason:
        return "due now: it failed, and the next refresh tries again"
    if artist.next_due is None:
        return "due now: never checked" if artist.last_checked is None else "due now"
    if artist.next_due <= now:
        return f"due since {time.strftime('%a %d %b %H:%M', time.localtime(artist.next_due))}"
    return f"fresh until {time.strftime('%a %d %b %H:%M', time.localtime(artist.next_due))} (in {_span(artist.next_due - now)})"


def _activity(artist: TrackedArtist) -> str:
    """How often it releases, and so how long an answer about it stays fresh."""
    if artist.frequency is None:
        return "not known until it is checked"
    per_year = f", {artist.releases_per_year:g} releases a year" if artist.releases_per_year is not None else ""
    last = f", last release {artist.last_release}" if artist.last_release else ", no release seen"
    every = f"; checked every {_span(artist.interval_hours * 3600)}" if artist.interval_hours else ""
    return f"{artist.frequency}{per_year}{last}{every}"


def _cost(artist: TrackedArtist, releases_found: int) -> str:
    """'last check 14 API calls · all checks 30 · 2.3 calls per release (13 found)'."""
    if artist.total_calls is None:
        return "not counted yet (checks before this version of esh-tui were not)"
    per = (f"{artist.total_calls / releases_found:.1f} calls per release ({releases_found} found)" if releases_found
           else "no release found yet")
    return f"last check {artist.last_scan_calls} API calls · all checks {artist.total_calls} · {per}"


def _span(seconds: float) -> str:
    """'45 s', '12 min', '6 h', '3 days'."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        hours = seconds / 3600
        return f"{hours:.0f} h" if hours >= 10 or hours == int(hours) else f"{hours:.1f} h"
    return f"{seconds / 86400:.0f} days"
