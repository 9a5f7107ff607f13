"""Full garbage collections run when the dashboard is idle: never during a run or right after a key, and then
what was left in cycles is freed, and what survives the pass after a run is frozen."""

from __future__ import annotations

import gc
import weakref

from esh_tui.tui.collector import DUE_AFTER, NEVER, QUIET_S, IdleCollector

from tui_support import make_app, settle


class _Node:
    pass


def _cycle() -> weakref.ref:
    node = _Node()
    node.itself = node  # a cycle: only a collector's pass frees it
    gone = weakref.ref(node)
    del node
    gc.freeze()
    gc.unfreeze()  # moves it to the oldest generation, where only a full pass reaches it
    return gone


def _young_passes(count: int) -> None:
    for _ in range(count):
        gc.collect(1)


def test_a_full_pass_waits_for_no_run_and_a_quiet_moment_then_frees_cycles_and_freezes_what_survives():
    before = gc.get_threshold()
    now, running = [100.0], [True]
    collector = IdleCollector(busy=lambda: running[0], clock=lambda: now[0])
    collector.start()
    try:
        assert gc.get_threshold() == (before[0], before[1], NEVER), "no full pass of Python's own"
        gone = _cycle()
        _young_passes(DUE_AFTER)
        assert not collector.collect_if_idle() and gone() is not None, "not during a run"
        running[0] = False
        collector.touched()
        now[0] += QUIET_S / 2
        assert not collector.collect_if_idle() and gone() is not None, "not right after a key"
        now[0] += QUIET_S
        collector.after_run()
        assert not collector.collect_if_idle() and gone() is not None, "not right as a run ends"
        now[0] += QUIET_S
        frozen = gc.get_freeze_count()
        assert collector.collect_if_idle() and collector.passes == 1
        assert gone() is None, "the idle pass frees what was left in cycles"
        assert gc.get_freeze_count() > frozen, "what survives a run's pass is kept out of later full passes"
        assert not collector.collect_if_idle(), "no young passes since: nothing worth a pause"
        kept = _Node()  # made after the run: a later pass frees it when it goes, as Python would
        _young_passes(DUE_AFTER)
        frozen = gc.get_freeze_count()
        assert collector.collect_if_idle() and gc.get_freeze_count() == frozen, "no run since: nothing frozen"
        assert gc.is_tracked(kept) and any(o is kept for o in gc.get_objects())
    finally:
        collector.stop()
        gc.unfreeze()
    assert gc.get_threshold() == before, "Python's own full passes are back once the dashboard closes"


async def test_the_dashboard_runs_its_full_passes_when_idle_and_gives_them_back_when_it_closes():
    before = gc.get_threshold()
    app, _ = make_app()
    async with app.run_test() as pilot:
        await settle(app, pilot)
        assert gc.get_threshold()[2] == NEVER
        gone = _cycle()
        _young_passes(DUE_AFTER)
        app.collector.last_input -= QUIET_S
        assert app.collector.collect_if_idle() and gone() is None
    assert gc.get_threshold() == before


def test_two_dashboards_closed_in_either_order_give_python_its_thresholds_back():
    before = gc.get_threshold()
    for order in ((0, 1), (1, 0)):
        collectors = [IdleCollector(busy=lambda: False), IdleCollector(busy=lambda: False)]
        for collector in collectors:
            collector.start()
        collectors[order[0]].stop()
        assert gc.get_threshold()[2] == NEVER, "the other dashboard is still open"
        collectors[order[1]].stop()
        assert gc.get_threshold() == before
    gc.unfreeze()
