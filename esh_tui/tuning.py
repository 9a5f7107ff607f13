"""Tuning from config.toml, as the settings model reads it: see `esh_tui.config` (`load_settings().tuning`).

Kept, thin, until the dashboard and the CLI take tuning and keys from the settings model; then it goes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from esh_tui.config import CONFIG_FILE, Tuning, config_dir, load_config, locate_config, read_toml

__all__ = ["CONFIG_FILE", "Tuning", "load_tuning", "read_config"]


def read_config(data_dir: Path) -> dict[str, Any]:
    """The config.toml that applies, as a table ({} when there is none): the config directory's, else the
    data directory's. Unreadable or malformed is a ConfigError."""
    path, _notes = locate_config(config_dir(), data_dir)
    return read_toml(path) if path else {}


def load_tuning(data_dir: Path) -> Tuning:
    return load_config(config_dir(), data_dir).tuning
