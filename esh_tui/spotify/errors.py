"""Typed errors from talking to Spotify; each message says what went wrong and what to do.

No error message ever contains a token or a client secret.
"""

from __future__ import annotations


class SpotifyError(Exception):
    """Base class; `str(err)` is a one-line message for the user."""


class AuthError(SpotifyError):
    """Credentials were refused or a token is missing or expired."""


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


class NetworkError(SpotifyError):
    """Spotify could not be reached, or kept failing, after the retries allowed."""
