"""Secrets: the client secret and the tokens never appear in anything a run leaves behind.

End to end through the CLI, on the offline Spotify and against the loopback
simulator with a distinctive client secret, including a PKCE login through a
scripted browser. Then every file in the data directory, everything printed,
every log record (httpx and httpcore at DEBUG) and the text and repr of every
error are searched for the secret and for every token the simulator issued.
The token cache is mode 0600 and holds the refresh token only; the login
listener binds 127.0.0.1 alone, takes one callback with the right state, and
is gone after it.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import stat
import threading
import traceback
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

import esh_tui.runtime as runtime_module
from esh_tui.cli import main
from esh_tui.config import load_settings, render_settings
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.server import SimServer
from esh_tui.spotify import auth
from esh_tui.spotify.auth import TOKEN_FILE

from conftest import fresh_catalog, unused_port

SECRET = "esh-SECRET-do-not-leak-4f9c2a7b1e"
CLIENT_ID = "esh-secrets-client"
REPO = Path(__file__).resolve().parents[1]


def _outside_address() -> str | None:
    """This machine's address on a non-loopback interface, if it has one (nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def _needles(sim: SimSpotify, with_secret: bool = True) -> dict[str, str]:
    """Everything that must never show: the secret (also as Basic auth) and every token issued."""
    found = {f"access token {i}": t for i, t in enumerate(sim.accounts.access_tokens)}
    found |= {f"refresh token {i}": t for i, t in enumerate(sim.accounts.refresh_tokens)}
    if with_secret:
        found["client secret"] = SECRET
        found["client secret as Basic auth"] = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    return found


def _leaks(needles: dict[str, str], texts: dict[str, bytes | str], allowed: dict[str, set[str]] | None = None):
    """(where, what) for every needle found; `allowed` says which needles a place may hold."""
    leaks = []
    for where, text in texts.items():
        data = text.encode("utf-8", "backslashreplace") if isinstance(text, str) else text
        for what, needle in needles.items():
            if needle.encode() in data and what not in (allowed or {}).get(where, set()):
                leaks.append((where, what))
    return leaks


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _log_text(caplog) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "hpack", "asyncio", "esh_tui"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_offline_run_leaves_no_token_anywhere(tmp_path, monkeypatch, capsys, debug_logs):
    sims = []
    real = runtime_module.offline_spotify

    def offline(settings, **kw):
        spotify = real(settings, **kw)
        sims.append(spotify.sim)
        return spotify

    monkeypatch.setattr(runtime_module, "offline_spotify", offline)
    outputs = {}
    for argv in (["track", "--format", "json"], ["track", "--force-refresh", "--format", "tsv"],
                 ["artists", "import-liked", "--min-tracks", "3"], ["artists", "list", "--format", "json"],
                 ["stats"], ["artists", "export", str(tmp_path / "backup.json")]):
        assert main(argv) == 0, argv
        out, err = capsys.readouterr()
        outputs[f"stdout of {argv}"], outputs[f"stderr of {argv}"] = out, err
    needles = {}
    for number, sim in enumerate(sims):
        needles |= {f"{k} (run {number})": v for k, v in _needles(sim, with_secret=False).items()}
    assert len(sims) == 6 and len([k for k in needles if k.startswith("access")]) >= 3, "three runs asked for tokens"
    texts = {**_files(tmp_path), **outputs, "logs": _log_text(debug_logs)}
    assert _leaks(needles, texts) == []


def test_secret_and_tokens_never_leak_through_login_runs_errors_and_crashes(tmp_path, monkeypatch, capsys,
                                                                              debug_logs):
    catalog = fresh_catalog(1, 20)
    sim = SimSpotify(catalog, SimConfig(mode="development"))
    server = SimServer(sim).start_in_thread()
    port = unused_port()
    data = tmp_path / "data"
    monkeypatch.setenv("ESH_API_URL", server.api_url)
    monkeypatch.setenv("ESH_ACCOUNTS_URL", server.url)
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("SPOTIFY_REDIRECT_URI", f"http://127.0.0.1:{port}/callback")
    outputs, errors = {}, {}

    def run(argv, expect=0):
        code = main(argv)
        out, err = capsys.readouterr()
        outputs[f"stdout of {argv}"], outputs[f"stderr of {argv}"] = out, err
        assert code == expect, (argv, err)
        return out, err

    # A scripted browser: Spotify approves; the listener is checked and sent forged callbacks first.
    listeners, browser_report = [], {}
    real_start = auth._CallbackListener.start.__func__

    async def start(cls, *args, **kwargs):
        listener = await real_start(cls, *args, **kwargs)
        listeners.append(listener)
        return listener

    monkeypatch.setattr(auth._CallbackListener, "start", classmethod(start))

    def browse(url: str) -> None:
        state = parse_qs(urlsplit(url).query)["state"][0]
        callback = f"http://127.0.0.1:{port}/callback"
        try:
            browser_report["bound"] = sorted({s.getsockname()[0] for s in listeners[0].server.sockets})
            outside = _outside_address()
            if outside:
                with pytest.raises(OSError):
                    socket.create_connection((outside, port), timeout=2).close()
                browser_report["outside refused"] = outside
            with httpx.Client(timeout=10) as browser:
                approved = browser.get(url)
                location = approved.headers["location"]
                code = parse_qs(urlsplit(location).query)["code"][0]
                browser_report["forged"] = [
                    browser.get(f"{callback}?{urlencode({'code': code, 'state': 'forged'})}").status_code,
                    browser.get(f"{callback}?{urlencode({'code': code})}").status_code,
                    browser.get(f"http://127.0.0.1:{port}/elsewhere?{urlencode({'code': code, 'state': state})}").status_code,
                ]
                browser_report["real"] = browser.get(location).status_code
        except BaseException as exc:  # never leave the login waiting: answer it with an error
            browser_report["failed"] = repr(exc)
            httpx.get(f"{callback}?{urlencode({'error': 'browser_failed', 'state': state})}", timeout=10)

    browsers: list[threading.Thread] = []

    def open_browser(url: str) -> bool:
        browsers.append(threading.Thread(target=browse, args=(url,), daemon=True))
        browsers[-1].start()
        return True

    monkeypatch.setattr("webbrowser.open", open_browser)
    try:
        run(["login"])
        for browser in browsers:  # the login ends once the callback is answered; the browser may not have read it yet
            browser.join(10)
        assert "failed" not in browser_report, browser_report
        assert browser_report["bound"] == ["127.0.0.1"], "the login listener binds loopback only"
        assert browser_report["forged"] == [400, 400, 400] and browser_report["real"] == 200
        with pytest.raises(OSError):  # one good callback, then the listener is gone
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        token_file = data / TOKEN_FILE
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        assert not list(data.glob("*.tmp")), "no temporary token file is left behind"

        run(["artists", "add", *catalog.tracked_sample(4)])
        run(["artists", "import-liked", "--min-tracks", "2"])
        run(["artists", "import-followed"])
        run(["track", "--format", "json"])
        run(["track", "--force-refresh", "--format", "csv"])
        run(["stats"])
        run(["artists", "export", str(tmp_path / "backup.json")])
        files_logged_in = _files(tmp_path)
        run(["logout"])
        run(["artists", "import-liked"], expect=2)  # not logged in any more: one clear line

        # A crash in the middle of a run (its traceback and repr), the objects' reprs, then a dead server.
        import esh_tui.tracker.engine as engine

        def crash(self, *args, **kwargs):
            raise RuntimeError("an unexpected failure deep in a run")

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(engine.Tracker, "_finish", crash)
            with pytest.raises(RuntimeError) as crashed:
                main(["track", "--force-refresh"])
        errors["crash traceback"] = "".join(traceback.format_exception(crashed.value))
        errors["crash repr"] = repr(crashed.value)
        errors["settings repr"] = repr(load_settings())
        errors["settings described"] = render_settings(load_settings())
        runtime = runtime_module.open_runtime()
        errors["runtime repr"] = repr(runtime)
        runtime.close()
    finally:
        server.stop_thread()
    run(["track", "--force-refresh"], expect=1)  # the server is gone: a network error, in one line
    dead = outputs["stderr of ['track', '--force-refresh']"]
    assert "Traceback" not in dead and len(dead.strip().splitlines()) == 1, dead
    assert "could not check" in dead and "artists" in dead and "cannot reach" in dead
    capsys.readouterr()

    needles = _needles(sim)
    assert len([k for k in needles if k.startswith("access")]) >= 5 and any(k.startswith("refresh") for k in needles)
    texts = {**{f"(logged in) {k}": v for k, v in files_logged_in.items()}, **_files(tmp_path), **outputs, **errors,
             "logs": _log_text(debug_logs)}
    refresh = {k for k in needles if k.startswith("refresh")}
    assert _leaks(needles, texts, allowed={f"(logged in) data/{TOKEN_FILE}": refresh}) == []
    assert any(v.encode() in files_logged_in[f"data/{TOKEN_FILE}"] for k, v in needles.items() if k in refresh), \
        "the token cache holds the refresh token (and nothing else secret)"


def test_nothing_secret_in_cassettes_or_benchmark_results():
    """Recorded material in the repository: no authorization header value, client secret or token."""
    import re

    pattern = re.compile(rb"(?i)(bearer\s+(?!\*|<|x{3}|redacted|filtered|test|token\b)[A-Za-z0-9._~+/-]{16,}"
                         rb"|client_secret[\"'=: ]+(?!\*|<|redacted|filtered)[^\s\"'&]{6,}"
                         rb"|sim-refresh-[A-Za-z0-9_-]{8,}|sim-[A-Za-z0-9_-]{32})")
    places = [REPO / "cassettes", REPO / "benchmarks" / "results", REPO / "tests" / "cassettes"]
    found = []
    for place in places:
        for path in place.rglob("*") if place.is_dir() else ():
            if path.is_file() and path.stat().st_size < 50 * 2**20:
                for match in pattern.finditer(path.read_bytes()):
                    found.append((str(path.relative_to(REPO)), match.group(0)[:40]))
    assert found == []
