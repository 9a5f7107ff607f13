"""Network data is untrusted: missing fields, nulls, wrong types, absurd sizes and garbage never crash a run.

A transport wrapped around the simulator corrupts answers deterministically.
Each unusable item is skipped and counted in `RunResult.skipped_items`; an
unusable answer fails its artist (reported, kept due, fetched next run); every
release the corruption did not touch is exactly the oracle's.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs

import httpx
import pytest

from esh_tui.config import Settings
from esh_tui.models import parse_release_date, release_key
from esh_tui.spotify.client import SpotifyClient
from esh_tui.spotify.errors import BadResponseError, NotFoundError, SpotifyError
from esh_tui.storage.store import Store

from conftest import fresh_catalog
from reliability_support import FakeWorld, assert_matches_oracle, expected, tracked_ids

HUGE = "x" * (5 * 2**20)  # a 5 MB name
ESC_MESSAGE = "\x1b]8;;https://evil.invalid\x07click\x1b]8;;\x07 \x1b[2J gone"

# Corruptions of one album object in an artist's listing; each makes the album unusable.
ALBUM_CORRUPTIONS = {
    "id dropped": lambda a: {k: v for k, v in a.items() if k != "id"},
    "date null": lambda a: {**a, "release_date": None},
    "date 2026-02-30": lambda a: {**a, "release_date": "2026-02-30", "release_date_precision": "day"},
    "name 5 MB": lambda a: {**a, "name": HUGE},
    "name a dict": lambda a: {**a, "name": {"text": "nested"}},
    "name a lone surrogate": lambda a: {**a, "name": "\ud800 broken"},
    "artists a number": lambda a: {**a, "artists": 5},
    "id a list": lambda a: {**a, "id": [a["id"]]},
}
GARBAGE_ITEMS = [42, "garbage", None, [1, 2], {"id": 5}, {"unexpected": True}, 3.5, True]
# Corruptions of one simplified track in an album's track list.
TRACK_CORRUPTIONS = {
    "artists a number": lambda t: {**t, "artists": 5},
    "name 5 MB": lambda t: {**t, "name": HUGE},
    "id dropped": lambda t: {k: v for k, v in t.items() if k != "id"},
    "artist ids unhashable": lambda t: {**t, "artists": [{**a, "id": [a["id"]]} for a in t["artists"]]},
}


class Corrupting(httpx.AsyncBaseTransport):
    """Corrupts chosen answers of an inner transport, remembering what it touched."""

    def __init__(self, inner: httpx.AsyncBaseTransport, api_host: str, cutoff: dt.date, *, listing_artists=(),
                 failing_artists=(), flaky_artists=(), malformed_artists=(), erroring_artists=()):
        self.inner, self.api_host, self.cutoff = inner, api_host, cutoff
        self.listing_artists, self.failing_artists = set(listing_artists), set(failing_artists)
        self.flaky_artists, self.malformed_artists = set(flaky_artists), set(malformed_artists)
        self.erroring_artists = set(erroring_artists)
        self.album_corruptions = list(ALBUM_CORRUPTIONS.items())
        self.affected_albums: set[str] = set()  # their tracks may be missing from the run
        self.affected_tracks: set[str] = set()
        self.affected_isrcs: set[str] = set()
        self.garbage_examined = 0  # unusable items the engine must have looked at (and counted)
        self.hosts: set[str] = set()
        self.album_reads = 0
        self.track_reads = 0
        self.searches = 0
        self.flaked: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.add(request.url.host)
        path, query = request.url.path, parse_qs(request.url.query.decode())
        parts = path.strip("/").split("/")  # v1, kind, id, sub
        artist = parts[2] if len(parts) == 4 and parts[1] == "artists" and parts[3] == "albums" else None
        if artist in self.erroring_artists:
            body = {"error": {"status": 404, "message": ESC_MESSAGE}}
            return httpx.Response(404, json=body, request=request)
        response = await self.inner.handle_async_request(request)
        if response.status_code != 200:
            return response
        await response.aread()
        first_page = artist is not None and "offset" not in query
        if artist in self.failing_artists:
            return self._reply(request, b"<html>502 Bad Gateway</html>")  # every time: the artist fails
        if artist in self.flaky_artists and artist not in self.flaked:
            self.flaked.add(artist)
            return self._reply(request, b'{"items": [')  # truncated once: a retry succeeds
        payload = json.loads(response.content)
        if artist in self.malformed_artists:
            payload["items"] = {"not": "a list"}
        elif artist in self.listing_artists and first_page:
            self._corrupt_listing(payload)
        elif len(parts) == 3 and parts[1] == "albums":
            self._corrupt_album(payload)
        elif len(parts) == 3 and parts[1] == "tracks":
            self._corrupt_track(payload)
        elif path == "/v1/search":
            self._corrupt_search(payload, query)
        return self._reply(request, json.dumps(payload).encode())

    def _reply(self, request: httpx.Request, content: bytes) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, content=content, request=request)

    def _in_window(self, album: dict) -> bool:
        return parse_release_date(album["release_date"], album["release_date_precision"]) >= self.cutoff

    def _corrupt_listing(self, page: dict) -> None:
        items = page["items"]
        for index, album in enumerate(items):
            if self.album_corruptions and self._in_window(album):
                _, corrupt = self.album_corruptions.pop(0)
                items[index] = corrupt(album)
                self.affected_albums.add(album["id"])
                self.garbage_examined += 1
        page["items"] = list(GARBAGE_ITEMS) + items  # at the front: all of it is looked at
        page["total"] = "lots"  # a wrong type: ignored, not trusted
        self.garbage_examined += len(GARBAGE_ITEMS)

    def _corrupt_album(self, album: dict) -> None:
        self.album_reads += 1
        if self.album_reads == 1:  # garbage among the tracks, and each kind of broken track
            tracks = album["tracks"]["items"]
            self.affected_albums.add(album["id"])
            for (name, corrupt), index in zip(TRACK_CORRUPTIONS.items(), range(len(tracks))):
                tracks[index] = corrupt(tracks[index])
                self.garbage_examined += 1
            album["tracks"]["items"] = [None, 7, "track", {"name": "no id"}] + tracks
            self.garbage_examined += 4
        elif self.album_reads == 2:  # the whole track list is the wrong type
            self.affected_albums.add(album["id"])
            album["tracks"] = "garbage"
            self.garbage_examined += 1
        elif self.album_reads == 3:  # `next` of a wrong type: the tracks there are simply not followed
            album["tracks"]["next"] = 12345

    def _corrupt_track(self, track: dict) -> None:
        self.track_reads += 1
        kinds = {1: lambda t: {**t, "external_ids": ["not", "a", "dict"]},
                 2: lambda t: {**t, "external_ids": {"isrc": 12345}},
                 3: lambda t: {**t, "external_ids": {"isrc": "NOT AN ISRC; DROP TABLE"}}}
        if self.track_reads in kinds:
            self.affected_tracks.add(track["id"])
            corrupted = kinds[self.track_reads](track)
            track.clear()
            track.update(corrupted)
            self.garbage_examined += 1

    def _corrupt_search(self, payload: dict, query: dict) -> None:
        self.searches += 1
        isrc = query["q"][0].removeprefix("isrc:")
        page = payload.get("tracks")
        if self.searches == 1:  # garbage before the real answers: the answer must not change
            page["items"] = [None, 5, "x", {"id": "bad"}, {"external_ids": ["x"]}] + page["items"]
            self.garbage_examined += 5
        elif self.searches == 2 and page["items"]:  # the first real version is absurd: skipped, the answer may change
            page["items"][0]["name"] = HUGE
            self.affected_isrcs.add(isrc)
            self.garbage_examined += 1


def _keys_of_albums(catalog, album_ids) -> set[str]:
    return {release_key(catalog.tracks[t].isrc, t) for a in album_ids for t in catalog.albums[a].track_ids}


def _keys_of_tracks(catalog, track_ids) -> set[str]:
    return {release_key(catalog.tracks[t].isrc, t) for t in track_ids} | {f"track:{t}" for t in track_ids}


def _artists_with_releases(catalog, want) -> list[str]:
    counts: dict[str, int] = {}
    for release in want.values():
        for artist in release.found_for:
            counts[artist] = counts.get(artist, 0) + 1
    return sorted(counts, key=lambda a: (-counts[a], a))


async def test_corrupted_answers_are_skipped_and_counted_and_the_rest_is_right(tmp_path):
    catalog = fresh_catalog(2, 60)
    world = FakeWorld(catalog, tmp_path / "esh.db")
    ids = tracked_ids(catalog)
    want = expected(catalog, ids)
    busy = _artists_with_releases(catalog, want)
    listing, (failing, flaky, malformed, erroring) = busy[2:8], ([a] for a in busy[12:16])
    corrupting = Corrupting(world.transport(), "api.spotify.com", world.cutoff(), listing_artists=listing,
                            failing_artists=failing, flaky_artists=flaky, malformed_artists=malformed,
                            erroring_artists=erroring)

    result, _ = await world.run(transport=corrupting)

    assert result.status == "partial"
    assert set(result.failed) == set(failing + malformed + erroring), result.failed
    assert all("\x1b" not in reason and "\x07" not in reason for reason in result.failed.values())
    assert corrupting.flaked == set(flaky), "the truncated answer was retried"
    assert not corrupting.album_corruptions, "every kind of broken album was served"
    assert corrupting.album_reads >= 3 and corrupting.track_reads >= 3 and corrupting.searches >= 2
    assert result.skipped_items >= corrupting.garbage_examined > 30
    assert corrupting.hosts == {"api.spotify.com", "accounts.spotify.com"}

    failed = set(result.failed)
    affected = (_keys_of_albums(catalog, corrupting.affected_albums) | _keys_of_tracks(catalog, corrupting.affected_tracks)
                | corrupting.affected_isrcs | {k for k, r in want.items() if set(r.found_for) & failed})
    got = {r.key: r for r in result.releases}
    untouched = set(want) - affected
    assert untouched and len(untouched) > len(want) // 2
    assert untouched <= set(got), f"lost {sorted(untouched - set(got))[:5]}"
    assert set(got) - set(want) <= affected, "nothing wrong is reported outside what was corrupted"
    for key in untouched:
        a, b = got[key], want[key]
        assert (a.track_id, a.album_id, a.release_date, set(a.found_for)) == (
            b.track_id, b.album_id, b.release_date, set(b.found_for)), key

    store = Store(world.path)
    try:
        assert store.integrity_ok()
        for table in ("albums", "tracks", "releases", "isrc_earliest", "artists"):
            longest = store.db.execute(f"SELECT max(length(coalesce(name, ''))) FROM {table}"
                                       if table in ("albums", "tracks", "artists") else
                                       f"SELECT max(length(coalesce(track_name, ''))) FROM {table}").fetchone()[0]
            assert (longest or 0) < 10_000, f"an absurd name reached the store ({table})"
        assert failed <= set(store.due_artist_ids(world.time.now)), "failed artists stay due"
    finally:
        store.close()

    # The next run, with Spotify behaving again, fetches the failed artists and finds what they have.
    again, _ = await world.run()
    assert again.status == "ok" and not again.failed
    assert again.artists_fetched == len(failed)
    got = {r.key for r in again.releases}
    theirs = {k for k, r in want.items() if set(r.found_for) & failed} - (affected - {
        k for k, r in want.items() if set(r.found_for) & failed})
    assert theirs and theirs <= got


async def test_garbage_answers_of_every_shape_fail_the_request_not_the_program(tmp_path):
    """Not JSON, JSON that is not an object, nesting deep enough to break a parser, a link off the API host."""
    bodies = {
        "html": b"<html>oops</html>",
        "truncated": b'{"name": "Cut',
        "a list": b"[1, 2, 3]",
        "a string": b'"hello"',
        "null": b"null",
        "deep": b"[" * 100_000 + b"]" * 100_000,
        "binary": bytes(range(256)) * 4,
    }
    asked_elsewhere = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return httpx.Response(200, json={"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
        if request.url.host != "api.spotify.com":
            asked_elsewhere.append(str(request.url))
            return httpx.Response(200, json={"items": [], "next": None})
        kind = request.url.path.rsplit("/", 1)[-1]
        if kind == "offhost":
            return httpx.Response(200, json={"items": [{"id": "a"}], "next": "https://evil.invalid/v1/steal?token=1"})
        if kind == "badnext":
            return httpx.Response(200, json={"items": [{"id": "a"}], "next": {"href": "x"}})
        if kind == "error":
            return httpx.Response(404, json={"error": {"status": 404, "message": ESC_MESSAGE}})
        return httpx.Response(200, content=bodies[kind], headers={"content-type": "application/json"})

    settings = Settings(data_dir=tmp_path, client_id="id", client_secret="secret")
    slept = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with SpotifyClient(settings, httpx.MockTransport(answer), sleep=sleep) as client:
        for kind in bodies:
            with pytest.raises(BadResponseError, match="not a JSON object"):
                await client.get(f"/x/{kind}", template="GET /x")
        with pytest.raises(BadResponseError, match="linked off the API host"):
            [item async for item in client.pages("/x/offhost", template="GET /x")]
        assert [item async for item in client.pages("/x/badnext", template="GET /x")] == [{"id": "a"}]
        with pytest.raises(NotFoundError) as caught:
            await client.get("/x/error", template="GET /x")
    assert asked_elsewhere == [], "the token never leaves for another host"
    assert "\x1b" not in str(caught.value) and "\x07" not in str(caught.value) and "click" in str(caught.value)
    assert len(slept) == len(bodies) * client.max_retries, "garbled answers are retried like server errors"


async def test_resolving_and_importing_artists_survive_garbage(tmp_path):
    """The paths that add artists (by ID, by name, from a playlist) skip unusable items too."""
    from esh_tui.tracker.artists import ArtistNotFound, resolve_artist
    from esh_tui.tracker.imports import followed_artists, liked_artists

    good = "0TnOYISbd1XYRBk9myaseg"

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/token":
            return httpx.Response(200, json={"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
        if path == f"/v1/artists/{good}":
            return httpx.Response(200, json={"id": good, "name": HUGE})
        if path == "/v1/search":
            return httpx.Response(200, json={"artists": {"items": [None, 3, {"id": 7, "name": "Echo"},
                                                                   {"id": good, "name": {"x": 1}},
                                                                   {"id": good, "name": "Echo"}], "next": None}})
        if path == "/v1/me/tracks":
            body = {"items": [None, {"track": 5}, {"track": {"artists": 7}},
                              {"track": {"artists": [{"id": good, "name": "\ud800"}]}},  # sent as a JSON escape
                              {"track": {"artists": [{"id": good, "name": "Echo"}]}}], "next": None}
            return httpx.Response(200, content=json.dumps(body).encode())
        if path == "/v1/me/following":
            return httpx.Response(200, json={"artists": {"items": [{"id": "short", "name": "Bad Id"}, 5,
                                                                   {"id": good, "name": "Echo"}], "next": 9}})
        return httpx.Response(404, json={"error": {"status": 404, "message": "no"}})

    settings = Settings(data_dir=tmp_path, client_id="id", client_secret="secret")
    async with SpotifyClient(settings, httpx.MockTransport(answer)) as client:
        with pytest.raises(ArtistNotFound, match="no usable name"):
            await resolve_artist(client, good)
        assert await resolve_artist(client, "Echo") == (good, "Echo")
        assert await liked_artists(client) == [(good, "Echo")]
        assert await followed_artists(client) == [(good, "Echo")]


class Rewriting(httpx.AsyncBaseTransport):
    """Rewrites every 200 answer of an inner transport with `rewrite(path, payload)`, counting what it changed."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rewrite):
        self.inner, self.rewrite, self.changed = inner, rewrite, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if response.status_code != 200 or request.url.path == "/api/token":
            return response
        payload = json.loads(await response.aread())
        self.changed += bool(self.rewrite(request.url.path, payload))
        return httpx.Response(200, headers={"content-type": "application/json"}, content=json.dumps(payload).encode(),
                              request=request)


@pytest.mark.parametrize("total", [2**64, -1, True, 10**9 + 1, 1.5])
async def test_a_listing_total_no_listing_can_have_is_ignored_not_a_crash(tmp_path, total):
    """Found by fuzzing: a `total` past 2**63 reached the store's integer column and ended the run with an
    OverflowError (a traceback); negative or boolean totals were trusted as counts."""
    catalog = fresh_catalog(2, 30)
    world = FakeWorld(catalog, tmp_path / "esh.db")
    ids = tracked_ids(catalog)[:3]

    def huge_total(path: str, payload: dict) -> bool:
        if path.endswith("/albums") and path.startswith("/v1/artists/") and "total" in payload:
            payload["total"] = total
            return True
        return False

    rewriting = Rewriting(world.transport(), huge_total)
    result, _ = await world.run(ids=ids, transport=rewriting)
    assert rewriting.changed and result.status == "ok" and not result.failed
    assert_matches_oracle(result, expected(catalog, ids))
    store = Store(world.path)
    try:
        assert {a.listing_total for a in store.artists()} == {None}, "an unusable total is not kept"
    finally:
        store.close()


@pytest.mark.parametrize("popularity", [2**64, -1, 101, True, "50", 7.5])
async def test_a_popularity_outside_0_to_100_is_not_kept_and_not_a_crash(tmp_path, popularity):
    """Found by fuzzing: a popularity past 2**63 (extended mode still sends the field) ended the run with an
    OverflowError when the ISRC's earliest release was written; other out-of-range values were stored."""
    catalog = fresh_catalog(2, 30)
    world = FakeWorld(catalog, tmp_path / "esh.db", mode="extended")
    ids = tracked_ids(catalog)[:3]

    def odd_popularity(path: str, payload: dict) -> bool:
        versions = (payload.get("tracks") or {}).get("items") or [] if path == "/v1/search" else []
        for version in versions:
            version["popularity"] = popularity
        return bool(versions)

    rewriting = Rewriting(world.transport(), odd_popularity)
    result, _ = await world.run(ids=ids, transport=rewriting)
    assert rewriting.changed and result.status == "ok" and not result.failed
    assert_matches_oracle(result, expected(catalog, ids))
    store = Store(world.path)
    try:
        assert {row[0] for row in store.db.execute("SELECT popularity FROM isrc_earliest")} == {None}
    finally:
        store.close()


@pytest.mark.parametrize("status, error", [(400, "BadRequestError"), (401, "AuthError"), (403, "ForbiddenError"),
                                           (404, "NotFoundError"), (418, "SpotifyError")])
@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"error": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"])
async def test_an_error_body_nested_too_deep_to_read_is_still_one_error(tmp_path, status, error, body):
    """Found by fuzzing error answers: a 4xx whose body nests too deep for Python's JSON reader ended the run with a
    RecursionError traceback while its message was read; now the message is the body's start, cleaned."""
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return httpx.Response(200, json={"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    settings = Settings(data_dir=tmp_path, client_id="id", client_secret="secret")
    async with SpotifyClient(settings, httpx.MockTransport(answer)) as client:
        with pytest.raises(SpotifyError) as caught:
            await client.get("/x/y", template="GET /x")
    assert type(caught.value).__name__ == error and "\n" not in str(caught.value) and len(str(caught.value)) < 400
