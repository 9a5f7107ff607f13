"""Typed errors from talking to Spotify; each message says what went wrong and what to do.

No error message ever contains a token or a client secret.
"""

from __future__ import annotations

import time


class SpotifyError(Exception):
    """Base class; `str(err)` is a one-line message for the user."""


class AuthError(SpotifyError):
    """Credentials were refused or a token is missing or expired."""


class LoginExpiredError(AuthError):
    """The user's refresh token no longer works (Spotify's expire six months after login): log in again."""

    MESSAGE = "your Spotify login has expired: run esh-tui login"

    def __init__(self, message: str = MESSAGE):
        super().__init__(message)


class NotFoundError(SpotifyError):
    """The resource does not exist (or is not visible to this app)."""


class BadRequestError(SpotifyError):
    """Spotify refused the request as malformed; retrying will not help."""


class ForbiddenError(SpotifyError):
    """Spotify refused the request for this app or user (for example a batch endpoint in development mode)."""


class RateLimitedError(SpotifyError):
    """Still rate limited after the retries allowed."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class QuotaExceededError(SpotifyError):
    """The app's daily quota is used up: stop, keep what was learned, come back later."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after

    @classmethod
    def come_back_in(cls, retry_after: float | None) -> "QuotaExceededError":
        said = "daily API quota reached: Spotify takes no more requests from this app today; what was fetched is kept"
        if retry_after is None:
            return cls(f"{said} — run again tomorrow")
        back = time.strftime("%H:%M", time.localtime(time.time() + retry_after))
        return cls(f"{said} — come back after {back} (in {human_seconds(retry_after)})", retry_after)


class NetworkError(SpotifyError):
    """Spotify could not be reached, or kept failing, after the retries allowed."""


class BadResponseError(NetworkError):
    """Spotify's answer could not be used (not a JSON object, a malformed page, a link off the API host)."""


def human_seconds(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
