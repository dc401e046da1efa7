"""Recognition from the default microphone: the PulseAudio virtual source, and no audio server."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
import wave
from pathlib import Path

import pytest
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.pulse import PulseAudio
from harness.speech import SpeechWavs

from voicetype.config import AzureConfig
from voicetype.recognition import ErrorKind, Failed, Microphone, Recognized
from voicetype.recognition.azure import AzureRecognizer


def _pcm(wav: Path) -> bytes:
    with wave.open(str(wav)) as w:
        return w.readframes(w.getnframes())


@pytest.mark.audio
def test_default_microphone_reaches_the_service(
    pulse_audio: PulseAudio,
    pulse_env: dict[str, str],
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
) -> None:
    speech = _pcm(speech_wavs.phrase)
    seconds = len(speech) / 32_000
    # The SDK never ends microphone audio itself: the fake answers once it holds the phrase
    # plus a margin, like the real service after the end silence.
    speech_service.always(
        Behaviour.say("Grüße aus dem Mikrofon", answer_after=seconds + 1.0, progress_every=0.5)
    )
    recognizer = AzureRecognizer(fake_azure)
    outcome: list[object] = []
    worker = threading.Thread(
        target=lambda: outcome.append(recognizer.recognize_once(Microphone()))
    )
    worker.start()
    try:
        player = pulse_audio.play(speech_wavs.phrase, wait_for_capture=10)
        assert player.wait(timeout=15) == 0, player.stderr.read() if player.stderr else ""
    finally:
        worker.join(timeout=20)
        recognizer.close()
    assert not worker.is_alive()
    assert outcome == [Recognized("Grüße aus dem Mikrofon")]
    turn = speech_service.last_turn
    # The capture is bit-exact: a slice of the phrase from its middle is in what the fake got.
    middle = len(speech) // 2 & ~1
    assert speech[middle : middle + 6400] in turn.pcm
    assert not pulse_audio.capture_streams(), "the microphone stayed open after recognition"


def test_no_audio_server_means_microphone_unavailable(tmp_path: Path) -> None:
    # In a subprocess: the SDK's audio backend reads the environment once per process.
    code = textwrap.dedent(
        """
        from voicetype.config import AzureConfig
        from voicetype.recognition import Microphone
        from voicetype.recognition.azure import AzureRecognizer
        r = AzureRecognizer(AzureConfig(key="k" * 32, host="ws://127.0.0.1:9"))
        result = r.recognize_once(Microphone())
        print(result.kind.name, "|", result.detail)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "XDG_RUNTIME"))}
    env.update(PULSE_SERVER=f"unix:{tmp_path}/nothing-here", XDG_RUNTIME_DIR=str(tmp_path))
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    elapsed = time.monotonic() - start
    assert out.returncode == 0, out.stderr
    kind, _, detail = out.stdout.strip().partition(" | ")
    assert ErrorKind[kind] is ErrorKind.MICROPHONE_UNAVAILABLE, out.stdout + out.stderr
    assert "SPXERR_MIC_NOT_AVAILABLE" in detail
    assert elapsed < 10


@pytest.mark.audio
def test_silent_service_on_the_microphone_times_out_and_releases_it(
    pulse_audio: PulseAudio,
    pulse_env: dict[str, str],
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
) -> None:
    speech_service.always(Behaviour.silent(turn_start=True))
    recognizer = AzureRecognizer(fake_azure)
    try:
        start = time.monotonic()
        result = recognizer.recognize_once(Microphone())
        elapsed = time.monotonic() - start
    finally:
        recognizer.close()
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.SERVICE_TIMEOUT
    assert fake_azure.timeout_seconds <= elapsed < fake_azure.timeout_seconds + 1.5
    assert speech_service.last_turn.audio_bytes > 0  # the microphone was streaming
    assert not pulse_audio.capture_streams(), "the microphone stayed open after the timeout"


def test_the_probe_child_names_the_missing_microphone_and_keeps_its_noise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from voicetype.recognition.microphone import probe_microphone

    for name in [k for k in os.environ if k.startswith("PULSE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/nothing-here")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    start = time.monotonic()
    failure = probe_microphone()
    elapsed = time.monotonic() - start
    assert failure is not None and failure.kind is ErrorKind.MICROPHONE_UNAVAILABLE
    assert "SPXERR_MIC_NOT_AVAILABLE" in failure.detail
    assert capfd.readouterr().err == ""  # the SDK's ALSA/JACK noise stayed in the child
    assert elapsed < 10


@pytest.mark.audio
def test_the_probe_child_opens_the_virtual_microphone(pulse_env: dict[str, str]) -> None:
    from voicetype.recognition.microphone import probe_microphone

    assert probe_microphone() is None  # pulse_env put the virtual microphone in os.environ
