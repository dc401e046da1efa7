"""The microphone probe runs in a child process: this process's stderr stays its own, the
child's noise goes nowhere, and a child that hangs is bounded. The child here is a stand-in
script (the real one, with the SDK, is in tests/integration/test_azure_microphone.py)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from voicetype.recognition import ErrorKind, Failed
from voicetype.recognition.microphone import parse_answer, probe_microphone

NO_MIC = '{"kind": "microphone_unavailable", "detail": "(SPXERR_MIC_NOT_AVAILABLE)"}'


def _fake_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(script))


def _wait_for(path: Path, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_the_daemons_stderr_survives_a_probe_and_the_childs_noise_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    started, go = tmp_path / "started", tmp_path / "go"
    _fake_child(
        tmp_path,
        monkeypatch,
        f"echo 'ALSA lib pcm.c: Unknown PCM default' >&2\ntouch {started}\n"
        f"while [ ! -e {go} ]; do sleep 0.01; done\necho '{NO_MIC}'",
    )
    result: list[Failed | None] = []
    worker = threading.Thread(target=lambda: result.append(probe_microphone(timeout=10)))
    worker.start()
    _wait_for(started)
    os.write(2, b"another thread's error line\n")  # e.g. a traceback while the probe runs
    go.touch()
    worker.join(timeout=15)
    assert result == [Failed(ErrorKind.MICROPHONE_UNAVAILABLE, "(SPXERR_MIC_NOT_AVAILABLE)")]
    err = capfd.readouterr().err
    assert "another thread's error line" in err
    assert "ALSA" not in err


def test_a_microphone_that_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_child(tmp_path, monkeypatch, "echo '{}'")
    assert probe_microphone() is None


def test_a_hung_audio_system_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_child(tmp_path, monkeypatch, "exec sleep 30")
    start = time.monotonic()
    assert probe_microphone(timeout=0.3) == Failed(
        ErrorKind.MICROPHONE_UNAVAILABLE,
        "the audio system did not open the default microphone within 0.3 s",
    )
    assert time.monotonic() - start < 5


def test_a_child_that_dies_is_logged_not_blamed_on_the_microphone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _fake_child(tmp_path, monkeypatch, "exit 3")
    with caplog.at_level(logging.WARNING):
        assert probe_microphone() is None
    assert "microphone probe failed (exit status 3)" in caplog.text


@pytest.mark.parametrize("text", ["", "garbage", "[]", '{"kind": "no_such_kind"}'])
def test_answers_that_are_not_answers(text: str) -> None:
    with pytest.raises(ValueError):
        parse_answer(text)


def test_the_last_line_is_the_answer() -> None:
    assert parse_answer("stray output\n{}\n") is None
