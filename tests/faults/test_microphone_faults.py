"""The microphone: none at start, and the audio server dying mid-utterance. Each test runs
a PulseAudio of its own (the session's one serves the other tests) and brings it back to
prove the next dictation works without restarting voicetype."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from harness.fake_speech import Behaviour
from harness.faults import FaultLab
from harness.pulse import start_pulseaudio
from harness.textwin import TextWindow

pytestmark = pytest.mark.desktop

NO_MIC = "No microphone available"


def test_no_microphone_at_start_then_one_appears(
    faults: FaultLab, text_window: TextWindow, tmp_path: Path
) -> None:
    base = tmp_path / "pulse-later"
    runtime = base / "runtime"
    runtime.mkdir(parents=True, mode=0o700)
    daemon = faults.start(env={"PULSE_SERVER": f"unix:{runtime / 'native'}"})
    (note,) = faults.notifications.wait_for(1, 20)
    assert note.summary == NO_MIC
    assert "default input" in note.body
    assert daemon.count_log("microphone probe") == 1
    assert daemon.state() == "idle"

    faults.notifications.clear()
    faults.service.always(Behaviour.say("unheard", answer_after=0.3))
    text_window.focus()
    at = faults.press()
    call, told = faults.one_notification(daemon, 1, "failed (microphone_unavailable)")
    ready = time.monotonic()
    assert call.summary == NO_MIC
    assert faults.service.connections == []
    assert text_window.content() == ""

    pulse = start_pulseaudio(base, runtime)
    try:
        faults.prove_dictation(daemon, text_window, 2)
    finally:
        pulse.proc.stop()
    faults.record(
        "microphone: none at start, appears later",
        told_s=told - at,
        ready_s=ready - at,
        recovered=True,
        notifications=2,
    )


def test_audio_server_dies_mid_utterance_and_comes_back(
    faults: FaultLab, text_window: TextWindow, tmp_path: Path
) -> None:
    base = tmp_path / "own-pulse"
    pulse = start_pulseaudio(base)
    try:
        daemon = faults.start(env=pulse.env)
        faults.service.always(Behaviour.say("never finished", answer_after=4.0))
        text_window.focus()
        at = faults.press()
        pulse.wait_for_capture(10)
        faults.service.wait_for_audio(8000, timeout=10)
        pulse.proc.stop()
        call, told = faults.one_notification(daemon, 1, "failed (", timeout=25)
        ready = time.monotonic()
        assert call.summary == "No microphone available", call
        assert text_window.content() == ""
        assert faults.ready(daemon) in ("idle", "error")
        pulse = start_pulseaudio(base)
        faults.prove_dictation(daemon, text_window, 2)
    finally:
        pulse.proc.stop()
    faults.record(
        "microphone: audio server dies mid-utterance",
        told_s=told - at,
        ready_s=ready - at,
        recovered=True,
        notifications=1,
    )
