"""The benchmark suite's smoke test: the small catalog end to end, in a few seconds.

The suite itself (`python -m benchmarks`) is not part of the test run; this
checks that it runs, writes its JSON and Markdown, and that the figures it
reports hold what the engine promises: a hot run makes no API call and every
run agrees with the oracle.
"""

from __future__ import annotations

import json

import pytest

from benchmarks.__main__ import main
from benchmarks.suite import configurations
from esh_tui.tracker.options import EngineOptions

RUN_KEYS = {"api_calls", "calls_by_endpoint", "oracle_minimum", "ratio_to_minimum", "calls_per_release",
            "redundant_requests", "saved", "batch", "cache", "connections_opened", "wall_s", "peak_rss_mb",
            "releases", "correctness"}


def test_small_catalog_scenarios_write_json_and_markdown(tmp_path, capsys):
    assert main(["--sizes", "small", "--modes", "development", "--scenarios", "cold,hot,weekly", "--weeks", "1",
                 "--no-ablation", "--no-storage", "--latency-ms", "0", "--jitter-ms", "0", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "small-development.json").read_text())
    assert (tmp_path / "small-development.md").read_text().startswith("# esh-tui benchmarks: small catalog")
    s = result["scenarios"]
    runs = [s["cold"], s["hot_same_process"], s["hot"], *s["weekly"]]
    for run in runs:
        assert RUN_KEYS <= set(run)
        assert run["correctness"]["precision"] == run["correctness"]["recall"] == 1.0
        assert run["redundant_requests"] == 0 and run["status"] == "ok"
        assert run["api_calls"] == run["api_calls_counted_by_simulator"]
    assert s["cold"]["api_calls"] >= s["cold"]["oracle_minimum"] > 0
    assert s["cold"]["connections_opened"] >= 1
    for hot in (s["hot"], s["hot_same_process"]):
        assert hot["api_calls"] == 0 and hot["cache"]["hit_rate"] == 1.0
    assert s["hot_same_process"]["cache"]["memory"]["hit_rate"] == 1.0, "the same process answers from memory"
    assert s["hot"]["cache"]["store"]["hit_rate"] == 1.0, "a new process answers from the store"
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "small-development.json"), str(tmp_path / "small-development.json")]) == 0
    assert "1.00x" in capsys.readouterr().out


def test_the_ablation_covers_every_switch():
    labels = [label for label, _ in configurations()]
    assert labels[0] == "naive" and labels[-1] == "all (default)"
    assert len(labels) == 2 + len(EngineOptions.names()) == 2 + 10


def test_the_import_benchmark_adds_each_artist_once_in_one_call_per_artist_or_a_batch_of_50():
    from benchmarks.imports import measure

    development, extended = (measure(mode, lines=3_000, artists=60) for mode in ("development", "extended"))
    for row in (development, extended):
        assert f"{row['distinct']} artists added" in row["summary"] and "repeated lines in the file" in row["summary"]
    assert development["api_calls"] <= development["distinct"] + 1  # and one refused batch: development mode
    assert extended["api_calls"] <= -(-extended["distinct"] // 50) + 1


@pytest.mark.parametrize("cli", [False, True], ids=["in-process", "track-process"])
def test_the_cpu_benchmark_counts_calls_and_cpu_of_an_exact_cold_run(cli, tmp_path):
    """`benchmarks.cpu` on a small catalog: the loopback simulator in a child process, the cold run here or
    as an `esh-tui track` process; its figures add up and its output is the oracle's."""
    from benchmarks.cpu import measure, report

    result = measure(artists=10, mode="development", latency_ms=2.0, jitter_ms=1.0, repeat=1, cli=cli)
    (run,) = result["runs"]
    assert run["exact"] and run["status"] == "ok"
    assert run["calls"] == run["calls_served"] > 0 and run["cpu_s"] > 0
    assert run["cpu_ms_per_call"] == pytest.approx(run["cpu_s"] * 1000 / run["calls"], rel=0.01)
    assert run["network_bound_s"] == pytest.approx(run["calls"] * 0.002 / 16, rel=0.01)
    assert report(result).startswith("# CPU per API call of a headless cold run")
