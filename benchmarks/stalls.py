"""How free an event loop is, and what held it when it was not.

`LoopProbe` is a task on the loop that sleeps PROBE_EVERY (the dashboard's own probe period) and records how late
it wakes, and how much CPU the loop's thread spent in between (`time.thread_time`): a late wake-up with as much CPU
is this process's work; one with little CPU is the machine's other processes (2 shared cores) or a lock.

`StallSampler` is a thread that reads the loop thread's stack every SAMPLE_EVERY (`sys._current_frames`): the
samples that fall inside a stall over `threshold_ms` are what ran then. A poor man's py-spy that needs no ptrace
and sees only the stalls.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import threading
import time
from collections import Counter, deque

PROBE_EVERY = 0.05
SAMPLE_EVERY = 0.004
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LoopProbe:
    def __init__(self, every: float = PROBE_EVERY) -> None:
        self.every = every
        self.lateness_ms: list[float] = []
        self.busy_ms: list[float] = []  # the loop thread's CPU between two wake-ups
        self.stalls: list[tuple[float, float]] = []  # (from, to) perf_counter times of wake-ups later than a limit
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def reset(self) -> None:
        self.lateness_ms.clear(), self.busy_ms.clear(), self.stalls.clear()

    async def _run(self) -> None:
        while True:
            asked, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(self.every)
            woke = time.perf_counter()
            late = (woke - asked - self.every) * 1000
            self.lateness_ms.append(late)
            self.busy_ms.append((time.thread_time() - cpu) * 1000)
            if late > 20:
                self.stalls.append((asked + self.every, woke))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def figures(self) -> dict:
        late = sorted(self.lateness_ms) or [0.0]
        return {"max_stall_ms": round(late[-1], 1), "p99_lateness_ms": round(_quantile(late, 0.99), 1),
                "p50_lateness_ms": round(statistics.median(late), 1), "probes": len(self.lateness_ms),
                "stalls_over_50ms": sum(1 for x in late if x > 50),
                "max_busy_ms": round(max(self.busy_ms, default=0.0), 1),
                "p99_busy_ms": round(_quantile(sorted(self.busy_ms) or [0.0], 0.99), 1)}


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class StallSampler(threading.Thread):
    """Samples the stack of the thread that made it; `report(probe)` names what ran during the probe's stalls."""

    def __init__(self, every: float = SAMPLE_EVERY) -> None:
        super().__init__(daemon=True, name="stall-sampler")
        self.target = threading.get_ident()
        self.every = every
        self.samples: deque[tuple[float, tuple[str, ...]]] = deque(maxlen=200_000)
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self.every):
            frame = sys._current_frames().get(self.target)
            stack = []
            while frame is not None:
                code = frame.f_code
                stack.append(f"{_short(code.co_filename)}:{code.co_name}")
                frame = frame.f_back
            self.samples.append((time.perf_counter(), tuple(stack)))

    def stop(self) -> None:
        self._stop.set()

    def report(self, probe: LoopProbe, threshold_ms: float = 40.0, top: int = 40) -> dict:
        """The functions on the stack (inclusive) and at its top (exclusive) in the samples taken during stalls
        over `threshold_ms`, most samples first."""
        windows = [(start, end) for start, end in probe.stalls if (end - start) * 1000 > threshold_ms]
        inclusive, leaf, ours, total = Counter(), Counter(), Counter(), 0
        for at, stack in list(self.samples):
            if any(start <= at <= end for start, end in windows) and stack:
                total += 1
                leaf[stack[0]] += 1
                inclusive.update(set(stack))
                ours[next((f for f in stack if f.startswith("esh_tui/")), "(not esh_tui: Textual, asyncio)")] += 1
        return {"stalls": len(windows), "samples": total, "inclusive": inclusive.most_common(top),
                "leaf": leaf.most_common(top), "innermost_esh_tui": ours.most_common(top)}


def _short(path: str) -> str:
    if path.startswith(_HERE):
        return os.path.relpath(path, _HERE)
    marker = "site-packages" + os.sep
    return path.split(marker, 1)[1] if marker in path else os.path.basename(path)
