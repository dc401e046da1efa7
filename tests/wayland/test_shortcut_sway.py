"""The sway lines `voicetype shortcut` prints, bound in a real sway: a held hotkey runs
`start` on press and `stop` on release (whichever is released first: the key or the
modifiers), once each, and the focused window never sees the key."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from harness.procs import wait_for
from harness.sway import Sway, TextTarget

from voicetype.hotkeys import parse_hotkey
from voicetype.shortcut import shortcut_is_set, shortcut_text

pytestmark = pytest.mark.desktop


def test_sway_hold_binding_runs_start_then_stop(sway: Sway, sway_foot: TextTarget) -> None:
    calls = sway.workdir / f"calls-{os.getpid()}.txt"
    calls.touch()
    calls.chmod(0o666)
    fake = sway.workdir / "fake-voicetype"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    fake.chmod(0o755)
    text = shortcut_text("sway", parse_hotkey("<ctrl>+<alt>+<space>"), hold=True, exe=str(fake))
    lines = [line for line in text.splitlines() if line.startswith("bindsym")]
    assert len(lines) == 2
    for line in lines:
        assert sway.ipc(line) == [{"success": True}]
    env = {**os.environ, **sway.env}

    def wtype(*args: str) -> None:
        subprocess.run(["wtype", *args], env=env, check=True, timeout=10)

    def calls_now() -> list[str]:
        return Path(calls).read_text().split()

    try:
        hold = ["-M", "ctrl", "-M", "alt", "-P", "space", "-s", "300"]
        wtype(*hold, "-p", "space", "-m", "alt", "-m", "ctrl")
        wait_for(lambda: len(calls_now()) >= 2, 5, "start and stop")
        wtype(*hold, "-m", "alt", "-m", "ctrl", "-p", "space")
        wait_for(lambda: len(calls_now()) >= 4, 5, "the second start and stop")
        assert calls_now() == ["start", "stop", "start", "stop"]
        assert sway_foot.content() == ""  # the binding took the key from the window
    finally:
        for line in lines:
            unbind = "unbindsym" + line.removeprefix("bindsym").split(" exec ")[0]
            assert sway.ipc(unbind) == [{"success": True}], unbind


def test_doctor_sees_a_binding_in_the_loaded_sway_config(sway: Sway) -> None:
    def run(argv: list[str]) -> str:
        env = {**os.environ, **sway.env}
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=10).stdout

    assert shortcut_is_set("sway", run) is False
    original = sway.config.read_text()
    lines = shortcut_text("sway", parse_hotkey("<super>+<f9>"), hold=False)
    try:
        sway.config.write_text(original + lines + "\n")
        assert sway.ipc("reload") == [{"success": True}]
        assert shortcut_is_set("sway", run) is True
    finally:
        sway.config.write_text(original)
        sway.ipc("reload")
