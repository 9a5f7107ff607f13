"""The dashboard's full garbage collections, at idle moments only.

A full pass walks every object not frozen and holds the event loop meanwhile: after a cold run of 1,000 artists
that is 300,000 objects (the tables' rows and cells, the memory tier, the run's call records) and 120-170 ms,
a visible freeze when it falls mid-run or on a key press. Young generations still collect as usual (their
passes are short); full passes run only when no run is going and no key, click or run's end came for a
moment. What survives the first pass after a run is frozen (kept out of later passes, as everything loaded at
start is): it is mostly the run's rows and what it learned, which live as long as the dashboard. Other passes
freeze nothing, so that what a frame or a timer holds for a while is not kept forever once it is dropped.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

NEVER = 1 << 30  # a generation-2 threshold nothing reaches: full passes are this module's to start
QUIET_S = 1.0  # no input for this long: the user is reading, not typing
CHECK_EVERY_S = 2.0  # how often the dashboard asks for an idle pass (see EshApp.on_mount)
DUE_AFTER = 10  # young passes since the last full one before another is worth its pause (CPython's default)

# The thresholds are the process's: the ones Python had before the first collector started, and who holds them.
_python_thresholds: tuple[int, int, int] | None = None
_open: set[IdleCollector] = set()


class IdleCollector:
    """Full passes when `busy()` says no run is going and no input came for QUIET_S; see the module."""

    def __init__(self, busy: Callable[[], bool], clock: Callable[[], float] = time.monotonic) -> None:
        self.busy, self.clock = busy, clock
        self.last_input = float("-inf")
        self.passes = 0  # full passes run (the benchmark waits for one)
        self.last_pass_ms: float | None = None
        self._started = False
        self._freeze_next = False

    def start(self) -> None:
        """From now on, full passes are this collector's; what exists now is frozen."""
        global _python_thresholds
        if not self._started:
            self._started = True
            _open.add(self)
            if _python_thresholds is None:
                _python_thresholds = gc.get_threshold()
                gc.set_threshold(_python_thresholds[0], _python_thresholds[1], NEVER)
        gc.freeze()

    def stop(self) -> None:
        """Full passes are Python's again once the last open dashboard closed (a test's process goes on, and may
        have had two dashboards open, closed in any order)."""
        global _python_thresholds
        if self._started:
            self._started = False
            _open.discard(self)
            if not _open and _python_thresholds is not None:
                gc.set_threshold(*_python_thresholds)
                _python_thresholds = None

    def after_run(self) -> None:
        """A run ended: what survives the next pass is frozen. Its end counts as input: it is when the user who
        waited for it looks and acts, so the pass waits a quiet moment after it too."""
        self._freeze_next = True
        self.touched()

    def touched(self) -> None:
        """A key or a click: not now."""
        self.last_input = self.clock()

    def due(self) -> bool:
        return (gc.get_count()[2] >= DUE_AFTER and not self.busy()
                and self.clock() - self.last_input >= QUIET_S)

    def collect_if_idle(self) -> bool:
        if not self.due():
            return False
        started = time.perf_counter()
        gc.collect()
        if self._freeze_next:
            gc.freeze()
            self._freeze_next = False
        self.last_pass_ms = (time.perf_counter() - started) * 1000
        self.passes += 1
        return True
