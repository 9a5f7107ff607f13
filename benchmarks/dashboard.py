"""The dashboard under load: time to first paint, the event loop's stalls during a cold run with the dashboard open,
and peak memory; `esh-tui --version`; and at 10,000 artists, a `track` process's memory and the dashboard on its store.

Every measurement runs in a process of its own (a child of this one: `--child SPEC`), so its memory and start-up
are the dashboard's alone; the loopback simulator (`esh-tui sim serve`) is another child. A probe task on the app's
loop (benchmarks/stalls.py) sleeps 50 ms at a time and records how late it wakes (the longest stall, the 99th
percentile) and how much CPU the loop's thread spent meanwhile (so a stall that is this process's work tells
from one where the shared machine's other processes had the cores). Each figure is the median of `--repeat`
runs, with the 1-minute load average before each.

    python -m benchmarks.dashboard [--loopback] [--in-process] [--first-paint] [--version] [--scale]
                                   [--artists 1000] [--repeat 3] [--sample] [--out benchmarks/results]

With no section named, all but --scale run. `--sample` names what ran during the stalls (a stack sampler).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = 1
GOALS = {"loopback_max_stall_ms": 50, "loopback_p99_lateness_ms": 20, "in_process_max_stall_ms": 100,
         "first_paint_ms": 300, "version_ms": 150, "scale_track_rss_mb": 300, "scale_scroll_max_stall_ms": 50}
PAINT_ARTISTS, PAINT_RELEASES = 1_000, 10_000
SCALE_ARTISTS = 10_000


def _load() -> float:
    return round(os.getloadavg()[0], 2)


# ----- the child: one dashboard, measured -------------------------------------------------------------------

async def _child(spec: dict) -> dict:
    """One dashboard process: a cold run (`spec["run"]`) or opening a store and scrolling it."""
    from esh_tui.config import Settings
    from esh_tui.runtime import Runtime
    from esh_tui.storage.store import Store
    from esh_tui.tui.app import WELCOME_SHOWN, EshApp

    from benchmarks.stalls import PROBE_EVERY, LoopProbe, StallSampler
    from benchmarks.world import TODAY

    @dataclass
    class BenchRuntime(Runtime):
        def today(self) -> dt.date:  # the catalog's today, not the machine's
            return TODAY

    class MeasuredApp(EshApp):
        def on_ready(self) -> None:  # (Textual calls EshApp's on_ready too, after this one)
            self.first_paint_cpu_s = time.thread_time() - self.started_cpu

    imported = time.time()
    data = Path(spec["data_dir"])
    offline = None
    if spec.get("api_url"):
        settings = Settings(data_dir=data, api_url=spec["api_url"], accounts_url=spec["accounts_url"],
                            client_id="esh-bench", client_secret="esh-bench-secret", config_dir=data / "config",
                            log_dir=data / "logs")
    else:  # the in-process simulator, generated here (its memory counts)
        from esh_tui.sim.offline import offline_spotify
        settings = Settings(data_dir=data, config_dir=data / "config", log_dir=data / "logs")
        offline = offline_spotify(settings, seed=SEED, size=spec["artists"], today=TODAY)
        settings = offline.settings
    store = Store(data / "esh.db")
    store.save_setting(WELCOME_SHOWN, True)  # the dashboard as it is used, not a first start's welcome over it
    if offline is not None:
        store.add_artists((a.id, a.name, "bench") for a in offline.catalog.real_artists())
    runtime = BenchRuntime(settings, store, offline)
    probe = LoopProbe()
    probe.start()
    sampler = StallSampler() if spec.get("sample") else None
    if sampler:
        sampler.start()
    started, started_wall = time.perf_counter(), time.time()
    app = MeasuredApp(runtime, prefetch=False)
    app.started_at, app.started_cpu = started, time.thread_time()
    out: dict = {"load_before": spec.get("load_before")}
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        out["first_paint_ms"] = round(app.first_paint_s * 1000, 1)
        out["first_paint_cpu_ms"] = round(app.first_paint_cpu_s * 1000, 1)
        out["process_to_paint_ms"] = round((started_wall + app.first_paint_s - spec["spawned_at"]) * 1000, 1)
        out["imports_ms"] = round((imported - spec["spawned_at"]) * 1000, 1)
        probe.reset()
        app.max_stall_ms = 0.0
        profiler = cProfile.Profile() if spec.get("profile") else None
        if profiler:
            profiler.enable()
        cpu, wall = time.process_time(), time.perf_counter()
        passes = app.collector.passes  # (a full pass within the run's window counts in its stalls)
        if spec.get("run"):
            await app.workers.wait_for_complete()
            await pilot.pause()
        else:  # scroll: the releases table a page and a row at a time, then the artists table
            for key in ["pagedown"] * 40 + ["down"] * 100 + ["end", "home"]:
                await pilot.press(key)
            await pilot.press("tab")
            for key in ["pagedown"] * 40 + ["down"] * 100:
                await pilot.press(key)
        out["seconds"] = round(time.perf_counter() - wall, 2)
        out["cpu_s"] = round(time.process_time() - cpu, 2)
        if profiler:
            profiler.disable()
            profiler.dump_stats(spec["profile"])
        out.update(probe.figures())
        out["stalls_over_50ms_at"] = [[round(start - wall, 2), round((end - start) * 1000)]  # [s into it, ms]
                                      for start, end in probe.stalls if end - start > 0.05]
        out["app_max_stall_ms"] = round(app.max_stall_ms, 1)
        if spec.get("run"):  # the full garbage collection the run put off, at the first idle moment after it
            pass_probe = LoopProbe()
            pass_probe.start()
            for _ in range(200):
                if app.collector.passes > passes:
                    break
                await pilot.pause(0.05)
            await pilot.pause(2 * PROBE_EVERY)  # (the probe's wake-up after the pass, late by it)
            pass_probe.stop()
            out["idle_pass_ms"] = app.collector.last_pass_ms if app.collector.passes > passes else None
            out["idle_pass_stall_ms"] = pass_probe.figures()["max_stall_ms"]
            app.dashboard.flush(all_rows=True)
            result = app.last_result
            out["api_calls"] = result.api_calls if result else None
            out["releases"] = {r.key: [r.track_id, r.album_id, r.release_date.isoformat()]
                               for r in result.releases} if result else {}
        out["rows"] = len(app.dashboard.query_one("#releases").rows)
    probe.stop()
    out["peak_rss_mb"] = round(peak_rss_kb() / 1024, 1)
    if sampler:
        sampler.stop()
        out["what_ran"] = sampler.report(probe)
    if offline is not None and spec.get("run"):
        from esh_tui.sim import oracle
        expected = oracle.expected_releases(offline.catalog, [a.id for a in offline.catalog.real_artists()],
                                            TODAY - dt.timedelta(days=90))
        out["exact"] = out["releases"] == {k: [e.track_id, e.album_id, e.release_date.isoformat()]
                                           for k, e in expected.items()}
    return out


def peak_rss_kb() -> int:
    """This process's peak RSS since it was exec'd (VmHWM). Not getrusage's ru_maxrss: Linux carries that over
    from before the exec, when the child was a fork of its parent (the benchmark, with a catalog of 10,000
    artists: a `track` child then "peaked" at 1.1 GB)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def _spawn(spec: dict) -> dict:
    """Run one child, return what it measured."""
    with tempfile.NamedTemporaryFile("w+", suffix=".json", delete=False) as handle:
        result_path = handle.name
    spec = dict(spec, load_before=_load(), spawned_at=time.time())
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "benchmarks.dashboard", "--child", json.dumps(spec), result_path],
                          env=env, cwd=spec["data_dir"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the measured dashboard failed ({done.returncode}): {done.stderr[-3000:]}")
    result = json.loads(Path(result_path).read_text())
    os.unlink(result_path)
    result["load_after"] = _load()
    return result


# ----- the sections ----------------------------------------------------------------------------------------

def cold_run(loopback: bool, artists: int, latency_ms: float, jitter_ms: float, sample: bool,
             profile: str | None = None) -> dict:
    """A cold run of `artists` with the dashboard open, on the loopback simulator in another process or the
    in-process one; the releases checked against the oracle."""
    if not loopback:
        data = Path(tempfile.mkdtemp(prefix="esh-dash-"))
        try:
            out = _spawn({"data_dir": str(data), "artists": artists, "run": True, "sample": sample,
                          "profile": profile})
        finally:
            shutil.rmtree(data, ignore_errors=True)
        out.pop("releases")
        return out
    from esh_tui.sim import oracle
    from esh_tui.storage.store import Store

    from benchmarks.world import LoopbackWorld, catalog_for
    catalog = catalog_for(SEED, artists)
    with LoopbackWorld(catalog, "development", latency_ms=latency_ms, jitter_ms=jitter_ms) as world:
        store = Store(world.dir / "esh.db")
        store.add_artists((i, catalog.artists[i].name, "bench") for i in world.ids)
        store.close()
        out = _spawn({"data_dir": str(world.dir), "api_url": world.api_url, "accounts_url": world.accounts_url,
                      "run": True, "sample": sample, "profile": profile})
        expected = oracle.expected_releases(world.catalog, world.ids, world.cutoff)
    got = out.pop("releases")
    out["exact"] = got == {k: [e.track_id, e.album_id, e.release_date.isoformat()] for k, e in expected.items()}
    return out


def paint_store(path: Path, artists: int, releases: int) -> None:
    """A store with `artists` fresh artists (no run due) and `releases` releases in the dashboard's window."""
    from esh_tui.models import FoundRelease, Learned, Release
    from esh_tui.storage.store import Store

    from benchmarks.world import TODAY
    store = Store(path)
    ids = [f"bench{i:06d}artist{i % 97:02d}" for i in range(artists)]
    store.add_artists((artist_id, f"Artist number {i} & the [bold]Bench[/bold]", "bench")
                      for i, artist_id in enumerate(ids))
    later = time.time() + 7 * 86_400
    with store.transaction():
        store.db.conn.executemany("UPDATE artists SET next_due = ?, last_checked = ?, interval_hours = 168 "
                                  "WHERE id = ?", [(later, time.time(), i) for i in ids])
    run_id = store.start_run(TODAY - dt.timedelta(days=90), False, "development", artists)
    found = [FoundRelease(Release(key=f"BENCH{i:07d}", isrc=f"BENCH{i:07d}", track_id=f"track{i:016d}",
                                  track_name=f"Track {i} (feat. somebody)", artist_names=(f"Artist number {i % artists}",),
                                  album_id=f"album{i // 4:015d}", album_name=f"Album {i // 4}",
                                  album_type="single" if i % 3 else "album",
                                  release_date=TODAY - dt.timedelta(days=i % 88), found_for=(ids[i % artists],)),
                          time.time()) for i in range(releases)]
    store.save_progress(run_id, Learned(releases=found), time.time())
    store.close()


def open_store(path: Path, sample: bool, settings: dict) -> dict:
    return _spawn({"data_dir": str(path.parent), "sample": sample, **settings})


def first_paint(repeat: int, sample: bool) -> dict:
    data = Path(tempfile.mkdtemp(prefix="esh-paint-"))
    try:
        paint_store(data / "esh.db", PAINT_ARTISTS, PAINT_RELEASES)
        never = {"api_url": "http://127.0.0.1:9", "accounts_url": "http://127.0.0.1:9"}  # no run: nothing is asked
        runs = [open_store(data / "esh.db", sample, never) for _ in range(repeat)]
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return _summary(runs, ["first_paint_ms", "first_paint_cpu_ms", "process_to_paint_ms", "imports_ms", "max_stall_ms", "p99_lateness_ms",
                           "max_busy_ms", "peak_rss_mb", "rows"])


def version(repeat: int) -> dict:
    script = Path(sys.executable).with_name("esh-tui")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "esh_tui"]
    runs = []
    for _ in range(max(5, repeat)):
        load = _load()
        started = time.perf_counter()
        child = subprocess.Popen([*command, "--version"], stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)  # (its CPU alone: the wall time depends on the machine's load)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("esh-tui --version failed")
        runs.append({"version_ms": round((time.perf_counter() - started) * 1000, 1),
                     "version_cpu_ms": round((usage.ru_utime + usage.ru_stime) * 1000, 1), "load_before": load})
    return _summary(runs, ["version_ms", "version_cpu_ms"])


def scale(latency_ms: float, jitter_ms: float, sample: bool) -> dict:
    """10,000 artists: a cold `esh-tui track` process against `sim serve` (its own peak RSS since its exec, CPU from
    wait4), then the dashboard opened on the store it left, scrolled."""
    from esh_tui.sim import oracle
    from esh_tui.storage.store import Store

    from benchmarks.cpu import _track
    from benchmarks.world import LoopbackWorld, catalog_for
    catalog = catalog_for(SEED, SCALE_ARTISTS)
    with LoopbackWorld(catalog, "development", latency_ms=latency_ms, jitter_ms=jitter_ms) as world:
        store = Store(world.dir / "esh.db")
        store.add_artists((i, catalog.artists[i].name, "bench") for i in world.ids)
        store.close()
        load = _load()
        code, cpu, wall, printed, failure, rss_mb = _track(world, world.dir)
        if code != 0:
            raise SystemExit(f"esh-tui track failed ({code}): {failure}")
        expected = oracle.expected_releases(world.catalog, world.ids, world.cutoff)
        track = {"artists": len(world.ids), "api_calls": world.stats()["api_calls"], "wall_s": round(wall, 1),
                 "cpu_s": round(cpu, 1), "peak_rss_mb": round(rss_mb, 1), "releases": len(printed),
                 "exact": sorted(printed) == sorted(e.track_id for e in expected.values()), "load_before": load,
                 "load_after": _load()}
        print(f"scale: track {track}", file=sys.stderr, flush=True)
        never = {"api_url": world.api_url, "accounts_url": world.accounts_url}
        dashboard = open_store(world.dir / "esh.db", sample, never)
    return {"track": track, "dashboard": dashboard}


def _summary(runs: list[dict], keys: list[str]) -> dict:
    return {"median": {k: statistics.median(r[k] for r in runs) for k in keys if all(k in r for r in runs)},
            "runs": runs}


def _cold(loopback: bool, args) -> dict:
    runs = []
    for i in range(args.repeat):
        profile = f"{args.profile}.{'loopback' if loopback else 'in-process'}" if args.profile and i == 0 else None
        runs.append(cold_run(loopback, args.artists, args.latency_ms, args.jitter_ms, args.sample and i == 0, profile))
        print(f"{'loopback' if loopback else 'in-process'} run {i + 1}: "
              f"{ {k: v for k, v in runs[-1].items() if k != 'what_ran'} }", file=sys.stderr, flush=True)
    summary = _summary(runs, ["first_paint_ms", "seconds", "cpu_s", "api_calls", "max_stall_ms", "p99_lateness_ms",
                              "p50_lateness_ms", "max_busy_ms", "p99_busy_ms", "app_max_stall_ms", "peak_rss_mb"])
    summary["exact"] = all(r.get("exact") for r in runs)
    return summary


# ----- the report --------------------------------------------------------------------------------------------

def report(result: dict) -> str:
    lines = ["# The dashboard under load", "",
             "`python -m benchmarks.dashboard` (see its docstring). Each dashboard runs in a process of its own; "
             "the longest stall and the 99th percentile are how late a 50 ms probe on the app's loop woke; "
             "\"busy\" is the CPU the loop's thread spent between two wake-ups (a stall with little of it was the "
             "shared machine's other processes). Medians; load is the 1-minute load average (2 cores shared with "
             "other engineers' tests) before each run.", ""]
    for name, title in (("loopback", "loopback simulator in another process (30 ± 10 ms a request)"),
                        ("in_process", "in-process simulator")):
        if name not in result:
            continue
        r = result[name]
        m = r["median"]
        goal = GOALS[f"{name}_max_stall_ms"]
        lines += ["", f"## Cold run of {result['artists']:,} artists with the dashboard open, {title}", "",
                  f"Goal: longest stall ≤ {goal} ms" + (f", 99th percentile ≤ {GOALS['loopback_p99_lateness_ms']} ms"
                                                         if name == "loopback" else "")
                  + f"; releases exact against the oracle: {'yes' if r['exact'] else 'NO'}.", "",
                  "| run | first paint | run | CPU | API calls | longest stall | p99 | p50 | longest busy | p99 busy | "
                  "peak RSS | idle full GC pass after | load |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for i, x in enumerate(r["runs"], 1):
            lines.append(f"| {i} | {x['first_paint_ms']:.0f} ms | {x['seconds']:.1f} s | {x['cpu_s']:.1f} s | "
                         f"{x['api_calls']} | {x['max_stall_ms']:.0f} ms | {x['p99_lateness_ms']:.0f} ms | "
                         f"{x['p50_lateness_ms']:.1f} ms | {x['max_busy_ms']:.0f} ms | {x['p99_busy_ms']:.0f} ms | "
                         f"{x['peak_rss_mb']:.0f} MB | {_idle_pass(x)} | {x['load_before']} → {x['load_after']} |")
        lines.append(f"| **median** | {m['first_paint_ms']:.0f} ms | {m['seconds']:.1f} s | {m['cpu_s']:.1f} s | "
                     f"{m['api_calls']:g} | **{m['max_stall_ms']:.0f} ms** | **{m['p99_lateness_ms']:.0f} ms** | "
                     f"{m['p50_lateness_ms']:.1f} ms | {m['max_busy_ms']:.0f} ms | {m['p99_busy_ms']:.0f} ms | "
                     f"{m['peak_rss_mb']:.0f} MB | | |")
        lines += ["", "The run puts off Python's full garbage collection pass (tui/collector.py); the dashboard runs "
                  "it at its first idle moment (no run going, no key and no run's end for 1 s). The last column is "
                  "that pass, measured after the run's figures: its CPU, and the probe's longest stall while it ran."]
        lines += _what_ran(r["runs"])
    if "first_paint" in result:
        r = result["first_paint"]
        m = r["median"]
        lines += ["", f"## First paint: {PAINT_ARTISTS:,} artists and {PAINT_RELEASES:,} releases in the store", "",
                  f"Goal: ≤ {GOALS['first_paint_ms']} ms from the app's construction to its first paint. From the "
                  "process's spawn it adds the interpreter and the imports.", "",
                  "| run | first paint | its CPU | from spawn | of which imports | stall while loading + scrolling | "
                  "p99 | peak RSS | rows | load |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for i, x in enumerate(r["runs"], 1):
            cpu = f"{x['first_paint_cpu_ms']:.0f} ms" if "first_paint_cpu_ms" in x else "?"
            lines.append(f"| {i} | {x['first_paint_ms']:.0f} ms | {cpu} | {x['process_to_paint_ms']:.0f} ms | "
                         f"{x['imports_ms']:.0f} ms | {x['max_stall_ms']:.0f} ms | {x['p99_lateness_ms']:.0f} ms | "
                         f"{x['peak_rss_mb']:.0f} MB | {x['rows']} | {x['load_before']} → {x['load_after']} |")
        cpu = f"{m['first_paint_cpu_ms']:.0f} ms" if "first_paint_cpu_ms" in m else "?"
        lines.append(f"| **median** | **{m['first_paint_ms']:.0f} ms** | {cpu} | {m['process_to_paint_ms']:.0f} ms | "
                     f"{m['imports_ms']:.0f} ms | {m['max_stall_ms']:.0f} ms | {m['p99_lateness_ms']:.0f} ms | "
                     f"{m['peak_rss_mb']:.0f} MB | | |")
    if "version" in result:
        r = result["version"]
        lines += ["", f"## `esh-tui --version` (goal ≤ {GOALS['version_ms']} ms)", "",
                  "Wall time of the whole process: " + ", ".join(f"{x['version_ms']:.0f} ms (load {x['load_before']})"
                                                                 for x in r["runs"])
                  + f"; median **{r['median']['version_ms']:.0f} ms**"
                  + (f", of which CPU (user + system, from wait4) {r['median']['version_cpu_ms']:.0f} ms."
                     if "version_cpu_ms" in r["median"] else ".")]
    if "scale" in result:
        t, d = result["scale"]["track"], result["scale"]["dashboard"]
        lines += ["", f"## {SCALE_ARTISTS:,} artists, the simulator in another process", "",
                  f"`esh-tui track` cold ({t['artists']:,} artists): {t['api_calls']:,} API calls, {t['wall_s']} s wall, "
                  f"{t['cpu_s']} s CPU, **peak RSS {t['peak_rss_mb']:.0f} MB** (the track process alone, VmHWM since its exec; "
                  f"goal ≤ {GOALS['scale_track_rss_mb']} MB), {t['releases']:,} releases, exact against the oracle: "
                  f"{'yes' if t['exact'] else 'NO'}; load {t['load_before']} → {t['load_after']}.", "",
                  f"The dashboard on that store: first paint {d['first_paint_ms']:.0f} ms ({d['process_to_paint_ms']:.0f} "
                  f"ms from spawn), {d['rows']:,} release rows; scrolling both tables (80 pages and 200 rows): "
                  f"**longest stall {d['max_stall_ms']:.0f} ms**, p99 {d['p99_lateness_ms']:.0f} ms, longest busy "
                  f"{d['max_busy_ms']:.0f} ms (goal ≤ {GOALS['scale_scroll_max_stall_ms']} ms); peak RSS "
                  f"{d['peak_rss_mb']:.0f} MB; load {d['load_before']} → {d['load_after']}."]
        lines += _what_ran([d])
    return "\n".join(lines)


def _idle_pass(run: dict) -> str:
    if run.get("idle_pass_ms") is None:
        return "none within 10 s" if "idle_pass_ms" in run else "(not measured)"
    return f"{run['idle_pass_ms']:.0f} ms (stall {run['idle_pass_stall_ms']:.0f} ms)"


def _what_ran(runs: list[dict]) -> list[str]:
    sampled = [r["what_ran"] for r in runs if r.get("what_ran")]
    if not sampled:
        return []
    w = sampled[0]
    lines = ["", f"What ran during the {w['stalls']} stalls over 40 ms of the first run ({w['samples']} stack samples "
                 "every 4 ms): on the stack / on top"]
    generic = ("runners.py", "base_events.py", "<frozen", "benchmarks/dashboard.py", "events.py:_run", "_callback.py")
    lines += [f"- {name}: {count}" for name, count in w["inclusive"] if not any(g in name for g in generic)][:12]
    lines += ["", "On top of the stack:"] + [f"- {name}: {count}" for name, count in w["leaf"][:10]]
    if "innermost_esh_tui" in w:
        lines += ["", "The innermost esh_tui frame:"] + [f"- {name}: {count}" for name, count in w["innermost_esh_tui"][:10]]
    return lines


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--report":  # the report of saved figures, again
        print(report(json.loads(Path(sys.argv[2]).read_text())))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        Path(sys.argv[3]).write_text(json.dumps(asyncio.run(_child(json.loads(sys.argv[2])))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loopback", action="store_true", help="the cold run against `esh-tui sim serve`")
    parser.add_argument("--in-process", action="store_true", help="the cold run on the in-process simulator")
    parser.add_argument("--first-paint", action="store_true", help=f"first paint over {PAINT_RELEASES:,} releases")
    parser.add_argument("--version", action="store_true", help="esh-tui --version")
    parser.add_argument("--scale", action="store_true", help=f"{SCALE_ARTISTS:,} artists: track's RSS, dashboard")
    parser.add_argument("--artists", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--jitter-ms", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", action="store_true", help="name what ran during stalls (first run of each)")
    parser.add_argument("--profile", help="cProfile the first cold run into FILE.loopback / FILE.in-process "
                                              "(its figures are then inflated by the profiler)")
    parser.add_argument("--name", default="dashboard", help="the results' file name (NAME.json, NAME.md)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results", help="'-': nowhere")
    args = parser.parse_args()
    chosen = [s for s in ("loopback", "in_process", "first_paint", "version", "scale") if getattr(args, s)]
    if args.loopback and not (args.in_process or args.first_paint or args.version or args.scale):
        chosen += ["in_process", "first_paint", "version"]  # the command: every figure but scale
    chosen = chosen or ["loopback", "in_process", "first_paint", "version"]
    result: dict = {"artists": args.artists, "repeat": args.repeat, "when": dt.datetime.now(dt.timezone.utc)
                    .isoformat(timespec="seconds"), "goals": GOALS}
    if "loopback" in chosen:
        result["loopback"] = _cold(True, args)
    if "in_process" in chosen:
        result["in_process"] = _cold(False, args)
    if "first_paint" in chosen:
        result["first_paint"] = first_paint(args.repeat, args.sample)
    if "version" in chosen:
        result["version"] = version(args.repeat)
    if "scale" in chosen:
        result["scale"] = scale(args.latency_ms, args.jitter_ms, args.sample)
    text = report(result)
    print(text)
    if str(args.out) != "-":
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
        (args.out / f"{args.name}.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
