"""Making text from the network safe to print: no escape sequences, no control characters."""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, and C1 CSI.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")  # overrides and isolates: they make a terminal reorder text


def clean(value: object) -> str:
    """One printable line: escape sequences removed, tabs/newlines and other controls become spaces."""
    text = _BIDI.sub("", _ESCAPES.sub("", str(value)))
    return " ".join(_CONTROLS.sub(" ", text).split())
