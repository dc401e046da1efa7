"""``AzureRecognizer`` through the real Speech SDK against the fake speech service."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import pytest
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import free_port
from harness.speech import SpeechWavs

from voicetype.config import AzureConfig
from voicetype.recognition import (
    ErrorKind,
    Failed,
    NoMatch,
    NoMatchReason,
    RecognitionResult,
    Recognized,
    WavFile,
)
from voicetype.recognition.azure import AzureRecognizer
from voicetype.recognition.sdk_gate import QUIET_SECONDS


def recognize(config: AzureConfig, wav: Path) -> tuple[RecognitionResult, float]:
    recognizer = AzureRecognizer(config)
    try:
        start = time.monotonic()
        result = recognizer.recognize_once(WavFile(wav))
        return result, time.monotonic() - start
    finally:
        recognizer.close()


def assert_failed(result: RecognitionResult, kind: ErrorKind, key: str) -> Failed:
    assert isinstance(result, Failed), result
    assert result.kind is kind, result
    assert result.detail, "the SDK's words are missing"
    assert key not in result.detail
    return result


TEXTS = [
    "Crème brûlée à 5 € pour Zoë",
    "你好，世界。日本語のテキスト",
    "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇩🇪",
    "two\nlines\twith tab",
]


@pytest.mark.parametrize("text", TEXTS, ids=["accents", "cjk", "emoji", "newline"])
def test_text_arrives_exactly_and_the_audio_reached_the_service(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs, text: str
) -> None:
    speech_service.always(Behaviour.say(text, hypotheses=[text[:3]]))
    result, elapsed = recognize(fake_azure, speech_wavs.phrase)
    assert isinstance(result, Recognized), result
    assert result.text.encode() == text.encode()
    assert elapsed < 5
    (conn,) = speech_service.connections
    assert conn.path == "/speech/recognition/interactive/cognitiveservices/v1"
    assert conn.query["language"] == "en-US"
    assert conn.header("Ocp-Apim-Subscription-Key") == speech_service.key
    (turn,) = conn.turns
    assert turn.end_of_audio
    assert turn.pcm == speech_wavs.phrase.read_bytes()[44:]
    assert turn.answered_at is not None


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("NoMatch", NoMatchReason.NOT_RECOGNIZED),
        ("InitialSilenceTimeout", NoMatchReason.INITIAL_SILENCE_TIMEOUT),
        ("BabbleTimeout", NoMatchReason.INITIAL_BABBLE_TIMEOUT),
    ],
)
def test_no_match_reasons(
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
    status: str,
    reason: NoMatchReason,
) -> None:
    speech_service.always(Behaviour.status(status))
    result, elapsed = recognize(fake_azure, speech_wavs.silence)
    assert isinstance(result, NoMatch)
    assert result.reason is reason
    assert elapsed < 5


def test_empty_text_is_no_match(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.say(""))
    result, _ = recognize(fake_azure, speech_wavs.phrase)
    assert isinstance(result, NoMatch)
    assert result.reason is NoMatchReason.NOT_RECOGNIZED


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("Error", ErrorKind.SERVICE_ERROR),
        ("TooManyRequests", ErrorKind.THROTTLED),
        ("BadRequest", ErrorKind.BAD_REQUEST),
        ("Forbidden", ErrorKind.FORBIDDEN),
        ("ServiceUnavailable", ErrorKind.SERVICE_UNAVAILABLE),
    ],
)
def test_error_statuses_in_the_answer(
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
    status: str,
    kind: ErrorKind,
) -> None:
    speech_service.always(Behaviour.status(status))
    result, elapsed = recognize(fake_azure, speech_wavs.silence)
    assert_failed(result, kind, speech_service.key)
    assert elapsed < 5
    # The SDK retries service errors: several turns reached the fake.
    assert len(speech_service.turns) >= 2


def test_a_retried_error_then_an_answer_recovers(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.script(Behaviour.status("Error"), Behaviour.say("second time lucky"))
    result, _ = recognize(fake_azure, speech_wavs.phrase)
    assert result == Recognized("second time lucky")
    assert len(speech_service.turns) == 2


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, ErrorKind.AUTHENTICATION),
        (403, ErrorKind.FORBIDDEN),
        (429, ErrorKind.THROTTLED),
        (500, ErrorKind.SERVICE_ERROR),
        (503, ErrorKind.SERVICE_UNAVAILABLE),
    ],
)
def test_http_status_on_the_upgrade(
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
    status: int,
    kind: ErrorKind,
) -> None:
    speech_service.always(Behaviour.http(status))
    result, elapsed = recognize(fake_azure, speech_wavs.phrase)
    failed = assert_failed(result, kind, speech_service.key)
    assert f"({status})" in failed.detail
    assert elapsed < 5
    assert all(c.refused_with == status for c in speech_service.connections)


def test_wrong_key_is_authentication_and_never_echoed(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    wrong = "wrong-key-" + "7" * 22
    result, elapsed = recognize(dataclasses.replace(fake_azure, key=wrong), speech_wavs.phrase)
    assert_failed(result, ErrorKind.AUTHENTICATION, wrong)
    assert elapsed < 2
    assert speech_service.connections[0].header("Ocp-Apim-Subscription-Key") == wrong


def test_connection_refused(fake_azure: AzureConfig, speech_wavs: SpeechWavs) -> None:
    config = dataclasses.replace(fake_azure, host=f"ws://127.0.0.1:{free_port()}")
    result, elapsed = recognize(config, speech_wavs.phrase)
    failed = assert_failed(result, ErrorKind.CONNECTION_FAILURE, config.key)
    assert "refused" in failed.detail.lower()
    assert elapsed < 5


@pytest.mark.parametrize("abrupt", [True, False], ids=["reset", "close-frame"])
def test_connection_closed_mid_utterance(
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
    abrupt: bool,
) -> None:
    speech_service.always(Behaviour.drop(after_bytes=6400, abrupt=abrupt))
    result, elapsed = recognize(fake_azure, speech_wavs.phrase)
    assert_failed(result, ErrorKind.CONNECTION_FAILURE, speech_service.key)
    assert elapsed < 5
    assert speech_service.turns[0].audio_bytes >= 6400
    assert not speech_service.turns[0].end_of_audio


def test_invalid_answer_is_a_service_error(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    truncated = 'Path: speech.phrase\r\nX-RequestId: {id}\r\n\r\n{"RecognitionStatus":'
    speech_service.always(Behaviour.raw(truncated))
    result, elapsed = recognize(fake_azure, speech_wavs.phrase)
    assert_failed(result, ErrorKind.SERVICE_ERROR, speech_service.key)
    assert elapsed < 5


def test_unintelligible_answer_times_out(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.raw("not a USP frame at all", b"\x00\x01"))
    result, elapsed = recognize(fake_azure, speech_wavs.phrase)
    assert_failed(result, ErrorKind.SERVICE_TIMEOUT, speech_service.key)
    assert fake_azure.timeout_seconds <= elapsed < fake_azure.timeout_seconds + 2


def test_silent_service_times_out_within_ten_seconds(
    speech_service: FakeSpeechService, speech_wavs: SpeechWavs
) -> None:
    # The shipped default (8 s), not the tests' short one: this is the promise to users.
    config = AzureConfig(key=speech_service.key, host=speech_service.url)
    speech_service.always(Behaviour.silent(turn_start=True))
    result, elapsed = recognize(config, speech_wavs.phrase)
    assert_failed(result, ErrorKind.SERVICE_TIMEOUT, speech_service.key)
    assert speech_service.turns[0].end_of_audio  # quiet after the whole utterance arrived
    assert elapsed < 10


def test_slow_answer_within_the_timeout_is_kept(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.say("worth the wait", delay=fake_azure.timeout_seconds - 1))
    result, _ = recognize(fake_azure, speech_wavs.phrase)
    assert result == Recognized("worth the wait")


def test_a_long_utterance_with_hypotheses_does_not_time_out(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    # Hypotheses keep arriving for twice the quiet limit, as while someone speaks for long.
    limit = fake_azure.timeout_seconds
    count = int(2 * limit / 0.5)
    speech_service.always(
        dataclasses.replace(
            Behaviour.say("a long dictation", hypotheses=[f"word {i}" for i in range(count)]),
            hypothesis_interval=0.5,
        )
    )
    result, elapsed = recognize(fake_azure, speech_wavs.phrase)
    assert result == Recognized("a long dictation")
    assert elapsed > 2 * limit - 1


def test_cancel_from_another_thread_returns_promptly(
    speech_service: FakeSpeechService, speech_wavs: SpeechWavs
) -> None:
    config = AzureConfig(key=speech_service.key, host=speech_service.url, timeout_seconds=30)
    speech_service.always(Behaviour.silent(turn_start=True))
    recognizer = AzureRecognizer(config)
    results: list[RecognitionResult] = []
    worker = threading.Thread(
        target=lambda: results.append(recognizer.recognize_once(WavFile(speech_wavs.phrase)))
    )
    worker.start()
    speech_service.wait_for_audio(3200, timeout=10)
    cancelled_at = time.monotonic()
    recognizer.cancel()
    worker.join(timeout=5)
    returned_after = time.monotonic() - cancelled_at
    assert not worker.is_alive()
    assert returned_after < 1.0
    assert_failed(results[0], ErrorKind.SERVICE_TIMEOUT, config.key)
    # The recognizer is reusable after a cancel; close makes it unusable.
    speech_service.always(Behaviour.say("again"))
    assert recognizer.recognize_once(WavFile(speech_wavs.phrase)) == Recognized("again")
    recognizer.close()
    with pytest.raises(RuntimeError):
        recognizer.recognize_once(WavFile(speech_wavs.phrase))


@pytest.mark.parametrize(
    ("config", "missing"),
    [
        (AzureConfig(key="", host="ws://127.0.0.1:9"), "key"),
        (AzureConfig(key="k" * 32), "region or host"),
    ],
)
def test_missing_credentials(config: AzureConfig, missing: str, speech_wavs: SpeechWavs) -> None:
    result, elapsed = recognize(config, speech_wavs.phrase)
    assert result == Failed(ErrorKind.NOT_CONFIGURED, f"no Azure Speech {missing}")
    assert elapsed < 0.5


def _float_wav(tmp_path: Path, speech_wavs: SpeechWavs) -> Path:
    import subprocess

    out = tmp_path / "float.wav"
    subprocess.run(
        ["sox", str(speech_wavs.silence), "-e", "floating-point", "-b", "32", str(out)],
        check=True,
        timeout=30,
    )
    return out


@pytest.mark.parametrize("case", ["missing", "not-wav", "truncated", "float", "stereo", "8-bit"])
def test_bad_wav_files(
    case: str,
    tmp_path: Path,
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
) -> None:
    import subprocess

    path = tmp_path / f"{case}.wav"
    if case == "not-wav":
        path.write_text("this is not audio\n")
    elif case == "truncated":
        path.write_bytes(speech_wavs.phrase.read_bytes()[:30])
    elif case == "float":
        path = _float_wav(tmp_path, speech_wavs)
    elif case in ("stereo", "8-bit"):
        option = ["-c", "2"] if case == "stereo" else ["-b", "8"]
        subprocess.run(
            ["sox", str(speech_wavs.silence), *option, str(path)], check=True, timeout=30
        )
    result, elapsed = recognize(fake_azure, path)
    failed = assert_failed(result, ErrorKind.AUDIO_FILE, fake_azure.key)
    assert str(path) in failed.detail
    assert elapsed < 1
    assert not speech_service.connections, "a bad file must not reach the service"


def test_concurrent_recognize_once_is_refused(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.silent())
    recognizer = AzureRecognizer(fake_azure)
    worker = threading.Thread(target=recognizer.recognize_once, args=(WavFile(speech_wavs.phrase),))
    worker.start()
    try:
        speech_service.wait_for_audio(1, timeout=10)
        with pytest.raises(RuntimeError, match="already running"):
            recognizer.recognize_once(WavFile(speech_wavs.phrase))
    finally:
        recognizer.close()
        worker.join(timeout=5)
    assert not worker.is_alive()


def test_detailed_forms_and_the_phrase_list_reach_voicetype_and_the_service(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    """Issue 13: the detailed answer's Lexical/ITN/MaskedITN come back with the display
    text, and the phrase list (vocabulary + command words) arrives in speech.context."""
    speech_service.always(Behaviour.say("Store it at Contoso, please."))
    config = dataclasses.replace(fake_azure, phrases=("Contoso", "scratch that"))
    result, _ = recognize(config, speech_wavs.phrase)
    assert isinstance(result, Recognized), result
    forms = (result.text, result.lexical, result.itn, result.masked_itn)
    words = "store it at contoso please"
    assert forms == ("Store it at Contoso, please.", words, words, words)
    (conn,) = speech_service.connections
    assert conn.query.get("format") == "detailed"
    context = json.dumps(conn.turns[0].context)
    assert "Contoso" in context and "scratch that" in context


def test_the_sdk_is_released_only_after_its_session_stopped(
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The answer comes a little before session_stopped; dropping the recognizer in between,
    # or while the SDK's thread is still returning from the session_stopped callback, lets
    # the SDK destroy it on its own thread, which aborted the whole process in CI.
    speech_service.always(Behaviour.say("in order", hypotheses=["in"]))
    caplog.set_level("DEBUG", logger="voicetype.recognition.azure")
    for _ in range(3):
        caplog.clear()
        result, _ = recognize(fake_azure, speech_wavs.phrase)
        assert result == Recognized("in order")
        events = [
            tuple(r.getMessage().split(" at t="))
            for r in caplog.records
            if r.getMessage().startswith(("SDK session stopped", "SDK recognizer released"))
        ]
        names = [name for name, _ in events]
        assert names[:2] == ["SDK session stopped", "SDK recognizer released"], events
        assert float(events[1][1]) - float(events[0][1]) >= QUIET_SECONDS, events
