"""`--delta-only` under interruption: reported means printed.

Real `esh-tui track --delta-only` processes against the loopback simulator are
killed (SIGKILL, SIGINT, SIGTERM) after a random number of API calls, several
times in a row, then one runs to the end. Everything they printed, together,
is the oracle's releases, each exactly once; an interrupted run is recorded as
interrupted, never left running or called ok.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.server import SimServer
from esh_tui.storage.store import Store

from conftest import TODAY, fresh_catalog
from reliability_support import expected, simulator_environment, store_tracking, tracked_ids

DAYS = 120


def _environment(server: SimServer, data) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIFY_", "SPOTIPY_", "ESH_"))}
    return env | simulator_environment(server, data)


def _track(env: dict[str, str], since: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "esh_tui", "track", "--since", since, "--delta-only",
                             "--format", "ids"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_calls(sim: SimSpotify, process: subprocess.Popen, calls: int) -> None:
    """Until the simulator has answered `calls` requests of this run, or the run is over."""
    deadline = time.monotonic() + 60
    while sim.calls() < calls and process.poll() is None:
        assert time.monotonic() < deadline, "the run neither progressed nor ended"
        time.sleep(0.002)


@pytest.mark.parametrize("seed", [3, 8])
def test_delta_only_killed_at_random_points_prints_every_release_exactly_once(tmp_path, seed):
    catalog = fresh_catalog(seed, 30)
    ids = tracked_ids(catalog)
    sim = SimSpotify(catalog, SimConfig(mode="development", latency_ms=4, jitter_ms=2))
    data = tmp_path / "data"
    store_tracking(data / "esh.db", catalog, ids)
    since = (TODAY - dt.timedelta(days=DAYS)).isoformat()
    rng = random.Random(seed)
    printed: Counter[str] = Counter()
    statuses = []
    server = SimServer(sim).start_in_thread()
    try:
        env = _environment(server, data)
        for how in (signal.SIGKILL, signal.SIGINT, signal.SIGTERM) * 2:
            sim.reset_counts()
            process = _track(env, since)
            _wait_for_calls(sim, process, rng.randrange(5, 120))
            if process.poll() is None:
                process.send_signal(how)
            out, err = process.communicate(timeout=60)
            printed.update(out.split())
            assert "Traceback" not in err, err
            if how != signal.SIGKILL and process.returncode != 0:
                assert process.returncode == 130 and "interrupted" in err
            statuses.append(_last_status(data))
        process = _track(env, since)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        printed.update(out.split())
    finally:
        server.stop_thread()
    want = {r.track_id for r in expected(catalog, ids, DAYS).values()}
    assert set(printed) == want, f"missing {len(want - set(printed))}, extra {len(set(printed) - want)}"
    assert [k for k, n in printed.items() if n > 1] == [], "a release printed twice"
    assert "running" not in statuses and set(statuses) <= {"interrupted", "ok"}, statuses
    assert "interrupted" in statuses


def _last_status(data) -> str:
    store = Store(data / "esh.db")
    try:
        store.close_abandoned_runs()
        return store.runs(1)[0]["status"]
    finally:
        store.close()
