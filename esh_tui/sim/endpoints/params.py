"""What endpoints share: reading ids, numbers and JSON bodies from a request, paging, object builders."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from esh_tui.sim.catalog import Catalog
from esh_tui.sim.config import SimConfig
from esh_tui.sim.messages import ApiError, Request
from esh_tui.sim.objects import ObjectBuilder, paging

_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_MARKET = re.compile(r"^[A-Z]{2}$")
FROM_TOKEN = "from_token"


def objects_for(catalog: Catalog, config: SimConfig, request: Request) -> ObjectBuilder:
    return ObjectBuilder(catalog, f"{request.base}/v1", config.extended, market_of(catalog, request))


def market_of(catalog: Catalog, request: Request) -> str | None:
    """The market a request asks for: none, a country code, or `from_token` (the user's country). With a
    user token, the account's country takes priority over the parameter, as Spotify says."""
    raw = request.query.get("market") or None
    if raw is None:
        return None
    user = request.token is not None and request.token.user_id is not None and catalog.user is not None
    if raw == FROM_TOKEN and not user:
        raise ApiError(400, "Invalid market: from_token needs a user access token")
    if raw != FROM_TOKEN and not _MARKET.match(raw):
        raise ApiError(400, "Invalid market code")
    return catalog.user.country if user else raw


def check_id(item_id: str) -> None:
    if not _ID.match(item_id):
        raise ApiError(400, "Invalid base62 id")


def int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}: {raw[:20]!r} is not a number") from None


def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ApiError(400, "Error parsing JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Error parsing JSON: expected an object")
    return body


def page_params(request: Request, default: int, maximum: int) -> tuple[int, int]:
    limit = int_param(request.query, "limit", default)
    offset = int_param(request.query, "offset", 0)
    if not 1 <= limit <= maximum:
        raise ApiError(400, f"Invalid limit: must be between 1 and {maximum}")
    if offset < 0:
        raise ApiError(400, "Invalid offset: must be 0 or more")
    return limit, offset


def paged(request: Request, items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """One page of `items`, its next/previous links built from the request's own URL."""
    def page_url(at: int) -> str:
        return f"{request.base}{request.path}?{urlencode({**request.query, 'offset': at, 'limit': limit})}"
    return paging(page_url(offset), items[offset:offset + limit], limit, offset, len(items), page_url)
