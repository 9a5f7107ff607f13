"""The `esh-tui` command: parse the arguments, run the command, turn what went wrong into an exit code.

Exit codes: 0 success; 1 Spotify or the network failed; 2 bad input (nothing
was changed); 3 rate limit or daily quota reached (what was fetched is kept;
run again later); 130 interrupted.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from esh_tui.cli.errors import EXIT_INTERRUPTED, exit_for, note
from esh_tui.cli.parser import build_parser


def main(argv: Sequence[str] | None = None) -> int:
    # When a run stops early (quota, rate limit, interrupt), connection attempts still being set up are
    # cancelled; httpcore then leaves a coroutine unawaited, and Python would print a warning into cron mail.
    warnings.filterwarnings("ignore", message="coroutine 'connect_tcp.<locals>.try_connect' was never awaited",
                            category=RuntimeWarning)
    args = build_parser().parse_args(argv)
    command = getattr(importlib.import_module(f"esh_tui.cli.{args.command_module}"), args.command_function)
    try:
        return command(args)
    except BrokenPipeError:  # `esh-tui artists list | head`: the reader has what it wanted; end quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's last flush does not fail again
        return 0
    except KeyboardInterrupt:
        note("esh-tui: interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        code = exit_for(exc)
        if code is None:
            raise
        return code


if __name__ == "__main__":
    sys.exit(main())
