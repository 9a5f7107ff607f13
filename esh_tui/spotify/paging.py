"""Reading Spotify's paging objects ({"items": [...], "next": url}) without trusting their shape."""

from __future__ import annotations

from typing import Any

from esh_tui.spotify.errors import BadResponseError


def page_items(page: Any, what: str) -> list[Any]:
    """The items of a paging object (an absent page or list: none); `items` that is not a list is a bad answer."""
    if page is None:
        return []
    items = page.get("items") if isinstance(page, dict) else ()
    if items is None:
        return []
    if not isinstance(items, list):
        raise BadResponseError(f"Spotify answered {what} with a malformed page")
    return items


def next_link(page: Any) -> str | None:
    link = page.get("next") if isinstance(page, dict) else None
    return link if isinstance(link, str) and link else None
