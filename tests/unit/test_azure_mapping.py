"""The pure mapping from the Speech SDK's codes and words to results (no network, no audio)."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import pytest
from azure.cognitiveservices import speech as speechsdk

from voicetype.recognition import ErrorKind, Failed, Microphone, NoMatch, NoMatchReason, WavFile
from voicetype.recognition.azure import (
    check_wav,
    classify_cancellation,
    classify_exception,
    classify_no_match,
    http_status_in,
    scrub,
)

KEY = "0123456789abcdef0123456789abcdef"

CODE_KINDS = {
    "NoError": ErrorKind.INTERNAL,
    "AuthenticationFailure": ErrorKind.AUTHENTICATION,
    "BadRequest": ErrorKind.BAD_REQUEST,
    "TooManyRequests": ErrorKind.THROTTLED,
    "Forbidden": ErrorKind.FORBIDDEN,
    "ConnectionFailure": ErrorKind.CONNECTION_FAILURE,
    "ServiceTimeout": ErrorKind.SERVICE_TIMEOUT,
    "ServiceError": ErrorKind.SERVICE_ERROR,
    "ServiceUnavailable": ErrorKind.SERVICE_UNAVAILABLE,
    "RuntimeError": ErrorKind.INTERNAL,
    "ServiceRedirectTemporary": ErrorKind.SERVICE_ERROR,
    "ServiceRedirectPermanent": ErrorKind.SERVICE_ERROR,
    "EmbeddedModelError": ErrorKind.INTERNAL,
}


def test_every_sdk_cancellation_code_is_mapped() -> None:
    assert {c.name for c in speechsdk.CancellationErrorCode} == set(CODE_KINDS)


@pytest.mark.parametrize(("code", "kind"), CODE_KINDS.items())
def test_code_decides_without_telling_details(code: str, kind: ErrorKind) -> None:
    assert classify_cancellation(code, "something happened") == Failed(kind, "something happened")


def test_every_sdk_no_match_reason_is_mapped() -> None:
    expected = {
        "NotRecognized": NoMatchReason.NOT_RECOGNIZED,
        "InitialSilenceTimeout": NoMatchReason.INITIAL_SILENCE_TIMEOUT,
        "InitialBabbleTimeout": NoMatchReason.INITIAL_BABBLE_TIMEOUT,
        "KeywordNotRecognized": NoMatchReason.KEYWORD_NOT_RECOGNIZED,
        "EndSilenceTimeout": NoMatchReason.END_SILENCE_TIMEOUT,
    }
    assert {r.name for r in speechsdk.NoMatchReason} == set(expected)
    for name, reason in expected.items():
        assert classify_no_match(name) == NoMatch(reason)
    assert classify_no_match("SomethingNew") == NoMatch(NoMatchReason.NOT_RECOGNIZED)


# Details as SDK 1.53 words them (observed against the fake service).
UPGRADE = "WebSocket upgrade failed: {what} ({status}). Please check subscription information."


@pytest.mark.parametrize(
    ("code", "details", "kind"),
    [
        (
            "AuthenticationFailure",
            UPGRADE.format(what="Authentication error", status=401),
            ErrorKind.AUTHENTICATION,
        ),
        # The SDK calls a 403 on the upgrade an authentication failure; the status decides.
        (
            "AuthenticationFailure",
            UPGRADE.format(what="Authentication error", status=403),
            ErrorKind.FORBIDDEN,
        ),
        (
            "TooManyRequests",
            UPGRADE.format(what="Too many requests", status=429),
            ErrorKind.THROTTLED,
        ),
        (
            "ServiceError",
            "WebSocket upgrade failed: Internal service error (500). Error Details: "
            "Failed with HTTP 500 Internal Server Error",
            ErrorKind.SERVICE_ERROR,
        ),
        ("ServiceError", "WebSocket upgrade failed: Bad gateway (502).", ErrorKind.SERVICE_ERROR),
        ("ServiceError", "upgrade failed with HTTP 503", ErrorKind.SERVICE_UNAVAILABLE),
        ("ConnectionFailure", "Failed with HTTP 504 Gateway Timeout", ErrorKind.SERVICE_TIMEOUT),
        ("RuntimeError", "status code: 400", ErrorKind.BAD_REQUEST),
        (
            "ConnectionFailure",
            "Connection failed (no connection to the remote host). Error details: "
            "WS_OPEN_ERROR_UNDERLYING_IO_OPEN_FAILED (code=111: [CONNECTION] Connection refused)",
            ErrorKind.CONNECTION_FAILURE,
        ),
        (
            "ConnectionFailure",
            "(code=-2: [DNS] DNS resolution failed - hostname not found)",
            ErrorKind.CONNECTION_FAILURE,
        ),
        ("RuntimeError", "Name or service not known", ErrorKind.CONNECTION_FAILURE),
        (
            "ServiceError",
            "WebSocket operation failed. Error details: WS_ERROR_UNDERLYING_IO_ERROR "
            "connection reset",
            ErrorKind.CONNECTION_FAILURE,
        ),
        # A JSON body's numbers are not statuses.
        (
            "ServiceError",
            'Response text: {"RecognitionStatus": "Error", "Offset": 0, "Duration": 4290500}',
            ErrorKind.SERVICE_ERROR,
        ),
        # Specific codes are trusted over network-sounding words.
        ("Forbidden", "free subscription ran out of quota; socket", ErrorKind.FORBIDDEN),
    ],
)
def test_details_refine_generic_codes(code: str, details: str, kind: ErrorKind) -> None:
    assert classify_cancellation(code, details).kind is kind


@pytest.mark.parametrize(
    ("details", "status"),
    [
        ("error (401).", 401),
        ("HTTP 500 Internal", 500),
        ("HTTP/1.1 503 x", 503),
        ("status code 429", 429),
        ('"Duration": 27846875', None),
        ("port (8080)", None),
    ],
)
def test_http_status_in(details: str, status: int | None) -> None:
    assert http_status_in(details) == status


def test_the_key_never_survives_in_details() -> None:
    details = f"upgrade failed (401)\nheader Ocp-Apim-Subscription-Key: {KEY}\r\nurl ?key={KEY}"
    failed = classify_cancellation("AuthenticationFailure", details, (KEY,))
    assert KEY not in failed.detail
    assert "***" in failed.detail
    assert "\n" not in failed.detail and "\r" not in failed.detail


def test_scrub_ignores_an_empty_secret() -> None:
    assert scrub("a  b\nc", ("",)) == "a b c"


SDK_TRACE = (
    "Exception with an error code: 0x{num} ({name})\n[CALL STACK BEGIN]\n"
    f"/lib/libMicrosoft.CognitiveServices.Speech.core.so(+0x1) key={KEY}\n[CALL STACK END]"
)


@pytest.mark.parametrize(
    ("name", "audio", "kind"),
    [
        ("SPXERR_MIC_NOT_AVAILABLE", Microphone(), ErrorKind.MICROPHONE_UNAVAILABLE),
        ("SPXERR_MIC_ERROR", Microphone(), ErrorKind.MICROPHONE_UNAVAILABLE),
        ("SPXERR_INVALID_HEADER", WavFile(Path("x.wav")), ErrorKind.AUDIO_FILE),
        ("SPXERR_FILE_OPEN_FAILED", WavFile(Path("x.wav")), ErrorKind.AUDIO_FILE),
        ("SPXERR_INVALID_ARG", Microphone(), ErrorKind.INTERNAL),
        ("SPXERR_FILE_OPEN_FAILED", Microphone(), ErrorKind.INTERNAL),
    ],
)
def test_sdk_exceptions(name: str, audio: Microphone | WavFile, kind: ErrorKind) -> None:
    failed = classify_exception(RuntimeError(SDK_TRACE.format(num="f", name=name)), audio, (KEY,))
    assert failed.kind is kind
    assert name in failed.detail
    assert "CALL STACK" not in failed.detail
    assert KEY not in failed.detail


def test_an_exception_without_words() -> None:
    assert classify_exception(ValueError(), Microphone(), ()) == Failed(
        ErrorKind.INTERNAL, "ValueError"
    )


def _wav(
    path: Path, *, width: int = 2, channels: int = 1, rate: int = 16000, frames: int = 160
) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setsampwidth(width)
        w.setnchannels(channels)
        w.setframerate(rate)
        w.writeframes(b"\0" * width * channels * frames)
    return path


def test_check_wav(tmp_path: Path) -> None:
    assert check_wav(_wav(tmp_path / "ok.wav")) is None
    assert check_wav(_wav(tmp_path / "8k.wav", rate=8000)) is None
    assert "16-bit" in (check_wav(_wav(tmp_path / "b.wav", width=1)) or "")
    assert "mono" in (check_wav(_wav(tmp_path / "c.wav", channels=2)) or "")
    assert "sample rate" in (check_wav(_wav(tmp_path / "r.wav", rate=4000)) or "")
    assert "no audio" in (check_wav(_wav(tmp_path / "e.wav", frames=0)) or "")
    assert "does not exist" in (check_wav(tmp_path / "missing.wav") or "")
    (tmp_path / "text.wav").write_text("hello")
    assert "not a PCM WAV" in (check_wav(tmp_path / "text.wav") or "")
    # IEEE float (format 3): a RIFF file the wave module refuses.
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    data = b"\0" * 64
    riff = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )
    (tmp_path / "float.wav").write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
    assert "not a PCM WAV" in (check_wav(tmp_path / "float.wav") or "")
    (tmp_path / "dir.wav").mkdir()
    assert check_wav(tmp_path / "dir.wav") is not None
