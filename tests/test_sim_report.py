"""The oracle's report (`esh_tui.sim.report`): its keys, and the same text and JSON the CLI prints."""

from __future__ import annotations

import datetime as dt
import json

from esh_tui.cli import main
from esh_tui.sim.report import oracle_report, pretty_report

ARGS = ["sim", "oracle", "--seed", "3", "--artists", "20", "--today", "2026-06-01"]

# `esh-tui sim oracle --seed 3 --artists 20 --today 2026-06-01`, captured before the report left the CLI.
PRETTY = """\
catalog: seed 3, 20 artists, 545 albums, 2788 tracks visible on 2026-06-01 (68 albums still to come)
expected releases, last 90 days: 90
minimum API calls, cold, development: 248 (GET /artists/{id}/albums 20, GET /albums/{id}/tracks 16, GET /tracks/{id} 108, GET /search 104)
minimum API calls, cold, extended: 128 (GET /artists/{id}/albums 20, GET /albums 1, GET /tracks 3, GET /search 104)
minimum API calls, a week later, development: 23 (GET /artists/{id}/albums 20, GET /albums/{id}/tracks 1, GET /tracks/{id} 1, GET /search 1)
minimum API calls, a week later, extended: 23 (GET /artists/{id}/albums 20, GET /albums 1, GET /tracks 1, GET /search 1)"""


def _report() -> dict:
    return oracle_report(3, 20, dt.date(2026, 6, 1), 90)


def test_report_has_the_expected_keys():
    report = _report()
    assert list(report) == ["seed", "artists", "today", "days", "catalog", "expected_releases",
                            "minimum_calls", "minimum_calls_next_week"]
    assert set(report["catalog"]) == {"artists", "albums", "tracks", "future_albums"}
    for key in ("minimum_calls", "minimum_calls_next_week"):
        assert list(report[key]) == ["development", "extended"]
        for calls in report[key].values():
            assert calls["total"] == sum(v for k, v in calls.items() if k != "total")
    assert (report["seed"], report["artists"], report["today"], report["days"]) == (3, 20, "2026-06-01", 90)


def test_pretty_text_is_what_the_cli_prints(capsys):
    text = pretty_report(_report())
    assert text == PRETTY
    assert main(ARGS) == 0
    assert capsys.readouterr().out == text + "\n"


def test_json_is_what_the_cli_prints(capsys):
    assert main([*ARGS, "--format", "json"]) == 0
    assert capsys.readouterr().out == json.dumps(_report(), indent=2) + "\n"
