"""Shared fixtures: catalogs are deterministic and costly, so each is built once per session.

The suite is hermetic: what the developer's shell, home directory, terminal or CI
sets does not reach a test, so it runs the same everywhere and in parallel
(`-n 2`: each xdist worker is a process of its own, with its own temporary
directories).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import gc
import gzip
import hashlib
import json
import os
import pickle
import random
import shutil
import socket
import tempfile
import time
from functools import lru_cache

# ----- the environment, before anything that reads it is imported --------------------------------------------

_CREDENTIALS = ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIPY_CLIENT_ID", "SPOTIPY_CLIENT_SECRET",
                "SPOTIFY_REDIRECT_URI", "SPOTIPY_REDIRECT_URI", "ESH_API_URL", "ESH_ACCOUNTS_URL")
_UNSET = (
    *_CREDENTIALS,  # real Spotify, for module and session fixtures too (each test unsets them again)
    "NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "COLORTERM", "TERM",  # snapshot tests compare colours
    "COLUMNS", "LINES", "JUPYTER_COLUMNS", "JUPYTER_LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE",  # Rich's terminal
    "CI",  # nothing behaves differently on CI
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",  # httpx would send loopback requests to a proxy
    "http_proxy", "https_proxy", "all_proxy", "no_proxy",
)
_TEXTUAL = [n for n in os.environ if n.startswith("TEXTUAL") and not n.startswith("TEXTUAL_SNAPSHOT")]  # not the
# snapshot plugin's own: its xdist controller tells the workers where to leave failures for the report
for _name in [*_UNSET, *_TEXTUAL]:
    os.environ.pop(_name, None)

import pytest  # noqa: E402

from esh_tui.sim.catalog import Catalog  # noqa: E402

TODAY = dt.date(2026, 11, 23)


def pytest_configure(config):
    """Hypothesis keeps caches (and would keep its example database) under .hypothesis/ in the directory pytest
    started in, which every worker would share: each pytest process gets its own, removed when it ends.

    One profile everywhere (Hypothesis would load its "ci" profile when CI is set): no example database to share
    between workers or carry between runs; no deadline, which two workers on two cores would make flaky; a failure
    prints how to reproduce it. Loaded here, before the test modules are, whose settings start from it."""
    _scratch_in_memory()
    _leave_hypothesis_asserts_alone(config)
    config._esh_hypothesis_home = tempfile.mkdtemp(prefix="esh-tests-hypothesis-")
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = config._esh_hypothesis_home
    from hypothesis import settings

    settings.register_profile("esh-tests", database=None, deadline=None, print_blob=True)
    settings.load_profile("esh-tests")


SCRATCH_IN_MEMORY = "/dev/shm"
SCRATCH_ROOM = 2 << 30  # bytes free: a run writes about 230 MB, most of it removed as its tests pass


def _scratch_in_memory() -> None:
    """Temporary files (each test's tmp_path with its stores, logs and exports; the benchmarks' worlds; what the
    processes a test starts write) go to memory where the machine has a roomy tmpfs. Tests open and close stores
    thousands of times, and on a disk each close checkpoints SQLite's WAL, syncs and deletes files: the
    store-lifetime tests took 18 s there and 16 s in memory, the suite 116-118 s and 111-113 s. Not where TMPDIR
    already says where temporary files go, nor where /dev/shm is small (a container's 64 MB), read-only or missing:
    then the system's temporary directory, as before. pytest-xdist's controller decides before its workers start:
    they, and the processes they start, inherit its TMPDIR."""
    if os.environ.get("TMPDIR"):
        return
    try:
        roomy = shutil.disk_usage(SCRATCH_IN_MEMORY).free >= SCRATCH_ROOM
    except OSError:
        return
    if roomy and os.access(SCRATCH_IN_MEMORY, os.W_OK | os.X_OK):
        os.environ["TMPDIR"] = SCRATCH_IN_MEMORY
        tempfile.tempdir = None  # (tempfile keeps the directory it found first)


def _leave_hypothesis_asserts_alone(config) -> None:
    """pytest rewrites the asserts of every module of a package that ships a pytest plugin, for richer failure
    messages: all of Hypothesis, 0.55 s of CPU in each pytest process (pytest-xdist's controller included), for
    asserts of its own this suite never sees fail. Left as they are, if Hypothesis is not imported yet (pytest
    keeps no public switch for it: without its internals this does nothing)."""
    try:
        from _pytest.assertion.rewrite import assertstate_key
    except ImportError:
        return
    state = config.stash.get(assertstate_key, None)
    marked = getattr(getattr(state, "hook", None), "_must_rewrite", None)
    if isinstance(marked, set):
        marked.discard("hypothesis")


@pytest.fixture(scope="session", autouse=True)
def _hypothesis_knows_what_utf8_encodes():
    """Hypothesis finds the characters UTF-8 can encode by trying each of the 1,114,112 (1.6 s of CPU in each
    worker, whose storage directory starts empty) and keeps the answer in its storage directory. The answer is
    known: every code point but the surrogates. (Another file name or format in a later Hypothesis: it works the
    answer out again.)"""
    from hypothesis.internal.charmap import charmap_file

    table = charmap_file("codec-v2-utf-8")
    if not table.exists():
        table.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(table, "wt", encoding="utf-8") as out:
            json.dump([[[0, 0xD7FF], [0xE000, 0x10FFFF]], []], out)


def pytest_unconfigure(config):
    shutil.rmtree(config._esh_hypothesis_home, ignore_errors=True)


# Files whose tests take seconds each (sequences of runs, killed processes, the dashboard walk), longest first.
# They start first, so that the workers end on short tests together instead of one waiting for the other's
# last long test (7 s of a 127 s run, measured).
LONG_FIRST = ("test_tui_walk.py", "test_store_lifetime.py", "test_reliability.py", "test_markets.py",
              "test_fuzz_inputs.py", "test_delta_interrupted.py", "test_tui_lifetime.py")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        name = item.path.name
        return LONG_FIRST.index(name) if name in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: each file keeps its own order


def pytest_collection_finish(session):
    """What is alive once the tests are collected (modules, test items) lives as long as the process: frozen, the
    garbage collector's full passes no longer go through it each time."""
    gc.collect()
    gc.freeze()


_PRISTINE: dict[tuple[int, int, dt.date], tuple[Catalog, str]] = {}


def _digest(catalog: Catalog) -> str:
    return hashlib.sha256(pickle.dumps(catalog, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()


def _pristine(seed: int, size: int, today: dt.date) -> Catalog:
    """Generated once per worker and parameter set, and never handed out: only copies of it are."""
    key = (seed, size, today)
    if key not in _PRISTINE:
        catalog = Catalog.generate(seed, size, today)
        _PRISTINE[key] = (catalog, _digest(catalog))
        gc.freeze()  # kept until the process ends: each full garbage collection went through its objects (2 s a run)
    return _PRISTINE[key][0]


def catalog_copy(seed: int = 1, size: int = 30, today: dt.date = TODAY) -> Catalog:
    """What `Catalog.generate(seed, size, today)` returns, without generating it again (that costs 50 to 400 ms).

    The copy has its own clock (`advance`), playlists and user (the simulator adds playlists and their
    items); the generated artists, albums, tracks and their indexes, which nothing changes after generation,
    are shared with the pristine catalog. `_pristine_catalogs_unchanged` checks that at the end of the session.
    """
    mine = copy.copy(_pristine(seed, size, today))
    mine.playlists = copy.deepcopy(mine.playlists)
    mine.user = copy.deepcopy(mine.user)
    return mine


@lru_cache(maxsize=16)
def _cached_catalog(seed: int, size: int) -> Catalog:
    return catalog_copy(seed, size)


def fresh_catalog(seed: int = 1, size: int = 30) -> Catalog:
    """A catalog nobody else holds: use it when a test advances the clock or adds playlists."""
    return catalog_copy(seed, size)


@pytest.fixture
def catalog_factory():
    """Shared read-only catalogs by (seed, size); never advance their clock."""
    return _cached_catalog


class _SharedCatalogs:
    """Stands in for `Catalog` in esh_tui.sim.offline: every offline Spotify (each CLI command, each dashboard)
    starts from a copy of one generated catalog instead of generating its own (a few hundred ms each)."""

    generate = staticmethod(catalog_copy)


@pytest.fixture(scope="session", autouse=True)
def _offline_spotify_from_shared_catalogs():
    from esh_tui.sim import offline

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(offline, "Catalog", _SharedCatalogs)
        yield


@pytest.fixture(scope="session", autouse=True)
def _pristine_catalogs_unchanged():
    """Copies share the generated data with their pristine catalog: a test, or the simulator, that changed an
    album, track or artist in place would leak into other tests. This says so instead."""
    yield
    changed = [key for key, (catalog, digest) in _PRISTINE.items() if _digest(catalog) != digest]
    assert not changed, f"a shared catalog's generated data was changed in place: {changed}"


def _ephemeral_ports() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = map(int, f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 65535


def unused_port() -> int:
    """A loopback port for a listener the test starts later and then checks is gone.

    Not one from the kernel's ephemeral range (as binding port 0 gives): a just-released ephemeral port may be
    handed to a simulator or client of another xdist worker, which would then answer on it. Free now on every
    address; picked at random so workers and other checkouts rarely try the same one.
    """
    low, _ = _ephemeral_ports()
    pick = random.Random()
    for _ in range(200):
        port = pick.randrange(20_000, low) if low > 21_000 else pick.randrange(low // 2, low)
        with socket.socket() as sock:
            try:
                sock.bind(("", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


@contextlib.contextmanager
def spotify_on_loopback(monkeypatch, sim):
    """`sim` served on 127.0.0.1 as Spotify itself, with this app's credentials in the environment (no offline
    Spotify: logins are real PKCE logins through a loopback redirect)."""
    from esh_tui.sim.server import SimServer

    server = SimServer(sim).start_in_thread()
    try:
        for name, value in (("ESH_API_URL", server.api_url), ("ESH_ACCOUNTS_URL", server.url),
                            ("SPOTIFY_CLIENT_ID", "esh-test-client"), ("SPOTIFY_CLIENT_SECRET", "esh-test-secret"),
                            ("SPOTIFY_REDIRECT_URI", f"http://127.0.0.1:{unused_port()}/callback")):
            monkeypatch.setenv(name, value)
        yield server
    finally:
        server.stop_thread()


async def log_in(settings, spotify, wrong_state_answers: list[int] | None = None) -> frozenset[str]:
    """`esh-tui login` with a browser that approves at once: Spotify (the simulator, reached through the
    httpx client `spotify`) redirects to the loopback listener. With `wrong_state_answers`, a forged redirect
    goes there first and what the listener answered it is noted. Returns the scopes granted."""
    import httpx

    from esh_tui.spotify.auth import login

    async def browser(url: str) -> None:
        approved = await spotify.get(url)
        assert approved.status_code == 302
        async with httpx.AsyncClient() as local:
            if wrong_state_answers is not None:
                forged = approved.headers["location"].replace("state=", "state=forged")
                wrong_state_answers.append((await local.get(forged)).status_code)
            assert (await local.get(approved.headers["location"])).status_code == 200

    return await login(settings, spotify, browser)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """No test sees the developer's credentials, data directory, config directory or home (platformdirs'
    default directories and their .env), nor another test's working directory. Each test logs to its own
    directory (tmp_path/logs), and whatever a test set up to log there is closed after it."""
    for name in _CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.setenv("ESH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ESH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ESH_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.chdir(tmp_path)
    yield
    from esh_tui import logs

    logs.shutdown()


PILOT_WINDOW = 1 / 200  # seconds


async def _wait_for_idle(min_sleep: float = PILOT_WINDOW, max_sleep: float = 1) -> None:
    """Textual's `wait_for_idle` with shorter windows, two quiet ones in a row: a process the other worker kept
    off the CPU for a window looks as quiet as an idle one, and is not taken for one twice in a row."""
    start, quiet = time.monotonic(), 0
    while True:
        cpu = time.process_time()
        await asyncio.sleep(PILOT_WINDOW)
        quiet = quiet + 1 if time.process_time() - cpu < PILOT_WINDOW / 20 else 0
        waited = time.monotonic() - start
        if waited >= max_sleep or (waited > min_sleep and quiet >= 2):
            return


@pytest.fixture(scope="session", autouse=True)
def _dashboards_without_animations_and_pilot_waits_in_short_windows():
    """Textual's Pilot waits after each key press and pause until a 20 ms window passes with under 1 ms of CPU:
    at least 40 ms a key, and as long as an animation (a smooth scroll) plays. That was 45 s of a suite run
    spent asleep. Here nothing animates (what it ends on is what a test checks), a frame comes every 10 ms instead
    of every 16, and idle is two quiet 5 ms windows in a row, at the same ratio of CPU to wall (1/20): together as
    long as a frame, so a change waiting for the next frame is seen as work. (A frame every 4 ms cost 7% more
    CPU, drawing what the next frame would have drawn anyway.) A test's own condition waits (`until`) still
    decide what happened.

    Set here, not in the environment: pytest-textual-snapshot imports Textual, which reads TEXTUAL_* once,
    before this file runs (the environment's own TEXTUAL_* were reaching the apps despite the clean-up above)."""
    from textual import app, constants, pilot, screen

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "TEXTUAL_ANIMATIONS", "none")
        patch.setattr(screen, "UPDATE_PERIOD", 1 / 100)
        patch.setattr(app, "wait_for_idle", _wait_for_idle)
        patch.setattr(pilot, "wait_for_idle", _wait_for_idle)
        yield


@pytest.fixture(scope="session", autouse=True)
def _one_command_line_parser_per_worker():
    """Tests call the CLI's `main` in-process thousands of times (the fuzzers most), and building its parser
    (80 commands and options) costs 5 ms each time, 10 s of a suite run. The parser is the same every time and
    parsing leaves it unchanged, so each worker builds it once."""
    import functools

    from esh_tui import cli

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "build_parser", functools.cache(cli.build_parser))
        yield
