"""The log file: a run's summary, 429 waits and stops, errors; never a secret or a token; never a failed run.

Each test logs to its own directory (conftest sets ESH_LOG_DIR to tmp_path/logs). The runs here are on a
simulated clock (a 429's Retry-After is measured, not waited) or the offline Spotify, so they take well under
a second.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import pytest

from esh_tui import logs
from esh_tui.cli import main
from esh_tui.config import Settings
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker

from conftest import fresh_catalog

SECRET = "esh-LOG-SECRET-never-written-8d1e"


class FakeTime:
    """A clock that only moves when somebody sleeps: a Retry-After is measured, never spent."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def _log_texts(directory: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(directory.glob("esh-tui.log*")))


async def _run(tmp_path: Path, **knobs) -> tuple[SimSpotify, object]:
    catalog = fresh_catalog(1, 20)
    time_ = FakeTime()
    sim = SimSpotify(catalog, SimConfig(mode="development", **knobs), clock=time_.clock)
    settings = Settings(data_dir=tmp_path / "data", client_id="esh-log-client", client_secret=SECRET)
    store = Store(tmp_path / "data" / "esh.db")
    ids = catalog.tracked_sample(6)
    store.add_artists((i, catalog.artists[i].name, "test") for i in ids)
    try:
        async with SpotifyClient(settings, SimTransport(sim, sleep=time_.sleep), sleep=time_.sleep,
                                 clock=time_.clock) as client:
            result = await Tracker(client, store, today=lambda: catalog.today).run(
                catalog.today - dt.timedelta(days=90), ids)
    finally:
        store.close()
    return sim, result


async def test_the_log_holds_a_runs_summary_its_429_waits_and_the_quota_stop_and_no_secret_or_token(tmp_path):
    directory = tmp_path / "logs"
    assert logs.setup(directory, secrets=(SECRET,)) == directory / logs.LOG_FILE
    sim, waited = await _run(tmp_path, rate_limit=8)
    assert waited.status == "ok"
    sim_quota, stopped = await _run(tmp_path / "second", quota=15)
    assert stopped.status == "quota"
    text = _log_texts(directory)
    assert "run 1 started: 6 artists" in text
    assert f"run 1 ended: ok · {waited.api_calls} API calls · {len(waited.releases)} releases" in text
    assert "429 on GET " in text and ": waiting " in text, "a rate limit's wait is logged"
    assert "the daily quota is used up" in text and "ended: quota" in text and "come back after" in text
    assert " s\n" in text or " s ·" in text, "the run's seconds"
    assert "DEBUG" not in text, "each artist's outcome only with --verbose"
    tokens = [*sim.accounts.access_tokens, *sim_quota.accounts.access_tokens]
    assert tokens, "the simulator issued tokens"
    for needle in (SECRET, *tokens):
        assert needle not in text


def test_the_redacting_filter_blanks_secrets_tokens_headers_and_secret_url_parameters(tmp_path):
    directory = tmp_path / "logs"
    logs.setup(directory, secrets=(SECRET,))
    log = logs.logger("esh_tui.test")
    token = "BQDx7-tok3n.ABCdef_123"
    log.error("asked %s with Authorization: Bearer %s", "GET /v1/me", token)
    log.error("headers {'authorization': 'Bearer %s'}", token)
    log.error("callback http://127.0.0.1:8765/callback?code=AQCcode99&state=st4te77 answered")
    log.error('token answer {"access_token": "%s", "refresh_token": "AQrefresh55", "expires_in": 3600}', token)
    log.error("body grant_type=refresh_token&refresh_token=AQrefresh55&client_id=x&client_secret=%s", SECRET)
    try:
        raise RuntimeError(f"failed with secret {SECRET} and Bearer {token}")
    except RuntimeError:
        log.exception("crashed")
    log.warning("artist \x1b[31mRed\x1b[0m\nnext line")
    text = _log_texts(directory)
    for needle in (SECRET, token, "AQCcode99", "st4te77", "AQrefresh55"):
        assert needle not in text, needle
    assert "GET /v1/me" in text and "crashed" in text and "RuntimeError" in text and "[redacted]" in text
    assert "\x1b" not in text and "Red next line" in text, "a message is one printable line"


def test_a_cli_run_logs_its_summary_and_verbose_logs_each_artist(tmp_path, capsys):
    assert main(["track", "--format", "ids"]) == 0
    text = _log_texts(tmp_path / "logs")
    assert "esh-tui track on the built-in offline Spotify" in text
    assert "run 1 started" in text and "run 1 ended: ok" in text and "DEBUG" not in text
    assert main(["--verbose", "track", "--format", "ids", "--force-refresh"]) == 0
    assert main(["track", "-v", "--format", "ids"]) == 0
    text = _log_texts(tmp_path / "logs")
    assert "run 2 ended: ok" in text and "run 3 ended: ok" in text
    assert "DEBUG" in text and ": from api, " in text and "fresh from the cache" in text
    capsys.readouterr()


def test_an_error_is_logged_with_the_command_and_exit_code(tmp_path, capsys):
    assert main(["artists", "restore", str(tmp_path / "no-such-backup.json")]) == 2
    text = _log_texts(tmp_path / "logs")
    assert "ERROR" in text and "esh-tui artists restore:" in text and "(exit 2)" in text


@pytest.mark.parametrize("broken", ["directory is a file", "log file is a directory"])
def test_a_log_that_cannot_be_written_never_fails_a_run_one_warning_line(tmp_path, monkeypatch, capsys, broken):
    where = tmp_path / "broken-logs"
    if broken == "directory is a file":
        where.write_text("not a directory")
    else:
        (where / logs.LOG_FILE).mkdir(parents=True)
    monkeypatch.setenv("ESH_LOG_DIR", str(where))
    assert main(["track", "--format", "ids"]) == 0
    assert main(["track", "--format", "ids", "--force-refresh"]) == 0
    out, err = capsys.readouterr()
    assert out.split(), "the releases were printed"
    warnings = [line for line in err.splitlines() if "log" in line and "warning" in line]
    assert len(warnings) == 2, err  # one line per run (each command is a process of its own)
    assert "carrying on" in warnings[0] and "Traceback" not in err


def test_config_and_help_say_where_the_log_is(tmp_path, capsys):
    assert main(["config"]) == 0
    assert f"{tmp_path / 'logs' / logs.LOG_FILE}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert f"log file: {tmp_path / 'logs' / logs.LOG_FILE}" in capsys.readouterr().out


def test_without_setup_nothing_reaches_stderr(capsys):
    logs.shutdown()
    logs.logger("esh_tui.run").warning("a warning nobody set up a log for")
    assert capsys.readouterr().err == ""
    assert logging.getLogger("esh_tui").handlers, "a NullHandler keeps Python's last resort quiet"
