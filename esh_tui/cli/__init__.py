"""The `esh-tui` command: parse the arguments, run the command, turn what went wrong into an exit code.

Exit codes: 0 success; 1 Spotify or the network failed; 2 bad input (nothing
was changed); 3 rate limit, daily quota or budget reached (what was fetched is kept;
run again later); 130 interrupted. Every command but `completion` logs to the log
file (esh_tui/logs.py): what went wrong here, and what runs did (the engine's events).
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from esh_tui.cli.completion import complete
from esh_tui.cli.errors import EXIT_INTERRUPTED, exit_for, note
from esh_tui.cli.parser import build_parser


def main(argv: Sequence[str] | None = None) -> int:
    # When a run stops early (quota, rate limit, interrupt), connection attempts still being set up are
    # cancelled; httpcore then leaves a coroutine unawaited, and Python would print a warning into cron mail.
    warnings.filterwarnings("ignore", message="coroutine 'connect_tcp.<locals>.try_connect' was never awaited",
                            category=RuntimeWarning)
    parser = build_parser()
    complete(parser)  # a shell asking for completions (argcomplete's protocol) is answered, and the process ends
    args = parser.parse_args(argv)
    command = getattr(importlib.import_module(f"esh_tui.cli.{args.command_module}"), args.command_function)
    name = _command_name(args)
    if args.command_module != "completion":
        _start_log(args)
    try:
        return command(args)
    except BrokenPipeError:  # `esh-tui artists list | head`: the reader has what it wanted; end quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's last flush does not fail again
        return 0
    except KeyboardInterrupt:
        note("esh-tui: interrupted")
        _log().warning("%s: interrupted (exit %d)", name, EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except Exception as exc:
        code = exit_for(exc)
        if code is None:
            _log().exception("%s: crashed", name)
            raise
        _log().error("%s: %s (exit %d)", name, exc, code)
        return code


def _log():
    """The CLI's logger, imported only once a command runs: `--version` and `--help` load no logging."""
    from esh_tui.logs import logger

    return logger("esh_tui.cli")


def _command_name(args) -> str:
    """`esh-tui artists remove`, as the log names a command (never its arguments: they may hold a URL or a path)."""
    subcommands = ("command", "artists_command", "playlist_command", "notify_command", "sim_command")
    words = [getattr(args, attribute, None) for attribute in subcommands]
    return " ".join(["esh-tui", *(w for w in words if w)]) if args.command else "esh-tui (dashboard or track)"


def _start_log(args) -> None:
    """The log file, from the log directory of the settings, with the client secret to blank out."""
    from esh_tui import logs
    from esh_tui.config import ConfigError, load_settings, log_dir

    try:
        settings = load_settings()
        directory, secrets = settings.log_dir, (settings.client_secret,)
    except ConfigError:  # the command says what is wrong; its error still goes to the log
        try:
            directory, secrets = log_dir(), ()
        except ConfigError:
            return
    logs.setup(directory, verbose=getattr(args, "verbose", False), secrets=secrets)


if __name__ == "__main__":
    sys.exit(main())
