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
        stems = "|".join(re.escape(w) for w in sorted(self.words, key=len, reverse=True))
        self._pattern = re.compile(rf"(?<![\w])(?:{stems})(?:s|d|ed)?(?![\w])", re.IGNORECASE) if stems else None

    def is_noise(self, title: str) -> bool:
        return bool(self._pattern and self._pattern.search(title))
