"""Tuning from `config.toml` in the data directory: cache size, freshness, connections, prefetch budget.

Every value is optional and checked; a wrong one is refused with the file,
the key and what it should be, so a typo never silently falls back.

    [cache]
    memory_items = 200000      # entries in the memory tier (artist scans and ISRC dates); 0 turns it off
    [freshness]                # hours an artist stays fresh, by how recently it released
    recent_hours = 6           # released in the last 30 days
    active_hours = 24          # in the last 180 days
    quiet_hours = 168          # otherwise
    [network]
    max_connections = 16       # pooled connections to Spotify
    [prefetch]
    calls_per_minute = 30      # the dashboard's idle-time API budget; 0 turns prefetching off
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esh_tui.config import ConfigError
from esh_tui.storage.ttl import TtlPolicy

CONFIG_FILE = "config.toml"


@dataclass(frozen=True)
class Tuning:
    memory_items: int = 200_000  # ~5 entries per tracked artist: room for 40,000 artists
    freshness: TtlPolicy = field(default_factory=TtlPolicy)
    max_connections: int = 16
    prefetch_calls_per_minute: int = 30


# section, key, attribute (or freshness field), lowest, highest
_FIELDS = (
    ("cache", "memory_items", "memory_items", 0, 10_000_000),
    ("freshness", "recent_hours", "recent_hours", 0.1, 24 * 365),
    ("freshness", "active_hours", "active_hours", 0.1, 24 * 365),
    ("freshness", "quiet_hours", "quiet_hours", 0.1, 24 * 365),
    ("network", "max_connections", "max_connections", 1, 256),
    ("prefetch", "calls_per_minute", "prefetch_calls_per_minute", 0, 10_000),
)


def read_config(data_dir: Path) -> dict[str, Any]:
    """`config.toml` as a table ({} when there is none); unreadable or malformed is a ConfigError."""
    path = data_dir / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}; fix or remove the file") from None


def load_tuning(data_dir: Path) -> Tuning:
    config = read_config(data_dir)
    path = data_dir / CONFIG_FILE
    values: dict[str, float] = {}
    for section, key, attribute, lowest, highest in _FIELDS:
        table = config.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table of settings, like '[{section}]' then '{key} = ...'")
        if key not in table:
            continue
        value = table[key]
        whole = isinstance(lowest, int)
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) \
                or not lowest <= value <= highest:
            kind = "a whole number" if whole else "a number"
            raise ConfigError(f"{path}: [{section}] {key} = {value!r} must be {kind} from {lowest:,} to {highest:,}")
        values[attribute] = value
    for section, table in config.items():
        known = {key for s, key, *_ in _FIELDS if s == section}
        unknown = sorted(set(table) - known) if known and isinstance(table, dict) else []
        if unknown:
            raise ConfigError(f"{path}: unknown setting [{section}] {unknown[0]}; known: {', '.join(sorted(known))}")
    hours = {k: values.pop(k) for k in ("recent_hours", "active_hours", "quiet_hours") if k in values}
    return Tuning(freshness=TtlPolicy(**hours), **values)
