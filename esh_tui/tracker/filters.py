"""Telling noise titles apart: live, remastered, demo, commentary, instrumental and karaoke versions."""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_NOISE_WORDS = ("live", "remaster", "demo", "commentary", "instrumental", "karaoke")


class NoiseFilter:
    """Matches whole words and their -s/-ed forms, never substrings.

    "Live at X", "Remastered 2011" and "Demos" are noise; "Alive", "Demons",
    "Oliver" and "Delivery" are not.
    """

    def __init__(self, words: Iterable[str] = DEFAULT_NOISE_WORDS):
        self.words = tuple(w.strip().casefold() for w in words if w.strip())
        self._pattern = whole_words(self.words)

    def is_noise(self, title: str) -> bool:
        return bool(self._pattern and self._pattern.search(title))


def whole_words(words: Iterable[str]) -> re.Pattern[str] | None:
    """A case-insensitive pattern matching any of `words` as whole words, with their -s/-d/-ed forms; a phrase's
    words may be parted by spaces or hyphens ("sped up", "Sped-Up"). None for no words."""
    stems = "|".join(re.escape(w).replace(r"\ ", r"[\s-]+")
                     for w in sorted({w.strip().casefold() for w in words if w.strip()}, key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{stems})(?:s|d|ed)?(?![\w])", re.IGNORECASE) if stems else None
