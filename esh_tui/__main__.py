"""`python -m esh_tui`: the same as the `esh-tui` command."""

import sys

from esh_tui.cli import main

sys.exit(main())
