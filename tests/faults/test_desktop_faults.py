"""The desktop misbehaves: no tray host at start, no notification service, the target
window closing before the text arrives, the X server going away."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from harness.daemon import wait_for_control
from harness.fake_speech import Behaviour
from harness.faults import FaultLab
from harness.procs import Proc, wait_for
from harness.textwin import TextWindow
from harness.tray import TrayHost

from voicetype.tray import TYPE_LAST

pytestmark = pytest.mark.desktop


def test_no_tray_host_at_start_icon_docks_when_one_starts(
    faults: FaultLab, tray_host: TrayHost, text_window: TextWindow
) -> None:
    tray_host.stop()
    try:
        daemon = faults.start(wait_ready=False)
        wait_for_control(daemon)
        daemon.wait_for_log("tray icon is up")
        assert daemon.state() == "idle"
        assert tray_host.icons() == []
        started = time.monotonic()
        tray_host.start()
        daemon.icon()  # docks by itself, bounded wait
        docked = time.monotonic() - started
    finally:
        tray_host.start()
    faults.prove_dictation(daemon, text_window, 1)
    assert faults.notifications.calls == []
    faults.record(
        "desktop: no tray host at start",
        told_s=None,
        ready_s=docked,
        recovered=True,
        notifications=0,
    )


def test_no_notification_service_falls_back_to_tooltip_and_log(
    faults: FaultLab, text_window: TextWindow
) -> None:
    daemon = faults.start()
    faults.service.always(Behaviour.http(429))
    with faults.notifications.without_server():
        text_window.focus()
        at = faults.press()
        line = daemon.wait_for_log("Azure is throttling requests (429)", 20)
        told = time.monotonic()
        assert line.endswith("(no notification service)"), line
        daemon.tray.wait_for_icon("voicetype — Error — Azure is throttling requests (429)")
        assert daemon.count_log("notification not shown") == 1
        daemon.wait_for_log("dictation #1 (hotkey): failed (throttled)")
        ready = time.monotonic()
        assert faults.notifications.calls == []
    faults.prove_dictation(daemon, text_window, 2)
    faults.record(
        "desktop: no notification service",
        told_s=told - at,
        ready_s=ready - at,
        recovered=True,
        notifications=1,
    )


def test_window_closes_before_the_text_arrives_text_is_kept(
    faults: FaultLab, text_window_factory: object, x_display: str
) -> None:
    make = text_window_factory
    assert callable(make)
    other: TextWindow = make(title="the other window")
    doomed: TextWindow = make(title="closes during the dictation")
    daemon = faults.start(
        config="[feedback]\nstart_sound = false\n[log]\ninclude_text = false\n"
        "[text]\njoin_seconds = 0\n"  # the window is cleared without a key (see TEST_CONFIG)
    )
    words = "kept safe, typed later"
    faults.service.always(Behaviour.say(words, answer_after=1.5, progress_every=0.3))
    doomed.focus()
    at = faults.press()
    faults.service.wait_for_audio(3200, timeout=10)
    doomed.close()
    call, told = faults.one_notification(daemon, 1, "kept (window closed)")
    ready = time.monotonic()
    assert call.summary == "The window closed before the text arrived"
    assert "Nothing was typed" in call.body and TYPE_LAST in call.body
    assert other.settle() == ""
    assert faults.ready(daemon) == "idle"

    # the user picks the window and the menu item
    other.focus()
    faults.notifications.clear()
    tray = daemon.tray
    tray.click_icon(daemon.icon())
    tray.click_menu_item(tray.wait_for_menu(), TYPE_LAST)
    assert other.wait_for_text(words, timeout=20) == words
    daemon.wait_for_log("type last dictation (menu): typed")
    tray.park_pointer()
    faults.prove_dictation(daemon, other, 2)
    faults.record(
        "desktop: target window closes before the text",
        told_s=told - at,
        ready_s=ready - at,
        recovered=True,
        notifications=1,
    )


def _private_xvfb(logs: Path) -> tuple[Proc, str]:
    for _ in range(5):
        display = f":{random.randrange(1000, 1900)}"
        if Path(f"/tmp/.X{display[1:]}-lock").exists():
            continue
        xvfb = Proc(
            ["Xvfb", display, "-screen", "0", "800x600x24", "-nolisten", "tcp"],
            log=logs / f"xvfb{display[1:]}.log",
        )

        def up(display: str = display, xvfb: Proc = xvfb) -> bool:
            env = {**os.environ, "DISPLAY": display}
            ok = subprocess.run(["xdpyinfo"], env=env, capture_output=True).returncode == 0
            return ok or not xvfb.alive()

        wait_for(up, 15, f"Xvfb {display}", 0.05)
        if xvfb.alive():
            return xvfb, display
    raise RuntimeError("could not start a private Xvfb")


def test_x_server_going_away_ends_the_daemon_cleanly(faults: FaultLab, tmp_path: Path) -> None:
    xvfb, display = _private_xvfb(tmp_path)
    try:
        daemon = faults.start(env={"DISPLAY": display}, wait_ready=False)
        wait_for_control(daemon)
        daemon.wait_for_log("tray icon is up")
        at = time.monotonic()
        os.kill(xvfb.pid, signal.SIGKILL)
        code = daemon.proc.popen.wait(20)
        gone = time.monotonic() - at
        daemon.stopped = True
    finally:
        xvfb.stop()
    output = daemon.output()
    assert code == 1, output
    assert gone < 5, gone
    assert "Traceback" not in output, output
    lost = [ln for ln in daemon.log().splitlines() if "went away" in ln]
    assert lost == [lost[0]] and f"the X display {display} went away" in lost[0], daemon.log()
    assert [ln for ln in output.splitlines() if " ERROR " in ln or "CRITICAL" in ln] == [lost[0]]
    faults.record(
        "desktop: X server killed (daemon exits 1)",
        told_s=gone,
        ready_s=None,
        recovered=False,
        notifications=0,
    )
