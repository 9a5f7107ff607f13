"""`esh-tui setup`: connect your own Spotify app in a few minutes.

It says what to create on Spotify's developer dashboard (and the redirect URI to paste), asks for the
client id and the client secret (the secret without echo), checks them with one token request (client
credentials) and one API call, says which app mode it found and what that means, and writes them to
`.env` in the config directory: mode 0600, atomically (a temporary file renamed over it), keeping every
other line of a `.env` already there. Wrong credentials write nothing and exit 2 with one line naming,
where Spotify tells, which of the two was wrong. Not on a terminal, the id comes from `--client-id` or
the first line of stdin and the secret from SPOTIFY_CLIENT_SECRET or the next line, so it can be scripted.

The secret is never printed, logged, or written anywhere but that `.env`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import os
import re
import sys
from pathlib import Path

import httpx

from esh_tui.cli.errors import EXIT_OK, UsageError
from esh_tui.config import DEFAULT_ACCOUNTS_URL, Settings, load_settings
from esh_tui.files import write_atomically
from esh_tui.text import clean

DASHBOARD_URL = "https://developer.spotify.com/dashboard"
ENV_FILE = ".env"
ID_NAMES, SECRET_NAMES = ("SPOTIFY_CLIENT_ID", "SPOTIPY_CLIENT_ID"), ("SPOTIFY_CLIENT_SECRET", "SPOTIPY_CLIENT_SECRET")
# Any well-formed artist id will do: the probe asks for the batch endpoint, whose existence is the answer
# (Spotify's own example artist; an unknown id would be a `null` in the list, not an error).
PROBE_ARTIST = "0TnOYISbd1XYRBk9myaseg"
_SPOTIFY_CREDENTIAL = re.compile(r"[0-9a-f]{32}")  # what Spotify's ids and secrets look like
_ENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_PLAIN = re.compile(r"[A-Za-z0-9._:/+-]+")

MODES = {  # what each mode means for the user, a line each
    "development": ("development mode (what a new app is)", (
        "no batch endpoints: albums and tracks are asked for one call each, so a cold run costs about twice the calls",
        "pages of at most 10, no popularity (--max-per-artist keeps the newest), only playlists you own",
        "a daily quota per developer account: a large library's first run may need --budget and two days",
        "at most 25 users, whom you add under 'User Management' in the app's settings before they log in")),
    "extended": ("extended quota mode", (
        "batch endpoints (albums 20, tracks 50 a call), pages of 50 and popularity: the fewest calls per release",
        "any Spotify user can log in")),
}


class _Refused(UsageError):
    """The credentials were refused: one line naming which, exit 2, nothing written."""


def cmd_setup(args: argparse.Namespace) -> int:
    settings = load_settings()
    target = settings.config_dir / ENV_FILE
    if sys.stdin.isatty():
        _say(_walkthrough(settings, target))
        client_id = args.client_id or _ask(input, "Client ID: ")
        secret = _ask(getpass.getpass, "Client secret (not shown): ")
    else:
        lines = iter(sys.stdin.readline, "")
        client_id = args.client_id or _line(lines)
        secret = os.environ.get("SPOTIFY_CLIENT_SECRET", "").strip() or _line(lines)
    client_id, secret = _checked("client id", client_id), _checked("client secret", secret)
    if settings.accounts_url == DEFAULT_ACCOUNTS_URL:  # the real Spotify: ids and secrets are 32 hex digits
        for what, value in (("client id", client_id), ("client secret", secret)):
            if not _SPOTIFY_CREDENTIAL.fullmatch(value):
                raise _Refused(f"that is not a Spotify {what} (32 characters, 0-9 and a-f): copy it again from "
                               f"the app's settings on {DASHBOARD_URL}; nothing was written")
    app = dataclasses.replace(settings, client_id=client_id, client_secret=secret)
    mode = asyncio.run(check(app))
    write_env(target, {"SPOTIFY_CLIENT_ID": client_id, "SPOTIFY_CLIENT_SECRET": secret},
              drop=ID_NAMES[1:] + SECRET_NAMES[1:])
    name, meaning = MODES[mode]
    _say(f"The app works: Spotify accepted its credentials, and it is in {name}:\n"
         + "\n".join(f"  - {line}" for line in meaning))
    _say(f"Wrote SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET to {target} (readable by you only).")
    _say(remember_mode(app, mode))
    hidden = _hidden_by(target, client_id, secret)
    if hidden:
        _say(f"Note: {hidden} also sets the Spotify credentials and wins over {target}; remove them there "
             f"to use these.")
    _say(f"Next: 'esh-tui login' for your liked songs and followed artists (add {settings.redirect_uri} to the "
         f"app's Redirect URIs first), then 'esh-tui' for the dashboard.")
    return EXIT_OK


def remember_mode(app: Settings, mode: str) -> str:
    """Save the mode in the store, as a run saves what it learns (the `capabilities` row of this API), so the
    first run starts in it instead of learning it from a refused call. Says what was done: a store that cannot be
    written is a note, not a failure (the credentials are saved; the first run learns the mode again)."""
    from esh_tui.models import KnownCapabilities
    from esh_tui.runtime import open_store
    from esh_tui.spotify.capabilities import DEVELOPMENT_PAGE, EXTENDED_PAGE
    from esh_tui.storage.errors import StoreError

    extended = mode == "extended"
    try:
        store = open_store(app.store_path)
        try:
            store.save_capabilities(app.api_url, KnownCapabilities(extended, EXTENDED_PAGE if extended else DEVELOPMENT_PAGE))
        finally:
            store.close()
    except StoreError as exc:
        return f"Note: the mode could not be remembered ({exc}); the first run finds it out again."
    return f"Remembered {mode} mode in {app.store_path}: runs start in it without finding it out again."


def _walkthrough(settings: Settings, target: Path) -> str:
    return "\n".join((
        "Connect esh-tui to your own Spotify app (about five minutes):",
        f"  1. Open {DASHBOARD_URL} and log in with your Spotify account.",
        "  2. Create app: any name and description; Redirect URI:",
        f"       {settings.redirect_uri}",
        "     (exactly this: Spotify accepts loopback IPs such as 127.0.0.1, no longer 'localhost';",
        "     it is what 'esh-tui login' listens on). Tick 'Web API', agree, Save.",
        "  3. In the app's Settings, copy the Client ID, then 'View client secret' and copy that.",
        f"esh-tui checks them with Spotify and writes them to {target} (readable by you only).",
        "",
    ))


def _say(text: str) -> None:
    """Print our own words; what they quote (a path, a URI) is shown without escapes or controls."""
    for line in text.split("\n"):
        print(line[:len(line) - len(line.lstrip())] + clean(line), flush=True)


def _ask(read, prompt: str) -> str:
    try:
        return read(prompt)
    except EOFError:
        return ""


def _line(lines) -> str:
    return next(lines, "").strip()


def _checked(what: str, value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        raise UsageError(f"no {what} given (paste it from the app's settings on {DASHBOARD_URL}); nothing was written")
    if any(ch.isspace() or not ch.isprintable() or ch in "'\"\\" for ch in value):
        raise UsageError(f"the {what} has a space, quote or control character in it: copy it again; "
                         "nothing was written")
    return value


# ----- the check: one token request, one API call ---------------------------------------------------

async def check(app: Settings, transport: httpx.AsyncBaseTransport | None = None) -> str:
    """Ask Spotify for an app token with these credentials, then make one API call that tells the app's mode:
    `GET /artists?ids=` exists only in extended quota mode (development mode answers 403). Returns the mode;
    raises _Refused (exit 2) naming what Spotify refused, or a SpotifyError (exit 1) when it could not be asked."""
    from esh_tui.spotify.capabilities import Capabilities
    from esh_tui.spotify.client import SpotifyClient
    from esh_tui.spotify.errors import ForbiddenError, NetworkError
    from esh_tui.spotify.tls import tls_context

    async with httpx.AsyncClient(transport=transport, timeout=15, verify=tls_context(http2=False)) as http:
        try:
            response = await http.post(app.token_url, data={"grant_type": "client_credentials"},
                                       auth=(app.client_id or "", app.client_secret or ""))
        except httpx.HTTPError as exc:
            raise NetworkError(f"cannot reach the Spotify accounts service at {app.accounts_url} "
                               f"({exc.__class__.__name__}); check the connection; nothing was written") from None
        token = _token(response)

    class _Given:
        async def access_token(self) -> str:
            return token

        def invalidate(self) -> None:
            pass

    caps = Capabilities()
    async with SpotifyClient(app, transport, token=lambda _http: _Given(), capabilities=caps, max_retries=2) as client:
        try:
            await client.get("/artists", {"ids": PROBE_ARTIST}, template="GET /artists")
            caps.batch = True
        except ForbiddenError:
            caps.batch = False
    return caps.mode


def _token(response: httpx.Response) -> str:
    """The access token of a token answer, or _Refused naming what was wrong.

    Spotify answers `invalid_client` both for an unknown client id and for a wrong secret; its description
    tells them apart ('Invalid client' and 'Invalid client secret'). Where it says neither, so does this."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    if response.status_code == 200 and isinstance(body.get("access_token"), str):
        return body["access_token"]
    error, description = str(body.get("error") or ""), clean(str(body.get("error_description") or "")[:200])
    said = f" ({error}: {description})" if error and description else f" ({error or f'HTTP {response.status_code}'})"
    if response.status_code >= 500 or error not in ("invalid_client", "unauthorized_client", "invalid_request", ""):
        from esh_tui.spotify.errors import NetworkError

        raise NetworkError(f"Spotify's accounts service could not check the credentials{said}; "
                           "try again later; nothing was written")
    lowered = description.lower()
    if "secret" in lowered:
        raise _Refused(f"wrong client secret: Spotify knows the client id but not this secret{said}; copy the "
                       f"secret again ('View client secret' in the app's settings); nothing was written")
    if lowered.strip(" .") == "invalid client":
        raise _Refused(f"wrong client id: Spotify has no app with this client id{said}; copy the Client ID again "
                       f"from the app's settings on {DASHBOARD_URL}; nothing was written")
    raise _Refused(f"Spotify refused the client id or the client secret and does not say which{said}; copy both "
                   f"again from the app's settings on {DASHBOARD_URL}; nothing was written")


# ----- writing .env -------------------------------------------------------------------------------

def write_env(path: Path, values: dict[str, str], drop: tuple[str, ...] = ()) -> None:
    """Set `values` in the .env file at `path`, keeping its other lines (a value already set is replaced in
    place; names in `drop` go), with mode 0600, atomically: a temporary file beside it, renamed over it."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    pending, out = dict(values), []
    for line in lines:
        match = _ENV_LINE.match(line)
        name = match.group(1) if match else None
        if name in drop:
            continue
        if name in values:
            if name in pending:
                out.append(f"{name}={_quoted(pending.pop(name))}")
            continue
        out.append(line)
    out.extend(f"{name}={_quoted(value)}" for name, value in pending.items())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomically(path, ("\n".join(out) + "\n").encode("utf-8"), mode=0o600)


def _quoted(value: str) -> str:
    return value if _PLAIN.fullmatch(value) else f"'{value}'"


def _hidden_by(target: Path, client_id: str, secret: str) -> str | None:
    """Where a setting that wins over `target` gives other credentials (the environment, a .env here)."""
    settings = load_settings()
    if settings.client_id == client_id and settings.client_secret == secret:
        return None
    source = settings.source(ID_NAMES[0]) if settings.client_id != client_id else settings.source(SECRET_NAMES[0])
    return source if str(target) not in source else None
