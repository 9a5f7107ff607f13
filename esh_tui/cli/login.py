"""`esh-tui login` and `esh-tui logout`: the user's Spotify login, for liked songs, followed artists, playlists."""

from __future__ import annotations

import argparse
import asyncio
import webbrowser

import httpx

from esh_tui.cli.errors import EXIT_OK, UsageError, note
from esh_tui.config import load_settings
from esh_tui.spotify.auth import PLAYLIST_SCOPE, login, login_scopes, logout
from esh_tui.spotify.tls import tls_context


def cmd_login(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.client_id:
        raise UsageError("logging in needs a Spotify app: set SPOTIFY_CLIENT_ID (see the README); "
                         "the built-in offline Spotify needs no login")

    def open_browser(url: str) -> None:
        note(f"Log in to Spotify in your browser: {url}")
        if not args.no_browser:
            webbrowser.open(url)

    scopes_wanted = login_scopes(settings, playlist=args.playlist)
    if PLAYLIST_SCOPE in scopes_wanted:
        note("Asking Spotify for permission to create and change your private playlists (esh-tui playlist sync).")

    async def run() -> frozenset[str]:
        async with httpx.AsyncClient(timeout=15, verify=tls_context(http2=False)) as http:
            return await login(settings, http, open_browser, scopes=scopes_wanted)

    scopes = asyncio.run(run())
    note(f"Logged in to Spotify ({', '.join(sorted(scopes)) or 'no scopes'}).")
    if PLAYLIST_SCOPE in scopes_wanted and PLAYLIST_SCOPE not in scopes:
        note("esh-tui: note: Spotify did not grant playlist changes; 'esh-tui playlist sync' will not work")
    return EXIT_OK


def cmd_logout(args: argparse.Namespace) -> int:
    note("Logged out of Spotify." if logout(load_settings()) else "Not logged in; nothing to forget.")
    return EXIT_OK
