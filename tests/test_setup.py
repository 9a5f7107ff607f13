"""`esh-tui setup`: credentials checked against the loopback simulator, written to .env (0600) or not at all.

The simulator's accounts service issues an app token for any non-empty client id and secret. Here it
stands in for one registered app and refuses as Spotify does: `invalid_client` with the description
'Invalid client' for an unknown client id, 'Invalid client secret' for a known id with a wrong secret.
"""

from __future__ import annotations

import base64
import io
import logging
import stat
from urllib.parse import parse_qs, urlsplit

import pytest

from esh_tui.cli import main
from esh_tui.config import load_settings
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.messages import oauth_error
from esh_tui.sim.server import SimServer

from conftest import fresh_catalog

CLIENT_ID = "esh-setup-client"
SECRET = "esh-setup-secret-5d1e0b7a9c"


class OneApp(SimSpotify):
    """The simulator with one registered app: other ids and other secrets are refused like Spotify refuses them."""

    def handle(self, method, url, headers, body=b""):
        if method == "POST" and urlsplit(url).path == "/api/token":
            auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
            form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
            client_id, secret = form.get("client_id"), form.get("client_secret")
            if auth.startswith("Basic "):
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            if form.get("grant_type") == "client_credentials":
                if client_id != CLIENT_ID:
                    return oauth_error("invalid_client", "Invalid client")
                if secret != SECRET:
                    return oauth_error("invalid_client", "Invalid client secret")
        return super().handle(method, url, headers, body)


@pytest.fixture(params=["development", "extended"])
def spotify(request, monkeypatch, tmp_path):
    sim = OneApp(fresh_catalog(1, 10), SimConfig(mode=request.param))
    server = SimServer(sim).start_in_thread()
    monkeypatch.setenv("ESH_API_URL", server.api_url)
    monkeypatch.setenv("ESH_ACCOUNTS_URL", server.url)
    yield request.param, sim
    server.stop_thread()


def _setup(monkeypatch, capsys, stdin: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["setup", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _everything_written(tmp_path) -> dict[str, str]:
    """Every file under the data, log and config directories but the .env itself, by path."""
    texts = {}
    for directory in ("data", "logs", "config"):
        for path in (tmp_path / directory).rglob("*") if (tmp_path / directory).exists() else ():
            if path.is_file() and path != tmp_path / "config" / ".env":
                texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return texts


def test_right_credentials_write_a_private_env_and_report_the_mode(spotify, monkeypatch, capsys, tmp_path):
    mode, sim = spotify
    code, out, err = _setup(monkeypatch, capsys, SECRET + "\n", "--client-id", CLIENT_ID)
    assert code == 0, err
    env = tmp_path / "config" / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert env.read_text() == f"SPOTIFY_CLIENT_ID={CLIENT_ID}\nSPOTIFY_CLIENT_SECRET={SECRET}\n"
    assert f"{mode} mode" in out or f"{mode} quota mode" in out
    if mode == "development":
        assert "25 users" in out and "no batch endpoints" in out
    assert "esh-tui login" in out
    assert sim.accounts.token_requests == [("client_credentials", True)], "one token request"
    assert sim.calls() == 1, "one API call"
    assert not list((tmp_path / "config").glob(".env.*")), "no temporary file left"
    settings = load_settings()
    assert (settings.client_id, settings.client_secret) == (CLIENT_ID, SECRET), "esh-tui reads what setup wrote"
    assert settings.source("SPOTIFY_CLIENT_SECRET") == f".env ({env})"


def test_id_and_secret_from_stdin_lines_or_the_environment(spotify, monkeypatch, capsys, tmp_path):
    code, out, err = _setup(monkeypatch, capsys, f"{CLIENT_ID}\n{SECRET}\n")
    assert code == 0, err
    assert f"SPOTIFY_CLIENT_SECRET={SECRET}" in (tmp_path / "config" / ".env").read_text()
    (tmp_path / "config" / ".env").unlink()
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", SECRET)
    code, out, err = _setup(monkeypatch, capsys, "", "--client-id", CLIENT_ID)
    assert code == 0, err
    assert f"SPOTIFY_CLIENT_ID={CLIENT_ID}" in (tmp_path / "config" / ".env").read_text()
    assert SECRET not in out + err


@pytest.mark.parametrize("client_id, secret, named", [
    (CLIENT_ID, "not-the-secret", "wrong client secret"),
    ("not-the-client", SECRET, "wrong client id"),
])
def test_wrong_credentials_write_nothing_and_say_which(spotify, monkeypatch, capsys, tmp_path,
                                                       client_id, secret, named):
    env = tmp_path / "config" / ".env"
    env.parent.mkdir(parents=True)
    env.write_text("# mine\nESH_MARKET=SE\n")
    code, out, err = _setup(monkeypatch, capsys, secret + "\n", "--client-id", client_id)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and named in err and "nothing was written" in err, err
    assert env.read_text() == "# mine\nESH_MARKET=SE\n", "nothing written"
    assert sorted(p.name for p in env.parent.iterdir()) == [".env"], "no temporary file left"
    assert secret not in out + err


def test_a_missing_secret_is_bad_input(spotify, monkeypatch, capsys, tmp_path):
    code, out, err = _setup(monkeypatch, capsys, "", "--client-id", CLIENT_ID)
    assert code == 2 and "no client secret given" in err
    assert not (tmp_path / "config" / ".env").exists()


def test_the_secret_appears_nowhere_but_in_env(spotify, monkeypatch, capsys, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "hpack", "esh_tui"):
        caplog.set_level(logging.DEBUG, logger=name)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("[network]\nmax_connections = 4\n")
    outputs = []
    for stdin, argv in ((SECRET + "\n", ("--client-id", CLIENT_ID)), ("wrong-secret\n", ("--client-id", CLIENT_ID)),
                        (SECRET + "\n", ("--client-id", "wrong-id")), (f"{CLIENT_ID}\n{SECRET}\n", ())):
        outputs.append(_setup(monkeypatch, capsys, stdin, "-v", *argv)[1:])
    assert main(["config"]) == 0
    outputs.append(capsys.readouterr())
    assert main(["artists", "add", next(iter(spotify[1].catalog.artists))]) == 0
    outputs.append(capsys.readouterr())
    assert main(["track", "--format", "tsv"]) == 0, "a run with the saved credentials"
    outputs.append(capsys.readouterr())
    assert (tmp_path / "logs" / "esh-tui.log").exists()
    texts = {**_everything_written(tmp_path), **{f"output {n}": o + e for n, (o, e) in enumerate(outputs)},
             "log records": "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)}
    assert "config.toml" in " ".join(texts) and any("esh-tui.log" in name for name in texts)
    for needle in (SECRET, "wrong-secret", base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()):
        assert [name for name, text in texts.items() if needle in text] == [], needle


def test_an_existing_env_keeps_its_other_lines(spotify, monkeypatch, capsys, tmp_path):
    env = tmp_path / "config" / ".env"
    env.parent.mkdir(parents=True)
    env.write_text("# my settings\nESH_MARKET=SE\nSPOTIFY_CLIENT_ID=old-id\nexport SPOTIPY_CLIENT_SECRET=old\n"
                   "\nSPOTIFY_REDIRECT_URI=http://127.0.0.1:9999/callback\n")
    env.chmod(0o644)
    code, out, err = _setup(monkeypatch, capsys, SECRET + "\n", "--client-id", CLIENT_ID)
    assert code == 0, err
    assert env.read_text() == (f"# my settings\nESH_MARKET=SE\nSPOTIFY_CLIENT_ID={CLIENT_ID}\n\n"
                               f"SPOTIFY_REDIRECT_URI=http://127.0.0.1:9999/callback\nSPOTIFY_CLIENT_SECRET={SECRET}\n")
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "http://127.0.0.1:9999/callback" in out, "the redirect URI esh-tui login uses"


def test_credentials_set_higher_up_are_pointed_out(spotify, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "another-app")
    code, out, err = _setup(monkeypatch, capsys, SECRET + "\n", "--client-id", CLIENT_ID)
    assert code == 0, err
    assert "environment also sets the Spotify credentials" in out


def test_the_real_spotify_gets_credentials_that_look_like_its_own(monkeypatch, capsys, tmp_path):
    """Against accounts.spotify.com a pasted value that is not 32 hex digits is named before anything is sent."""
    code, out, err = _setup(monkeypatch, capsys, "a" * 32 + "\n", "--client-id", "my app")
    assert code == 2 and "client id" in err
    code, out, err = _setup(monkeypatch, capsys, "short\n", "--client-id", "0" * 32)
    assert code == 2 and "not a Spotify client secret" in err and "short" not in err
    assert not (tmp_path / "config" / ".env").exists()


def test_the_mode_setup_found_is_remembered_so_the_first_run_does_not_find_it_out(spotify, monkeypatch, capsys,
                                                                                    tmp_path):
    from esh_tui.models import KnownCapabilities
    from esh_tui.storage.store import Store

    mode, sim = spotify
    code, out, err = _setup(monkeypatch, capsys, SECRET + "\n", "--client-id", CLIENT_ID)
    assert code == 0, err
    assert f"Remembered {mode} mode" in out
    settings = load_settings()
    store = Store(settings.store_path)
    try:
        page = 50 if mode == "extended" else 10
        assert store.capabilities(settings.api_url) == KnownCapabilities(mode == "extended", page)
    finally:
        store.close()
    refused_by_setup = sum(sim.calls(status=status) for status in (400, 403))  # its probe, in development mode
    assert main(["artists", "add", *list(sim.catalog.artists)[:3]]) == 0
    assert main(["track", "--format", "tsv"]) == 0
    capsys.readouterr()
    refused = sum(sim.calls(status=status) for status in (400, 403)) - refused_by_setup
    assert refused == 0, "no call was refused to learn the mode: the runs started in it"
