"""Every field of Spotify's answers the engine reads, fuzzed (docs/INPUTS.md lists them): names, ids, release
dates of every precision, ISRCs, totals, next links, album types and groups, artist lists, popularity, the
token answer, 429s and their Retry-After, error statuses and bodies, broken connections.

A transport between the client and the simulator rewrites the simulator's answers with hypothesis-chosen
garbage: a field set to a hostile value wherever it occurs, a value at a random place in one answer replaced,
removed or doubled, or a whole answer replaced by another status, headers and body. Then:
- a run never raises and never hangs (a fake clock: no wait is spent; and a hard time bound); it ends ok, or
  partial with at worst one one-line, printable reason per artist, or stopped by a quota or rate limit with one
  printable message;
- the store keeps nothing malformed: real dates in ISO form, names fit to show, Spotify ids, ISRCs, counts and
  popularity in range (fuzz_support.assert_store_sane);
- what the run found prints inert in every output format;
- through the CLI (add, import, track) the same, with exit codes and one-line refusals that change nothing.
ESH_FUZZ_EXAMPLES=N runs N examples each.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from hypothesis import event, example, given, strategies as st

from esh_tui.formats import FORMATS, render
from esh_tui.sim import offline

from conftest import fresh_catalog
from fuzz_support import (
    Scratch, assert_clean, assert_one_line_refusal, assert_printable, assert_store_sane, bounded, build_template,
    fuzz_settings, run_cli,
)
from reliability_support import FakeWorld, share_offline_spotify, tracked_ids

pytestmark = pytest.mark.fuzz

# Fields the engine reads, by name (wherever they occur in an answer).
FIELDS = ["total", "popularity", "release_date", "release_date_precision", "next", "items", "isrc", "external_ids",
          "album_type", "album_group", "artists", "name", "id", "tracks", "album", "albums", "limit", "offset", "type",
          "href", "uri", "previous", "error", "message", "access_token", "expires_in", "track", "item"]
DATES = ["2026-02-30", "2026-13", "2026-00-10", "0000", "0001", "9999-12-31", "99999-01-01", "2026-1-1", "2026/01/01",
         "2026-01-01T00:00:00Z", "２０２６", "2026-01-01\n", "", "1e400", "NaN"]
LINKS = ["https://api.spotify.com/v1/artists", "https://api.spotify.com/v1/search?q=isrc:X&type=track&offset=999999",
         "http://api.spotify.com/v1/x", "https://evil.invalid/v1/steal", "https://api.spotify.com:1/v1/x", "/v1/x",
         "https://[::1/v1", "javascript:alert(1)"]
TEXT = ["\x1b[31mred\x1b[0m", "\x1b]8;;https://evil.invalid\x07link\x1b]8;;\x07", "\x1b[2J", "\u202eesrever", "\x9b31m",
        "\ud800", "a\nb", "x" * 3000, "live", "Remastered 2011", "album", "single", "compilation", "appears_on", "day",
        "month", "year", "GBXYZ2600001", "NOT AN ISRC; DROP TABLE", "0TnOYISbd1XYRBk9myaseg", *DATES, *LINKS]
hostile = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(2**63, 2**70), st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30), st.sampled_from(TEXT),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3), st.just({})), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)), max_size=2),
)
# ("field", name, value, share of its occurrences changed) | ("place", answer number, path, how, value)
field_changes = st.tuples(st.just("field"), st.sampled_from(FIELDS), hostile, st.sampled_from([0.1, 0.5, 1.0]))
place_changes = st.tuples(st.just("place"), st.integers(0, 20), st.lists(st.integers(0, 2**16), min_size=1, max_size=6),
                          st.sampled_from(["set", "delete", "double"]), hostile)
changes = st.lists(st.one_of(field_changes, place_changes), min_size=1, max_size=4)

STATUSES = [200, 201, 204, 301, 400, 401, 403, 404, 408, 418, 429, 500, 502, 503, 504]
RETRY_AFTER = ["0", "1", "5", "-5", "nan", "inf", "1e309", "", " 7 ", "0x10", "Wed, 21 Oct 2026 07:28:00 GMT",
               "\x1b[2J", "86400", "999999999999"]
bodies = st.one_of(
    st.builds(lambda status, message, reason: json.dumps({"error": {"status": status, "message": message,
                                                                   **({"reason": reason} if reason else {})}}).encode(),
              st.integers(), st.one_of(st.sampled_from(["QUOTA_EXCEEDED", "API rate limit exceeded", "limit", *TEXT]),
                                       st.text(max_size=20)),
              st.sampled_from([None, "QUOTA_EXCEEDED", "PREMIUM_REQUIRED"])),
    st.sampled_from([b"", b"null", b"[]", b"{}", b'{"error": "x"}', b"<html>502</html>", b"[" * 100_000,
                     b'{"access_token": "t\xc3\xb6k"}', b'{"items": [', bytes(range(256))]),
    st.binary(max_size=64),
)
# (answer number, status, Retry-After or None, body) | (answer number, "raise", exception name)
replies = st.one_of(
    st.tuples(st.integers(0, 30), st.sampled_from(STATUSES), st.none() | st.sampled_from(RETRY_AFTER), bodies),
    st.tuples(st.integers(0, 30), st.just("raise"), st.sampled_from(["ConnectError", "ReadTimeout",
                                                                     "RemoteProtocolError", "ReadError"])),
)


def _change_field(node, name, value, rng, share) -> int:
    changed = 0
    if isinstance(node, dict):
        for key in list(node):
            if key == name and rng.random() < share:
                node[key] = value
                changed += 1
            else:
                changed += _change_field(node[key], name, value, rng, share)
    elif isinstance(node, list):
        for item in node:
            changed += _change_field(item, name, value, rng, share)
    return changed


def _change_place(node, path, how, value) -> int:
    for depth, step in enumerate(path):
        if isinstance(node, dict) and node:
            key = sorted(node)[step % len(node)]
        elif isinstance(node, list) and node:
            key = step % len(node)
        else:
            return 0
        child = node[key]
        if depth == len(path) - 1 or not isinstance(child, (dict, list)) or not child:
            if how == "set":
                node[key] = value
            elif how == "delete":
                del node[key]
            elif isinstance(node, list):
                node.insert(key, child)
            else:
                node[key] = [child, child]
            return 1
        node = child
    return 0


class Garbling(httpx.AsyncBaseTransport):
    """Rewrites the inner transport's 200 answers with `changes`, replaces the answers numbered in `replies`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, changes=(), replies=(), seed: int = 0, spare=()):
        self.inner, self.changes, self.rng = inner, list(changes), random.Random(seed)
        self.replies = {number: reply for number, *reply in replies}
        self.spare = set(spare)  # paths answered as they are
        self.answers = self.changed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in self.spare:
            return await self.inner.handle_async_request(request)
        number, self.answers = self.answers, self.answers + 1
        reply = self.replies.get(number)
        if reply is not None:
            if reply[0] == "raise":
                raise getattr(httpx, reply[1])("garbled by the test", request=request)
            status, retry_after, body = reply
            self.changed += 1
            headers = {"content-type": "application/json"}
            if retry_after is not None:
                headers["retry-after"] = retry_after.encode("utf-8").decode("latin-1")
            return httpx.Response(status, headers=headers, content=body, request=request)
        response = await self.inner.handle_async_request(request)
        if response.status_code not in (200, 201) or not self.changes:
            return response
        payload = json.loads(await response.aread())
        for change in self.changes:
            if change[0] == "field":
                self.changed += _change_field(payload, change[1], change[2], self.rng, change[3])
            elif change[1] == number:
                self.changed += _change_place(payload, *change[2:])
        body = json.dumps(payload, allow_nan=True).encode("utf-8", "surrogatepass")
        return httpx.Response(response.status_code, headers=dict(response.headers), content=body, request=request)


def _render_everywhere(releases, what) -> None:
    for fmt in FORMATS:
        assert_printable(render(releases, fmt, unseen={r.key for r in releases}), (what, fmt), tabs=fmt == "tsv")


# ----- a run through the engine -------------------------------------------------------------------------------

async def _garbled_runs(tmp_path: Path, garbling: dict, mode: str, runs: int, days: int, what) -> None:
    catalog = fresh_catalog(3, 30)
    world = FakeWorld(catalog, tmp_path / "esh.db", mode=mode)
    ids = tracked_ids(catalog)[:4]
    for _ in range(runs):
        transport = Garbling(world.transport(), **garbling)
        result, _ = await world.run(days=days, ids=ids, transport=transport)
        event(f"{result.status}, {'some' if result.failed else 'no'} artists failed, "
              f"{'some' if result.skipped_items else 'no'} items skipped")
        assert result.status in ("ok", "partial", "quota", "rate_limited"), (what, result.status, result.message)
        assert set(result.failed) <= set(ids)
        for reason in [*result.failed.values(), result.message]:
            assert "\n" not in reason and len(reason) < 600, (what, reason)
            assert_printable(reason, what)
        cutoff = catalog.today - dt.timedelta(days=days)
        assert all(r.release_date >= cutoff for r in result.releases)
        assert len({r.key for r in result.releases}) == len(result.releases)
        _render_everywhere(result.releases, what)
        world.time.now += 10 * 86_400  # the next run finds every artist due again
    assert_store_sane(world.path)


@fuzz_settings(20)
@given(changes=changes, mode=st.sampled_from(["development", "extended"]), runs=st.integers(1, 2),
       days=st.sampled_from([30, 90, 365]), seed=st.integers(0, 2**32))
@example(changes=[("field", "total", 2**64, 1.0)], mode="development", runs=1, days=90, seed=0)
@example(changes=[("field", "popularity", 2**64, 1.0)], mode="extended", runs=1, days=90, seed=0)
@example(changes=[("field", "release_date", "2026-02-30", 0.5), ("field", "release_date_precision", "day", 1.0)],
         mode="development", runs=2, days=90, seed=1)
def test_fuzz_spotify_answers_through_a_run(tmp_path, changes, mode, runs, days, seed):
    directory = Path(tempfile.mkdtemp(prefix="ex-", dir=tmp_path))
    with bounded():
        asyncio.run(_garbled_runs(directory, {"changes": changes, "seed": seed}, mode, runs, days, changes))
    shutil.rmtree(directory)


@fuzz_settings(30)
@given(replies=st.lists(replies, min_size=1, max_size=6), mode=st.sampled_from(["development", "extended"]))
@example(replies=[(n, 429, "0", b'{"error": {"status": 429, "message": "slow"}}') for n in range(1, 31)],
         mode="development")
@example(replies=[(1, 429, "inf", b'{"error": {"status": 429, "message": "QUOTA_EXCEEDED"}}')], mode="development")
@example(replies=[(2, 404, None, b"[" * 100_000)], mode="extended")
@example(replies=[(0, 200, None, b'{"access_token": "t\xc3\xb6k"}')], mode="development")
def test_fuzz_spotify_statuses_retry_after_error_bodies_and_broken_connections(tmp_path, replies, mode):
    directory = Path(tempfile.mkdtemp(prefix="ex-", dir=tmp_path))
    with bounded():
        asyncio.run(_garbled_runs(directory, {"replies": replies}, mode, 1, 90, replies))
    shutil.rmtree(directory)


# ----- through the command line -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return build_template(tmp_path_factory)


@dataclass
class GarbledCli:
    scratch: Scratch
    garbling: dict  # what the next command's offline Spotify does to its answers
    names: dict  # {name}, {id}, {playlist} of the commands


@pytest.fixture
def garbled_cli(tmp_path, template, capsys, monkeypatch) -> GarbledCli:
    """The CLI on copies of the template store, its offline Spotify's answers garbled as `garbling` says."""
    import esh_tui.runtime as runtime_module

    share_offline_spotify(monkeypatch)
    shared = runtime_module.offline_spotify
    cli = GarbledCli(Scratch(tmp_path, template), {}, {})
    seen: dict = {}

    def garbled(settings, *args, **kwargs):
        spotify = shared(settings, *args, **kwargs)
        seen["catalog"] = spotify.catalog
        if not cli.garbling:
            return spotify
        # The offline Spotify's own login (OfflineUserToken) trusts its simulator, the only one it talks to: its
        # answers are spared. The token answer is fuzzed through the real token classes (test_fuzz_the_token_answer).
        return replace(spotify, transport=Garbling(spotify.transport, **cli.garbling, spare={"/api/token", "/authorize"}))

    monkeypatch.setattr(runtime_module, "offline_spotify", garbled)
    with cli.scratch.example():
        assert run_cli(capsys, ["artists", "list"]).code == 0
    catalog = seen["catalog"]
    sample = set(catalog.tracked_sample(offline.SAMPLE_ARTISTS))
    other = next(a for a in catalog.real_artists() if a.id not in sample)
    cli.names.update(name=other.name, id=other.id, playlist=next(iter(catalog.playlists)))
    return cli


CLI_COMMANDS = [["artists", "add", "{name}"], ["artists", "add", "{id}"], ["artists", "import-playlist", "{playlist}"],
                ["artists", "import-liked"], ["artists", "import-followed"], ["track"],
                *(["track", "--format", fmt] for fmt in ("tsv", "csv", "json", "ids")),
                ["track", "--artist", "{name}", "--format", "tsv"], ["track", "--playlist", "{playlist}", "--format", "ids"],
                ["track", "--force-refresh", "--format", "json"]]


@fuzz_settings(30)
@given(changes=changes, seed=st.integers(0, 2**32), command=st.sampled_from(CLI_COMMANDS))
def test_fuzz_spotify_answers_through_the_command_line(garbled_cli, capsys, changes, seed, command):
    """add, import (a playlist, liked songs, followed artists) and track, with the offline Spotify's answers
    garbled: exit 0, 1 (an artist could not be checked), 2 (what was named cannot be used: nothing changed) or 3."""
    argv = [arg.format(**garbled_cli.names) for arg in command]
    garbled_cli.garbling.update(changes=changes, seed=seed)
    try:
        with garbled_cli.scratch.example() as ex:
            before = ex.digest()
            outcome = run_cli(capsys, argv)
            event(f"{' '.join(command[:2])}: exit {outcome.code}")
            assert_clean(outcome, (changes, argv))
            assert outcome.code in (0, 1, 2, 3), (argv, outcome.code, outcome.err)
            if outcome.code == 2:
                assert_one_line_refusal(outcome, (changes, argv))
                assert ex.digest() == before, "refused: nothing changed"
            assert_store_sane(ex.store)
    finally:
        garbled_cli.garbling.clear()


# ----- the token answer and the login's loopback listener -----------------------------------------------------------

token_answers = st.fixed_dictionaries(
    {"access_token": st.one_of(st.just("BQD-a_valid.token~+/="), st.sampled_from(TEXT), hostile)},
    optional={"expires_in": hostile, "token_type": hostile, "scope": hostile, "refresh_token": hostile})
json_documents = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), st.sampled_from(TEXT)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(
        st.sampled_from(["access_token", "expires_in", "token_type", "refresh_token", "scope", "error",
                         "error_description"]), inner, max_size=4)), max_leaves=8)


@fuzz_settings(60)
@given(status=st.sampled_from([200, 200, 400, 401, 403, 429, 500]), body=st.one_of(
    st.one_of(token_answers, json_documents).map(lambda d: json.dumps(d, allow_nan=True).encode("utf-8", "surrogatepass")),
    bodies))
@example(status=200, body=b'{"access_token": "\\u00f6"}')
@example(status=400, body=b"{}")
def test_fuzz_the_token_answer(tmp_path, status, body):
    from esh_tui.config import Settings
    from esh_tui.spotify.client import SpotifyClient
    from esh_tui.spotify.errors import SpotifyError

    from reliability_support import FakeTime

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return httpx.Response(status, content=body)
        return httpx.Response(200, json={"id": "x"})

    async def ask():
        time_ = FakeTime()
        settings = Settings(data_dir=tmp_path, client_id="id", client_secret="secret")
        async with SpotifyClient(settings, httpx.MockTransport(answer), sleep=time_.sleep, clock=time_.clock) as client:
            try:
                return await client.get("/x", template="GET /x")
            except SpotifyError as exc:
                return exc

    with bounded():
        found = asyncio.run(ask())
    event(type(found).__name__)
    if isinstance(found, Exception):
        assert "\n" not in str(found) and len(str(found)) < 600
        assert_printable(str(found), body)
    else:
        assert found == {"id": "x"}


@fuzz_settings(40)
@given(line=st.one_of(st.binary(max_size=200), st.builds(
    lambda target, version: b"GET " + target.encode("utf-8", "surrogatepass") + b" " + version,
    st.one_of(st.text(max_size=80), st.sampled_from(["/callback?state=right&code=c", "/callback?state=wrong",
                                                     "http://[::1", "/callback?state=right", "//x/callback"])),
    st.sampled_from([b"HTTP/1.1", b"", b"HTTP/9"]))))
@example(line=b"GET /" + b"a" * 70_000 + b" HTTP/1.1")
def test_fuzz_the_login_listener(line):
    from esh_tui.spotify.auth import _CallbackListener

    async def send() -> tuple[bytes, bool]:
        caught = asyncio.get_running_loop().create_future()
        listener = await _CallbackListener.start("127.0.0.1", 0, "/callback", "right", caught)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
            writer.write(line + b"\r\n\r\n")
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 15)
            writer.close()
            return answer, caught.done()
        finally:
            await listener.close()

    with bounded():
        answer, caught = asyncio.run(send())
    event(answer[:12].decode("latin-1"))
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 200 ")), answer[:80]
    assert caught == answer.startswith(b"HTTP/1.1 200 ")
