"""Access tokens: the app's (client credentials) and the user's (Authorization Code with PKCE).

A token is fetched once however many requests want it at the same moment, and
refreshed shortly before it expires. User tokens are cached in the data
directory with file mode 0600. No token or secret ever appears in a message.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import hashlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from esh_tui.config import Settings
from esh_tui.files import kind_of, open_to_read, write_atomically
from esh_tui.spotify.errors import AuthError, LoginExpiredError, NetworkError
from esh_tui.text import clean

REFRESH_MARGIN_SECONDS = 60  # at most; a tenth of the token's lifetime when that is shorter (a 5 s token: 0.5 s)
READ_SCOPES = ("user-library-read", "user-follow-read", "playlist-read-private")
# Asked for only once the user wants a playlist of new releases (`esh-tui login --playlist`), and kept by later logins.
PLAYLIST_SCOPE = "playlist-modify-private"
TOKEN_FILE = "user-token.json"


class TokenSource(Protocol):
    async def access_token(self) -> str: ...
    def invalidate(self) -> None: ...


class _CachedToken:
    """The fetch-once-and-refresh-before-expiry logic shared by both kinds of token.

    The client secret goes only with a grant that needs it (`sends_secret`): client credentials. The PKCE
    login's code exchange and its refreshes carry the client id in the form and no secret, as Spotify asks.
    """

    sends_secret = False

    def __init__(self, settings: Settings, http: httpx.AsyncClient, clock: Callable[[], float]):
        self.settings, self._http, self._clock = settings, http, clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self._refused: AuthError | None = None  # refused for good (an expired login): asking again cannot help

    def __repr__(self) -> str:
        return f"{type(self).__name__}(valid={self._valid()})"

    def _valid(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at

    def invalidate(self) -> None:
        self._token = None

    async def access_token(self) -> str:
        if self._valid():
            return self._token  # type: ignore[return-value]
        async with self._lock:
            if self._refused is not None:
                raise type(self._refused)(str(self._refused))
            if not self._valid():
                try:
                    payload = await self._post(await self._grant(), secret=self.sends_secret)
                except LoginExpiredError as exc:
                    self._refused = exc
                    raise
                self._token = payload["access_token"]
                lifetime = _lifetime(payload.get("expires_in"))
                self._expires_at = self._clock() + lifetime - min(REFRESH_MARGIN_SECONDS, lifetime / 10)
                self._accept(payload)
            return self._token  # type: ignore[return-value]

    async def _grant(self) -> dict[str, str]:
        raise NotImplementedError

    def _accept(self, payload: dict) -> None:
        """Hook: keep anything else the token answer carried (a new refresh token)."""

    async def _post(self, form: dict[str, str], secret: bool = False) -> dict:
        """POST a grant to the token endpoint, with the app's Basic credentials only when `secret`."""
        auth = (self.settings.client_id or "", self.settings.client_secret or "") if secret else None
        try:
            response = await self._http.post(self.settings.token_url, data=form, auth=auth)
        except httpx.HTTPError as exc:
            raise NetworkError(f"cannot reach the Spotify accounts service at {self.settings.accounts_url} "
                               f"({exc.__class__.__name__}); check the connection") from None
        if response.status_code != 200:
            raise self._refusal(response)
        try:
            payload = response.json()
        except (ValueError, RecursionError):
            payload = None
        if not isinstance(payload, dict) or not _usable_token(payload.get("access_token")):
            raise AuthError("Spotify's token answer had no usable access token; try again later")
        return payload

    def _refusal(self, response: httpx.Response) -> AuthError:
        return AuthError(f"Spotify refused the token request: {_oauth_message(response)}; {self._advice()}")

    def _advice(self) -> str:
        return "check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"


class AppToken(_CachedToken):
    """Client credentials: enough for the public catalog. The one grant that sends the client secret."""

    sends_secret = True

    def __init__(self, settings: Settings, http: httpx.AsyncClient, clock: Callable[[], float] = time.monotonic):
        if not settings.has_credentials:
            raise AuthError("no Spotify credentials: set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET")
        super().__init__(settings, http, clock)

    async def _grant(self) -> dict[str, str]:
        return {"grant_type": "client_credentials"}


class UserToken(_CachedToken):
    """A logged-in user's token, refreshed with its refresh token and cached on disk (mode 0600).

    The login was PKCE, so a refresh carries the client id in the form and never the client secret."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, clock: Callable[[], float] = time.monotonic):
        super().__init__(settings, http, clock)
        self.path = settings.data_dir / TOKEN_FILE
        cached = _read_token_file(self.path)
        if cached is None:
            raise AuthError("not logged in to Spotify: run 'esh-tui login' first")
        self._refresh_token = cached["refresh_token"]
        self.scopes = frozenset(cached.get("scope", "").split())

    async def _grant(self) -> dict[str, str]:
        return {"grant_type": "refresh_token", "refresh_token": self._refresh_token,
                "client_id": self.settings.client_id or ""}

    def _accept(self, payload: dict) -> None:
        if isinstance(payload.get("refresh_token"), str):
            self._refresh_token = payload["refresh_token"]
            save_user_token(self.path, {**payload, "scope": payload.get("scope", " ".join(sorted(self.scopes)))})

    def _refusal(self, response: httpx.Response) -> AuthError:
        """`invalid_grant` on a refresh: the login has expired (or was revoked); only logging in again helps."""
        if response.status_code == 400 and _oauth_error(response) == "invalid_grant":
            return LoginExpiredError()
        return super()._refusal(response)

    def _advice(self) -> str:
        return "run 'esh-tui login' again"


class UserOrAppToken:
    """The user's token while the login works, then the app's own: for reads a login only widens (playlists)."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, clock: Callable[[], float] = time.monotonic):
        self._user = UserToken(settings, http, clock)
        self._app = AppToken(settings, http, clock)
        self.current: TokenSource = self._user

    def __repr__(self) -> str:
        return f"UserOrAppToken(current={self.current!r})"

    def invalidate(self) -> None:
        self.current.invalidate()

    async def access_token(self) -> str:
        if self.current is self._user:
            try:
                return await self._user.access_token()
            except LoginExpiredError:
                self.current = self._app
        return await self._app.access_token()


# ----- login: Authorization Code with PKCE ----------------------------------------------------------

def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def login(settings: Settings, http: httpx.AsyncClient, open_browser: Callable[[str], Awaitable[None] | None],
                scopes: tuple[str, ...] = READ_SCOPES, timeout: float = 300.0) -> frozenset[str]:
    """Log the user in: open the authorize page, catch the one redirect on 127.0.0.1, swap the code for tokens.

    The listener binds the redirect URI's loopback address and port only,
    accepts exactly one callback whose `state` matches, then shuts down.
    Returns the scopes granted; the tokens are cached (mode 0600).
    """
    if not settings.client_id:
        raise AuthError("logging in needs SPOTIFY_CLIENT_ID (and SPOTIFY_REDIRECT_URI for a custom port)")
    redirect = urlsplit(settings.redirect_uri)
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    caught: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    listener = await _CallbackListener.start(redirect.hostname or "127.0.0.1", redirect.port or 0,
                                             redirect.path or "/", state, caught)
    try:
        query = urlencode({"client_id": settings.client_id, "response_type": "code",
                           "redirect_uri": settings.redirect_uri, "state": state, "scope": " ".join(scopes),
                           "code_challenge_method": "S256", "code_challenge": challenge})
        opened = open_browser(f"{settings.authorize_url}?{query}")
        if asyncio.iscoroutine(opened):
            await opened
        try:
            params = await asyncio.wait_for(caught, timeout)
        except asyncio.TimeoutError:
            raise AuthError(f"no answer from the Spotify login page within {int(timeout)} s; run 'esh-tui login' again") from None
    finally:
        await listener.close()
    if "error" in params:
        raise AuthError(f"Spotify login was not completed ({clean(params['error'][:60])}); run 'esh-tui login' again")
    token = _CachedToken(settings, http, time.monotonic)
    payload = await token._post({"grant_type": "authorization_code", "code": params["code"],
                                 "redirect_uri": settings.redirect_uri, "client_id": settings.client_id,
                                 "code_verifier": verifier})
    if not isinstance(payload.get("refresh_token"), str):
        raise AuthError("Spotify's login answer had no refresh token; run 'esh-tui login' again")
    save_user_token(settings.data_dir / TOKEN_FILE, payload)
    return frozenset(str(payload.get("scope", "")).split())


def granted_scopes(settings: Settings) -> frozenset[str] | None:
    """The scopes the cached login was granted; None when there is no usable login."""
    cached = _read_token_file(settings.data_dir / TOKEN_FILE)
    return None if cached is None else frozenset(cached["scope"].split())


def login_scopes(settings: Settings, playlist: bool = False) -> tuple[str, ...]:
    """What a login asks for: the reads, and the playlist scope when asked for now (`playlist`) or granted before
    (logging in again must not take away what the user already allowed)."""
    if playlist or PLAYLIST_SCOPE in (granted_scopes(settings) or ()):
        return (*READ_SCOPES, PLAYLIST_SCOPE)
    return READ_SCOPES


def logout(settings: Settings) -> bool:
    path = settings.data_dir / TOKEN_FILE
    try:
        path.unlink()
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.EISDIR):
            return False  # no login there (a data directory that cannot be one holds none either)
        raise AuthError(f"cannot forget the login in {path}: {exc.strerror}") from None
    return True


def save_user_token(path: Path, payload: dict) -> None:
    """Write the refresh token and scopes only, atomically, readable by the owner alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"refresh_token": payload["refresh_token"], "scope": str(payload.get("scope", ""))}
    write_atomically(path, json.dumps(data).encode("utf-8"), mode=0o600)


MAX_TOKEN_FILE_BYTES = 64 * 1024  # a refresh token and its scopes: a few hundred bytes


def _read_token_file(path: Path) -> dict | None:
    """The cached login (refresh token, scopes), or None when there is none usable: a damaged file counts as
    no login ('esh-tui login' writes a new one). A FIFO, a device or a directory is no login, never waited on."""
    if kind_of(path) is not None:
        return None
    try:
        with open_to_read(path) as handle:
            data = json.loads(handle.read(MAX_TOKEN_FILE_BYTES))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("refresh_token"), str):
        return None
    return {"refresh_token": data["refresh_token"], "scope": data["scope"] if isinstance(data.get("scope"), str) else ""}


def _usable_token(value: object) -> bool:
    """A token that can be sent in a header: visible ASCII, no spaces (an OAuth token's characters), sane length.
    Anything else would fail to encode, or be refused by the HTTP library, on every request."""
    return isinstance(value, str) and 0 < len(value) <= 4096 and value.isascii() and value.isprintable() \
        and " " not in value


def _oauth_error(response: httpx.Response) -> str | None:
    """The OAuth error code of a refused token request (`invalid_grant`, `invalid_client`), if it has one."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError, RecursionError):
        return None
    return error if isinstance(error, str) else None


def _oauth_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        said = body.get("error_description") or body.get("error")
    except (ValueError, AttributeError, RecursionError):
        said = None
    return (clean(str(said)[:200]) if said else "") or f"HTTP {response.status_code}"  # shown: made printable


def _lifetime(expires_in: object) -> float:
    """Seconds a token lives, as the answer says; an hour when it says nothing usable."""
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and 0 < expires_in < 10**7:
        return float(expires_in)
    return 3600.0


class _CallbackListener:
    """A one-shot HTTP listener for the login redirect."""

    def __init__(self, path: str, state: str, caught: asyncio.Future):
        self.path, self.state, self.caught = path, state, caught
        self.server: asyncio.AbstractServer | None = None

    @classmethod
    async def start(cls, host: str, port: int, path: str, state: str, caught: asyncio.Future) -> "_CallbackListener":
        if host not in ("127.0.0.1", "::1"):
            raise AuthError("the login redirect must be a loopback IP such as http://127.0.0.1:8765/callback")
        listener = cls(path, state, caught)
        try:
            listener.server = await asyncio.start_server(listener._handle, host, port)
        except OSError as exc:
            raise AuthError(f"cannot listen for the login redirect on {host}:{port} ({exc.strerror}); "
                            "free the port or set SPOTIFY_REDIRECT_URI to another") from None
        return listener

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1] if self.server else 0

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await asyncio.wait_for(reader.readline(), 10)).decode("latin-1")
            while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request_line.split(" ")
            target = urlsplit(parts[1]) if len(parts) >= 2 else urlsplit("/")
            params = {k: v[-1] for k, v in parse_qs(target.query).items()}
            if target.path != self.path or params.get("state") != self.state or self.caught.done():
                await _answer(writer, 400, "This is not the login esh-tui is waiting for.")
                return
            if "code" not in params and "error" not in params:
                await _answer(writer, 400, "The login answer had no code.")
                return
            await _answer(writer, 200, "Logged in to Spotify. You can close this tab and go back to esh-tui.")
            self.caught.set_result(params)
        except ValueError:  # a request line longer than the reader's limit, a target urlsplit cannot read
            with contextlib.suppress(ConnectionError):
                await _answer(writer, 400, "This is not the login esh-tui is waiting for.")
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


async def _answer(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    body = f"<!doctype html><title>esh-tui</title><p>{text}</p>".encode()
    reason = "OK" if status == 200 else "Bad Request"
    writer.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/html; charset=utf-8\r\n"
                 f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
    await writer.drain()
