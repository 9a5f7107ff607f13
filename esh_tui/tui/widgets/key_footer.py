"""The footer of keys: Textual's, built anew only when what it shows changed."""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's Footer mounts and styles all its keys again (about twenty widgets) each time the screen's bindings
    are refreshed: each focus change, each run's start and end. Most refreshes change none of what it shows; it
    was a tenth of the dashboard tests' CPU. This one rebuilds when the keys shown, their state or its own look
    changed, read as its compose reads them."""

    _shown: tuple | None = None

    async def recompose(self) -> None:
        shown = (self._bindings_ready, self.compact, self.show_command_palette, self.combine_groups,
                 tuple((binding, enabled, tooltip) for _, binding, enabled, tooltip
                       in self.screen.active_bindings.values() if binding.show) if self.is_attached else None)
        if shown != self._shown:
            self._shown = shown
            await super().recompose()
