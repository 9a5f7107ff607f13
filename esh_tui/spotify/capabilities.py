"""What this app's credentials allow: batch endpoints or not, and the largest page.

Learned from the first answer that tells (a 403 on a batch endpoint, a 400 on
a `limit`), remembered by the caller so the next run starts right.
"""

from __future__ import annotations

from dataclasses import dataclass

DEVELOPMENT_PAGE, EXTENDED_PAGE = 10, 50


@dataclass
class Capabilities:
    batch: bool | None = None  # None: not known yet
    page_max: int | None = None

    @property
    def mode(self) -> str:
        if self.batch is None:
            return "unknown"
        return "extended" if self.batch else "development"

    @property
    def page(self) -> int:
        """The page size to ask for: the largest known to work, else the safe one."""
        return self.page_max or DEVELOPMENT_PAGE

