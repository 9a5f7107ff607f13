"""config.toml tunes the cache, freshness, connections and prefetching; a wrong value is refused by name."""

from __future__ import annotations

import pytest

from esh_tui.cli import main
from esh_tui.config import Tuning, config_dir, load_settings
from esh_tui.runtime import open_runtime
from esh_tui.storage.ttl import TtlPolicy


def _write_config(text: str):
    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "config.toml").write_text(text)


def test_no_file_means_the_defaults():
    assert load_settings().tuning == Tuning()
    assert Tuning().freshness == TtlPolicy() and Tuning().memory_items >= 200_000


def test_every_setting_reaches_what_it_tunes():
    _write_config('[keys]\nrefresh = "f5"\n[cache]\nmemory_items = 7\n[freshness]\nquiet_hours = 2\nrecent_hours = 0.5\n'
                  '[network]\nmax_connections = 3\n[prefetch]\ncalls_per_minute = 0\n')
    runtime = open_runtime()
    try:
        cache = runtime.cache()
        assert cache.memory.maxsize == 7
        assert cache.policy == TtlPolicy(recent_hours=0.5, quiet_hours=2)
        assert runtime.client().max_connections == 3
        assert runtime.tuning.prefetch_calls_per_minute == 0
    finally:
        runtime.close()


def test_a_track_run_keeps_quiet_artists_fresh_for_the_configured_hours(capsys):
    _write_config("[freshness]\nrecent_hours = 1\nactive_hours = 2\nquiet_hours = 3\n")
    assert main(["track", "--days", "30", "--format", "ids"]) == 0
    runtime = open_runtime()
    try:
        intervals = {round((a.next_due - a.last_checked) / 3600, 3) for a in runtime.store.artists()}
    finally:
        runtime.close()
    assert intervals and intervals <= {1.0, 2.0, 3.0}, intervals


@pytest.mark.parametrize("text, needle", [
    ("[cache]\nmemory_items = -1\n", "[cache] memory_items = -1 must be a whole number from 0 to 10,000,000"),
    ("[cache]\nmemory_items = \"big\"\n", "memory_items = 'big' must be a whole number"),
    ("[cache]\nmemory_items = true\n", "memory_items = True must be a whole number"),
    ("[freshness]\nquiet_hours = 0\n", "[freshness] quiet_hours = 0 must be a number from 0.1"),
    ("[network]\nmax_connections = 2.5\n", "max_connections = 2.5 must be a whole number from 1 to 256"),
    ("[network]\nmax_conections = 4\n", "unknown setting [network] max_conections; known: daily_budget, max_connections"),
    ("cache = 5\n", "[cache] must be a table"),
    ("[cache\n", "fix or remove the file"),
])
def test_a_wrong_setting_is_refused_by_name_and_nothing_changes(text, needle, capsys):
    assert main(["artists", "list", "--format", "tsv"]) == 0
    before = capsys.readouterr().out
    _write_config(text)
    assert main(["artists", "remove", before.splitlines()[-1].split("\t")[0]]) == 2
    err = capsys.readouterr().err
    assert needle in err and "config.toml" in err and len(err.strip().splitlines()) == 1, err
    (config_dir() / "config.toml").unlink()
    assert main(["artists", "list", "--format", "tsv"]) == 0
    assert capsys.readouterr().out == before
