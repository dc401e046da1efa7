"""README's Quick start, first command: ``scripts/install.sh`` installs into a fresh HOME
and starts a daemon whose icon docks and which answers ``voicetype status``."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness.procs import wait_for
from harness.tray import TrayHost

pytestmark = pytest.mark.desktop

REPO = Path(__file__).resolve().parents[2]


def test_install_script_installs_and_starts_voicetype(
    user_env: dict[str, str], x_display: str, notifications: Any, tray_host: TrayHost
) -> None:
    home = Path(user_env["HOME"])
    env = {**user_env, "DISPLAY": x_display, **notifications.env}
    env.pop("VIRTUAL_ENV", None)
    installed = subprocess.run(
        ["scripts/install.sh"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    command = home / ".local" / "bin" / "voicetype"
    assert command.is_symlink()
    assert str(Path(user_env["XDG_DATA_HOME"]) / "voicetype" / "venv") in str(command.resolve())
    assert "voicetype: started." in installed.stdout

    def status() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(command), "status"], env=env, capture_output=True, text=True, timeout=30
        )

    try:
        wait_for(lambda: status().returncode == 0, 30, "the installed daemon to answer", 0.2)
        out = status().stdout
        assert "tray:          appindicator (menu)" in out  # python3-gi seen through the venv
        tray_host.wait_for_icon("voicetype")
    finally:
        subprocess.run([str(command), "quit"], env=env, capture_output=True, timeout=30)
    wait_for(lambda: status().returncode == 1, 20, "the installed daemon to quit", 0.1)
