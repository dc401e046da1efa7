"""The stop sound (``[feedback] stop_sound``) really plays when listening ends, and nothing
plays with ``stop_sound = false``: the real daemon with a PulseAudio of its own, whose
speakers (the null sink ``vt_speaker``; its only other input is digital silence) are
recorded through their monitor with ``parec`` while a dictation runs. What was recorded is
compared with the shipped ``stop.wav`` (and ``start.wav``, which must not be what plays).
"""

from __future__ import annotations

import math
import os
import subprocess
from array import array
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.daemon import TEST_CONFIG, RunningDaemon
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.faults import press
from harness.procs import require, wait_for
from harness.pulse import SINK, start_pulseaudio
from harness.textwin import TextWindow

from voicetype.resources import asset_path

pytestmark = pytest.mark.desktop

RATE = 16_000
AUDIBLE = 64  # |sample| above this is sound (the sink's other input is exact zeros)


def samples_of(raw: bytes) -> list[int]:
    out = array("h")
    out.frombytes(raw[: len(raw) & ~1])
    return list(out)


def reference(name: str, tmp: Path) -> list[int]:
    """The shipped sound as the 16 kHz mono sink plays it."""
    out = tmp / f"{name}.raw"
    subprocess.run(
        ["sox", str(asset_path(name)), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed",
         "-t", "raw", str(out)],
        check=True, timeout=20,
    )  # fmt: skip
    return samples_of(out.read_bytes())


def bursts(samples: list[int], gap: int = RATE // 10) -> list[tuple[int, int]]:
    """(start, end) of each run of sound, runs closer than ``gap`` samples joined."""
    out: list[tuple[int, int]] = []
    for i, s in enumerate(samples):
        if abs(s) > AUDIBLE:
            if out and i - out[-1][1] <= gap:
                out[-1] = (out[-1][0], i + 1)
            else:
                out.append((i, i + 1))
    return out


def likeness(recorded: list[int], ref: list[int]) -> float:
    """The best normalized correlation of ``ref`` slid over ``recorded`` (1.0 = the same
    waveform, any volume)."""
    ref_norm = math.sqrt(sum(r * r for r in ref)) or 1.0
    best = 0.0
    for lag in range(0, max(1, len(recorded) - len(ref) + 1)):
        window = recorded[lag : lag + len(ref)]
        norm = math.sqrt(sum(w * w for w in window)) or 1.0
        dot = sum(w * r for w, r in zip(window, ref, strict=False))
        best = max(best, dot / (norm * ref_norm))
    return best


@pytest.mark.parametrize("stop_sound", [True, False])
def test_stop_sound_plays_once_when_listening_ends_and_only_when_asked(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    text_window: TextWindow,
    x_display: str,
    tmp_path: Path,
    stop_sound: bool,
) -> None:
    require("parec", "sox")
    pulse = start_pulseaudio(tmp_path / "pulse")
    recorder = None
    try:
        config = TEST_CONFIG.replace(
            "stop_sound = false", f"stop_sound = {str(stop_sound).lower()}"
        )
        daemon = daemon_factory(config=config, env=pulse.env)
        recording = tmp_path / "speakers.raw"
        recorder = subprocess.Popen(
            ["parec", "-d", f"{SINK}.monitor", "--raw", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=20"],
            env={**os.environ, **pulse.env}, stdout=recording.open("wb"),
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        speech_service.always(Behaviour.say("Sound check.", answer_after=0.3))
        text_window.focus()
        press(x_display)
        assert text_window.wait_for_text("Sound check.", timeout=20) == "Sound check."
        line = daemon.wait_for_log("dictation #1 (hotkey): typed", 10)
        # another second of the speakers recorded: the sound (0.14 s) is in it if it played
        ended_at = recording.stat().st_size
        wait_for(lambda: recording.stat().st_size >= ended_at + 2 * RATE, 10, "1 s recorded")
    finally:
        if recorder is not None:
            recorder.terminate()
            recorder.wait(5)
        pulse.proc.stop()
    heard = samples_of(recording.read_bytes())
    assert len(heard) > RATE  # the recorder ran throughout
    found = bursts(heard)
    if not stop_sound:
        assert found == [], f"something played: {found}"
        return
    assert len(found) == 1, f"expected one sound, got {found} ({line})"
    start, end = found[0]
    stop_ref, start_ref = reference("stop.wav", tmp_path), reference("start.wav", tmp_path)
    assert abs((end - start) - len(stop_ref)) < RATE // 20  # ~0.14 s
    segment = heard[max(0, start - 400) : end + 400]
    stop_like, start_like = likeness(segment, stop_ref), likeness(segment, start_ref)
    print(
        f"stop sound: {end - start} samples, likeness stop {stop_like:.3f} start {start_like:.3f}"
    )
    assert stop_like > 0.9 and stop_like > start_like + 0.1
