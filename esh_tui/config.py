"""Settings: one model of where files live, which Spotify to talk to, with which credentials, tuning and keys.

Variables (`ESH_*`, `SPOTIFY_*`, also as `SPOTIPY_*`) come from the process environment, then `.env` in
the current directory, then `.env` in the config directory (where `esh-tui setup` writes), then `.env` in
the data directory; a name set in a higher one, even empty, hides it in the lower ones. The data and config directories themselves come from the environment or `.env` in
the current directory. Tuning and `[keys]` come from `config.toml` in the config directory (else, for
now, from the data directory, with a note to move it). Every value is checked as it is read; a wrong one
is a ConfigError on one line: where it was read, the setting and what is wrong, then what to do.

    [keys]                     # dashboard key per action id (KEY_ACTIONS)
    refresh = "f5"
    [cache]
    memory_items = 200000      # entries in the memory tier (artist scans and ISRC dates); 0 turns it off
    [freshness]                # hours an artist stays fresh, by how recently it released
    recent_hours = 6           # released in the last 30 days
    active_hours = 24          # in the last 180 days
    quiet_hours = 168          # otherwise
    [network]
    max_connections = 16       # pooled connections to Spotify
    daily_budget = 0           # API calls a day (local midnight to midnight) for every run and prefetch; 0: no limit
    [prefetch]
    calls_per_minute = 30      # the dashboard's idle-time API budget; 0 turns prefetching off
    [spotify]
    market = "SE"              # your country (ISO 3166-1 alpha-2), or "from_token" (your account's, once
                               # logged in); unset: every market's editions. ESH_MARKET overrides it.
    [notify]                   # a digest of new releases after each run (esh_tui/delivery/)
    urls = ["ntfy://ntfy.sh/TOPIC"]   # Apprise URLs; `track --notify URL` adds more
    [feeds]                    # written after each run; `track --feed atom:PATH` overrides
    atom = "~/feeds/esh-tui.xml"
    ics = "~/feeds/esh-tui.ics"
    [filters]                  # which releases are shown (see tracker/release_filter.py)
    types = ["album", "single", "ep", "compilation"]
    appears_on = false         # features on other artists' releases too (listing them costs calls)
    exclude = ["remix"]        # versions hidden: sped-up, slowed, reverb, acapella, remix, radio-edit, cover
    block = ["(?:nightcore)"]  # title patterns (regular expressions, any case)
    block_artists = ["Name"]   # releases these artists perform on (names, any case)
"""

from __future__ import annotations

import io
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
from dotenv import dotenv_values
from dotenv.parser import parse_stream

from esh_tui.delivery.targets import Delivery, TargetError
from esh_tui.delivery.targets import from_config as delivery_from_config
from esh_tui.files import is_file, kind_of, open_to_read
from esh_tui.storage.ttl import TtlPolicy
from esh_tui.text import clean
from esh_tui.tracker.release_filter import RELEASE_TYPES, VERSIONS, FilterError, ReleaseFilter, parse_names

APP_NAME = "esh-tui"
CONFIG_FILE = "config.toml"
DEFAULT_API_URL = "https://api.spotify.com/v1"
DEFAULT_ACCOUNTS_URL = "https://accounts.spotify.com"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"

DEFAULT = "default"
ENVIRONMENT = "environment"

FROM_TOKEN = "from_token"  # the market of the logged-in user's account
MARKET_VARIABLE, MARKET_KEY = "ESH_MARKET", "[spotify] market"
_MARKET = re.compile(r"[A-Z]{2}")

# The dashboard's actions that [keys] may remap (the ids of its bindings; a test keeps the two in step).
KEY_ACTIONS = ("add_artist", "remove_artist", "undo_remove", "import", "refresh", "force_refresh", "cancel_run",
               "filter", "sort", "open_release", "copy_release", "mark_seen", "mark_all_seen", "playlist", "history",
               "group_albums", "release_filters", "toggle_log", "help", "quit")


class ConfigError(ValueError):
    """A setting is present but unusable: `WHERE: PROBLEM; FIX` on one line.

    WHERE is the source (`environment`, `.env (PATH)`, `config.toml (PATH)`), PROBLEM names the setting
    and what is wrong with it, FIX says what to do.
    """

    def __init__(self, where: str, problem: str, fix: str):
        super().__init__(where, problem, fix)
        self.where, self.problem, self.fix = where, problem, fix

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}; {self.fix}"


@dataclass(frozen=True)
class Tuning:
    memory_items: int = 200_000  # ~5 entries per tracked artist: room for 40,000 artists
    freshness: TtlPolicy = field(default_factory=TtlPolicy)
    max_connections: int = 16
    prefetch_calls_per_minute: int = 30
    daily_budget: int = 0  # API calls a local day, shared by runs and prefetching (0: no limit)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    api_url: str = DEFAULT_API_URL
    accounts_url: str = DEFAULT_ACCOUNTS_URL
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    redirect_uri: str = DEFAULT_REDIRECT_URI
    market: str | None = None  # a country code, FROM_TOKEN, or None: every market's editions
    config_dir: Path = field(default_factory=lambda: Path(platformdirs.user_config_dir(APP_NAME)))
    log_dir: Path = field(default_factory=lambda: Path(platformdirs.user_log_dir(APP_NAME)))
    tuning: Tuning = field(default_factory=Tuning)
    keys: Mapping[str, str] = field(default_factory=dict, hash=False)  # action id → key
    filters: ReleaseFilter = field(default_factory=ReleaseFilter)  # [filters]: which releases are shown
    notes: tuple[str, ...] = ()  # things to tell the user that are not errors (a config.toml to move, ...)
    config_file: Path | None = None  # the config.toml that was read, if any
    sources: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False, repr=False)
    delivery: Delivery = field(default_factory=Delivery, repr=False)  # [notify] and [feeds] (URLs may hold tokens)

    @property
    def has_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def token_url(self) -> str:
        return f"{self.accounts_url}/api/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.accounts_url}/authorize"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "esh.db"

    @property
    def config_path(self) -> Path:
        """Where config.toml belongs (whether or not it exists)."""
        return self.config_dir / CONFIG_FILE

    def source(self, name: str) -> str:
        """Where a setting (`ESH_API_URL`, `[cache] memory_items`, `[keys] refresh`) came from."""
        return self.sources.get(name, DEFAULT)

    def __repr__(self) -> str:
        secret = "set" if self.client_secret else "unset"
        return (f"Settings(data_dir={str(self.data_dir)!r}, config_dir={str(self.config_dir)!r}, "
                f"api_url={self.api_url!r}, accounts_url={self.accounts_url!r}, client_id={self.client_id!r}, "
                f"client_secret={secret})")


# ----- variables: environment and .env files -----------------------------------------------------------

_Layered = dict[str, tuple[str | None, str]]  # name → (value, source)


def _layer(*layers: tuple[str, Mapping[str, str | None]]) -> _Layered:
    """Sources lowest first merged into one: a name set higher (even empty) hides it below."""
    merged: _Layered = {}
    for source, values in layers:
        merged.update((name, (value, source)) for name, value in values.items())
    return merged


def _first(merged: _Layered, *names: str) -> tuple[str, str, str] | None:
    """(name, value, source) of the first of `names` with a value that is not blank."""
    for name in names:
        value, source = merged.get(name, (None, DEFAULT))
        if value is not None and value.strip():
            return name, value.strip(), source
    return None


def _file_source(path: Path) -> str:
    """How a file is named as a source: `.env (PATH)`, `config.toml (PATH)`."""
    return f"{clean(path.name)} ({clean(path)})"  # each on its own: a cut-short escape would eat what follows


def _read_env_file(path: Path, notes: list[str]) -> tuple[str, dict[str, str | None]]:
    """A .env file's variables. Lines python-dotenv cannot parse are skipped, as it does, with a note in
    esh-tui's words (their numbers, never their text: a line may hold a secret) instead of its log line."""
    source = _file_source(path)
    if not is_file(path):
        return source, {}
    try:
        with open_to_read(path) as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as open() in text mode reads it
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, f"cannot be read ({exc.__class__.__name__})", "fix or remove the file") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(source, "is larger than 1 MiB", "fix or remove the file")
    unparsed = [binding.original.line for binding in parse_stream(io.StringIO(text)) if binding.error]
    lines = ", ".join(map(str, unparsed[:5])) + (f" and {len(unparsed) - 5} more" if len(unparsed) > 5 else "")
    note = f"{source}: line{'s' if len(unparsed) > 1 else ''} {lines} not NAME=value, ignored"
    if unparsed and note not in notes:  # (the working directory may be the data directory)
        notes.append(note)
    dotenv_log = logging.getLogger("dotenv.main")
    quiet, dotenv_log.disabled = dotenv_log.disabled, True  # its warnings are the note above
    try:
        return source, dict(dotenv_values(stream=io.StringIO(text)))
    finally:
        dotenv_log.disabled = quiet


def _split(value: str):
    """The parts of a URL, or None when it is not one httpx could ask (bad port, spaces, control characters)."""
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return None
    import httpx  # here: `esh-tui --help` (the log's place) and shell completion read the settings without it

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL):
        return None
    return parts


def _base_url(value: str, name: str, source: str) -> str:
    parts = _split(value)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(source, f"{name} = {value!r} is not an http(s) URL", "set it like https://api.spotify.com/v1")
    return value.rstrip("/")


def _redirect_uri(value: str, name: str, source: str) -> str:
    parts = _split(value)
    if parts is None or parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "::1") or not parts.port:
        raise ConfigError(source, f"{name} = {value!r} must be a loopback IP with a port",
                          f"set it like {DEFAULT_REDIRECT_URI} (Spotify no longer accepts 'localhost')")
    return value


def is_market(value: str) -> bool:
    return value == FROM_TOKEN or _MARKET.fullmatch(value) is not None


def _market(value: Any, name: str, source: str) -> str:
    if not isinstance(value, str) or not is_market(value):
        raise ConfigError(source, f"{name} = {value!r} is not a market",
                          f'set it to a country code in capitals like "SE", or "{FROM_TOKEN}" (your account\'s)')
    return value


def _directory(value: str, name: str, source: str) -> Path:
    if "\x00" in value:
        raise ConfigError(source, f"{name} = {value!r} contains a NUL character", "set it to a directory path")
    return Path(value).expanduser()


# Settings field, variable names (the first is the one to use), default (or a function giving it), check
_VARIABLES = (
    ("api_url", ("ESH_API_URL",), DEFAULT_API_URL, _base_url),
    ("accounts_url", ("ESH_ACCOUNTS_URL",), DEFAULT_ACCOUNTS_URL, _base_url),
    ("client_id", ("SPOTIFY_CLIENT_ID", "SPOTIPY_CLIENT_ID"), None, None),
    ("client_secret", ("SPOTIFY_CLIENT_SECRET", "SPOTIPY_CLIENT_SECRET"), None, None),
    ("redirect_uri", ("SPOTIFY_REDIRECT_URI", "SPOTIPY_REDIRECT_URI"), DEFAULT_REDIRECT_URI, _redirect_uri),
)
_DIRECTORIES = (
    ("data_dir", ("ESH_DATA_DIR",), lambda: Path(platformdirs.user_data_dir(APP_NAME)), _directory),
    ("config_dir", ("ESH_CONFIG_DIR",), lambda: Path(platformdirs.user_config_dir(APP_NAME)), _directory),
    ("log_dir", ("ESH_LOG_DIR",), lambda: Path(platformdirs.user_log_dir(APP_NAME)), _directory),
)


def _variables(merged: _Layered, table, sources: dict[str, str]) -> dict[str, Any]:
    """Each field of `table` from the first of its variable names that is set, checked; records its source."""
    values = {}
    for attribute, names, default, check in table:
        found = _first(merged, *names)
        if found is None:
            values[attribute] = default() if callable(default) else default
            continue
        name, value, sources[names[0]] = found
        values[attribute] = check(value, name, sources[names[0]]) if check else value
    return values


def _directories(environ: Mapping[str, str] | None, cwd: Path | None, sources: dict[str, str],
                 notes: list[str] | None = None):
    """(the layers that may set the directories, {"data_dir": ..., "config_dir": ...})."""
    layers = (_read_env_file((Path.cwd() if cwd is None else cwd) / ".env", [] if notes is None else notes),
              (ENVIRONMENT, os.environ if environ is None else environ))
    return layers, _variables(_layer(*layers), _DIRECTORIES, sources)


def config_dir(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The directory config.toml belongs in: ESH_CONFIG_DIR, else the platform's user config directory."""
    return _directories(environ, cwd, {})[1]["config_dir"]


def log_dir(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The directory the log file goes in: ESH_LOG_DIR, else the platform's user log directory."""
    return _directories(environ, cwd, {})[1]["log_dir"]


def load_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Every setting, read and checked: the directories, variables, then config.toml (tuning and keys)."""
    sources: dict[str, str] = {}
    notes: list[str] = []
    layers, directories = _directories(environ, cwd, sources, notes)
    data_dir = directories["data_dir"]
    merged = _layer(_read_env_file(data_dir / ".env", notes), _read_env_file(directories["config_dir"] / ".env", notes),
                    *layers)
    variables = _variables(merged, _VARIABLES, sources)
    config = load_config(directories["config_dir"], data_dir)
    market = config.market
    found = _first(merged, MARKET_VARIABLE)
    if found is not None:  # the environment overrides config.toml, for one run or one cron line
        name, value, sources[MARKET_VARIABLE] = found
        market = _market(value, name, sources[MARKET_VARIABLE])
    return Settings(**directories, **variables, market=market, tuning=config.tuning, keys=config.keys,
                    filters=config.filters, notes=(*notes, *config.notes), config_file=config.path,
                    sources={**config.sources, **sources}, delivery=config.delivery)


# ----- config.toml: tuning and keys ---------------------------------------------------------------------

# section, key, attribute (of Tuning, or of its freshness policy), lowest, highest
_TUNING = (
    ("cache", "memory_items", "memory_items", 0, 10_000_000),
    ("freshness", "recent_hours", "recent_hours", 0.1, 24 * 365),
    ("freshness", "active_hours", "active_hours", 0.1, 24 * 365),
    ("freshness", "quiet_hours", "quiet_hours", 0.1, 24 * 365),
    ("network", "max_connections", "max_connections", 1, 256),
    ("network", "daily_budget", "daily_budget", 0, 10**9),
    ("prefetch", "calls_per_minute", "prefetch_calls_per_minute", 0, 10_000),
)
_SECTIONS = sorted({section for section, *_ in _TUNING} | {"keys", "spotify", "filters", "notify", "feeds"})


@dataclass(frozen=True)
class ConfigFile:
    """What config.toml says, checked: the file read (None: there is none), tuning, keys, notes, sources."""
    path: Path | None = None
    tuning: Tuning = field(default_factory=Tuning)
    keys: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)
    market: str | None = None
    delivery: Delivery = field(default_factory=Delivery)
    filters: ReleaseFilter = field(default_factory=ReleaseFilter)


def locate_config(config_dir: Path, data_dir: Path) -> tuple[Path | None, tuple[str, ...]]:
    """The config.toml to read, the config directory's else the data directory's (where it used to be), and
    a note when one is in the data directory."""
    path, legacy = config_dir / CONFIG_FILE, data_dir / CONFIG_FILE
    try:
        if not is_file(legacy) or legacy.resolve() == path.resolve():
            return (path if path.exists() else None), ()  # not a file: read_toml says what it is
        if path.is_file():
            return path, (f"{CONFIG_FILE} in the data directory ({legacy}) is ignored, {path} is read; remove it",)
    except OSError as exc:  # a name too long to look up, a loop of links (a missing file is no error)
        raise ConfigError("config directory", f"{clean(config_dir)} cannot be used ({exc.strerror})",
                          "set ESH_CONFIG_DIR to a directory you can read") from None
    return legacy, (f"{CONFIG_FILE} found in the data directory ({legacy}); move it to {config_dir}",)


MAX_CONFIG_BYTES = 2**20  # a config.toml is a few lines; a larger one (or an endless device) is not read whole


def read_toml(path: Path) -> dict[str, Any]:
    kind = kind_of(path)
    if kind is not None:
        raise ConfigError(_file_source(path), f"is {kind}, not a file", "make it a file or remove it")
    try:
        with open_to_read(path) as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(_file_source(path), "is larger than 1 MiB", "fix or remove the file")
        return tomllib.loads(raw.decode("utf-8"))
    except RecursionError:  # arrays or tables nested hundreds deep: Python's TOML reader recurses per level
        raise ConfigError(_file_source(path), "nests arrays or tables too deep", "fix or remove the file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(_file_source(path), f"cannot be read ({clean(str(exc))})", "fix or remove the file") from None


def load_config(config_dir: Path, data_dir: Path) -> ConfigFile:
    """config.toml (see `locate_config`), checked whole: an unknown section or setting, or a wrong value, is a
    ConfigError. Unknown [keys] ids are left out with a note (the dashboard's actions change between versions,
    and a key should never stop a headless run)."""
    path, notes = locate_config(config_dir, data_dir)
    if path is None:
        return ConfigFile(notes=notes)
    table, where = read_toml(path), _file_source(path)
    for section, value in table.items():
        if section not in _SECTIONS:
            raise ConfigError(where, f"unknown section [{section}]", f"known: {', '.join(_SECTIONS)}")
        if not isinstance(value, dict):
            raise ConfigError(where, f"[{section}] must be a table of settings",
                              f"write '[{section}]' on a line of its own, then 'name = value' lines")
    sources: dict[str, str] = {}
    tuning = _tuning(table, where, sources)
    keys, unknown = _keys(table.get("keys", {}), where, sources)
    if unknown:
        notes += (f"{where}: unknown [keys] ids {', '.join(unknown)} are ignored; known: {', '.join(KEY_ACTIONS)}",)
    spotify = table.get("spotify", {})
    if set(spotify) - {"market"}:
        raise ConfigError(where, f"unknown setting [spotify] {sorted(set(spotify) - {'market'})[0]}", "known: market")
    market = _market(spotify["market"], MARKET_KEY, where) if "market" in spotify else None
    if market is not None:
        sources[MARKET_KEY] = where
    try:
        delivery, read = delivery_from_config(table)
    except TargetError as exc:
        raise ConfigError(where, *exc.args) from None
    sources.update({name: where for name in read})
    return ConfigFile(path, tuning, keys, notes, sources, market, delivery,
                      _filters(table.get("filters", {}), where, sources))


def _tuning(table: dict[str, Any], where: str, sources: dict[str, str]) -> Tuning:
    values: dict[str, float] = {}
    for section, key, attribute, lowest, highest in _TUNING:
        if key not in table.get(section, {}):
            continue
        value = table[section][key]
        whole = isinstance(lowest, int)
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) \
                or not lowest <= value <= highest:
            kind = "a whole number" if whole else "a number"
            raise ConfigError(where, f"[{section}] {key} = {value!r} must be {kind} from {lowest:,} to {highest:,}",
                              "set it in that range, or remove it for the default")
        values[attribute] = value
        sources[f"[{section}] {key}"] = where
    for section in {section for section, *_ in _TUNING} & set(table):
        known = sorted(key for s, key, *_ in _TUNING if s == section)
        unknown = sorted(set(table[section]) - set(known))
        if unknown:
            raise ConfigError(where, f"unknown setting [{section}] {unknown[0]}", f"known: {', '.join(known)}")
    hours = {k: values.pop(k) for k in ("recent_hours", "active_hours", "quiet_hours") if k in values}
    return Tuning(freshness=TtlPolicy(**hours), **values)


def _keys(table: dict[str, Any], where: str, sources: dict[str, str]) -> tuple[Mapping[str, str], list[str]]:
    """The key of each known action id (one key name, or several separated by commas), and the unknown ids."""
    keys = {}
    for action in KEY_ACTIONS:
        if action not in table:
            continue
        value = table[action]
        parts = value.split(",") if isinstance(value, str) else [""]
        if not all(part and part.isprintable() and not any(ch.isspace() for ch in part) for part in parts):
            raise ConfigError(where, f"[keys] {action} = {value!r} is not a key",
                              'set it to a key name like "f5" or "ctrl+r", or several: "f5,ctrl+r"')
        keys[action] = value
        sources[f"[keys] {action}"] = where
    return keys, sorted(set(table) - set(KEY_ACTIONS))


# ----- [filters]: which releases are shown -----------------------------------------------------------------

_FILTER_KEYS = ("types", "appears_on", "exclude", "block", "block_artists")


def _filters(table: dict[str, Any], where: str, sources: dict[str, str]) -> ReleaseFilter:
    """[filters], checked: each setting's type, each type and version by name, each title pattern compiled."""
    unknown = sorted(set(table) - set(_FILTER_KEYS))
    if unknown:
        raise ConfigError(where, f"unknown setting [filters] {unknown[0]}", f"known: {', '.join(_FILTER_KEYS)}")

    def names(key: str) -> list[str]:
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(where, f"[filters] {key} = {value!r} must be a list of strings",
                              f'write it like {key} = ["one", "two"]')
        return value

    values: dict[str, Any] = {}
    for key, known in (("types", RELEASE_TYPES), ("exclude", tuple(VERSIONS))):
        if key in table:
            try:
                values[key] = parse_names(names(key), known, "")
            except FilterError as exc:
                raise ConfigError(where, f"[filters] {key}: {exc.what.strip()} {exc.why}",
                                  "fix the name or remove it") from None
    if "appears_on" in table:
        if not isinstance(table["appears_on"], bool):
            raise ConfigError(where, f"[filters] appears_on = {table['appears_on']!r} must be true or false",
                              "write appears_on = true, or remove it for the default (false)")
        values["appears_on"] = table["appears_on"]
    for key in ("block", "block_artists"):
        if key in table:
            values[key] = tuple(names(key))
    for key in values:
        sources[f"[filters] {key}"] = where
    try:
        return ReleaseFilter(**values)
    except FilterError as exc:  # a title pattern that is not one
        raise ConfigError(where, f"[filters] block pattern {exc.what} {exc.why}", "fix the pattern or remove it") from None


# ----- showing the settings: `esh-tui config` ---------------------------------------------------------------

@dataclass(frozen=True)
class SettingLine:
    name: str
    value: str
    source: str  # default, environment, .env (PATH), config.toml (PATH)


def describe(settings: Settings) -> list[SettingLine]:
    """Where files are and every effective setting with where it came from. The client secret shows only
    as set or unset; tokens are not settings and never show."""
    from esh_tui.sim.offline import OFFLINE_STORE  # here only: the settings do not depend on the simulator

    store = settings.store_path if settings.has_credentials else settings.data_dir / OFFLINE_STORE
    lines = [
        SettingLine("config directory", str(settings.config_dir), settings.source("ESH_CONFIG_DIR")),
        SettingLine("config file", str(settings.config_file) if settings.config_file
                    else f"{settings.config_path} (none: the defaults apply)", settings.source("ESH_CONFIG_DIR")),
        SettingLine("data directory", str(settings.data_dir), settings.source("ESH_DATA_DIR")),
        SettingLine("store", f"{store}{'' if is_file(store) else ' (not created yet)'}",
                    settings.source("ESH_DATA_DIR")),
        SettingLine("log file", str(settings.log_dir / "esh-tui.log"), settings.source("ESH_LOG_DIR")),
    ]
    for attribute, (name, *_), _default, _check in _VARIABLES:
        value = getattr(settings, attribute)
        shown = ("set" if value else "unset") if attribute == "client_secret" else (value or "unset")
        lines.append(SettingLine(name, shown, settings.source(name)))
    lines.append(SettingLine(f"market ({MARKET_KEY}, {MARKET_VARIABLE})", settings.market or "unset: every market",
                             settings.sources.get(MARKET_VARIABLE) or settings.source(MARKET_KEY)))
    for section, key, attribute, *_ in _TUNING:
        value = getattr(settings.tuning.freshness if section == "freshness" else settings.tuning, attribute)
        lines.append(SettingLine(f"[{section}] {key}", str(value), settings.source(f"[{section}] {key}")))
    shown = settings.filters
    for key, value in (("types", ", ".join(t for t in RELEASE_TYPES if t in shown.types) or "none"),
                       ("appears_on", str(shown.appears_on).lower()),
                       ("exclude", ", ".join(v for v in VERSIONS if v in shown.exclude) or "none"),
                       ("block", ", ".join(shown.block) or "none"),
                       ("block_artists", ", ".join(shown.block_artists) or "none")):
        lines.append(SettingLine(f"[filters] {key}", value, settings.source(f"[filters] {key}")))
    urls = settings.delivery.urls  # counted, never shown: Apprise URLs often hold tokens
    lines.append(SettingLine("[notify] urls", f"{len(urls)} URL{'s' if len(urls) != 1 else ''}" if urls else "none",
                             settings.source("[notify] urls")))
    for kind in ("atom", "ics"):
        path = getattr(settings.delivery, kind)
        lines.append(SettingLine(f"[feeds] {kind}", str(path) if path else "none", settings.source(f"[feeds] {kind}")))
    for action in KEY_ACTIONS:
        lines.append(SettingLine(f"[keys] {action}", settings.keys.get(action, "(the dashboard's)"),
                                 settings.source(f"[keys] {action}")))
    return lines


def render_settings(settings: Settings) -> str:
    """`describe` as aligned text, then the notes."""
    lines = describe(settings)
    width = max(len(line.name) for line in lines)
    value_width = max(len(clean(line.value)) for line in lines)
    text = [f"{line.name:<{width}}  {clean(line.value):<{value_width}}  {clean(line.source)}" for line in lines]
    return "\n".join(text + [f"note: {clean(note)}" for note in settings.notes]) + "\n"
