"""Full garbage collections wait for the end of a dashboard run, then run once."""

from __future__ import annotations

import gc
import weakref

from esh_tui.tui.collector import NEVER, full_collections_deferred


class _Node:
    pass


def test_full_collections_are_deferred_during_a_run_and_run_once_after():
    before = gc.get_threshold()
    with full_collections_deferred():
        assert gc.get_threshold() == (before[0], before[1], NEVER)
        node = _Node()
        node.itself = node  # a cycle: only the collector frees it
        gone = weakref.ref(node)
        del node
        gc.freeze()
        gc.unfreeze()  # moves it to the oldest generation, where only a full pass reaches it
    assert gc.get_threshold() == before
    assert gone() is None, "the pass at the end frees what the run left in cycles"
    assert gc.get_freeze_count() > 0, "what survives is kept out of later full passes"
    gc.unfreeze()
