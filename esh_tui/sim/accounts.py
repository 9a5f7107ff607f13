"""The simulated accounts service: OAuth token and authorize endpoints, issued tokens, who a bearer token is."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from esh_tui.sim.catalog import Catalog
from esh_tui.sim.config import SimConfig
from esh_tui.sim.messages import ApiError, Request, SimReply, json_reply, oauth_error, redirect, text_reply

USER_SCOPES = {"user-library-read", "user-follow-read", "playlist-read-private",
               "playlist-modify-private", "playlist-modify-public"}


@dataclass
class Token:
    client_id: str
    expires_at: float
    user_id: str | None = None
    scopes: frozenset[str] = frozenset()
    logged_in_at: float = 0.0  # when the login behind a user token happened (its refresh token expires from then)


class Accounts:
    """Issues app and user tokens (client credentials, PKCE code, refresh) and checks bearer tokens."""

    def __init__(self, catalog: Catalog, config: SimConfig):
        self.catalog, self.config = catalog, config
        self.access_tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        self.token_requests: list[tuple[str, bool]] = []  # (grant_type, whether Basic client credentials came with it)

    def authenticate(self, request: Request, now: float) -> Token:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise ApiError(401, "No token provided")
        token = self.access_tokens.get(header[7:].strip())
        if token is None:
            raise ApiError(401, "Invalid access token")
        if token.expires_at <= now:
            raise ApiError(401, "The access token expired")
        return token

    def token(self, request: Request, now: float) -> SimReply:
        """`POST /api/token`."""
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        self.token_requests.append((str(form.get("grant_type")), auth.startswith("Basic ")))
        if auth.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return oauth_error("invalid_client", "Invalid client")
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if not client_id or not client_secret:
                return oauth_error("invalid_client", "Invalid client")
            return self._issue(Token(client_id, now + self.config.token_ttl))
        if grant == "authorization_code":
            code = self._codes.pop(form.get("code", ""), None)
            if code is None or code["expires_at"] <= now:
                return oauth_error("invalid_grant", "Invalid authorization code")
            if form.get("redirect_uri") != code["redirect_uri"]:
                return oauth_error("invalid_grant", "Invalid redirect URI")
            if (client_id or form.get("client_id")) != code["client_id"]:
                return oauth_error("invalid_client", "Invalid client")
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge != code["challenge"]:
                return oauth_error("invalid_grant", "code_verifier was incorrect")
            token = Token(code["client_id"], now + self.config.token_ttl, self.catalog.user.id, code["scopes"], now)
            return self._issue(token, refresh=True)
        if grant == "refresh_token":
            old = self.refresh_tokens.get(form.get("refresh_token", ""))
            if old is None:
                return oauth_error("invalid_grant", "Invalid refresh token")
            if client_id != old.client_id:  # a PKCE refresh names its client in the form (no secret needed)
                return oauth_error("invalid_client", "Invalid client")
            ttl = self.config.refresh_token_ttl
            if ttl is not None and now - old.logged_in_at >= ttl:
                return oauth_error("invalid_grant", "Refresh token revoked")
            return self._issue(Token(old.client_id, now + self.config.token_ttl, old.user_id, old.scopes,
                                     old.logged_in_at))
        return oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported")

    def _issue(self, token: Token, refresh: bool = False) -> SimReply:
        access = "sim-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = token
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": self.config.token_ttl}
        if token.user_id:
            body["scope"] = " ".join(sorted(token.scopes))
        if refresh:
            refresh_token = "sim-refresh-" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh_token] = token
            body["refresh_token"] = refresh_token
        return json_reply(200, body)

    def authorize(self, request: Request, now: float) -> SimReply:
        """Approve at once, as a user who clicks 'Agree', and redirect with a code."""
        q = request.query
        redirect_uri = q.get("redirect_uri", "")
        host = urlsplit(redirect_uri).hostname
        if not q.get("client_id"):
            return text_reply(400, "INVALID_CLIENT: Invalid client")
        if urlsplit(redirect_uri).scheme != "http" or host not in ("127.0.0.1", "::1"):
            return text_reply(400, "INVALID_CLIENT: Insecure redirect URI (use a loopback IP like 127.0.0.1)")
        if q.get("response_type") != "code":
            return redirect(redirect_uri, {"error": "unsupported_response_type", "state": q.get("state", "")})
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return redirect(redirect_uri, {"error": "invalid_request", "state": q.get("state", "")})
        scopes = frozenset(q.get("scope", "").split()) & USER_SCOPES
        code = secrets.token_urlsafe(24)
        self._codes[code] = {"client_id": q["client_id"], "redirect_uri": redirect_uri, "scopes": scopes,
                             "challenge": q["code_challenge"], "expires_at": now + 600}
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        return redirect(redirect_uri, params)


def require_user(request: Request, scope: str | None) -> str:
    """The user id behind the request's token, if it is a user token with `scope`; else a 401 or 403."""
    token = request.token
    if token is None or token.user_id is None:
        raise ApiError(401, "This endpoint needs a user access token (log in first)")
    if scope and scope not in token.scopes:
        raise ApiError(403, f"Insufficient client scope: {scope} is required")
    return token.user_id
