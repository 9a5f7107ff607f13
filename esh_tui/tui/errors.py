"""How an error reads in a notice or the log: its own words, made safe and short."""

from __future__ import annotations

from esh_tui.text import clean


def error_text(exc: BaseException | None) -> str:
    text = str(exc) if exc is not None else "unknown error"
    return clean(text)[:300] or exc.__class__.__name__
