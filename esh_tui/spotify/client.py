"""One long-lived, pooled httpx client for the Spotify Web API, with token handling and retries."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from esh_tui.config import Settings
from esh_tui.spotify.errors import (
    AuthError, BadRequestError, ForbiddenError, NetworkError, NotFoundError, QuotaExceededError,
    RateLimitedError, SpotifyError,
)

TOKEN_MARGIN_SECONDS = 60  # refresh this long before the token expires
MAX_RETRY_AFTER = 120.0  # a longer Retry-After ends the run instead of stalling it


class SpotifyClient:
    """The only object that sends requests to Spotify.

    One `httpx.AsyncClient` with pooled keep-alive connections; an app token
    (client credentials) fetched once even when many requests want it at the
    same moment; 429s wait out `Retry-After`; 5xx and network failures back
    off exponentially with jitter; other 4xx raise a typed error at once.
    """

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None, *,
                 max_retries: int = 5, timeout: float = 15.0, max_connections: int = 16,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, clock: Callable[[], float] = time.monotonic):
        if not settings.has_credentials:
            raise AuthError("no Spotify credentials: set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET")
        self.settings = settings
        self.max_retries = max_retries
        self._sleep, self._clock = sleep, clock
        if transport is None:
            limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
            transport = httpx.AsyncHTTPTransport(limits=limits, http2=True)
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout,
                                       headers={"user-agent": "esh-tui", "accept": "application/json"})
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = asyncio.Lock()
        self.calls: Counter[tuple[str, int]] = Counter()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "SpotifyClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"SpotifyClient(api_url={self.settings.api_url!r})"

    # ----- tokens ----------------------------------------------------------------------

    async def _access_token(self) -> str:
        if self._token and self._clock() < self._token_expires_at:
            return self._token
        async with self._token_lock:
            if self._token and self._clock() < self._token_expires_at:
                return self._token
            try:
                response = await self._http.post(
                    self.settings.token_url, data={"grant_type": "client_credentials"},
                    auth=(self.settings.client_id or "", self.settings.client_secret or ""),
                )
            except httpx.HTTPError as exc:
                raise NetworkError(f"cannot reach the Spotify accounts service at {self.settings.accounts_url}: "
                                   f"{exc.__class__.__name__}") from None
            if response.status_code != 200:
                raise AuthError("Spotify refused the app credentials (check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET): "
                                f"{_oauth_message(response)}")
            payload = response.json()
            self._token = payload["access_token"]
            self._token_expires_at = self._clock() + float(payload.get("expires_in", 3600)) - TOKEN_MARGIN_SECONDS
            return self._token

    # ----- requests ----------------------------------------------------------------------

    async def get(self, path: str, params: dict[str, Any] | None = None, *, template: str | None = None) -> Any:
        """GET an API path (or an absolute `next` URL) and return the decoded JSON."""
        url = path if path.startswith("http") else f"{self.settings.api_url}{path}"
        template = template or path
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            token = await self._access_token()
            try:
                response = await self._http.get(url, params=params, headers={"authorization": f"Bearer {token}"})
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if last:
                    raise NetworkError(f"Spotify did not answer {template} after {attempt + 1} tries "
                                       f"({exc.__class__.__name__}); check the connection and try again") from None
                await self._sleep(self._backoff(attempt))
                continue
            self.calls[(template, response.status_code)] += 1
            status = response.status_code
            if status == 200 or status == 201:
                return response.json()
            message = _api_message(response)
            if status == 429:
                retry_after = _retry_after(response)
                if "QUOTA_EXCEEDED" in message:
                    raise QuotaExceededError(_quota_text(retry_after), retry_after)
                if last or (retry_after is not None and retry_after > MAX_RETRY_AFTER):
                    raise RateLimitedError(f"Spotify is rate limiting requests ({template}); try again "
                                           f"in {_human(retry_after or 30)}", retry_after)
                await self._sleep((retry_after if retry_after is not None else self._backoff(attempt)) + random.uniform(0, 0.5))
                continue
            if status >= 500:
                if last:
                    raise NetworkError(f"Spotify kept failing on {template} (HTTP {status}); try again later")
                await self._sleep(self._backoff(attempt))
                continue
            if status == 401:
                self._token = None  # maybe revoked or expired early; one fresh token, then give up
                if attempt == 0:
                    continue
                raise AuthError(f"Spotify refused the access token for {template}: {message}")
            raise _client_error(status, template, message)
        raise NetworkError(f"Spotify did not answer {template}")  # pragma: no cover - loop always returns or raises

    async def pages(self, path: str, params: dict[str, Any] | None = None, *, template: str | None = None,
                    key: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Yield every item of a paging object, following `next` links (`key` selects e.g. search's "tracks")."""
        url, query = path, params
        while url:
            payload = await self.get(url, query, template=template or path)
            page = payload[key] if key else payload
            for item in page.get("items") or []:
                if item is not None:
                    yield item
            url, query = page.get("next"), None

    def _backoff(self, attempt: int) -> float:
        return min(30.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)


def _api_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(error, dict):
        return str(error.get("message", ""))[:200]
    return str(error)[:200]


def _oauth_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("error_description") or body.get("error"))[:200]
    except ValueError:
        return f"HTTP {response.status_code}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _human(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _quota_text(retry_after: float | None) -> str:
    if retry_after is None:
        return "the Spotify daily quota of this app is used up; what was fetched is kept — run again tomorrow"
    back = time.strftime("%H:%M", time.localtime(time.time() + retry_after))
    return f"the Spotify daily quota of this app is used up; what was fetched is kept — come back after {back} (in {_human(retry_after)})"


def _client_error(status: int, template: str, message: str) -> SpotifyError:
    if status == 404:
        return NotFoundError(f"Spotify has no such resource ({template}): {message}")
    if status == 403:
        return ForbiddenError(f"Spotify refused {template} for this app: {message}")
    if status == 400:
        return BadRequestError(f"Spotify rejected {template} as malformed: {message}")
    return SpotifyError(f"Spotify answered HTTP {status} to {template}: {message}")
