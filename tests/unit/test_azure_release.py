"""``recognition.sdk_release.release_when_idle``: a finished recognition's SDK objects
are dropped only after the SDK reported its session's end (asked for when it does not come
by itself), its connection's end and a quiet time without callbacks; never while it runs.
Fake SDK objects: the real SDK's race (1 in ~25-60 recognitions) cannot be provoked on
demand; tests/integration/test_azure_recognizer.py runs the real one."""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

import pytest

from voicetype.recognition import sdk_gate, sdk_release
from voicetype.recognition.sdk_release import Run


class Signal:
    def __init__(self) -> None:
        self.callbacks: list[Any] = []

    def connect(self, callback: Any) -> None:
        self.callbacks.append(callback)

    def disconnect_all(self) -> None:
        self.callbacks.clear()

    def fire(self) -> None:
        for callback in list(self.callbacks):
            callback(None)


class Future:
    def __init__(self, action: Any) -> None:
        self._action = action

    def get(self) -> None:
        self._action()


class FakeRecognizer:
    """Reports its session's end only when asked to stop (``stops``), like the SDK's stuck
    one-shot session; ``stuck`` never ends at all."""

    def __init__(self, run: Run, stops: bool = True) -> None:
        self.session_started = Signal()
        self.session_stopped = Signal()
        self.speech_start_detected = Signal()
        self.speech_end_detected = Signal()
        self.recognizing = Signal()
        self.stop_requests = 0
        self._stops = stops
        self.session_stopped.connect(run.gate.wrap(run.stop))

    def stop_continuous_recognition_async(self) -> Future:
        self.stop_requests += 1
        return Future(self.session_stopped.fire if self._stops else lambda: None)


class FakeConnection:
    def __init__(self, run: Run) -> None:
        self.connected = Signal()
        self.disconnected = Signal()
        self.disconnected.connect(run.gate.wrap(run.disconnect))
        self.closed = 0

    def close(self) -> None:
        self.closed += 1
        self.disconnected.fire()


def make() -> tuple[Run, list[Any], weakref.ref[Any]]:
    run = Run(threading.Condition(), time.monotonic())
    recognizer = FakeRecognizer(run)
    box: list[Any] = [recognizer, FakeConnection(run)]
    return run, box, weakref.ref(recognizer)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk_release, "_STOPPED_GRACE_SECONDS", 0.1)


def test_a_session_that_ended_by_itself_is_dropped_without_a_stop() -> None:
    run, box, gone = make()
    recognizer = box[0]
    recognizer.session_stopped.fire()
    del recognizer
    sdk_release.release_when_idle(box, run)
    assert box == [] and gone() is None


def test_a_session_that_never_reports_its_end_is_stopped_then_dropped() -> None:
    run, box, gone = make()
    recognizer, connection = box
    began = time.monotonic()
    sdk_release.release_when_idle(box, run)
    assert recognizer.stop_requests == 1 and connection.closed == 1
    assert run.stopped and run.disconnected
    assert box == [] and time.monotonic() - began < 2
    del recognizer, connection
    assert gone() is None


def test_a_session_that_never_ends_is_kept_for_the_life_of_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sdk_release, "STOP_GRACE_SECONDS", 0.2)
    kept: list[Any] = []
    monkeypatch.setattr(sdk_gate, "_KEPT", kept)
    run = Run(threading.Condition(), time.monotonic())
    recognizer = FakeRecognizer(run, stops=False)
    box: list[Any] = [recognizer, FakeConnection(run)]
    sdk_release.release_when_idle(box, run)
    assert kept == [box] and box[0] is recognizer  # never destroyed
    assert recognizer.stop_requests == 1
