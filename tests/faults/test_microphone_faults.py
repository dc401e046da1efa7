"""The microphone: none at start, the audio server dying mid-utterance, the chosen microphone
unplugged while listening. Each test runs a PulseAudio of its own (the session's one serves
the other tests) and brings it back to prove the next dictation works without restarting
voicetype."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from harness.daemon import TEST_CONFIG
from harness.fake_speech import Behaviour
from harness.faults import HOTKEY, FaultLab
from harness.procs import wait_for
from harness.pulse import PulseAudio, start_pulseaudio
from harness.speech import SpeechWavs
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


def xdotool(lab: FaultLab, *args: str) -> None:
    env = {**os.environ, "DISPLAY": lab.x_display}
    subprocess.run(["xdotool", *args], env=env, check=True, timeout=10)


def plug_in(pulse: PulseAudio, name: str) -> None:
    """The headset's source (a virtual source on the monitor of ``<name>_air``)."""
    pulse.pactl(
        "load-module",
        "module-virtual-source",
        f"source_name={name}",
        f"master={name}_air.monitor",
        "source_properties=device.description=USB_Headset",
    )


def unplug(pulse: PulseAudio, name: str) -> None:
    """Remove the headset's source as a USB unplug does (PulseAudio moves its streams)."""
    modules = pulse.pactl("list", "short", "modules").splitlines()
    (module,) = [m.split()[0] for m in modules if f"source_name={name} " in m + " "]
    pulse.pactl("unload-module", module)


def hold_and_speak(
    lab: FaultLab, pulse: PulseAudio, wav: Path, sink: str
) -> subprocess.Popen[bytes]:
    """Hold the hotkey and play ``wav`` into ``sink`` once the capture runs."""
    xdotool(lab, "keydown", HOTKEY)
    return pulse.play(wav, wait_for_capture=10, sink=sink)


def test_chosen_microphone_unplugged_while_listening(
    faults: FaultLab, text_window: TextWindow, speech_wavs: SpeechWavs, tmp_path: Path
) -> None:
    """A USB headset chosen in ``[audio] device`` is unplugged in the middle of a
    push-to-talk sentence. Old code: PulseAudio moved the capture to the default input and
    nothing was said; the dictation went on from another microphone until the release.
    Now: listening stops, what was heard is typed, one notification names the headset;
    the next dictation uses the default input (no second notification), and the headset
    once it is back."""
    pulse = start_pulseaudio(tmp_path / "own-pulse")
    try:
        pulse.add_microphone("vt_usb", "USB Headset")
        daemon = faults.start(config=TEST_CONFIG + '\n[audio]\ndevice = "vt_usb"\n', env=pulse.env)
        heard = "Heard before the unplug."
        faults.service.always(Behaviour.continuous(heard, silence=0.4, progress_every=0.2))
        text_window.focus()
        at = time.monotonic()
        player = hold_and_speak(faults, pulse, speech_wavs.phrase, "vt_usb_air")
        try:
            faults.service.wait_for_audio(32_000, timeout=10)  # ~1 s of the sentence
            unplugged = time.monotonic()
            unplug(pulse, "vt_usb")
            calls = faults.notifications.wait_for(1, 10)
            told = time.monotonic()
            assert calls[0].summary == "The microphone “USB_Headset” was disconnected"
            assert "default input" in calls[0].body
            wait_for(lambda: pulse.capture_streams() == [], 5, "the microphone to close")
            assert daemon.state() != "listening"
        finally:
            xdotool(faults, "keyup", HOTKEY)
            player.kill()
            player.wait(5)
        assert text_window.wait_for_text(heard, timeout=10) == heard
        daemon.wait_for_log("dictation #1 (hotkey): typed", 10)
        assert len(faults.notifications.calls) == 1
        assert faults.ready(daemon) == "idle"

        faults.prove_dictation(daemon, text_window, 2)  # the default input, no note

        plug_in(pulse, "vt_usb")
        back = "Back on the headset."
        faults.service.always(Behaviour.continuous(back, silence=0.4))
        text_window.clear()
        text_window.focus()
        player = hold_and_speak(faults, pulse, speech_wavs.phrase, "vt_usb_air")
        try:
            player.wait(15)  # only the headset hears it: the default gets silence
            wait_for(lambda: faults.service.last_turn.phrases_sent, 10, "the phrase")
        finally:
            xdotool(faults, "keyup", HOTKEY)
        assert text_window.wait_for_text(back, timeout=10) == back
        daemon.wait_for_log("dictation #3 (hotkey): typed", 10)
        assert faults.notifications.calls == []
    finally:
        pulse.proc.stop()
    faults.record(
        "microphone: chosen one unplugged while listening",
        told_s=told - unplugged,
        ready_s=told - at,
        recovered=True,
        notifications=1,
    )
