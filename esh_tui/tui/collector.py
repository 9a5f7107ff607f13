"""Keeping Python's full garbage collections out of a run: with the offline catalog and thousands of rows
loaded, each full pass walks every live object and pauses the event loop for a quarter of a second."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

NEVER = 1 << 30  # a generation-2 threshold no run reaches


@contextmanager
def full_collections_deferred() -> Iterator[None]:
    """Young generations still collect as usual; the full pass runs once, at the end, and what survives it is
    frozen (kept out of later full passes), as everything loaded at start is."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)
        gc.collect()
        gc.freeze()
