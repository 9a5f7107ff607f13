"""The filter bar: narrows one table as you type; Enter keeps the filter, Esc clears it."""

from __future__ import annotations

from textual.widgets import Input

from esh_tui.tui.widgets.inputs import SafeInput
from esh_tui.tui.widgets.tables import KeyedTable


class FilterBar(SafeInput):
    """Hidden until `open`ed on a table; its Input.Changed messages still bubble, so the screen can recount rows."""

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder="Filter the focused table (Esc clears)", **kwargs)
        self.target: KeyedTable | None = None  # the table being filtered

    def open(self, table: KeyedTable) -> None:
        self.target = table
        self.value = table.filter_text
        self.display = True
        self.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.target is not None:
            self.target.apply_filter(event.value.strip())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._close()

    def on_key(self, event) -> None:
        if event.key == "escape":
            self.value = ""
            self._close()
            event.stop()

    def _close(self) -> None:
        self.display = False
        if self.target is not None:
            self.target.focus()
