"""esh-tui benchmarks: `python -m benchmarks` runs the suite, `python -m benchmarks compare A.json B.json`
shows two result files side by side.

    python -m benchmarks                       # small and medium, both modes: scenarios and ablation
    python -m benchmarks --sizes small --no-ablation
    python -m benchmarks --sizes large         # 1,000 artists (slower: minutes per mode)
    python -m benchmarks --scale               # adds 10,000 artists on the in-process transport (catalog: ~1 min)
    python -m benchmarks compare benchmarks/results/medium-development.json /tmp/new/medium-development.json

Each size and mode writes SIZE-MODE.json and SIZE-MODE.md under --out (default benchmarks/results/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from benchmarks import report
from benchmarks.suite import MODES, SCENARIOS, SIZES, ablation_table, configurations, header, is_sequential, job, log

RESULTS = Path(__file__).parent / "results"


def _list(choices):
    def parse(value: str) -> tuple[str, ...]:
        items = tuple(v.strip() for v in value.split(",") if v.strip())
        bad = [v for v in items if v not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
        return items
    return parse


def _environment() -> dict[str, str]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    from esh_tui import __version__
    return {"esh_tui": __version__, "git_commit": commit or "unknown", "python": platform.python_version(),
            "platform": platform.platform(), "machine": platform.machine(), "cpus": str(__import__("os").cpu_count())}


def storage_lookups(out: Path, seed: int) -> None:
    """The composite index where it matters: artists with long histories (benchmarks.storage at 100,000 rows).
    The engine's own stores keep only in-window candidates, a few rows an artist, too few for any index to show."""
    import contextlib
    import io
    import tempfile
    from dataclasses import asdict
    from types import SimpleNamespace

    from benchmarks import storage

    log("composite index: 100,000 cached releases (benchmarks.storage)")
    knobs = SimpleNamespace(rows_per_artist=100, lookups=5_000, scan_lookups=100, seed=seed)
    floor = storage.timer_floor()
    with tempfile.TemporaryDirectory(prefix="esh-bench-storage-") as workdir:
        result = storage.measure(100_000, knobs.lookups, knobs.scan_lookups, knobs.rows_per_artist, seed, Path(workdir))
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        storage.report([result], knobs, floor)
    (out / "storage.json").write_text(json.dumps(asdict(result), indent=1) + "\n")
    (out / "storage.md").write_text("# Cache lookups: memory tier and the store, with and without the composite index\n\n"
                                    "`python -m benchmarks.storage --sizes 100000 --lookups 5000 --scan-lookups 100`"
                                    "\n\n```\n" + text.getvalue() + "```\n")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_list(tuple(s for s in SIZES if s != "scale")), default=("small", "medium"))
    parser.add_argument("--modes", type=_list(MODES), default=MODES)
    parser.add_argument("--scenarios", type=_list(SCENARIOS), default=SCENARIOS)
    parser.add_argument("--weeks", type=int, default=4, help="weekly runs in the weekly scenario (default 4)")
    parser.add_argument("--transport", choices=("loopback", "in-process"), default="loopback")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--jitter-ms", type=float, default=20.0)
    parser.add_argument("--no-ablation", dest="ablation", action="store_false")
    parser.add_argument("--configs", type=_list(tuple(label for label, _ in configurations())),
                        help="only these ablation configurations (default: all)")
    parser.add_argument("--ablation-latency-ms", type=float, default=5.0,
                        help="latency for the ablation (default 5: its one-request-at-a-time configurations "
                             "would take many minutes at 50)")
    parser.add_argument("--ablation-jitter-ms", type=float, default=2.0)
    parser.add_argument("--jobs", type=int, default=3,
                        help="one-request-at-a-time ablation configurations and faulty runs measured side by side, "
                             "each with its own simulator (default 3; 1 for the cleanest wall times)")
    parser.add_argument("--no-storage", dest="storage", action="store_false",
                        help="skip the composite index at 100,000 cached releases (benchmarks.storage, ~6 s)")
    parser.add_argument("--scale", action="store_true",
                        help="also 10,000 artists on the in-process transport: cold, hot and one week")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where results go (default {RESULTS})")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    environment = _environment()
    base = dict(seed=args.seed)
    plan: list[tuple[str, str, dict]] = [(size, mode, dict(transport=args.transport, latency_ms=args.latency_ms,
                                                           jitter_ms=args.jitter_ms, weeks=args.weeks,
                                                           scenarios=args.scenarios, ablation=args.ablation))
                                         for size in args.sizes for mode in args.modes]
    if args.scale:
        plan += [("scale", mode, dict(transport="in-process", latency_ms=0.0, jitter_ms=0.0, weeks=1,
                                      scenarios=tuple(s for s in args.scenarios if s != "faulty"), ablation=False))
                 for mode in args.modes]
    solo, faulty, pooled = [], [], []
    for size, mode, p in plan:
        world = dict(transport=p["transport"], latency_ms=p["latency_ms"], jitter_ms=p["jitter_ms"], **base)
        if set(p["scenarios"]) - {"faulty"}:
            solo.append(("scenarios", size, mode, None, dict(world, weeks=p["weeks"], scenarios=p["scenarios"])))
        if "faulty" in p["scenarios"]:
            faulty.append(("faulty", size, mode, None, world))
        if p["ablation"]:
            ablation_world = dict(world, latency_ms=args.ablation_latency_ms, jitter_ms=args.ablation_jitter_ms)
            for label, _ in configurations():
                if not args.configs or label in args.configs:
                    (pooled if is_sequential(label) else solo).append(("ablation", size, mode, label, ablation_world))
    parts: dict[tuple, dict] = {}
    for item in solo:  # alone: their wall times and connections are the point
        key, value = job(*item)
        parts[key] = value
    if args.storage:
        storage_lookups(args.out, args.seed)
    pooled.sort(key=lambda item: -SIZES[item[1]])  # the longest first
    if pooled or faulty:
        # Faulty runs mostly wait out the rate limit: each gets a worker of its own, beside the ablation's.
        log(f"{len(faulty)} faulty runs side by side, and {len(pooled)} one-request-at-a-time ablation "
            f"configurations, {args.jobs} at a time")
        spawn = get_context("spawn")
        with ProcessPoolExecutor(max_workers=max(1, len(faulty)), mp_context=spawn) as waiting, \
                ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=spawn) as busy:
            futures = [waiting.submit(job, *item) for item in faulty] + [busy.submit(job, *item) for item in pooled]
            for future in futures:
                key, value = future.result()
                parts[key] = value
    for size, mode, p in plan:
        result = header(size, mode, transport=p["transport"], latency_ms=p["latency_ms"], jitter_ms=p["jitter_ms"],
                        seed=args.seed)
        result["scenarios"] = dict(parts.get(("scenarios", size, mode, None), {}))
        if ("faulty", size, mode, None) in parts:
            result["scenarios"]["faulty"] = parts[("faulty", size, mode, None)]
        rows = [v for (kind, s, m, _), v in parts.items() if kind == "ablation" and (s, m) == (size, mode)]
        if rows:
            result["ablation"] = ablation_table(rows, transport=p["transport"], latency_ms=args.ablation_latency_ms,
                                                jitter_ms=args.ablation_jitter_ms, jobs=args.jobs)
        result["suite_wall_s"] = time.perf_counter() - started
        result["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        result["environment"] = environment
        path = args.out / f"{size}-{mode}"
        path.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
        path.with_suffix(".md").write_text(report.markdown(result) + "\n")
        log(f"wrote {path}.json and {path}.md")
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["compare"]:
        parser = argparse.ArgumentParser(prog="python -m benchmarks compare",
                                         description="two result files side by side, with ratios (B ÷ A)")
        parser.add_argument("a", type=Path)
        parser.add_argument("b", type=Path)
        args = parser.parse_args(argv[1:])
        print(report.compare(args.a, args.b))
        return 0
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
