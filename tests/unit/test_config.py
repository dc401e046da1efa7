"""Configuration loading and validation: pure, no desktop."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from voicetype.config import (
    DEFAULT_HOTKEY,
    default_config_path,
    init_config,
    load_config,
    resolve_config_path,
)
from voicetype.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(path: Path, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path, env or {})
    return info.value


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "absent.toml", {})
    assert not config.file_exists
    assert config.azure.language == "en-US"
    assert config.azure.key == ""
    assert config.hotkey.dictate.pynput_string() == DEFAULT_HOTKEY
    assert config.typing.method == "auto"
    assert not config.azure.has_credentials


def test_full_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[azure]\nkey = "k" \nregion = "westeurope"\nlanguage = "de-DE"\n'
        '[hotkey]\ndictate = "<ctrl>+<shift>+d"\n[typing]\nmethod = "paste"\n',
    )
    config = load_config(path, {})
    assert config.file_exists
    assert (config.azure.key, config.azure.region, config.azure.language) == (
        "k",
        "westeurope",
        "de-DE",
    )
    assert config.hotkey.dictate.pynput_string() == "<ctrl>+<shift>+d"
    assert config.typing.method == "paste"
    assert config.azure.has_credentials


def test_environment_wins_over_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[azure]\nkey = "file-key"\nregion = "westeurope"\n')
    env = {
        "AZURE_AI_SPEECH_KEY": "env-key",
        "AZURE_AI_SPEECH_REGION": "eastus",
        "AZURE_AI_SPEECH_HOST": "ws://127.0.0.1:5000",
    }
    config = load_config(path, env)
    assert config.azure.key == "env-key"
    assert config.azure.region == "eastus"
    assert config.azure.host == "ws://127.0.0.1:5000"


def test_key_never_in_repr(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[azure]\nkey = "SECRET-KEY-123"\n'), {})
    assert "SECRET-KEY-123" not in repr(config)


def test_unparsable_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[azure]\nkey = unquoted\n")
    err = error_for(path)
    assert str(path) in err.message
    assert "line 2" in err.message
    assert "double quotes" in err.fix


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, '[azure]\nkey = "k"\n\nregoin = "westeurope"\n')
    err = error_for(path)
    assert f"{path}, line 4" in err.message
    assert "unknown key `regoin`" in err.message
    assert "did you mean `region`?" in err.message
    assert "region" in err.fix


def test_unknown_section_suggests(tmp_path: Path) -> None:
    err = error_for(write(tmp_path, '[hotkeys]\ndictate = "<f9>"\n'))
    assert "unknown section [hotkeys]" in err.message
    assert "did you mean `hotkey`?" in err.message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[azure]\nkey = 5\n", "`key` must be a string"),
        ("[azure]\nallow_insecure_host = 1\n", "`allow_insecure_host` must be true or false"),
        ('[feedback]\nstart_sound = "yes"\n', "`start_sound` must be true or false"),
        ("[azure]\ntimeout_seconds = true\n", "`timeout_seconds` must be a number"),
        ("azure = 3\n", "must be a section [azure]"),
    ],
)
def test_wrong_types(tmp_path: Path, text: str, needle: str) -> None:
    err = error_for(write(tmp_path, text))
    assert needle in str(err)


def test_bad_region_gets_a_corrected_suggestion(tmp_path: Path) -> None:
    err = error_for(write(tmp_path, '[azure]\nregion = "West Europe"\n'))
    assert "line 2" in err.message
    assert '"westeurope"' in err.fix


def test_bad_region_from_environment_names_the_variable(tmp_path: Path) -> None:
    err = error_for(tmp_path / "none.toml", {"AZURE_AI_SPEECH_REGION": "West US"})
    assert "AZURE_AI_SPEECH_REGION" in err.message


@pytest.mark.parametrize(
    ("host", "needle"),
    [
        ("http://localhost:5000", "not a ws:// or wss:// address"),
        ("ws://127.0.0.1:5000/speech", "has a path"),
        ("ws://speech.example.com", "unencrypted"),
    ],
)
def test_bad_hosts(tmp_path: Path, host: str, needle: str) -> None:
    err = error_for(write(tmp_path, f'[azure]\nhost = "{host}"\n'))
    assert needle in err.message


def test_plain_ws_allowed_when_asked_or_on_loopback(tmp_path: Path) -> None:
    remote = write(tmp_path, '[azure]\nhost = "ws://speech.lan:5000"\nallow_insecure_host = true\n')
    assert load_config(remote, {}).azure.host == "ws://speech.lan:5000"
    for host in ("ws://localhost:5000", "ws://127.0.0.1:5000", "ws://[::1]:5000", "wss://a.b"):
        assert load_config(write(tmp_path, f'[azure]\nhost = "{host}"\n'), {}).azure.host == host


def test_bad_language(tmp_path: Path) -> None:
    err = error_for(write(tmp_path, '[azure]\nlanguage = "english"\n'))
    assert "not a language code" in err.message
    assert "en-US" in err.fix


def test_bad_hotkey_is_a_config_error_with_line(tmp_path: Path) -> None:
    err = error_for(write(tmp_path, '\n[hotkey]\ndictate = "<ctrl>+<alt>+<spcae>"\n'))
    assert "line 3" in err.message
    assert "did you mean <space>?" in err.message
    assert DEFAULT_HOTKEY in err.fix


def test_bad_typing_method(tmp_path: Path) -> None:
    err = error_for(write(tmp_path, '[typing]\nmethod = "pasta"\n'))
    assert "did you mean `paste`?" in err.message


def test_timeout_range(tmp_path: Path) -> None:
    err = error_for(write(tmp_path, "[azure]\ntimeout_seconds = 600\n"))
    assert "from 2 to 60" in err.fix


def test_missing_credentials_fix_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    config = load_config(path, {})
    with pytest.raises(ConfigError) as info:
        config.azure.require_credentials(path)
    assert "AZURE_AI_SPEECH_KEY" in info.value.fix
    assert str(path) in info.value.fix
    config = load_config(path, {"AZURE_AI_SPEECH_KEY": "k"})
    with pytest.raises(ConfigError) as info:
        config.azure.require_credentials(path)
    assert "AZURE_AI_SPEECH_REGION" in info.value.fix
    load_config(path, {"AZURE_AI_SPEECH_KEY": "k", "AZURE_AI_SPEECH_HOST": "ws://localhost:1"})


def test_config_path_resolution(tmp_path: Path) -> None:
    assert resolve_config_path("x.toml", {"VOICETYPE_CONFIG": "y.toml"}) == Path("x.toml")
    assert resolve_config_path(None, {"VOICETYPE_CONFIG": "y.toml"}) == Path("y.toml")
    assert resolve_config_path(None, {}) == default_config_path()
    assert default_config_path().name == "config.toml"
    assert default_config_path().parent.name == "voicetype"


def test_init_writes_user_only_starter_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    assert init_config(path) is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text(encoding="utf-8") == (REPO / "config.example.toml").read_text("utf-8")
    path.write_text("# mine\n")
    assert init_config(path) is False
    assert path.read_text() == "# mine\n"


def test_example_file_is_valid_and_documents_every_key(tmp_path: Path) -> None:
    from voicetype.config import _SCHEMA

    example = REPO / "config.example.toml"
    load_config(example, {})
    text = example.read_text(encoding="utf-8")
    lines = text.splitlines()
    for table, keys in _SCHEMA.items():
        assert f"[{table}]" in text
        for key in keys:
            index = next(i for i, line in enumerate(lines) if line.startswith(f"{key} ="))
            assert lines[index - 1].startswith("#"), f"{key} has no comment above it"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[typing]\nmax_chars = 0\n", "line 2: `max_chars` is 0"),
        ("[typing]\nmax_chars = 1000001\n", "`max_chars` is 1000001"),
        ('[typing]\nmax_chars = "10000"\n', "`max_chars` must be a whole number of characters"),
        ("[typing]\nmax_chars = 100.5\n", "`max_chars` must be a whole number of characters"),
        ("[typing]\nmax_chars = true\n", "`max_chars` must be a whole number of characters"),
    ],
)
def test_max_chars_is_validated(tmp_path: Path, text: str, needle: str) -> None:
    err = error_for(write(tmp_path, text))
    assert needle in str(err)
    assert "from 1 to 1000000" in str(err)


def test_max_chars_default_and_value(tmp_path: Path) -> None:
    assert load_config(tmp_path / "none.toml", {}).typing.max_chars == 10_000
    assert load_config(write(tmp_path, "[typing]\nmax_chars = 500\n"), {}).typing.max_chars == 500
