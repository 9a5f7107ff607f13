"""Export the README's dashboard screenshot (docs/dashboard.svg) from the app itself, on the offline Spotify.

    python docs/make_screenshot.py
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import replace
from pathlib import Path

from textual._doc import take_svg_screenshot

from esh_tui.config import load_settings
from esh_tui.runtime import open_runtime
from esh_tui.tui.app import WELCOME_SHOWN, EshApp


async def _settled(pilot) -> None:
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.dashboard.flush(all_rows=True)
    app.dashboard.refresh_metrics(reschedule=False)
    app.clear_notifications()
    await pilot.pause()


def main() -> None:
    data = Path(tempfile.mkdtemp())
    settings = replace(load_settings({}, cwd=data), data_dir=data)
    runtime = open_runtime(settings, today=dt.date(2026, 11, 23))
    runtime.store.save_setting(WELCOME_SHOWN, True)  # the dashboard itself, not the first start's welcome
    app = EshApp(runtime, prefetch=False)
    svg = take_svg_screenshot(app=app, terminal_size=(132, 36), run_before=_settled)
    out = Path(__file__).with_name("dashboard.svg")
    out.write_text(svg, encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
