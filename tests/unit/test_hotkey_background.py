"""A hotkey listener that binds in the background (the GlobalShortcuts portal, whose
desktop may show a dialog): the daemon is built without waiting, `status` follows the
binding, and a failure is told once, also when it comes before the daemon exists."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.fakes import Lab

from voicetype.app import Daemon, assemble
from voicetype.config import load_config
from voicetype.errors import BackendUnavailable
from voicetype.hotkeys import Hotkey


class SlowHotkeys:
    """Binds only when the test calls ``settle``."""

    def __init__(self, hotkey: Hotkey, early: BackendUnavailable | None = None) -> None:
        self.hotkey = hotkey
        self.trigger = "Ctrl+Alt+Space"
        self.early = early
        self.settled: Callable[[BackendUnavailable | None], None] | None = None
        self.stopped = False

    def start(self) -> None:
        raise AssertionError("start would block the daemon's start")

    def start_in_background(self, settled: Callable[[BackendUnavailable | None], None]) -> None:
        self.settled = settled
        if self.early is not None:
            settled(self.early)  # settled before the daemon exists

    def stop(self) -> None:
        self.stopped = True


def daemon_with(
    tmp_path: Path, early: BackendUnavailable | None = None
) -> tuple[Daemon, Lab, list[SlowHotkeys]]:
    path = tmp_path / "config.toml"
    path.write_text('[azure]\nkey = "k"\nregion = "westeurope"\n', "utf-8")
    path.chmod(0o600)
    lab = Lab()
    made: list[SlowHotkeys] = []

    def hotkeys(hotkey: Hotkey, *_: Any) -> SlowHotkeys:
        made.append(SlowHotkeys(hotkey, early))
        return made[-1]

    daemon, _problems = assemble(load_config(path, {}), replace(lab.makers(), hotkeys=hotkeys))
    assert daemon.start() == []
    return daemon, lab, made


def hotkey_status(d: Daemon) -> str:
    done = threading.Event()
    d.controller.submit_call(done.set)
    assert done.wait(5)
    result = d.command("status", time.monotonic() + 1)["status"]
    assert isinstance(result, dict)
    return str(result["hotkey"])


def test_status_follows_a_binding_that_completes_later(tmp_path: Path) -> None:
    daemon, lab, made = daemon_with(tmp_path)
    try:
        assert hotkey_status(daemon) == "Ctrl+Alt+Space: waiting for the desktop to bind it"
        assert made[0].settled is not None
        made[0].settled(None)
        assert hotkey_status(daemon) == "Ctrl+Alt+Space (bound by the desktop)"
        assert lab.notes.calls == []
    finally:
        daemon.quit()
        daemon.shutdown()
    assert made[0].stopped


def test_a_failure_before_the_daemon_exists_is_told_once(tmp_path: Path) -> None:
    refused = BackendUnavailable(
        "you declined voicetype's global shortcut", "run `voicetype shortcut`"
    )
    daemon, lab, _made = daemon_with(tmp_path, early=refused)
    try:
        assert hotkey_status(daemon) == "unavailable"
        ((summary, body, _urgency),) = lab.notes.calls
        assert summary == "The global hotkey is not available"
        assert "declined" in body and "voicetype shortcut" in body
    finally:
        daemon.quit()
        daemon.shutdown()
