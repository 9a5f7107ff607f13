"""The dashboard's event log: Textual's RichLog, bounded while it has never been shown."""

from __future__ import annotations

from collections import deque

from textual.cache import LRUCache
from textual.widgets import RichLog

from esh_tui.tui.widgets.tables import CACHED_LINES


class EventLog(RichLog):
    """RichLog keeps every line written before its first layout in a list that `max_lines` does not bound, and the
    log starts hidden: a dashboard left open for days with the log closed grew by a line per artist checked. Those
    waiting lines are bounded here as the shown ones are; drawn lines are cached for a few screens, not 1,024."""

    def __init__(self, *, max_lines: int, **options) -> None:
        super().__init__(max_lines=max_lines, **options)
        self._deferred_renders = deque(maxlen=max_lines)
        self._line_cache = LRUCache(CACHED_LINES)
