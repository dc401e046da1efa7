"""A headless X11 desktop for the session: Xvfb plus openbox (focus needs a window manager).

Fixtures:
- ``x_display`` (session): the display string, e.g. ":57"; Xvfb has RECORD and XTEST.
- ``x_env`` (session): environment with DISPLAY set for child processes.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.procs import Proc, require, wait_for


def _free_display() -> int:
    for n in range(57, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


def _x_ready(display: str) -> bool:
    return (
        subprocess.run(
            ["xdpyinfo"], env={**os.environ, "DISPLAY": display}, capture_output=True
        ).returncode
        == 0
    )


@pytest.fixture(scope="session")
def x_display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require("Xvfb", "openbox", "xdotool", "xdpyinfo")
    logs = tmp_path_factory.mktemp("x11")
    number = _free_display()
    display = f":{number}"
    xvfb = Proc(
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        log=logs / "xvfb.log",
    )
    try:
        wait_for(lambda: _x_ready(display), 15, f"Xvfb on {display}", interval=0.05)
        env = {**os.environ, "DISPLAY": display}
        wm = Proc(["openbox", "--sm-disable"], env=env, log=logs / "openbox.log")
        wait_for(lambda: _wm_running(display), 15, "openbox to manage the screen", interval=0.05)
        yield display
        wm.stop()
    finally:
        xvfb.stop()


def _wm_running(display: str) -> bool:
    out = subprocess.run(
        ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
    ).stdout
    return "window id" in out


@pytest.fixture(scope="session")
def x_env(x_display: str) -> dict[str, str]:
    return {**os.environ, "DISPLAY": x_display}


def screenshot(display: str, path: Path) -> Path:
    """Save what a person would see on ``display`` as a PNG (imagemagick's ``import``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["import", "-window", "root", str(path)],
        env={**os.environ, "DISPLAY": display},
        check=True,
        capture_output=True,
        timeout=20,
    )
    return path
