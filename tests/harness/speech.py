"""Fixtures for speech: the fake speech service and speech WAV files.

- ``speech_service`` (function): a started ``FakeSpeechService`` on its own free port,
  stopped after the test. Script it with ``speech_service.script(Behaviour…)`` or
  ``.always(…)``; point the SDK at it with ``speech_service.url``/``.key``, or a subprocess
  with ``speech_service.env()``.
- ``fake_azure`` (function): an ``AzureConfig`` for that service (``timeout_seconds`` 3).
- ``speech_wavs`` (session): ``SpeechWavs`` made with espeak-ng + sox (16 kHz mono 16-bit):
  ``phrase`` (~2.8 s of speech), ``silence`` (1 s), and ``make(name, text)`` for more.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import require
from voicetype.config import AzureConfig

PHRASE_TEXT = "the quick brown fox jumps over the lazy dog"


def make_speech_wav(text: str, out: Path, *, voice: str = "en-us") -> Path:
    """Speak ``text`` with espeak-ng into ``out`` as a 16 kHz mono 16-bit PCM WAV."""
    require("espeak-ng", "sox")
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True, timeout=60)
    subprocess.run(
        ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out)],
        check=True,
        timeout=60,
    )
    raw.unlink()
    return out


def make_silence_wav(out: Path, seconds: float) -> Path:
    require("sox")
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(out), "trim", "0", str(seconds)],
        check=True,
        timeout=60,
    )
    return out


@dataclass(frozen=True)
class SpeechWavs:
    directory: Path
    phrase: Path
    phrase_text: str
    silence: Path

    def make(self, name: str, text: str) -> Path:
        """Another speech WAV in the session directory (cached by ``name``)."""
        out = self.directory / f"{name}.wav"
        return out if out.exists() else make_speech_wav(text, out)


@pytest.fixture(scope="session")
def speech_wavs(tmp_path_factory: pytest.TempPathFactory) -> SpeechWavs:
    directory = tmp_path_factory.mktemp("speech-wavs")
    return SpeechWavs(
        directory=directory,
        phrase=make_speech_wav(PHRASE_TEXT, directory / "phrase.wav"),
        phrase_text=PHRASE_TEXT,
        silence=make_silence_wav(directory / "silence.wav", 1.0),
    )


@pytest.fixture
def speech_service() -> Iterator[FakeSpeechService]:
    service = FakeSpeechService(default=Behaviour.say("")).start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def fake_azure(speech_service: FakeSpeechService) -> AzureConfig:
    return AzureConfig(key=speech_service.key, host=speech_service.url, timeout_seconds=3.0)
