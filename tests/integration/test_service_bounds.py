"""A hostile speech service against the real Speech SDK: a text far over the cap, and
hypotheses that never end. ``AzureRecognizer`` refuses the first and stops listening
after ``max_listen_seconds`` for the second."""

from __future__ import annotations

import time

import pytest
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.speech import SpeechWavs

from voicetype.config import AzureConfig
from voicetype.recognition import ErrorKind, Failed, Recognized, WavFile
from voicetype.recognition.azure import AzureRecognizer
from voicetype.recognition.messages import describe_failure

TOO_LONG = "the service sent a text longer than 10,000 characters; nothing was typed"


def test_a_50_mb_text_is_refused_with_the_cap_in_words(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.say("x" * 50_000_000))
    recognizer = AzureRecognizer(fake_azure)
    try:
        start = time.monotonic()
        result = recognizer.recognize_once(WavFile(speech_wavs.phrase))
        elapsed = time.monotonic() - start
    finally:
        recognizer.close()
    assert result == Failed(ErrorKind.TEXT_TOO_LONG, TOO_LONG)
    message = describe_failure(result)
    assert message.summary == "The speech service sent too much text"
    assert message.body.startswith(TOO_LONG + ". ")
    assert elapsed < 15


@pytest.mark.parametrize(("length", "typed"), [(10_000, True), (10_001, False)])
def test_the_cap_is_exact(
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
    length: int,
    typed: bool,
) -> None:
    text = ("é" * 9 + " ") * (length // 10) + "é" * (length % 10)
    assert len(text) == length
    speech_service.always(Behaviour.say(text))
    recognizer = AzureRecognizer(fake_azure)
    try:
        result = recognizer.recognize_once(WavFile(speech_wavs.phrase))
    finally:
        recognizer.close()
    if typed:
        assert result == Recognized(text)
    else:
        assert result == Failed(ErrorKind.TEXT_TOO_LONG, TOO_LONG)


def test_a_smaller_cap_is_named_in_the_message(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.say("a" * 2_500))
    recognizer = AzureRecognizer(fake_azure, max_chars=2_000)
    try:
        result = recognizer.recognize_once(WavFile(speech_wavs.phrase))
    finally:
        recognizer.close()
    assert result == Failed(
        ErrorKind.TEXT_TOO_LONG,
        "the service sent a text longer than 2,000 characters; nothing was typed",
    )


def test_endless_hypotheses_stop_at_the_listening_cap_with_the_last_one(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    """Hypotheses every 0.2 s keep the idle watchdog (3 s here) from ever firing; the
    listening cap (4 s here, 20 s by default) ends the recognition with the last one."""
    speech_service.always(Behaviour.endless("one more word", every=0.2))
    recognizer = AzureRecognizer(fake_azure, max_listen_seconds=4.0)
    try:
        start = time.monotonic()
        result = recognizer.recognize_once(WavFile(speech_wavs.phrase))
        elapsed = time.monotonic() - start
        recognizer.release()
        (connection,) = speech_service.wait_until(
            lambda s: [c for c in s.connections if c.closed_at], 5, "the SDK to hang up"
        )
    finally:
        recognizer.close()
    assert 4.0 <= elapsed < 5.5, elapsed
    assert isinstance(result, Recognized), result
    sent = connection.turns[0].hypotheses_sent
    assert len(sent) >= 15, sent
    assert result.text in sent[-3:], (result.text, sent[-3:])
    assert len(result.text.split()) >= 15


def test_the_cap_does_not_cut_an_utterance_that_ends_in_time(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(
        Behaviour.say("the whole sentence.", hypotheses=["the", "the whole"], delay=0.5)
    )
    recognizer = AzureRecognizer(fake_azure, max_listen_seconds=20.0)
    try:
        result = recognizer.recognize_once(WavFile(speech_wavs.phrase))
    finally:
        recognizer.close()
    assert result == Recognized("the whole sentence.")
