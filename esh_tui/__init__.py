"""esh-tui: never miss a new release from the artists you care about."""

import sys

__version__ = "0.1.0"

# httpx imports its own command line (rich, pygments: 77 modules) whenever it is imported: 46 ms of every
# esh-tui command's start. esh-tui never runs it; with None here that import fails, and httpx leaves its
# `main` out (as it does when click is not installed).
sys.modules.setdefault("httpx._main", None)
