"""Release filters from config.toml's [filters] and the command line: checked, combined, applied to what is printed."""

from __future__ import annotations

import os

import pytest

from esh_tui.cli import main
from esh_tui.cli.filter_options import release_filter
from esh_tui.cli.parser import build_parser
from esh_tui.config import ConfigError, describe, load_settings
from esh_tui.tracker.release_filter import RELEASE_TYPES, ReleaseFilter


def _write_config(text: str):
    config = os.environ["ESH_CONFIG_DIR"]
    os.makedirs(config, exist_ok=True)
    path = os.path.join(config, "config.toml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def _tsv(argv: list[str], capsys) -> list[list[str]]:
    assert main(["track", "--format", "tsv", *argv]) == 0
    return [line.split("\t") for line in capsys.readouterr().out.splitlines()]


# ----- config.toml ----------------------------------------------------------------------------------------

def test_filters_in_config_toml_are_read_with_their_source():
    path = _write_config('[filters]\ntypes = ["album", "EP"]\nappears_on = true\nexclude = ["remix", "sped_up"]\n'
                         'block = ["(?:nightcore)"]\nblock_artists = ["Somebody"]\n')
    settings = load_settings()
    assert settings.filters == ReleaseFilter(types=frozenset({"album", "ep"}), appears_on=True,
                                             exclude=frozenset({"remix", "sped-up"}), block=("(?:nightcore)",),
                                             block_artists=("Somebody",))
    lines = {line.name: line for line in describe(settings)}
    assert lines["[filters] types"].value == "album, ep" and path in lines["[filters] types"].source
    assert lines["[filters] exclude"].value == "sped-up, remix"
    assert lines["[filters] block_artists"].source != "default"


@pytest.mark.parametrize("text, problem", [
    ('[filters]\nblock = ["nightcore", "(unclosed"]\n', "[filters] block pattern '(unclosed' is not a regular expression"),
    ('[filters]\ntypo = 1\n', "unknown setting [filters] typo"),
    ('[filters]\ntypes = ["lp"]\n', "[filters] types: 'lp' is not one of album, single, ep, compilation"),
    ('[filters]\ntypes = "album"\n', "[filters] types = 'album' must be a list of strings"),
    ('[filters]\nexclude = ["nightcore"]\n', "[filters] exclude: 'nightcore' is not one of sped-up"),
    ('[filters]\nappears_on = "yes"\n', "[filters] appears_on = 'yes' must be true or false"),
    ('[filters]\nblock_artists = [1]\n', "[filters] block_artists = [1] must be a list of strings"),
])
def test_a_bad_filter_setting_is_refused_by_name(text, problem):
    _write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problem.startswith(problem), caught.value
    assert "\n" not in str(caught.value)


def test_a_bad_pattern_in_config_toml_ends_a_run_with_one_line_and_exit_2(capsys):
    _write_config('[filters]\nblock = ["("]\n')
    assert main(["track", "--format", "tsv"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert "[filters] block pattern '('" in err and "config.toml" in err


# ----- the command line -----------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, needle", [
    (["--types", "album,lp"], "--types: release type 'lp' is not one of album, single, ep, compilation"),
    (["--exclude", "nightcore"], "--exclude: version 'nightcore' is not one of"),
    (["--include", "live"], "--include: version 'live' is a noise word: such versions are always left out"),
    (["--include", "karaoke,remix"], "'karaoke' is a noise word"),
    (["--block", "a(b"], "--block: 'a(b' is not a regular expression"),
])
def test_a_bad_filter_option_is_one_line_and_exit_2(argv, needle, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["track", *argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and needle in err and err.count("\n") == 1


def test_options_change_the_configured_filter_for_one_run():
    configured = ReleaseFilter(exclude=frozenset({"remix", "cover"}), block=("x",), appears_on=True)
    args = build_parser().parse_args(["track", "--types", "album,single", "--include", "remix", "--exclude",
                                      "sped-up,slowed", "--block", "y", "--no-appears-on"])
    chosen = release_filter(args, configured)
    assert chosen == ReleaseFilter(types=frozenset({"album", "single"}), exclude=frozenset({"cover", "sped-up", "slowed"}),
                                   block=("x", "y"), appears_on=False)
    assert release_filter(build_parser().parse_args(["track"]), configured) == configured, "no option: config's"


def test_types_picks_the_release_types_printed(capsys):
    every = _tsv([], capsys)
    assert {row[4] for row in every} >= {"album", "single"}
    albums = _tsv(["--types", "album"], capsys)
    assert albums and {row[4] for row in albums} == {"album"}
    assert sorted(albums) == sorted(row for row in every if row[4] == "album"), "hidden, not lost"


def test_block_hides_matching_titles_and_config_hides_for_every_run(capsys):
    every = _tsv([], capsys)
    word = max({w for row in every for w in row[2].split() if w.isalpha() and len(w) > 3},
               key=lambda w: sum(w in row[2] for row in every))
    shown = _tsv(["--block", word.upper()], capsys)  # any case
    assert shown and all(word.casefold() not in (row[2] + row[3]).casefold() for row in shown)
    assert len(shown) < len(every)
    _write_config(f'[filters]\nblock = ["{word}"]\n')
    assert _tsv([], capsys) == shown


def test_every_type_can_be_named():
    args = build_parser().parse_args(["track", "--types", ",".join(RELEASE_TYPES).upper()])
    assert args.types == frozenset(RELEASE_TYPES)


def test_appears_on_lists_features_once_asked_and_turning_it_off_costs_no_call(capsys):
    from esh_tui.storage.store import Store

    plain = _tsv([], capsys)
    featured = _tsv(["--appears-on"], capsys)
    again = _tsv(["--no-appears-on"], capsys)
    assert set(map(tuple, plain)) < set(map(tuple, featured)), "features add releases on others' albums"
    assert again == plain, "hidden again, nothing lost"
    store = Store(os.path.join(os.environ["ESH_DATA_DIR"], "offline.db"))
    try:
        calls = [run["api_calls"] for run in reversed(store.runs(3))]
    finally:
        store.close()
    assert calls[1] > 0 and calls[2] == 0, "listing features costs calls; hiding them costs none"
