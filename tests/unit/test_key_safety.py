"""Where the key comes from, a key file others can read, and the log filter."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from voicetype.config import exposed_key_file, load_config
from voicetype.logsetup import KeyFilter

KEY = "0123456789abcdef0123456789abcdef"


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("env", "in_file", "in_keyring", "source"),
    [
        ({"AZURE_AI_SPEECH_KEY": "env-key"}, True, True, "environment"),
        ({}, True, True, "file"),
        ({}, False, True, "keyring"),
        ({}, False, False, ""),
    ],
)
def test_key_precedence(
    tmp_path: Path, env: dict[str, str], in_file: bool, in_keyring: bool, source: str
) -> None:
    path = write(tmp_path, f'[azure]\nkey = "{KEY}"\n' if in_file else "")
    asked: list[bool] = []

    def keyring() -> str:
        asked.append(True)
        return "ring-key" if in_keyring else ""

    config = load_config(path, env=env, keyring=keyring)
    assert config.azure.key_source == source
    assert config.azure.key == {"environment": "env-key", "file": KEY, "keyring": "ring-key"}.get(
        source, ""
    )
    assert asked == ([True] if source in ("keyring", "") else [])


def test_world_readable_key_file_is_reported_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, f'[azure]\nkey = "{KEY}"\n', 0o644)
    problem = exposed_key_file(load_config(path, env={}))
    assert problem is not None
    assert "other users can read it (permissions 0644)" in problem.message
    assert f"chmod 600 {path}" in problem.fix
    assert KEY not in str(problem)
    path.chmod(0o600)
    assert exposed_key_file(load_config(path, env={})) is None
    readable_without_key = write(tmp_path, "[azure]\n", 0o644)
    assert exposed_key_file(load_config(readable_without_key, env={})) is None


def test_log_filter_scrubs_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    flt = KeyFilter(KEY)
    flt.add("second-key-after-reload")
    try:
        raise RuntimeError(f"the SDK said {KEY}")
    except RuntimeError as exc:
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "failed: %s", (exc,), (type(exc), exc, None)
        )
    assert flt.filter(record)
    text = logging.Formatter().format(record)
    assert KEY not in text and "********" in text
    other = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "%s", ("second-key-after-reload",), None
    )
    flt.filter(other)
    assert other.getMessage() == "********"
