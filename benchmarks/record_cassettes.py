"""Record vcrpy cassettes of esh-tui's real HTTP traffic, for tests that replay it with no simulator and no network.

    python -m benchmarks.record_cassettes              # from the simulator: small catalog, both modes, cold + 4 weeks
    ESH_RECORD=1 python -m benchmarks.record_cassettes --artists my-artists.txt     # from real Spotify

From the simulator, the loopback server is recorded through the real client
(`SpotifyClient` over httpx's own transport, as against Spotify), and its
address is rewritten to http://sim.esh-tui.invalid, so cassettes do not depend
on a port and a replay that missed the cassette could never reach anything.
With ESH_RECORD=1 and SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET set, one cold run
for the artists in the file (IDs, URIs or URLs, one a line) is recorded against
the real Web API instead; the releases found then are what the replay must find.

Either way the Authorization header is dropped, the token request's body is
replaced by "[filtered]", tokens in the token answer by "REDACTED", and the
finished cassette is searched for the client secret and every token issued: if
one is there the file is deleted and recording fails. Fields esh-tui never
reads (markets, images, links other than `next`) are dropped from the answers
to keep the files small.

The engine records and replays one request at a time (`parallel_artists` off):
batches formed by concurrent artists depend on timing, and a replay must send
exactly the requests that were recorded. Every other optimization is on.
A sidecar JSON next to the cassettes says, run by run, the date, the artists and
the releases a correct run finds (from the oracle for the simulator).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import vcr

from esh_tui.config import DEFAULT_ACCOUNTS_URL, DEFAULT_API_URL, Settings, load_settings
from esh_tui.models import parse_spotify_ref
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.options import EngineOptions

from benchmarks.world import DAY, DAYS, EPOCH, TODAY

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
SIM_ORIGIN = "http://sim.esh-tui.invalid"
REDACTED = "REDACTED"
FILTERED_BODY = b"[filtered]"
RECORD_CLIENT_ID = "esh-cassette-recorder"
RECORD_CLIENT_SECRET = "esh-cassette-secret-never-recorded"  # the simulator accepts any; a test looks for it
OPTIONS = EngineOptions(parallel_artists=False)
SIM_SEED, SIM_SIZE, SIM_ARTISTS, SIM_WEEKS = 1, 10, 5, 4
# Presentation and links esh-tui never reads, dropped from recorded answers to keep cassettes small
# (real Spotify lists some 180 markets per album and track); `next` links stay.
TRIMMED = frozenset({"available_markets", "images", "external_urls", "href", "preview_url", "copyrights"})


# ----- filters: what a cassette must never hold ------------------------------------------------------------

def _trim(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _trim(v) for k, v in value.items() if k not in TRIMMED}
    if isinstance(value, list):
        return [_trim(v) for v in value]
    return value


def _set_header(headers: dict, name: str, value: str) -> None:
    for key in [k for k in headers if k.lower() == name]:
        headers[key] = value


def _is_token_request(uri: str) -> bool:
    return uri.split("?", 1)[0].rstrip("/").endswith("/api/token")


def make_vcr(origin: str | None = None) -> vcr.VCR:
    """A VCR that drops credentials and, with `origin` ("http://127.0.0.1:PORT"), rewrites it to SIM_ORIGIN.

    The request filter returns the request in every case: vcrpy sends a request
    its filter returned None for to the real network, even in record mode "none"."""

    def before_record_request(request):
        if origin and request.uri.startswith(origin):
            request.uri = SIM_ORIGIN + request.uri[len(origin):]
            _set_header(request.headers, "host", SIM_ORIGIN.split("//", 1)[1])
        if _is_token_request(request.uri) and request.body:
            request.body = FILTERED_BODY
            _set_header(request.headers, "content-length", str(len(FILTERED_BODY)))
        return request

    def before_record_response(response):
        body = response.get("body", {}).get("string")
        if isinstance(body, str):
            body = body.encode()
        if body and origin:
            body = body.replace(origin.encode(), SIM_ORIGIN.encode())
        if body and (b'"access_token"' in body or b'"refresh_token"' in body):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if isinstance(payload, dict):
                for key in ("access_token", "refresh_token"):
                    if key in payload:
                        payload[key] = REDACTED
                body = json.dumps(payload).encode()
            else:
                body = FILTERED_BODY
        elif body and body.lstrip()[:1] in (b"{", b"["):
            try:
                body = json.dumps(_trim(json.loads(body)), ensure_ascii=False, separators=(",", ":")).encode()
            except ValueError:
                pass  # not JSON after all: kept as it came
        if body is not None:
            response["body"]["string"] = body
            for name in response.get("headers", {}):
                if name.lower() == "content-length":
                    response["headers"][name] = [str(len(body))]
        for name in list(response.get("headers", {})):
            if name.lower() in ("set-cookie", "authorization"):
                del response["headers"][name]
        return response

    return vcr.VCR(serializer="yaml", record_mode="all", decode_compressed_response=True,
                   filter_headers=["authorization", "cookie"],
                   match_on=["method", "scheme", "host", "port", "path", "query"],
                   before_record_request=before_record_request, before_record_response=before_record_response)


def replay_vcr() -> vcr.VCR:
    """The VCR tests replay with: record mode "none", so a request not in the cassette fails instead of leaving."""
    return vcr.VCR(serializer="yaml", record_mode="none", match_on=["method", "scheme", "host", "port", "path", "query"],
                   filter_headers=["authorization", "cookie"], before_record_request=lambda request: request)


def check_clean(path: Path, needles: dict[str, str]) -> None:
    """Delete the cassette and fail if any secret is in it."""
    text = path.read_bytes()
    leaked = [name for name, value in needles.items() if value and value.encode() in text]
    lowered = text.lower()
    if b"authorization:" in lowered or b"client_secret" in lowered or b"bearer " in lowered:
        leaked.append("an authorization header or client_secret field")
    if leaked:
        path.unlink()
        raise SystemExit(f"refusing to keep {path.name}: it contained {', '.join(leaked)}")


# ----- one recorded run ---------------------------------------------------------------------------------------

def releases_json(releases) -> list[dict[str, str]]:
    return [{"key": r.key, "track_id": r.track_id, "album_id": r.album_id, "release_date": r.release_date.isoformat()}
            for r in sorted(releases, key=lambda r: r.key)]


async def tracked_run(settings: Settings, store_path: Path, artist_ids: list[str], today: dt.date, now: float,
                      options: EngineOptions = OPTIONS, days: int = DAYS):
    """One esh-tui process: a fresh client over the store at `store_path`; returns (result, token issued)."""
    store = Store(store_path)
    store.add_artists((i, i, "cassette") for i in artist_ids)
    try:
        async with SpotifyClient(settings, **options.client_kwargs()) as client:
            tracker = Tracker(client, store, ReleaseCache(store, clock=lambda: now, **options.cache_kwargs()),
                              today=lambda: today, options=options)
            result = await tracker.run(today - dt.timedelta(days=days), artist_ids)
            return result, getattr(client.token, "_token", None)
    finally:
        store.close()


def _sidecar_text(sidecar: dict[str, Any]) -> str:
    """One line per release: readable in a diff, a fraction of the size of an indented dump."""
    text = json.dumps({k: v for k, v in sidecar.items() if k != "runs"}, indent=1)[:-2] + ',\n "runs": '
    runs = []
    for run in sidecar["runs"]:
        head = json.dumps({k: v for k, v in run.items() if k != "releases"})[:-1]
        releases = ",\n   ".join(json.dumps(r) for r in run["releases"])
        runs.append(f'  {head}, "releases": [\n   {releases}]}}')
    return text + "[\n" + ",\n".join(runs) + "\n ]\n}\n"


def _sidecar_run(label: str, cassette: str, today: dt.date, now: float, result, expected) -> dict[str, Any]:
    return {"label": label, "cassette": cassette, "today": today.isoformat(), "now": now,
            "status": result.status, "api_calls": result.api_calls, "releases": releases_json(expected)}


# ----- from the simulator ---------------------------------------------------------------------------------------

def record_simulator(out: Path, modes: tuple[str, ...], artists: int, weeks: int, workdir: Path) -> list[Path]:
    from esh_tui.sim import oracle
    from esh_tui.sim.api import SimConfig, SimSpotify
    from esh_tui.sim.catalog import Catalog
    from esh_tui.sim.server import SimServer

    written = []
    for mode in modes:
        catalog = Catalog.generate(SIM_SEED, SIM_SIZE, TODAY)
        ids = catalog.tracked_sample(artists)
        server = SimServer(SimSpotify(catalog, SimConfig(mode=mode, seed=SIM_SEED))).start_in_thread()
        try:
            settings = Settings(data_dir=workdir, api_url=server.api_url, accounts_url=server.url,
                                client_id=RECORD_CLIENT_ID, client_secret=RECORD_CLIENT_SECRET)
            recorder = make_vcr(server.url)
            store_path = workdir / f"{mode}.db"
            store_path.unlink(missing_ok=True)
            name = f"small-{mode}"
            runs, tokens = [], {}
            plan = [("cold", f"{name}-cold.yaml", 0)] + [(f"week {w}", f"{name}-weekly.yaml", 7 * w)
                                                         for w in range(1, weeks + 1)]
            for cassette in {c for _, c, _ in plan}:
                (out / cassette).unlink(missing_ok=True)
            for cassette in dict.fromkeys(c for _, c, _ in plan):
                with recorder.use_cassette(str(out / cassette)):
                    for label, _, day in [p for p in plan if p[1] == cassette]:
                        catalog.advance((TODAY + dt.timedelta(days=day) - catalog.today).days)
                        now = EPOCH + day * DAY
                        result, token = asyncio.run(tracked_run(settings, store_path, ids, catalog.today, now))
                        expected = oracle.expected_releases(catalog, ids, catalog.today - dt.timedelta(days=DAYS))
                        got = {(r["key"], r["track_id"], r["album_id"], r["release_date"]) for r in releases_json(result.releases)}
                        want = {(r["key"], r["track_id"], r["album_id"], r["release_date"]) for r in releases_json(expected.values())}
                        if result.status != "ok" or got != want:
                            raise SystemExit(f"{mode} {label}: the run disagrees with the oracle; not recording it")
                        runs.append(_sidecar_run(label, cassette, catalog.today, now, result, expected.values()))
                        tokens[f"token of {label}"] = token or ""
                        print(f"{mode} {label}: {result.api_calls} calls, {len(result.releases)} releases", file=sys.stderr)
                check_clean(out / cassette, {"client secret": RECORD_CLIENT_SECRET, **tokens})
                written.append(out / cassette)
        finally:
            server.stop_thread()
        sidecar = {"source": "simulator", "mode": mode, "seed": SIM_SEED, "catalog_artists": SIM_SIZE,
                   "artist_ids": ids, "days": DAYS, "api_url": f"{SIM_ORIGIN}/v1", "accounts_url": SIM_ORIGIN,
                   "options": asdict(OPTIONS), "runs": runs}
        (out / f"{name}.json").write_text(_sidecar_text(sidecar))
        written.append(out / f"{name}.json")
    return written


# ----- from real Spotify ----------------------------------------------------------------------------------------

def record_spotify(out: Path, artists_file: Path, name: str, workdir: Path) -> list[Path]:
    settings = load_settings()
    if not settings.has_credentials:
        raise SystemExit("ESH_RECORD=1 records against Spotify: set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET")
    if (settings.api_url, settings.accounts_url) != (DEFAULT_API_URL, DEFAULT_ACCOUNTS_URL):
        raise SystemExit("ESH_RECORD=1 records the real Spotify: unset ESH_API_URL and ESH_ACCOUNTS_URL")
    settings = Settings(data_dir=workdir, client_id=settings.client_id, client_secret=settings.client_secret)
    ids = []
    for line in artists_file.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            artist_id = parse_spotify_ref(line, "artist")
            if artist_id is None:
                raise SystemExit(f"{line!r}: give artist IDs, URIs or URLs (names would need a search)")
            ids.append(artist_id)
    today, now = dt.date.today(), EPOCH
    cassette = f"{name}-cold.yaml"
    (out / cassette).unlink(missing_ok=True)
    with make_vcr(None).use_cassette(str(out / cassette)):
        result, token = asyncio.run(tracked_run(settings, workdir / "spotify.db", ids, today, now))
    check_clean(out / cassette, {"client secret": settings.client_secret or "", "access token": token or ""})
    if result.status != "ok":
        (out / cassette).unlink()
        raise SystemExit(f"the run did not finish cleanly ({result.status}: {result.message}); nothing kept")
    sidecar = {"source": "spotify", "artist_ids": ids, "days": DAYS, "api_url": DEFAULT_API_URL,
               "accounts_url": DEFAULT_ACCOUNTS_URL, "options": asdict(OPTIONS),
               "runs": [_sidecar_run("cold", cassette, today, now, result, result.releases)]}
    (out / f"{name}.json").write_text(_sidecar_text(sidecar))
    print(f"spotify: {result.api_calls} calls, {len(result.releases)} releases", file=sys.stderr)
    return [out / cassette, out / f"{name}.json"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.record_cassettes", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CASSETTES)
    parser.add_argument("--modes", default="development,extended")
    parser.add_argument("--artists", type=int, default=SIM_ARTISTS, help="simulator: how many artists (default 5)")
    parser.add_argument("--weeks", type=int, default=SIM_WEEKS, help="simulator: weekly runs after the cold one")
    parser.add_argument("--artists-file", type=Path, help="ESH_RECORD=1: the artists to record (IDs, URIs or URLs)")
    parser.add_argument("--name", default="spotify", help="ESH_RECORD=1: the cassette's name (default spotify)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    import tempfile
    with tempfile.TemporaryDirectory(prefix="esh-record-") as workdir:
        if os.environ.get("ESH_RECORD") == "1":
            if args.artists_file is None:
                parser.error("ESH_RECORD=1 needs --artists-file")
            written = record_spotify(args.out, args.artists_file, args.name, Path(workdir))
        else:
            modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
            written = record_simulator(args.out, modes, args.artists, args.weeks, Path(workdir))
    for path in written:
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
