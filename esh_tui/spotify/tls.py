"""One TLS context per kind of client: building one loads the CA bundle, 25 ms of CPU each time, and httpx builds
one for every client and transport it makes (a command makes one or two; the dashboard one at its start and one
for each artist added or playlist synced)."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context(http2: bool) -> ssl.SSLContext:
    """httpx's default context (certifi's CAs, certificate and host name checked), made once and shared.

    httpcore sets a context's ALPN protocols before each TLS connection (h2 offered or not) and the handshake
    starts a moment later: a client that speaks HTTP/2 and one that does not must not share a context, or one
    could negotiate what the other asked for. Within a kind, the setting is always the same."""
    return httpx.create_ssl_context()
