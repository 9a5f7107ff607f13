"""A 100,000-line import file, end to end: `esh-tui artists import FILE` against the loopback simulator.

The file names every artist of a 2,000-artist catalog 50 times, shuffled, as IDs, URIs and URLs: what a
script that dumps a listening history might write. Measured: wall time, API calls, and that every artist
was added once.

    python -m benchmarks.imports [--lines 100000] [--artists 2000] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.catalog import Catalog
from esh_tui.sim.server import SimServer

from benchmarks.world import TODAY

FORMS = ("{id}", "spotify:artist:{id}", "https://open.spotify.com/artist/{id}?si=abc")


def measure(mode: str, lines: int, artists: int, seed: int = 1) -> dict:
    catalog = Catalog.generate(seed, artists, TODAY)
    ids = [a.id for a in catalog.real_artists()]
    rng = random.Random(seed)
    refs = [rng.choice(FORMS).format(id=ids[n % len(ids)]) for n in range(lines)]
    rng.shuffle(refs)
    sim = SimSpotify(catalog, SimConfig(mode=mode))
    server = SimServer(sim).start_in_thread()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "artists.txt"
            path.write_text("\n".join(refs) + "\n")
            env = {**os.environ, "ESH_DATA_DIR": str(Path(tmp) / "data"), "ESH_CONFIG_DIR": str(Path(tmp) / "cfg"),
                   "ESH_API_URL": server.api_url, "ESH_ACCOUNTS_URL": server.url,
                   "SPOTIFY_CLIENT_ID": "bench", "SPOTIFY_CLIENT_SECRET": "bench-secret"}
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "esh_tui", "artists", "import", str(path)], env=env,
                                  capture_output=True, text=True, timeout=900)
            wall = time.perf_counter() - started
    finally:
        server.stop_thread()
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stderr.strip()}")
    return {"mode": mode, "lines": lines, "distinct": len(ids), "wall_s": round(wall, 2),
            "api_calls": sim.calls(), "summary": done.stderr.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--artists", type=int, default=2_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = [measure(mode, args.lines, args.artists) for mode in ("development", "extended")]
    table = ["| mode | lines | distinct artists | wall | API calls | summary |", "|---|---:|---:|---:|---:|---|"]
    table += [f"| {r['mode']} | {r['lines']:,} | {r['distinct']:,} | {r['wall_s']:.1f} s | {r['api_calls']:,} | "
              f"{r['summary']} |" for r in rows]
    text = "# A 100,000-line import\n\n`python -m benchmarks.imports`: " + __doc__.splitlines()[2].strip() + \
        " " + " ".join(line.strip() for line in __doc__.splitlines()[3:5]) + "\n\n" + "\n".join(table) + "\n"
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "imports.md").write_text(text)
        (args.out / "imports.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
