"""Shared fixtures: catalogs are deterministic and costly, so each is built once per session."""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache

import pytest

from esh_tui.sim.catalog import Catalog

TODAY = dt.date(2026, 11, 23)
os.environ.pop("NO_COLOR", None)  # snapshot tests compare colours


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


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """No test sees the developer's credentials, data directory or config directory."""
    for name in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIPY_CLIENT_ID", "SPOTIPY_CLIENT_SECRET",
                 "SPOTIFY_REDIRECT_URI", "SPOTIPY_REDIRECT_URI", "ESH_API_URL", "ESH_ACCOUNTS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ESH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ESH_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME"):  # the platform directories, for load_settings({}, ...)
        monkeypatch.setenv(name, str(tmp_path / "xdg" / name))
    monkeypatch.chdir(tmp_path)
