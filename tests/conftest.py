"""Shared fixtures. Expensive services start once per session (see harness/); every test
gets its own temporary HOME and XDG directories through ``user_env``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = [
    "harness.x11",
    "harness.speech",
    "harness.pulse",
    "harness.dbus_notify",
    "harness.tray",
    "harness.textwin",
    "harness.daemon",
    "harness.faults",
]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A private HOME and XDG dirs for one test, with no Azure variables inherited."""
    home = tmp_path / "home"
    dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_RUNTIME_DIR": tmp_path / "runtime",
    }
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    dirs["XDG_RUNTIME_DIR"].chmod(0o700)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE_", "VOICETYPE_", "XDG_")) and k not in ("HOME",)
    }
    env.update({k: str(v) for k, v in dirs.items()})
    env["NO_AT_BRIDGE"] = "1"
    return env


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests save screenshots and logs for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
