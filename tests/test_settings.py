"""One settings model: environment, .env files and config.toml (tuning, keys), read and checked in one place."""

from __future__ import annotations

import pickle
from pathlib import Path

import platformdirs
import pytest

from esh_tui.config import KEY_ACTIONS, ConfigError, Tuning, describe, load_settings, render_settings
from esh_tui.storage.ttl import TtlPolicy

SECRET = "s3cr3t-never-shown-7a1f"


@pytest.fixture
def dirs(tmp_path):
    """cwd, data dir and config dir of a world where the environment names both directories."""
    cwd, data, config = tmp_path / "cwd", tmp_path / "data", tmp_path / "config"
    for d in (cwd, data, config):
        d.mkdir()
    return cwd, data, config, {"ESH_DATA_DIR": str(data), "ESH_CONFIG_DIR": str(config)}


def _error(environ, cwd) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, cwd=cwd)
    text = str(caught.value)
    assert "\n" not in text and text == f"{caught.value.where}: {caught.value.problem}; {caught.value.fix}"
    return caught.value


# ----- where each setting comes from -------------------------------------------------------------------

def test_environment_beats_dotenv_in_cwd_beats_dotenv_in_data_dir(dirs):
    cwd, data, config, env = dirs
    (data / ".env").write_text("SPOTIFY_CLIENT_ID=data\nESH_API_URL=http://127.0.0.1:1/v1\n"
                               "ESH_ACCOUNTS_URL=http://127.0.0.1:2\nSPOTIFY_CLIENT_SECRET=data-secret\n")
    (cwd / ".env").write_text("SPOTIFY_CLIENT_ID=cwd\nESH_API_URL=http://127.0.0.1:3/v1\n")
    settings = load_settings({**env, "SPOTIFY_CLIENT_ID": "env"}, cwd=cwd)
    assert (settings.client_id, settings.api_url, settings.accounts_url) == \
        ("env", "http://127.0.0.1:3/v1", "http://127.0.0.1:2")
    assert settings.source("SPOTIFY_CLIENT_ID") == "environment"
    assert settings.source("ESH_API_URL") == f".env ({cwd / '.env'})"
    assert settings.source("ESH_ACCOUNTS_URL") == f".env ({data / '.env'})"
    assert settings.source("SPOTIFY_REDIRECT_URI") == "default"
    assert settings.source("ESH_DATA_DIR") == settings.source("ESH_CONFIG_DIR") == "environment"


def test_directories_from_dotenv_in_cwd_else_the_platform_ones(tmp_path):
    (tmp_path / ".env").write_text(f"ESH_CONFIG_DIR={tmp_path / 'conf'}\n")
    settings = load_settings({}, cwd=tmp_path)
    assert settings.config_dir == tmp_path / "conf"
    assert settings.source("ESH_CONFIG_DIR") == f".env ({tmp_path / '.env'})"
    assert settings.data_dir == Path(platformdirs.user_data_dir("esh-tui"))
    assert settings.source("ESH_DATA_DIR") == "default"
    assert load_settings({}, cwd=tmp_path / "elsewhere").config_dir == Path(platformdirs.user_config_dir("esh-tui"))


def test_config_toml_in_the_config_dir_tunes_and_maps_keys(dirs):
    cwd, data, config, env = dirs
    (config / "config.toml").write_text('[keys]\nrefresh = "f5"\nforce_refresh = "ctrl+r,F"\n'
                                        "[freshness]\nrecent_hours = 0.5\n[prefetch]\ncalls_per_minute = 0\n")
    settings = load_settings(env, cwd=cwd)
    assert settings.tuning == Tuning(freshness=TtlPolicy(recent_hours=0.5), prefetch_calls_per_minute=0)
    assert dict(settings.keys) == {"refresh": "f5", "force_refresh": "ctrl+r,F"}
    assert settings.config_file == config / "config.toml" and settings.notes == ()
    assert settings.source("[keys] refresh") == settings.source("[freshness] recent_hours") == \
        f"config.toml ({config / 'config.toml'})"
    assert settings.source("[keys] quit") == settings.source("[cache] memory_items") == "default"


def test_no_config_toml_means_the_defaults(dirs):
    cwd, data, config, env = dirs
    settings = load_settings(env, cwd=cwd)
    assert settings.tuning == Tuning() and dict(settings.keys) == {} and settings.config_file is None
    assert settings.config_path == config / "config.toml"


# ----- config.toml where it used to be ----------------------------------------------------------------------

def test_a_config_toml_in_the_data_dir_is_still_read_with_a_note_to_move_it(dirs):
    cwd, data, config, env = dirs
    (data / "config.toml").write_text("[network]\nmax_connections = 3\n")
    settings = load_settings(env, cwd=cwd)
    assert settings.tuning.max_connections == 3 and settings.config_file == data / "config.toml"
    assert settings.notes == (f"config.toml found in the data directory ({data / 'config.toml'}); move it to {config}",)


def test_the_config_dir_wins_over_the_data_dir_and_says_the_other_is_ignored(dirs):
    cwd, data, config, env = dirs
    (data / "config.toml").write_text("[network]\nmax_connections = 3\n")
    (config / "config.toml").write_text("[network]\nmax_connections = 5\n")
    settings = load_settings(env, cwd=cwd)
    assert settings.tuning.max_connections == 5 and settings.config_file == config / "config.toml"
    assert len(settings.notes) == 1
    assert "ignored" in settings.notes[0] and str(data / "config.toml") in settings.notes[0]


def test_one_directory_for_both_is_not_a_legacy_config(dirs):
    cwd, data, config, env = dirs
    (data / "config.toml").write_text("[network]\nmax_connections = 3\n")
    settings = load_settings({**env, "ESH_CONFIG_DIR": str(data)}, cwd=cwd)
    assert settings.tuning.max_connections == 3 and settings.notes == ()


# ----- one error format, whatever the source ---------------------------------------------------------------

def test_a_bad_value_names_its_source_the_setting_and_what_to_do(dirs):
    cwd, data, config, env = dirs
    error = _error({**env, "ESH_API_URL": "ftp://x"}, cwd)
    assert error.where == "environment" and "ESH_API_URL = 'ftp://x'" in error.problem and "set it like" in error.fix

    (cwd / ".env").write_text("SPOTIPY_REDIRECT_URI=http://localhost:8765/callback\n")
    error = _error(env, cwd)
    assert error.where == f".env ({cwd / '.env'})" and error.problem.startswith("SPOTIPY_REDIRECT_URI = ")
    assert "localhost" in error.fix
    (cwd / ".env").unlink()

    (data / ".env").write_text("ESH_ACCOUNTS_URL=not a url\n")
    error = _error(env, cwd)
    assert error.where == f".env ({data / '.env'})" and "ESH_ACCOUNTS_URL" in error.problem
    (data / ".env").unlink()

    for where in (data, config):  # where it used to be, and where it belongs
        (where / "config.toml").write_text("[cache]\nmemory_items = -1\n")
        error = _error(env, cwd)
        assert error.where == f"config.toml ({where / 'config.toml'})"
        assert error.problem == "[cache] memory_items = -1 must be a whole number from 0 to 10,000,000"
        assert error.fix == "set it in that range, or remove it for the default"


@pytest.mark.parametrize("text, problem", [
    ("[network]\nmax_conections = 4\n", "unknown setting [network] max_conections"),
    ("[netwrok]\nmax_connections = 4\n", "unknown section [netwrok]"),
    ("memory_items = 4\n", "unknown section [memory_items]"),
    ("keys = 'f5'\n", "[keys] must be a table of settings"),
    ('[keys]\nrefresh = 5\n', "[keys] refresh = 5 is not a key"),
    ('[keys]\nrefresh = "f 5"\n', "[keys] refresh = 'f 5' is not a key"),
    ('[keys]\nrefresh = "f5,"\n', "[keys] refresh = 'f5,' is not a key"),
    ("[cache\n", "cannot be read"),
])
def test_unknown_settings_and_bad_keys_are_refused(dirs, text, problem):
    cwd, data, config, env = dirs
    (config / "config.toml").write_text(text)
    error = _error(env, cwd)
    assert error.where == f"config.toml ({config / 'config.toml'})" and error.problem.startswith(problem), error


def test_unknown_key_ids_are_left_out_with_a_note_so_a_headless_run_still_works(dirs):
    cwd, data, config, env = dirs
    (config / "config.toml").write_text('[keys]\nrefresh = "f5"\nrefersh = "f6"\n')
    settings = load_settings(env, cwd=cwd)
    assert dict(settings.keys) == {"refresh": "f5"}
    assert len(settings.notes) == 1 and "refersh" in settings.notes[0] and "refresh" in settings.notes[0]


# ----- esh-tui config ---------------------------------------------------------------------------------------

def test_describe_shows_both_paths_every_setting_and_its_source_never_the_secret(dirs):
    cwd, data, config, env = dirs
    (data / ".env").write_text(f"SPOTIFY_CLIENT_SECRET={SECRET}\n")
    (cwd / ".env").write_text("ESH_API_URL=http://127.0.0.1:3/v1\n")
    (config / "config.toml").write_text('[keys]\nrefresh = "f5"\n[cache]\nmemory_items = 7\n')
    settings = load_settings({**env, "SPOTIFY_CLIENT_ID": "my-id"}, cwd=cwd)
    lines = {line.name: line for line in describe(settings)}
    config_source = f"config.toml ({config / 'config.toml'})"
    expected = {
        "config file": (str(config / "config.toml"), "environment"),
        "data directory": (str(data), "environment"),
        "store": (f"{data / 'esh.db'} (not created yet)", "environment"),
        "SPOTIFY_CLIENT_ID": ("my-id", "environment"),
        "ESH_API_URL": ("http://127.0.0.1:3/v1", f".env ({cwd / '.env'})"),
        "SPOTIFY_CLIENT_SECRET": ("set", f".env ({data / '.env'})"),
        "ESH_ACCOUNTS_URL": ("https://accounts.spotify.com", "default"),
        "[cache] memory_items": ("7", config_source),
        "[network] max_connections": ("16", "default"),
        "[keys] refresh": ("f5", config_source),
        "[keys] quit": ("(the dashboard's)", "default"),
    }
    assert {name: (lines[name].value, lines[name].source) for name in expected} == expected
    assert {f"[keys] {action}" for action in KEY_ACTIONS} <= set(lines)
    text = render_settings(settings)
    assert SECRET not in text and SECRET not in repr(describe(settings)) and SECRET not in repr(settings)
    assert "SPOTIFY_CLIENT_SECRET" in text and str(config / "config.toml") in text


def test_describe_without_credentials_or_config_file(dirs):
    cwd, data, config, env = dirs
    (data / "config.toml").write_text("[network]\nmax_connections = 3\n")
    settings = load_settings(env, cwd=cwd)
    lines = {line.name: line for line in describe(settings)}
    assert lines["SPOTIFY_CLIENT_SECRET"].value == "unset" and lines["SPOTIFY_CLIENT_ID"].value == "unset"
    assert lines["store"].value.startswith(str(data / "offline.db"))
    assert lines["[network] max_connections"].source == f"config.toml ({data / 'config.toml'})"
    assert render_settings(settings).endswith(f"note: {settings.notes[0]}\n")
    (data / "config.toml").unlink()
    assert {line.name: line for line in describe(load_settings(env, cwd=cwd))}["config file"].value == \
        f"{config / 'config.toml'} (none: the defaults apply)"


def test_settings_stay_plain_values_that_cross_processes(dirs):
    cwd, data, config, env = dirs
    (config / "config.toml").write_text('[keys]\nrefresh = "f5"\n[network]\nmax_connections = 3\n')
    settings = load_settings(env, cwd=cwd)
    assert pickle.loads(pickle.dumps(settings)) == settings and hash(settings) == hash(settings)


@pytest.mark.parametrize("text, needle", [
    ("x = " + "[" * 600 + "]" * 600 + "\n", "nests arrays or tables too deep"),
    ("x = " + "{a = " * 450 + "1" + "}" * 450 + "\n", "nests arrays or tables too deep"),
])
def test_a_config_nested_hundreds_deep_is_one_line_not_a_traceback(dirs, text, needle):
    cwd, data, config, env = dirs
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(env, cwd=cwd)
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_a_config_that_is_a_fifo_is_refused_not_waited_on(dirs):
    import os

    cwd, data, config, env = dirs
    config.mkdir(parents=True, exist_ok=True)
    os.mkfifo(config / "config.toml")
    with pytest.raises(ConfigError, match="is a FIFO, not a file"):
        load_settings(env, cwd=cwd)
