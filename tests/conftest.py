"""Shared fixtures. Expensive services start once per session (see harness/); every test
gets its own temporary HOME and XDG directories through ``user_env``."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness.userenv import private_user_env

pytest_plugins = [
    "harness.x11",
    "harness.speech",
    "harness.pulse",
    "harness.dbus_notify",
    "harness.tray",
    "harness.textwin",
    "harness.daemon",
    "harness.faults",
    "harness.apps",
    "harness.unit_layer",
    "harness.sway",
    "harness.fake_portal",
    "harness.wl_desktop",
    "harness.a11y",
]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A private HOME and XDG dirs for one test, with no Azure variables inherited."""
    return private_user_env(tmp_path)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests save screenshots and logs for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
