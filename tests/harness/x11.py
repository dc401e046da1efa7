"""A headless X11 desktop for the session: Xvfb plus openbox (focus needs a window manager).

Fixtures:
- ``x_display`` (session): the display string, e.g. ":57"; Xvfb has RECORD and XTEST.
- ``x_env`` (session): environment with DISPLAY set for child processes.
"""

from __future__ import annotations

import os
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.procs import Proc, require, wait_for


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
    read_fd, write_fd = os.pipe()  # Xvfb picks a free display itself and writes its number
    try:
        xvfb = Proc(
            [
                "Xvfb",
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ],
            log=logs / "xvfb.log",
            pass_fds=(write_fd,),
        )
    finally:
        os.close(write_fd)
    wm: Proc | None = None
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            ready, _, _ = select.select([pipe], [], [], 15)
            number = pipe.readline().decode().strip() if ready else ""
        if not number.isdigit():
            raise RuntimeError(f"Xvfb did not start: {xvfb.output()[-2000:]}")
        display = f":{number}"
        wait_for(lambda: _x_ready(display), 15, f"Xvfb on {display}", interval=0.05)
        env = {**os.environ, "DISPLAY": display}
        wm = Proc(["openbox", "--sm-disable"], env=env, log=logs / "openbox.log")
        wait_for(lambda: _wm_running(display), 15, "openbox to manage the screen", interval=0.05)
        yield display
    finally:
        if wm is not None:
            wm.stop()
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
