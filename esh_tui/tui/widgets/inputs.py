"""The one text field of the dashboard: what a person types or pastes, drawn without handing controls to the
terminal."""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text
from textual.widgets import Input

from esh_tui.text import visible


class SafeInput(Input):
    """An Input that draws its value with controls as visible stand-ins (an escape as ␛): Textual draws a pasted
    escape sequence as it is, and the terminal acts on it (a path copied from `ls` may hold one). The value stays
    exactly what was pasted, so a file whose name holds such a character is still found."""

    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        text = Text(visible(self.value), no_wrap=True, overflow="ignore", end="")
        return self.highlighter(text) if self.highlighter is not None else text

    def _position_to_cell(self, position: int) -> int:
        """Where the cursor goes: the stand-ins are one cell each (a raw tab or escape would not be)."""
        return cell_len(visible(self.value[:position]))

    def _cell_offset_to_index(self, offset: int) -> int:
        """Which character a click lands on, counting the stand-ins' cells."""
        cell = 0
        offset += int(self.scroll_offset.x)
        for index, char in enumerate(visible(self.value)):
            width = get_character_cell_size(char)
            if cell <= offset < cell + width:
                return index
            cell += width
        return max(0, min(offset, len(self.value)))
