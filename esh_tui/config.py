"""Settings: where data lives, which Spotify to talk to, and with which credentials.

Precedence: the process environment, then `.env` in the current directory,
then `.env` in the data directory. `SPOTIPY_*` names are accepted as well as
`SPOTIFY_*`, so people can reuse what they already have.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import platformdirs
from dotenv import dotenv_values

DEFAULT_API_URL = "https://api.spotify.com/v1"
DEFAULT_ACCOUNTS_URL = "https://accounts.spotify.com"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"


class ConfigError(ValueError):
    """A setting is present but unusable; the message names it and what to do."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    api_url: str = DEFAULT_API_URL
    accounts_url: str = DEFAULT_ACCOUNTS_URL
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    redirect_uri: str = DEFAULT_REDIRECT_URI

    @property
    def has_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def uses_simulator(self) -> bool:
        """With no credentials, esh-tui runs on the built-in offline Spotify."""
        return not self.has_credentials

    @property
    def token_url(self) -> str:
        return f"{self.accounts_url}/api/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.accounts_url}/authorize"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "esh.db"

    def __repr__(self) -> str:
        secret = "set" if self.client_secret else "unset"
        return (f"Settings(data_dir={str(self.data_dir)!r}, api_url={self.api_url!r}, "
                f"accounts_url={self.accounts_url!r}, client_id={self.client_id!r}, client_secret={secret})")


def _first(values: Mapping[str, str | None], *names: str) -> str | None:
    for name in names:
        value = values.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def _split(value: str):
    """The parts of a URL, or None when it is not one httpx could ask (bad port, spaces, control characters)."""
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL):
        return None
    return parts


def _base_url(value: str, name: str) -> str:
    parts = _split(value)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}={value!r} is not an http(s) URL; set it like https://api.spotify.com/v1")
    return value.rstrip("/")


def _redirect_uri(value: str, name: str) -> str:
    parts = _split(value)
    if parts is None or parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "::1") or not parts.port:
        raise ConfigError(
            f"{name}={value!r} must be a loopback IP with a port, like {DEFAULT_REDIRECT_URI} "
            "(Spotify no longer accepts 'localhost')"
        )
    return value


def load_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Read settings from the environment and any `.env` files."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    data_dir_value = _first(environ, "ESH_DATA_DIR")
    local_env = _read_env_file(cwd / ".env")
    data_dir_value = data_dir_value or _first(local_env, "ESH_DATA_DIR")
    if data_dir_value and "\x00" in data_dir_value:
        raise ConfigError(f"ESH_DATA_DIR={data_dir_value!r} contains a NUL character; set it to a directory path")
    data_dir = Path(data_dir_value).expanduser() if data_dir_value else Path(platformdirs.user_data_dir("esh-tui"))
    merged: dict[str, str | None] = {**_read_env_file(data_dir / ".env"), **local_env, **environ}

    return Settings(
        data_dir=data_dir,
        api_url=_base_url(_first(merged, "ESH_API_URL") or DEFAULT_API_URL, "ESH_API_URL"),
        accounts_url=_base_url(_first(merged, "ESH_ACCOUNTS_URL") or DEFAULT_ACCOUNTS_URL, "ESH_ACCOUNTS_URL"),
        client_id=_first(merged, "SPOTIFY_CLIENT_ID", "SPOTIPY_CLIENT_ID"),
        client_secret=_first(merged, "SPOTIFY_CLIENT_SECRET", "SPOTIPY_CLIENT_SECRET"),
        redirect_uri=_redirect_uri(
            _first(merged, "SPOTIFY_REDIRECT_URI", "SPOTIPY_REDIRECT_URI") or DEFAULT_REDIRECT_URI,
            "SPOTIFY_REDIRECT_URI",
        ),
    )


def _read_env_file(path: Path) -> dict[str, str | None]:
    try:
        return dict(dotenv_values(path)) if path.is_file() else {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc.__class__.__name__}; fix or remove the file") from None
