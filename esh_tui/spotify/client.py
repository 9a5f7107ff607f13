"""One long-lived, pooled, deduplicating, rate-aware httpx client for the Spotify Web API."""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from esh_tui.config import FROM_TOKEN, ConfigError, Settings
from esh_tui.logs import logger
from esh_tui.spotify.accounting import CallLog, CallRecord
from esh_tui.spotify.batching import BatchLoader
from esh_tui.spotify.auth import AppToken, TokenSource, UserToken
from esh_tui.spotify.capabilities import DEVELOPMENT_PAGE, EXTENDED_PAGE, Capabilities
from esh_tui.spotify.errors import (
    AuthError, BadRequestError, BadResponseError, ForbiddenError, NetworkError, NotFoundError, QuotaExceededError,
    RateLimitedError, SpotifyError, human_seconds,
)
from esh_tui.spotify.limits import AdaptiveLimit
from esh_tui.spotify.paging import next_link, page_items
from esh_tui.spotify.pool import PooledTransport
from esh_tui.text import clean
from esh_tui.spotify.singleflight import SingleFlight
from esh_tui.spotify.tls import tls_context

_log = logger(__name__)  # 429 waits and stops, for the log file: templates, never URLs
BATCH = {"albums": 20, "tracks": 50, "artists": 50}
MAX_RETRY_AFTER = 120.0  # a longer Retry-After ends the run with a clear message instead of stalling it
LONGEST_RETRY_AFTER = 7 * 86_400.0  # a longer one (or infinity) is taken as this: it only says when to come back
MIN_RETRY_AFTER = 1.0  # a 429 asking for no wait (0, or less) still pauses this long: never hammered, patience ends
RATE_LIMIT_PATIENCE = 600.0  # seconds one request waits out 429s in all before the run stops and says so
# The catalog reads that take `market` (and that the tracker makes): with one, only that market's editions.
MARKET_TEMPLATES = frozenset({"GET /artists/{id}/albums", "GET /albums", "GET /albums/{id}", "GET /albums/{id}/tracks",
                              "GET /tracks", "GET /tracks/{id}", "GET /search"})


@dataclass(frozen=True, slots=True)
class ClientStats:
    """What the client has done since it was made, copied out in one piece: what metrics read instead of its parts."""

    mode: str  # extended | development | unknown
    calls: int  # requests sent (retries included, GETs that shared another's request not)
    recent: tuple[CallRecord, ...]  # the most recent calls, oldest first (as many as the call log keeps)
    retries: int
    rate_limited: int  # 429 answers
    coalesced: int  # GETs that shared an identical one in flight (single-flight)
    batching_saved: int  # requests that batching made unnecessary
    in_flight: int
    bound: int  # the adaptive bound on requests in flight
    paused_for: float = 0.0  # seconds until requests go out again (a 429's Retry-After), 0 when not paused

    def since(self, calls: int) -> tuple[CallRecord, ...]:
        """The calls sent after the first `calls` of them (as far back as `recent` reaches)."""
        count = min(self.calls - calls, len(self.recent))
        return self.recent[len(self.recent) - count:] if count > 0 else ()


class SpotifyClient:
    """The only object that sends requests to Spotify.

    - one `httpx.AsyncClient`, pooled keep-alive connections (limits on the transport), HTTP/2 when offered;
    - the token comes from a `TokenSource`, fetched once however many requests want it at once;
    - identical GETs in flight at the same time share one request (single-flight);
    - an adaptive bound on requests in flight: halves on 429, grows back on success;
    - 429 waits out `Retry-After` for every request (a shared pause), with jitter; a missing
      header means exponential backoff; `QUOTA_EXCEEDED` stops at once with when to come back;
    - 5xx, timeouts and dropped connections: bounded exponential backoff with jitter;
    - other 4xx: no retry, a typed error naming the resource;
    - every send recorded in `log` (endpoint template, status, latency, bytes, retried, new connection).
    """

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None, *,
                 user: bool = False, token: Callable[[httpx.AsyncClient], TokenSource] | None = None,
                 capabilities: Capabilities | None = None,
                 max_retries: int = 5, timeout: float = 15.0, max_connections: int = 16,
                 concurrency: int = 8, max_concurrency: int = 32,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None,
                 pooling: bool = True, batching: bool = True, single_flight: bool = True):
        self.settings = settings
        self.max_retries, self.max_connections = max_retries, max_connections
        # Switches for benchmarks (see esh_tui.tracker.options); off = the naive way, on = the default.
        self.batching, self.single_flight = batching, single_flight
        self._sleep, self._clock, self._rng = sleep, clock, rng or random.Random()
        if transport is None:
            limits = httpx.Limits(max_connections=max_connections,
                                  max_keepalive_connections=max_connections if pooling else 0)
            transport = PooledTransport(limits=limits, http2=True, verify=tls_context(http2=True))
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout,
                                       headers={"user-agent": "esh-tui", "accept": "application/json"})
        self._http._cookies = _AnswerCookies()  # (no cookie setter keeps its type: it copies into a plain Cookies)
        # What httpx's client would put on each API request: its headers (ours, then its own: encodings, keep-alive)
        # and timeouts. The requests go to its transport directly (see `_exchange`).
        self._headers, self._timeouts = dict(self._http.headers), self._http.timeout.as_dict()
        if token is not None:
            self.token: TokenSource = token(self._http)
        else:
            self.token = UserToken(settings, self._http, clock) if user else AppToken(settings, self._http, clock)
        self.capabilities = capabilities or Capabilities()
        self.market = settings.market  # sent with every MARKET_TEMPLATES request; None: every market's editions
        self.log = CallLog()
        # Never more requests in flight than the pool has connections: httpcore's pool rescans every request it
        # holds on every event, and a request it queues was once handed the same connection as another and sent
        # round again (8 pool scans a request at 32 in flight on 16 connections; 2 at 16).
        maximum = max(1, min(max_concurrency, max_connections))
        self.limit = AdaptiveLimit(initial=min(concurrency, maximum), maximum=maximum)
        self.flights = SingleFlight()
        self.loaders = {kind: BatchLoader(self, kind, size) for kind, size in BATCH.items()}
        self.round_trip: float | None = None  # seconds an answered call takes, smoothed, real time (BatchLoader)
        self._resume_at = 0.0  # no request before this (a shared Retry-After pause)
        self._stopped: tuple[float, SpotifyError] | None = None  # quota gone: until then, fail at once, unsent
        self._learning = asyncio.Lock()  # held while the first answer about capabilities is awaited
        self.before_send: list[Callable[[], None]] = []  # called before each request is sent; may raise (a budget)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "SpotifyClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    def stats(self) -> ClientStats:
        """A copy of the call accounting, the pool's load and what single-flight and batching saved."""
        log = self.log
        return ClientStats(
            mode=self.capabilities.mode, calls=log.calls, recent=tuple(log.records), retries=log.retries,
            rate_limited=log.rate_limited, coalesced=self.flights.saved,
            batching_saved=sum(max(0, loader.items - loader.batches) for loader in self.loaders.values()),
            in_flight=self.limit.in_flight, bound=self.limit.bound,
            paused_for=self.paused_for(),
        )

    def paused_for(self) -> float:
        """Seconds until requests go out again after a 429 (0: not paused); cheap enough to ask every frame."""
        return max(0.0, self._resume_at - self._clock())

    def __repr__(self) -> str:
        return f"SpotifyClient(api_url={self.settings.api_url!r}, mode={self.capabilities.mode!r})"

    def check_market(self) -> None:
        """`from_token` means the logged-in account's country, which the app's token does not carry."""
        if self.market == FROM_TOKEN and isinstance(self.token, AppToken):
            raise ConfigError("market", f"{FROM_TOKEN} means your account's country, which only a user token carries",
                              "log in with 'esh-tui login', or set a country code like SE")

    # ----- requests ---------------------------------------------------------------------------

    async def get(self, path: str, params: dict[str, Any] | None = None, *, template: str | None = None) -> Any:
        """GET an API path (or an absolute `next` URL); identical concurrent GETs share one request."""
        if self.market and template in MARKET_TEMPLATES and not path.startswith("http"):
            params = {**(params or {}), "market": self.market}  # (`next` links carry it: params would replace them)
        url = path if path.startswith("http") else f"{self.settings.api_url}{path}"
        if not _same_origin(url, self.settings.api_url):  # a `next` link from an answer: never send the token elsewhere
            raise BadResponseError(f"Spotify's answer linked off the API host ({template or 'a link'}); not followed")
        if not self.single_flight:
            return await self._send("GET", url, params, None, template or path)
        key = (url, tuple(sorted((k, str(v)) for k, v in (params or {}).items())))
        return await self.flights.run(key, lambda: self._send("GET", url, params, None, template or path))

    async def post(self, path: str, body: dict[str, Any], *, template: str | None = None) -> Any:
        url = f"{self.settings.api_url}{path}"
        return await self._send("POST", url, None, body, template or f"POST {path}")

    async def delete(self, path: str, body: dict[str, Any], *, template: str | None = None) -> Any:
        url = f"{self.settings.api_url}{path}"
        return await self._send("DELETE", url, None, body, template or f"DELETE {path}")

    async def _send(self, method: str, url: str, params: dict[str, Any] | None, body: Any, template: str) -> Any:
        if not template.startswith(("GET ", "POST ", "DELETE ")):
            template = f"{method} {template}"
        target = _target(url, params)  # parsed once: httpx would parse the string and merge the params again
        sent = str(target)
        failures = waits = 0  # each has its own budget: a burst of 429s never uses up the retries after errors
        waited = 0.0  # on 429s: a count would give up on an unlucky request while the window refills
        for attempt in itertools.count():
            last = failures == self.max_retries
            opened = _ConnectionSpy()
            async with self.limit:
                headers = await self._clear_to_send()  # under the bound: a request queued on it obeys a pause too
                started = self._clock()
                try:
                    response = await self._exchange(httpx.Request(
                        method, target, json=body, headers={**self._headers, **headers},
                        extensions={"trace": opened, "timeout": self._timeouts}))
                except httpx.HTTPError as exc:
                    failure = "timeout" if isinstance(exc, httpx.TimeoutException) else "network"
                    self._record(template, failure, started, 0, attempt, opened, sent)
                    if last:
                        raise NetworkError(f"Spotify did not answer {template} after {attempt + 1} tries "
                                           f"({exc.__class__.__name__}); check the connection and try again") from None
                    response = None
                else:
                    self._record(template, response.status_code, started, len(response.content), attempt, opened, sent)
                    if response.status_code == 429:  # pause everybody now, before this slot goes to a queued request
                        wait = self._pause_for_429(response, template, waits, waited)
                        waits, waited = waits + 1, waited + wait
                        continue
            if response is None:
                await self._sleep(self._backoff(failures))
                failures += 1
                continue
            status = response.status_code
            if status in (200, 201):
                payload = _json_object(response)
                if payload is not None:
                    self.limit.on_success()
                    return payload
                if last:  # a garbled body is retried like a server error, then this request fails
                    raise BadResponseError(f"Spotify answered {template} with something that is not a JSON object; "
                                           "try again later")
                await self._sleep(self._backoff(failures))
                failures += 1
                continue
            message = _api_message(response)
            if status >= 500:
                if last:
                    raise NetworkError(f"Spotify kept failing on {template} (HTTP {status}); try again later")
                await self._sleep(self._backoff(failures))
                failures += 1
                continue
            if status == 401 and attempt == 0:
                self.token.invalidate()  # revoked or expired early: one fresh token, then give up
                continue
            raise _client_error(status, template, message)
        raise AssertionError("unreachable")  # pragma: no cover - every pass returns, raises or spends a budget

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        """Send one API request and read its answer whole, as `AsyncClient.send` would, for less CPU.

        The request goes to the transport httpx's client would pick for its URL (its mounts; given a transport it
        takes no proxy from the environment), and cookies go both ways as there; the client's own steps around
        the transport (auth and redirect flows that do nothing here, event hooks, a timer, a log line) cost about
        60 µs a request."""
        http = self._http
        pick = getattr(http, "_transport_for_url", None)
        if pick is None or http.is_closed:  # (an httpx without it, or a closed client: its client's way, or error)
            return await http.send(request)
        if http.cookies:
            httpx.Cookies(http.cookies).set_cookie_header(request)
        began = time.perf_counter()  # (real time, whatever clock the client was given: a batch's timer runs on it)
        response = await pick(request.url).handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        took = time.perf_counter() - began
        self.round_trip = took if self.round_trip is None else 0.8 * self.round_trip + 0.2 * took
        http.cookies.extract_cookies(response)
        return response

    def _pause_for_429(self, response: httpx.Response, template: str, waits: int, waited: float) -> float:
        """A 429: the daily quota stops every request; a rate limit pauses every request for its Retry-After
        (or a backoff) and halves the bound. Returns the wait; raises when waiting would be pointless."""
        retry_after = _retry_after(response)
        if _quota_exceeded(response):
            _log.warning("429 on %s: the daily quota is used up (Retry-After %s)", template, retry_after)
            raise self._stop_for(retry_after, QuotaExceededError.come_back_in(retry_after))
        self.limit.on_rate_limited()
        wait = max(MIN_RETRY_AFTER, retry_after) if retry_after is not None else self._backoff(waits)
        if wait > MAX_RETRY_AFTER or waited + wait > RATE_LIMIT_PATIENCE:
            come_back = retry_after if retry_after is not None and retry_after >= MIN_RETRY_AFTER else 30
            _log.warning("429 on %s: stopping rather than waiting %.0f s (Retry-After %s)", template, wait, retry_after)
            raise self._stop_for(come_back, RateLimitedError(
                f"Spotify is rate limiting requests ({template}); try again in {human_seconds(come_back)}",
                retry_after))
        self._resume_at = max(self._resume_at, self._clock() + wait + self._rng.uniform(0, 0.25))
        _log.info("429 on %s: waiting %.1f s (Retry-After %s)", template, wait, retry_after)
        return wait

    def _stop_for(self, seconds: float | None, error: QuotaExceededError | RateLimitedError) -> SpotifyError:
        """Asking is pointless for a while: requests until then fail at once without being sent (no hammering)."""
        self._stopped = (self._clock() + (seconds if seconds is not None else 3600.0), error)
        return error

    def _check_stopped(self) -> None:
        if self._stopped is not None:
            until, error = self._stopped
            if self._clock() < until:
                raise type(error)(str(error), error.retry_after)
            self._stopped = None

    async def _clear_to_send(self) -> dict[str, str]:
        """The headers to send with, once no pause runs and no stop holds. Nothing is awaited between this and the
        send, and a pause that began while the token was fetched is waited out too: no request goes into a pause."""
        while True:
            while (wait := self._resume_at - self._clock()) > 0:
                await self._sleep(wait)
            self._check_stopped()
            token = await self.token.access_token()
            if self._resume_at <= self._clock():
                self._check_stopped()
                for check in self.before_send:  # a daily budget: past it, nothing is sent
                    check()
                return {"authorization": f"Bearer {token}"}

    def _record(self, template: str, status: int | str, started: float, size: int, attempt: int,
                opened: "_ConnectionSpy", url: str | None = None) -> None:
        self.log.add(CallRecord(template, status, (self._clock() - started) * 1000, size, attempt > 0,
                                opened.opened if opened.traced else None, url=url))

    def _backoff(self, attempt: int) -> float:
        return min(30.0, 0.5 * 2**attempt) * self._rng.uniform(0.5, 1.0)

    # ----- paging and batching ---------------------------------------------------------------------

    async def pages(self, path: str, params: dict[str, Any] | None = None, *, template: str | None = None,
                    key: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Yield every item of a paging object, following `next` (`key` picks e.g. search's "tracks")."""
        url, query = path, params
        while url:
            payload = await self.get(url, query, template=template or path)
            page = payload.get(key) if key else payload
            if not isinstance(page, dict):
                return
            for item in page_items(page, template or path):
                if item is not None:
                    yield item
            url, query = next_link(page), None

    async def page(self, path: str, params: dict[str, Any], *, template: str, key: str | None = None) -> dict[str, Any]:
        """One page at the largest size this app may ask for, learning that size on first use.

        The first ask is for 50 items; a 400 on `limit` means development mode:
        remember 10 and ask again, so nothing is lost. While the size is unknown
        only one caller asks; the others wait for the answer.
        """
        if self.capabilities.page_max is None:
            async with self._learning:
                if self.capabilities.page_max is None:  # (learned while this one waited: no need to wait in line)
                    return await self._page(path, params, template, key)
        return await self._page(path, params, template, key)

    async def _page(self, path: str, params: dict[str, Any], template: str, key: str | None) -> dict[str, Any]:
        caps = self.capabilities
        limit = caps.page_max or EXTENDED_PAGE
        try:
            payload = await self.get(path, {**params, "limit": limit}, template=template)
        except BadRequestError as exc:
            if limit <= DEVELOPMENT_PAGE or "limit" not in str(exc).lower():
                raise
            caps.page_max = DEVELOPMENT_PAGE
            payload = await self.get(path, {**params, "limit": DEVELOPMENT_PAGE}, template=template)
        else:
            if caps.page_max is None:
                caps.page_max = limit
        return payload.get(key) if key else payload

    async def load(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """Like `several`, but shares batches with other tasks asking at the same time."""
        if not self.batching:
            return await self.several(kind, ids)
        return await self.loaders[kind].load(ids)

    async def several(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """Albums, tracks or artists by id: batched (20/50 per call) where batch endpoints exist,
        otherwise one call each, concurrently under the same bound. Missing ids map to None."""
        ids = list(dict.fromkeys(ids))
        if self.batching and self.capabilities.batch is None and ids:
            async with self._learning:  # one caller finds out whether batch endpoints exist
                if self.capabilities.batch is None:
                    return await self._several(kind, ids)
        return await self._several(kind, ids)

    async def _several(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        found: dict[str, dict[str, Any] | None] = {}
        if self.batching and self.capabilities.batch is not False:
            size = BATCH[kind]
            try:
                for start in range(0, len(ids), size):
                    chunk = ids[start:start + size]
                    payload = await self.get(f"/{kind}", {"ids": ",".join(chunk)}, template=f"GET /{kind}")
                    self.capabilities.batch = True
                    items = payload.get(kind) or []
                    if not isinstance(items, list):
                        raise BadResponseError(f"Spotify answered GET /{kind} with a malformed list")
                    for item_id, item in zip(chunk, items):
                        found[item_id] = item if isinstance(item, dict) else None
                return found
            except ForbiddenError:
                self.capabilities.batch = False  # development mode: fall back without losing anything
        rest = [i for i in ids if i not in found]

        async def one(item_id: str) -> None:
            try:
                found[item_id] = await self.get(f"/{kind}/{item_id}", template=f"GET /{kind}/{{id}}")
            except NotFoundError:
                found[item_id] = None

        await asyncio.gather(*(one(i) for i in rest))
        return found


class _AnswerCookies(httpx.Cookies):
    """The client's cookie jar, read from an answer only when the answer sets a cookie.

    httpx reads every answer into the jar through urllib's request and cookie machinery, about 8% of a cold
    run's CPU; the API sets no cookies, and an answer without Set-Cookie adds nothing to the jar anyway."""

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class _ConnectionSpy:
    """An httpcore trace hook: did this request open a new TCP connection?"""

    def __init__(self) -> None:
        self.traced = False
        self.opened = False

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        self.traced = True
        if event == "connection.connect_tcp.complete":
            self.opened = True


def _api_message(response: httpx.Response) -> str:
    """The error message of an answer, made printable (it is shown to the user and may carry escape sequences)."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, nested too deep to read
        return clean(response.text[:200]) or response.reason_phrase
    if isinstance(error, dict):
        return clean(str(error.get("message", ""))[:200])
    return clean(str(error)[:200])


def _quota_exceeded(response: httpx.Response) -> bool:
    """Whether a 429 is the daily quota: Spotify marks it QUOTA_EXCEEDED in the error's message or its reason,
    so the mark counts wherever it is in the error body."""
    return "QUOTA_EXCEEDED" in response.text


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's JSON object ({} for an empty body); None when it is not one (garbled, truncated, a list)."""
    if not response.content:
        return {}
    try:
        payload = response.json()
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def _target(url: str, params: dict[str, Any] | None) -> httpx.URL:
    """The URL a request goes to: `params` added to the query `url` may already have."""
    if not params:
        return httpx.URL(url)
    if "?" not in url:
        return httpx.URL(url, params=params)
    return httpx.URL(url).copy_merge_params(params)


def _same_origin(url: str, api_url: str) -> bool:
    if url.startswith(api_url + "/") or url == api_url:
        return True
    try:
        link, api = httpx.URL(url), httpx.URL(api_url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return (link.scheme, link.host, link.port) == (api.scheme, api.host, api.port)


def _retry_after(response: httpx.Response) -> float | None:
    """The seconds a 429 asks to wait, from 0 to LONGEST_RETRY_AFTER; None when it says none (or NaN, or text)."""
    value = response.headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return None if math.isnan(seconds) else min(LONGEST_RETRY_AFTER, max(0.0, seconds))


def _client_error(status: int, template: str, message: str) -> SpotifyError:
    if status == 404:
        return NotFoundError(f"Spotify has no such resource ({template}): {message}")
    if status == 403:
        return ForbiddenError(f"Spotify refused {template} for this app: {message}")
    if status == 400:
        return BadRequestError(f"Spotify rejected {template}: {message}")
    if status == 401:
        return AuthError(f"Spotify refused the access token for {template}: {message}")
    return SpotifyError(f"Spotify answered HTTP {status} to {template}: {message}")
