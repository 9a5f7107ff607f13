"""The footer of keys: Textual's, built anew only when what it shows changed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    """Textual's Footer mounts and styles all its keys again (about twenty widgets) each time the screen's bindings
    are refreshed: each focus change, each run's start and end. Most refreshes change none of what it shows; it
    was a tenth of the dashboard tests' CPU. This one rebuilds when the keys shown, their state or its own look
    changed, read as its compose reads them."""

    _shown: tuple | None = None

    def compose(self) -> ComposeResult:
        """Textual's keys, each bound to the footer's look given it before it mounts. Such a key started compact
        and was told once mounted that it is not: each change of its class applied the stylesheet to it again,
        twice a key at every compose (9 ms of each dashboard start). The command palette's key is not bound to the
        footer's look and keeps its own."""
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    async def recompose(self) -> None:
        shown = (self._bindings_ready, self.compact, self.show_command_palette, self.combine_groups,
                 tuple((binding, enabled, tooltip) for _, binding, enabled, tooltip
                       in self.screen.active_bindings.values() if binding.show) if self.is_attached else None)
        if shown != self._shown:
            self._shown = shown
            await super().recompose()
