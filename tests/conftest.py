"""Shared fixtures: catalogs are deterministic and costly, so each is built once per session.

The suite is hermetic: what the developer's shell, home directory, terminal or CI
sets does not reach a test, so it runs the same everywhere and in parallel
(`-n 2`: each xdist worker is a process of its own, with its own temporary
directories).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import socket
import tempfile
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
from hypothesis import settings as hypothesis_settings  # noqa: E402

from esh_tui.sim.catalog import Catalog  # noqa: E402

# One profile everywhere (Hypothesis would load its "ci" profile when CI is set): no example database to share
# between workers or carry between runs; no deadline, which two workers on two cores would make flaky; a failure
# prints how to reproduce it.
hypothesis_settings.register_profile("esh-tests", database=None, deadline=None, print_blob=True)
hypothesis_settings.load_profile("esh-tests")

TODAY = dt.date(2026, 11, 23)


def pytest_configure(config):
    """Hypothesis keeps caches (and would keep its example database) under .hypothesis/ in the directory pytest
    started in, which every worker would share: each pytest process gets its own, removed when it ends."""
    config._esh_hypothesis_home = tempfile.mkdtemp(prefix="esh-tests-hypothesis-")
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = config._esh_hypothesis_home


def pytest_unconfigure(config):
    shutil.rmtree(config._esh_hypothesis_home, ignore_errors=True)


@lru_cache(maxsize=16)
def _cached_catalog(seed: int, size: int) -> Catalog:
    return Catalog.generate(seed, size, TODAY)


def fresh_catalog(seed: int = 1, size: int = 30) -> Catalog:
    """A catalog nobody else holds: use it when a test advances the clock or adds playlists."""
    return Catalog.generate(seed, size, TODAY)


@pytest.fixture
def catalog_factory():
    """Shared read-only catalogs by (seed, size); never advance their clock."""
    return _cached_catalog


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


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """No test sees the developer's credentials, data directory or home (platformdirs' default data directory
    and its .env), nor another test's working directory."""
    for name in _CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.setenv("ESH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
