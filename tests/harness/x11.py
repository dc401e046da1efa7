"""A headless X11 desktop for the session: Xvfb plus openbox (focus needs a window manager).

Fixtures:
- ``x_display`` (session): the display string, e.g. ":57"; Xvfb has RECORD and XTEST.
- ``x_env`` (session): environment with DISPLAY set for child processes.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
from collections.abc import Callable, Iterator
from functools import partial
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


def _display_in_use(number: int) -> bool:
    """A lock file, or a socket someone answers on (abstract or file), means taken."""
    if Path(f"/tmp/.X{number}-lock").exists():
        return True
    for address in (f"\0/tmp/.X11-unix/X{number}", f"/tmp/.X11-unix/X{number}"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(address)
            except OSError:
                continue
            return True
    return False


def _up_or_dead(proc: Proc, ready: Callable[[str], bool], display: str) -> bool:
    return not proc.alive() or ready(display)


def _start_desktop(logs: Path) -> tuple[Proc, Proc, str]:
    """Xvfb on a random free high display plus openbox; retried when another server races
    us for the number (seen when several test sessions share a machine)."""
    problems: list[str] = []
    for attempt in range(5):
        number = random.randrange(100, 900)
        if _display_in_use(number):
            continue
        display = f":{number}"
        xvfb = Proc(
            ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            log=logs / f"xvfb-{attempt}.log",
        )
        wm: Proc | None = None
        try:
            wait_for(partial(_up_or_dead, xvfb, _x_ready, display), 15, f"Xvfb on {display}", 0.05)
            if not xvfb.alive():
                raise RuntimeError(f"Xvfb {display} exited: {xvfb.output()[-500:]}")
            env = {**os.environ, "DISPLAY": display}
            wm = Proc(["openbox", "--sm-disable"], env=env, log=logs / f"openbox-{attempt}.log")
            wait_for(partial(_up_or_dead, wm, _wm_running, display), 15, "openbox", 0.05)
            if not wm.alive():
                raise RuntimeError(f"openbox exited on {display}: {wm.output()[-500:]}")
            return xvfb, wm, display
        except (RuntimeError, TimeoutError) as exc:
            problems.append(str(exc))
            if wm is not None:
                wm.stop()
            xvfb.stop()
    raise RuntimeError("could not start Xvfb + openbox: " + "; ".join(problems))


@pytest.fixture(scope="session")
def x_display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require("Xvfb", "openbox", "xdotool", "xdpyinfo", "xprop")
    xvfb, wm, display = _start_desktop(tmp_path_factory.mktemp("x11"))
    try:
        yield display
    finally:
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
