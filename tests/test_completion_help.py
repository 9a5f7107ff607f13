"""Shell completion (bash, zsh, fish through argcomplete) and help that teaches: a description and an example for
every command, and every exit code in the main help."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esh_tui.cli import completion, main
from esh_tui.cli.errors import EXIT_CODES
from esh_tui.cli.parser import build_parser
from esh_tui.sim import offline

BIN = Path(sys.executable).parent


def _complete(line: str, tmp_path: Path) -> list[str]:
    """What `esh-tui` answers a shell that asks for completions of `line` (argcomplete's protocol), in a process
    of its own, as a shell runs it."""
    out = tmp_path / "completions"
    env = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line)), "_ARGCOMPLETE": "1",
           "_ARGCOMPLETE_SHELL": "bash", "_ARGCOMPLETE_IFS": "\n", "_ARGCOMPLETE_STDOUT_FILENAME": str(out)}
    done = subprocess.run([sys.executable, "-m", "esh_tui"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return [c.rstrip(" ") for c in out.read_text().split("\n") if c]  # a lone answer ends with a space


def _tracked(capsys) -> list[str]:
    assert main(["artists", "list", "--format", "tsv"]) == 0  # opens the offline store: its sample artists
    return [line.split("\t")[:2] for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nospace"), ("zsh", "#compdef esh-tui"),
                                           ("fish", "complete --command esh-tui")])
def test_completion_scripts_generate_for_bash_zsh_and_fish(shell, marker, capsys):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert marker in script and "_ARGCOMPLETE" in script


def test_artists_remove_completes_the_stored_names_and_ids(tmp_path, capsys):
    tracked = _tracked(capsys)
    offered = _complete("esh-tui artists remove ", tmp_path)
    ids = [artist_id for artist_id, _ in tracked]
    plain = [name for _, name in tracked if name.isprintable() and "\x1b" not in name]
    assert set(ids) <= set(offered)
    assert {"夜行バス", "The Paper Cranes"} <= {o.replace("\\", "") for o in offered} and plain
    assert not any("\x1b" in o for o in offered), "a name with escape sequences is offered by its ID only"
    assert _complete("esh-tui artists remove The\\ P", tmp_path) == ["The\\ Paper\\ Cranes"]
    assert _complete(f"esh-tui track --artist {ids[0][:8]}", tmp_path) == [ids[0]]


def test_formats_commands_and_options_complete(tmp_path):
    assert _complete("esh-tui track --format ", tmp_path) == ["pretty", "tsv", "csv", "json", "ids"]
    assert _complete("esh-tui artists list --format j", tmp_path) == ["json"]
    assert "remove" in _complete("esh-tui artists ", tmp_path)
    assert "--delta-only" in _complete("esh-tui track --de", tmp_path)
    assert _complete("esh-tui completion f", tmp_path) == ["fish"]


def test_completion_without_a_store_is_empty_quiet_and_creates_nothing(tmp_path):
    assert _complete("esh-tui artists remove ", tmp_path) == []
    assert not (tmp_path / "data").exists(), "completing neither creates the store nor seeds it"


def test_the_completer_knows_the_offline_stores_name():
    assert completion.OFFLINE_STORE == offline.OFFLINE_STORE


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_bash_itself_completes_artists_remove_with_the_generated_script(tmp_path, capsys):
    _tracked(capsys)
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "esh-tui.bash"
    script.write_text(capsys.readouterr().out)
    driver = (f"source {script}\n"
              'COMP_LINE="esh-tui artists remove Nigh"; COMP_POINT=${#COMP_LINE}\n'
              "COMP_WORDS=(esh-tui artists remove Nigh); COMP_CWORD=3\n"
              "_python_argcomplete esh-tui Nigh remove\n"
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", driver], env=env, capture_output=True, text=True,
                          timeout=60)
    assert [line.rstrip() for line in done.stdout.splitlines()] == ["Nightjar\\ Motel"], done.stderr


def _commands(parser: argparse.ArgumentParser, path=("esh-tui",)):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _commands(sub, (*path, name))


def test_every_command_has_a_one_line_description_and_an_example():
    commands = list(_commands(build_parser()))
    assert len(commands) >= 19
    for path, parser in commands:
        text = parser.format_help()
        assert parser.description and "\n" not in parser.description, path
        assert "\nexample" in text and f"\n  {' '.join(path)}" in text.split("\nexample", 1)[1], (path, text)


def test_the_main_help_lists_every_exit_code_and_the_log(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    codes = text.split("exit codes:", 1)[1].splitlines()
    listed = {int(line.split()[0]) for line in codes if line.strip()}
    assert listed == {code for code, _ in EXIT_CODES} == {0, 1, 2, 3, 130}
    assert "log file:" in text and "esh-tui completion bash|zsh|fish" in text
