"""The speech service misbehaves: each fault is injected through the fake service (or a
dead address) while the real daemon dictates; the user gets one notification naming the
cause, nothing is typed, and the next dictation works."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.faults import FaultLab
from harness.procs import free_port
from harness.textwin import TextWindow

pytestmark = pytest.mark.desktop

CONNECTION = "Could not reach the speech service"
PHRASE_FRAME = "Path: speech.phrase\r\nX-RequestId: {id}\r\nContent-Type: application/json\r\n\r\n"


def _check(
    lab: FaultLab,
    window: TextWindow,
    fault: str,
    behaviour: Behaviour,
    summary: str,
    outcome: str,
    *,
    within: float = 20.0,
) -> None:
    daemon = lab.start()
    lab.service.always(behaviour)
    window.focus()
    at = lab.press()
    call, told = lab.one_notification(daemon, 1, outcome, timeout=within + 5)
    ready = time.monotonic()
    assert call.summary == summary, call
    assert told - at < within, f"told after {told - at:.1f} s"
    assert window.content() == ""
    assert lab.ready(daemon) in ("idle", "error")
    took = lab.prove_dictation(daemon, window, 2)
    lab.record(fault, told_s=told - at, ready_s=ready - at, recovered=took > 0, notifications=1)


@pytest.mark.parametrize(
    ("status", "summary", "outcome"),
    [
        (401, "Azure rejected the key (401)", "failed (authentication)"),
        (403, "Azure refused the request (403)", "failed (forbidden)"),
        (429, "Azure is throttling requests (429)", "failed (throttled)"),
        (500, "The speech service failed", "failed (service_error)"),
        (503, "The speech service is unavailable (503)", "failed (service_unavailable)"),
    ],
)
def test_http_refusal(
    faults: FaultLab, text_window: TextWindow, status: int, summary: str, outcome: str
) -> None:
    _check(faults, text_window, f"service: HTTP {status}", Behaviour.http(status), summary, outcome)


@pytest.mark.parametrize(
    ("status", "summary", "outcome"),
    [
        ("TooManyRequests", "Azure is throttling requests (429)", "failed (throttled)"),
        ("Error", "The speech service failed", "failed (service_error)"),
    ],
)
def test_in_band_error_status(
    faults: FaultLab, text_window: TextWindow, status: str, summary: str, outcome: str
) -> None:
    behaviour = replace(Behaviour.status(status), trigger="first_audio")
    _check(faults, text_window, f"service: status {status}", behaviour, summary, outcome)


def test_connection_dropped_mid_utterance(faults: FaultLab, text_window: TextWindow) -> None:
    _check(
        faults,
        text_window,
        "service: connection dropped mid-utterance",
        Behaviour.drop(after_bytes=8000),
        CONNECTION,
        "failed (connection_failure)",
    )


def test_silent_service_times_out_within_10_s(faults: FaultLab, text_window: TextWindow) -> None:
    """Default settings (timeout_seconds 8): the user hears back within 10 s of the press."""
    _check(
        faults,
        text_window,
        "service: accepts, never answers",
        Behaviour.silent(turn_start=True),
        "The speech service stopped answering",
        "failed (service_timeout)",
        within=10.0,
    )


@pytest.mark.parametrize(
    ("name", "frames"),
    [
        ("garbage frame", ("this is not USP at all",)),
        ("truncated JSON", (PHRASE_FRAME + '{"RecognitionStatus": "Succ',)),
        ("binary junk", (b"\x00\x07garbage",)),
    ],
)
def test_invalid_answer(
    faults: FaultLab, text_window: TextWindow, name: str, frames: tuple[str | bytes, ...]
) -> None:
    daemon = faults.start()
    faults.service.always(replace(Behaviour.raw(*frames), trigger="first_audio"))
    text_window.focus()
    at = faults.press()
    call, told = faults.one_notification(daemon, 1, "failed (", timeout=20)
    assert told - at < 12
    assert call.summary in (
        "The speech service failed",
        "The speech service stopped answering",
        CONNECTION,
    ), call
    assert text_window.content() == ""
    faults.ready(daemon)
    ready = time.monotonic()
    faults.prove_dictation(daemon, text_window, 2)
    faults.record(
        f"service: invalid answer ({name})",
        told_s=told - at,
        ready_s=ready - at,
        recovered=True,
        notifications=1,
    )


def test_connection_refused_then_the_service_comes_back(
    faults: FaultLab, text_window: TextWindow
) -> None:
    port = free_port()
    key = faults.service.key
    daemon = faults.start(
        service=False,
        env={"AZURE_AI_SPEECH_HOST": f"ws://127.0.0.1:{port}", "AZURE_AI_SPEECH_KEY": key},
    )
    text_window.focus()
    at = faults.press()
    call, told = faults.one_notification(daemon, 1, "failed (connection_failure)")
    ready = time.monotonic()
    assert call.summary == CONNECTION
    assert "`region` (or `host`)" in call.body
    assert text_window.content() == ""
    faults.ready(daemon)
    with FakeSpeechService(key=key, port=port) as back:
        faults.prove_dictation(daemon, text_window, 2, service=back)
    faults.record(
        "service: connection refused",
        told_s=told - at,
        ready_s=ready - at,
        recovered=True,
        notifications=1,
    )
