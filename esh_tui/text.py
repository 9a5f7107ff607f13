"""Making text from outside safe to print: no escape sequences, no control characters, no bidi overrides.

`clean` is for people (one printable line); `visible` draws what a person typed, which is kept exactly, with
its controls as stand-ins; `safe_json` keeps every character but writes the dangerous ones as \\u escapes, so
a script gets the exact text and a terminal shows nothing it would act on.
"""

from __future__ import annotations

import json
import re
from typing import Any

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, and C1 CSI.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")  # overrides and isolates: they make a terminal reorder text
# Lone surrogates: bytes that were not UTF-8 in a path or an argument (Python's surrogateescape). A stream that
# encodes strictly (stdout under a UTF-8 locale) cannot write them at all.
# The noncharacters U+FFFE and U+FFFF too: no XML may hold them (an Atom feed with one would not be written).
_SURROGATES = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


def clean(value: object) -> str:
    """One printable line: escape sequences removed, tabs/newlines and other controls become spaces, bytes that
    were not text (or are noncharacters) become U+FFFD."""
    text = _SURROGATES.sub("\ufffd", _BIDI.sub("", _ESCAPES.sub("", str(value))))
    return " ".join(_CONTROLS.sub(" ", text).split())


def visible(value: str) -> str:
    """The same text, one character for one, with every character a terminal would act on drawn as a stand-in:
    C0 controls as their Unicode pictures (ESC is ␛, a tab ␉), DEL as ␡, C1 and bidi controls as �. For text a
    person typed or pasted, which must stay exactly as it is (a file name may hold any of them) yet never reach
    the terminal raw."""
    return _VISIBLE.sub(_stand_in, value)


_VISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _stand_in(match: re.Match) -> str:
    code = ord(match.group())
    return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\ufffd"


# C1 controls (U+0080-U+009F, U+009B is a CSI on some terminals), DEL, bidi controls, line and paragraph
# separators, lone surrogates: json.dumps(ensure_ascii=False) writes them raw; C0 controls it escapes itself.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def safe_json(value: Any, indent: int | None = 2) -> str:
    """JSON with non-ASCII text kept readable, and every character a terminal could act on escaped."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
