"""What delivering a run costs: the digest, the Atom feed and the iCalendar file for N releases.

The feeds are built in a worker thread (the dashboard's loop stays free), the digest on the loop: this says
how long each takes, and how large the feeds get, for windows of 100 to 5,000 releases.

    python -m benchmarks.delivery [--sizes 100,1000,5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from esh_tui.delivery.digest import build_digest
from esh_tui.delivery.feeds import atom, ics
from esh_tui.models import Release


def releases(count: int) -> tuple[list[Release], dict[str, str], dict[str, float]]:
    """`count` releases of 200 artists, five tracks an album, over 300 days, each first seen a second apart."""
    found = [Release(f"ISRC{i:08d}", f"ISRC{i:08d}", f"trk{i:018d}", f"Track {i}", (f"Artist {i % 200}",),
                     f"alb{i // 5:018d}", f"Album {i // 5}", "album", dt.date(2026, 1, 1) + dt.timedelta(days=i % 300),
                     found_for=(f"A{i % 200}",)) for i in range(count)]
    return found, {f"A{i}": f"Artist {i}" for i in range(200)}, {r.key: 1.79e9 + i for i, r in enumerate(found)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    args = parser.parse_args(argv)
    atom(*releases(1)), ics(*releases(1))  # the libraries' imports, once, outside the figures
    for size in (int(s) for s in args.sizes.split(",")):
        found, names, first_seen = releases(size)
        figures = []
        for name, build in (("digest", lambda: build_digest(found, names).body.encode()),
                            ("atom", lambda: atom(found, names, first_seen)),
                            ("ics", lambda: ics(found, names, first_seen))):
            start = time.perf_counter()
            data = build()
            figures.append(f"{name} {1000 * (time.perf_counter() - start):.1f} ms ({len(data) / 1024:.0f} KiB)")
        print(f"{size:>6,} releases: " + " · ".join(figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
