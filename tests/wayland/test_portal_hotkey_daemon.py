"""The real daemon in a Wayland session whose GlobalShortcuts portal (the fake, on the
session bus with the notification server) takes its time to bind the hotkey, as a
desktop showing its dialog does: the daemon answers at once, `status` says the hotkey is
waiting and then names the bound trigger; a declined binding is told once, with the
fix."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.daemon import RunningDaemon, wait_for_control
from harness.fake_portal import FakePortal
from harness.procs import wait_for

pytestmark = pytest.mark.desktop

WAYLAND = {"XDG_SESSION_TYPE": "wayland", "XDG_CURRENT_DESKTOP": "KDE"}


@pytest.fixture
def bus_portal(notifications: Any) -> Iterator[FakePortal]:
    """The fake portal on the bus the daemon uses (the notification server's)."""
    portal = FakePortal(notifications.env["DBUS_SESSION_BUS_ADDRESS"])
    yield portal
    portal.stop()


def hotkey_status(daemon: RunningDaemon) -> str:
    return str(daemon.command("status")["status"]["hotkey"])


def test_the_daemon_answers_while_the_desktop_binds_the_hotkey(
    daemon_factory: Callable[..., RunningDaemon], bus_portal: FakePortal, artifacts: Path
) -> None:
    bus_portal.bind = "hold"
    began = time.monotonic()
    daemon = daemon_factory(env=WAYLAND, wait_ready=False)
    wait_for_control(daemon, timeout=20)
    answered = time.monotonic() - began
    assert "BindShortcuts" in bus_portal.members()
    assert "waiting for the desktop" in hotkey_status(daemon)
    daemon.icon()
    started = daemon.cli("dictate")  # commands work meanwhile
    assert started.returncode == 0 and "dictation started" in started.stdout, started
    assert daemon.cli("cancel").returncode == 0
    bus_portal.answer_bind(0)
    wait_for(lambda: "Ctrl+Alt+Space (bound" in hotkey_status(daemon), 5, "the bound hotkey")
    line = f"daemon start with the portal's binding held: status answered after {answered:.2f} s"
    print(line)
    (artifacts / "wayland_portal_hotkey_start.txt").write_text(line + "\n")
    assert daemon.quit() == 0


def test_a_declined_hotkey_is_told_once_with_the_fix(
    daemon_factory: Callable[..., RunningDaemon], bus_portal: FakePortal, notifications: Any
) -> None:
    bus_portal.bind = "hold"
    daemon = daemon_factory(env=WAYLAND)
    notifications.clear()
    bus_portal.answer_bind(1)
    wait_for(lambda: hotkey_status(daemon) == "unavailable", 5, "the hotkey to be unavailable")
    (told,) = notifications.wait_for(1)
    assert told.summary == "The global hotkey is not available"
    assert "declined" in told.body and "voicetype shortcut" in told.body
    time.sleep(0.5)  # what is asserted is that it is told only once
    assert len(notifications.calls) == 1
    assert daemon.quit() == 0
