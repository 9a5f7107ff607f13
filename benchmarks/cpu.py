"""CPU per API call of a headless cold run against the loopback simulator in another process.

`esh-tui sim serve` runs as a child process (development mode, 30 ± 10 ms a request by default), so its CPU is
not counted; the cold run (an empty store, every artist fetched, the engine as shipped) runs in this process,
and its CPU time (user + system, `time.process_time`, the run only: not imports nor the catalog) is divided by
the API calls it made. The network allows at best calls × latency ÷ connections of wall time; the run's wall
time is compared with that. Each figure is the median of `--repeat` runs (a fresh simulator and store each),
with the machine's load average (other processes share its cores) noted for every run.

With `--cli` the cold run is `esh-tui track` in a process of its own, as cron would run it, and its CPU is
that whole process's (interpreter, imports and store included), from `wait4`.

    python -m benchmarks.cpu [--artists 300] [--latency-ms 30] [--jitter-ms 10] [--repeat 3] [--cli]
                             [--profile FILE] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

from esh_tui.sim import oracle
from esh_tui.storage.store import Store
from esh_tui.tracker.options import EngineOptions

from benchmarks.world import CLIENT_ID, CLIENT_SECRET, LoopbackWorld, Session, catalog_for

SEED = 1
REPO = Path(__file__).resolve().parent.parent
CPU_MS_PER_CALL_GOAL = 1.0
WALL_TO_BOUND_GOAL = 1.3


def _child_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of another process so far (Linux; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _load() -> float:
    return round(os.getloadavg()[0], 2)


# `python -m esh_tui` that writes its peak RSS since the exec (VmHWM, kB) where ESH_BENCH_PEAK_RSS says, as it exits.
# (wait4's ru_maxrss counts the fork of this process it was before the exec: a catalog of 10,000 artists, 1.1 GB.)
_PEAK_RSS_AT_EXIT = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status, open(os.environ["ESH_BENCH_PEAK_RSS"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(_peak)
sys.argv[0] = "esh_tui"
runpy.run_module("esh_tui", run_name="__main__", alter_sys=True)
"""


def _track(world: LoopbackWorld, data: Path) -> tuple[int, float, float, list[str], str, float]:
    """`esh-tui track --format ids` over the store in `data`, in a process of its own: (exit code, its CPU
    seconds from wait4, wall seconds, what it printed, the end of what it said on stderr, its peak RSS in MB since
    its exec)."""
    env = dict(os.environ, ESH_API_URL=world.api_url, ESH_ACCOUNTS_URL=world.accounts_url,
               ESH_DATA_DIR=str(data), ESH_CONFIG_DIR=str(data / "config"),
               SPOTIFY_CLIENT_ID=CLIENT_ID, SPOTIFY_CLIENT_SECRET=CLIENT_SECRET,
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    started = time.perf_counter()
    with open(data / "track.out", "w+b") as out, open(data / "track.err", "w+b") as err:
        env["ESH_BENCH_PEAK_RSS"] = str(data / "track.rss")
        track = subprocess.Popen([sys.executable, "-c", _PEAK_RSS_AT_EXIT, "track", "--since", world.cutoff.isoformat(),
                                  "--format", "ids"], env=env, stdout=out, stderr=err,
                                 cwd=data)  # (no .env of the current directory)
        _, status, usage = os.wait4(track.pid, 0)  # (its rusage: CPU of that process alone)
        wall = time.perf_counter() - started
        out.seek(0), err.seek(0)
        return (os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, wall, out.read().decode().split(),
                err.read().decode()[-2000:], int((data / "track.rss").read_text()) / 1024)


def run_cli(artists: int, mode: str, latency_ms: float, jitter_ms: float) -> dict:
    """The cold run as `esh-tui track --format ids` in a process of its own: calls as the simulator counts them,
    CPU of the whole process (user + system, from wait4), releases printed against the oracle's. Its start-up
    is measured apart: a track process over a store with no artists (interpreter, imports, settings, store)."""
    catalog = catalog_for(SEED, artists)
    with LoopbackWorld(catalog, mode, latency_ms=latency_ms, jitter_ms=jitter_ms) as world:
        (world.dir / "empty").mkdir()
        _, startup_cpu, startup_wall, _, _, _ = _track(world, world.dir / "empty")  # ("no artists tracked yet")
        store = Store(world.dir / "esh.db")
        store.add_artists((i, catalog.artists[i].name, "benchmark") for i in world.ids)
        store.close()
        load_before, server_before = _load(), _child_cpu_s(world.process.pid)
        code, cpu, wall, printed, failure, _ = _track(world, world.dir)
        server_after = _child_cpu_s(world.process.pid)
        calls = world.stats()["api_calls"]
        expected = oracle.expected_releases(world.catalog, world.ids, world.cutoff)
    if code != 0:
        raise SystemExit(f"esh-tui track failed ({code}): {failure}")
    connections = 16  # [network] max_connections, as a fresh config leaves it
    bound = calls * latency_ms / 1000 / connections
    exact = sorted(printed) == sorted(e.track_id for e in expected.values())
    return {"status": "ok", "calls": calls, "calls_served": calls, "releases": len(printed), "exact": exact,
            "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "cpu_ms_per_call": round(cpu * 1000 / calls, 3),
            "connections": connections, "network_bound_s": round(bound, 3), "wall_to_bound": round(wall / bound, 3),
            "server_cpu_s": (round(server_after - server_before, 3)
                             if server_before is not None and server_after is not None else None),
            "load_before": load_before, "load_after": _load(), "startup_cpu_s": round(startup_cpu, 3),
            "startup_wall_s": round(startup_wall, 3),
            "cpu_ms_per_call_after_startup": round((cpu - startup_cpu) * 1000 / calls, 3),
            "wall_to_bound_after_startup": round((wall - startup_wall) / bound, 3)}


def run_once(artists: int, mode: str, latency_ms: float, jitter_ms: float, profile: Path | None = None) -> dict:
    catalog = catalog_for(SEED, artists)
    with LoopbackWorld(catalog, mode, latency_ms=latency_ms, jitter_ms=jitter_ms) as world:
        options = EngineOptions()

        async def cold() -> tuple:
            async with Session(world, options) as session:
                connections = session.client.max_connections
                result = await session.tracker.run(world.cutoff, world.ids)
                return result, session.client.log.calls, connections

        load_before = _load()
        server_before = _child_cpu_s(world.process.pid)
        profiler = cProfile.Profile() if profile else None
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        result, calls, connections = asyncio.run(cold())
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
        server_after = _child_cpu_s(world.process.pid)
        served = world.stats()["api_calls"]
        if profiler:
            profiler.dump_stats(profile)
        expected = oracle.expected_releases(world.catalog, world.ids, world.cutoff)
        got = {r.key: (r.track_id, r.album_id, r.release_date) for r in result.releases}
        exact = got == {k: (e.track_id, e.album_id, e.release_date) for k, e in expected.items()}
    bound = calls * latency_ms / 1000 / connections
    return {"status": result.status, "calls": calls, "calls_served": served, "releases": len(got), "exact": exact,
            "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "cpu_ms_per_call": round(cpu * 1000 / calls, 3),
            "connections": connections, "network_bound_s": round(bound, 3), "wall_to_bound": round(wall / bound, 3),
            "server_cpu_s": (round(server_after - server_before, 3)
                             if server_before is not None and server_after is not None else None),
            "load_before": load_before, "load_after": _load()}


def measure(artists: int, mode: str, latency_ms: float, jitter_ms: float, repeat: int,
            profile: Path | None = None, cli: bool = False) -> dict:
    runs = []
    for i in range(repeat):
        runs.append(run_cli(artists, mode, latency_ms, jitter_ms) if cli else
                    run_once(artists, mode, latency_ms, jitter_ms, profile if i == 0 else None))
        print(f"run {i + 1}: {runs[-1]}", flush=True)
    keys = ["calls", "wall_s", "cpu_s", "cpu_ms_per_call", "network_bound_s", "wall_to_bound"]
    if cli:
        keys += ["startup_cpu_s", "startup_wall_s", "cpu_ms_per_call_after_startup", "wall_to_bound_after_startup"]
    median = {key: statistics.median(r[key] for r in runs) for key in keys}
    return {"way": "cli" if cli else "in-process", "mode": mode, "artists": artists, "latency_ms": latency_ms,
            "jitter_ms": jitter_ms,
            "connections": runs[0]["connections"], "repeat": repeat, "median": median,
            "exact": all(r["exact"] for r in runs), "runs": runs,
            "goals": {"cpu_ms_per_call": CPU_MS_PER_CALL_GOAL, "wall_to_bound": WALL_TO_BOUND_GOAL},
            "met": median["cpu_ms_per_call"] <= CPU_MS_PER_CALL_GOAL and median["wall_to_bound"] <= WALL_TO_BOUND_GOAL}


def report(result: dict) -> str:
    m = result["median"]
    cli = result["way"] == "cli"
    lines = [
        "# CPU per API call of a headless cold run" + (", as an `esh-tui track` process" if cli else ""),
        "", f"`python -m benchmarks.cpu{' --cli' if cli else ''}`: `esh-tui sim serve` in a child process "
            f"({result['mode']} mode, {result['artists']} artists, {result['latency_ms']:g} ± "
            f"{result['jitter_ms']:g} ms a request); a cold run of the engine as shipped "
            + ("by `esh-tui track --format ids` in a process of its own" if cli else "in this process")
            + f", {result['connections']} connections.",
        ("CPU is the track process's user + system time, all of it (interpreter, imports, store included)"
         if cli else "CPU is this process's user + system time during the run")
        + "; the network bound is calls × latency ÷ connections. Medians of the runs below; load is the 1-minute "
          "load average of the machine (2 cores, shared) before and after each run.",
        "", f"Goals: at most {CPU_MS_PER_CALL_GOAL:g} ms of CPU per call, wall at most {WALL_TO_BOUND_GOAL:g}× "
            f"the bound — {'met' if result['met'] else 'NOT met'}; output exact against the oracle: "
            f"{'yes' if result['exact'] else 'NO'}.",
        "", "| run | calls | wall | CPU | CPU per call | network bound | wall ÷ bound | simulator CPU | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for i, r in enumerate(result["runs"], 1):
        server = f"{r['server_cpu_s']} s" if r["server_cpu_s"] is not None else "?"
        lines.append(f"| {i} | {r['calls']} | {r['wall_s']:.2f} s | {r['cpu_s']:.2f} s | "
                     f"{r['cpu_ms_per_call']:.2f} ms | {r['network_bound_s']:.2f} s | {r['wall_to_bound']:.2f} | "
                     f"{server} | {r['load_before']} → {r['load_after']} |")
    lines.append(f"| **median** | {m['calls']:g} | {m['wall_s']:.2f} s | {m['cpu_s']:.2f} s | "
                 f"{m['cpu_ms_per_call']:.2f} ms | {m['network_bound_s']:.2f} s | {m['wall_to_bound']:.2f} | | |")
    if cli:
        lines += ["", "Start-up (a track process over a store with no artists: interpreter, imports, settings, "
                      f"store): {m['startup_cpu_s']:.2f} s of CPU, {m['startup_wall_s']:.2f} s of wall (medians). "
                      f"Without it: {m['cpu_ms_per_call_after_startup']:.2f} ms of CPU per call, wall "
                      f"{m['wall_to_bound_after_startup']:.2f}× the bound."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artists", type=int, default=300)
    parser.add_argument("--mode", choices=("development", "extended"), default="development")
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--jitter-ms", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cli", action="store_true", help="the cold run as an 'esh-tui track' process of its own")
    parser.add_argument("--profile", type=Path, help="cProfile the first run into this file (its CPU figure "
                                                       "is then inflated by the profiler)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results",
                        help="where cpu.json and cpu.md go ('-': nowhere)")
    args = parser.parse_args()
    result = measure(args.artists, args.mode, args.latency_ms, args.jitter_ms, args.repeat, args.profile, args.cli)
    text = report(result)
    print(text)
    if args.profile:
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(25)
    if str(args.out) != "-":
        args.out.mkdir(parents=True, exist_ok=True)
        name = "cpu-cli" if args.cli else "cpu"
        (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        (args.out / f"{name}.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
