"""Recorded traffic: the client and the engine replay vcrpy cassettes with no simulator and no network.

cassettes/*.json say, run by run, which cassette holds the traffic, the date,
the artists, and the releases a correct run finds (the oracle's answer when
recorded from the simulator). Record mode "none": a request that is not in the
cassette fails the test instead of going anywhere. Re-record with
`python -m benchmarks.record_cassettes` (see the README).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException

from benchmarks.record_cassettes import (
    RECORD_CLIENT_SECRET, REDACTED, make_vcr, record_simulator, replay_vcr, tracked_run,
)
from esh_tui.config import Settings
from esh_tui.tracker.options import EngineOptions

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
SIDECARS = sorted(CASSETTES.glob("*.json"))
TOKEN_LIKE = re.compile(rb"(?i)sim-(?:refresh-)?[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])|bearer\s+[A-Za-z0-9._~+/-]+|client_secret=")


def _settings(sidecar: dict, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, api_url=sidecar["api_url"], accounts_url=sidecar["accounts_url"],
                    client_id="replay", client_secret="replay-secret")


def _releases(result) -> list[dict[str, str]]:
    return sorted(({"key": r.key, "track_id": r.track_id, "album_id": r.album_id,
                    "release_date": r.release_date.isoformat()} for r in result.releases), key=lambda r: r["key"])


def test_cassettes_are_there_and_small():
    assert {p.stem for p in SIDECARS} >= {"small-development", "small-extended"}
    for sidecar in SIDECARS:
        runs = json.loads(sidecar.read_text())["runs"]
        assert runs[0]["label"] == "cold" and len(runs) >= 2, "a cold run and weekly runs after it"
        for name in {run["cassette"] for run in runs}:
            assert (CASSETTES / name).stat().st_size < 600 * 1024, f"{name} is too big to keep in the repository"


@pytest.mark.parametrize("sidecar_path", SIDECARS, ids=[p.stem for p in SIDECARS])
async def test_replay_finds_the_recorded_releases_with_the_recorded_calls(sidecar_path, tmp_path):
    """Cold, then every weekly run, each a new process over the same store, all from the cassettes."""
    sidecar = json.loads(sidecar_path.read_text())
    options = EngineOptions(**sidecar["options"])
    recorder = replay_vcr()
    for name in dict.fromkeys(run["cassette"] for run in sidecar["runs"]):  # a cassette's runs in one go, in order
        with recorder.use_cassette(str(CASSETTES / name), allow_playback_repeats=False) as cassette:
            for run in [r for r in sidecar["runs"] if r["cassette"] == name]:
                played = cassette.play_count
                result, _ = await tracked_run(_settings(sidecar, tmp_path), tmp_path / "esh.db", sidecar["artist_ids"],
                                              dt.date.fromisoformat(run["today"]), run["now"], options, sidecar["days"])
                assert result.status == run["status"] == "ok", result.message
                assert result.api_calls == run["api_calls"], run["label"]
                assert cassette.play_count - played == result.api_calls + 1, "every request (and the token) replayed"
                assert _releases(result) == run["releases"], run["label"]
            assert cassette.all_played, f"{name}: the replay sent fewer requests than were recorded"


async def test_a_request_not_in_the_cassette_fails_instead_of_leaving(tmp_path):
    sidecar = json.loads((CASSETTES / "small-development.json").read_text())
    run = sidecar["runs"][0]
    with replay_vcr().use_cassette(str(CASSETTES / run["cassette"])):
        with pytest.raises(CannotOverwriteExistingCassetteException):
            await tracked_run(_settings(sidecar, tmp_path), tmp_path / "esh.db", ["0" * 22],
                              dt.date.fromisoformat(run["today"]), run["now"], EngineOptions(**sidecar["options"]),
                              sidecar["days"])


def test_no_cassette_holds_a_secret():
    """No authorization header, client secret, token request body or token, in any cassette in the repository."""
    assert SIDECARS
    for path in sorted(CASSETTES.glob("*.yaml")):
        raw = path.read_bytes()
        assert RECORD_CLIENT_SECRET.encode() not in raw, path.name
        assert TOKEN_LIKE.search(raw) is None, (path.name, TOKEN_LIKE.search(raw).group(0)[:30])
        for interaction in yaml.safe_load(raw)["interactions"]:
            request, response = interaction["request"], interaction["response"]
            assert not {h.lower() for h in request["headers"]} & {"authorization", "cookie"}, path.name
            if request["uri"].endswith("/api/token"):
                assert request["body"] in ("[filtered]", b"[filtered]"), path.name
                token = json.loads(response["body"]["string"])
                assert token["access_token"] == REDACTED, path.name


def test_a_fresh_recording_holds_no_secret(tmp_path):
    """Record one small cassette from the simulator now and search it for the secret and the tokens issued."""
    from esh_tui.sim.accounts import Accounts

    issued: list[str] = []
    original = Accounts._issue

    def remember(self, token, refresh=False):
        reply = original(self, token, refresh)
        issued.append(json.loads(reply.body)["access_token"])
        return reply

    Accounts._issue = remember
    try:
        written = record_simulator(tmp_path, ("development",), artists=2, weeks=1, workdir=tmp_path)
    finally:
        Accounts._issue = original
    assert len(issued) == 2, "one token a run"
    for path in written:
        raw = path.read_bytes()
        for needle in [RECORD_CLIENT_SECRET, *issued]:
            assert needle.encode() not in raw, (path.name, needle[:8])
        assert TOKEN_LIKE.search(raw) is None
        assert b"127.0.0.1" not in raw, "the simulator's address is rewritten"


def test_the_request_filter_never_drops_a_request():
    """vcrpy sends a request its filter returned None for to the real network, even in record mode "none"."""
    from vcr.request import Request

    recorder = make_vcr("http://127.0.0.1:9")
    for uri, body in (("http://127.0.0.1:9/api/token", b"grant_type=client_credentials&client_secret=x"),
                      ("http://127.0.0.1:9/v1/search?q=isrc%3AX&type=track", None),
                      ("https://api.spotify.com/v1/tracks/abc", None)):
        request = Request("POST" if body else "GET", uri, body, {"Authorization": "Bearer abc"})
        filtered = recorder._build_before_record_request({})(request)
        assert filtered is not None
        assert "sim.esh-tui.invalid" in filtered.uri or "spotify.com" in filtered.uri
        assert "authorization" not in {h.lower() for h in filtered.headers}
        assert b"client_secret" not in (filtered.body or b"")
