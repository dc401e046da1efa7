"""The pure mapping from the Speech SDK's codes and words to results (no SDK, no network,
no audio: ``voicetype.recognition.azure_results``). That the SDK's own enums hold exactly the
names mapped here is checked in tests/integration/test_azure_sdk_names.py."""

from __future__ import annotations

import json
import struct
import wave
from pathlib import Path

import pytest

from voicetype.recognition import (
    ErrorKind,
    Failed,
    Microphone,
    NoMatch,
    NoMatchReason,
    Recognized,
    WavFile,
    azure_results,
)
from voicetype.recognition.azure_results import (
    SdkAnswer,
    check_wav,
    classify_cancellation,
    classify_exception,
    classify_no_match,
    detailed_forms,
    http_status_in,
    map_answer,
    scrub,
    so_far,
    whole_text,
)
from voicetype.recognition.messages import describe_failure, too_long_detail

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


@pytest.mark.parametrize(("code", "kind"), CODE_KINDS.items())
def test_code_decides_without_telling_details(code: str, kind: ErrorKind) -> None:
    assert classify_cancellation(code, "something happened") == Failed(kind, "something happened")


NO_MATCH_REASONS = {
    "NotRecognized": NoMatchReason.NOT_RECOGNIZED,
    "InitialSilenceTimeout": NoMatchReason.INITIAL_SILENCE_TIMEOUT,
    "InitialBabbleTimeout": NoMatchReason.INITIAL_BABBLE_TIMEOUT,
    "KeywordNotRecognized": NoMatchReason.KEYWORD_NOT_RECOGNIZED,
    "EndSilenceTimeout": NoMatchReason.END_SILENCE_TIMEOUT,
}


def test_every_no_match_reason_is_mapped() -> None:
    for name, reason in NO_MATCH_REASONS.items():
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


# ---------------------------------------------------------------- whole answers


def test_a_final_answer_types_the_whole_display_text_not_the_sdks_cut_text() -> None:
    whole = "Ein langer Satz. " * 200  # ~3,400 characters: the SDK cuts result.text at 2,047 B
    answer = SdkAnswer(
        "RecognizedSpeech", text=whole[:1000], json=json.dumps({"DisplayText": whole})
    )
    assert map_answer(answer, ()) == Recognized(whole)


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", '{"Other": 1}', "[" * 100_000])
def test_without_a_usable_json_answer_the_sdk_text_is_used(raw: str) -> None:
    answer = SdkAnswer("RecognizedSpeech", text="Hello.", json=raw)
    assert map_answer(answer, ()) == Recognized("Hello.")


def test_an_empty_final_answer_is_nothing_to_type() -> None:
    answer = SdkAnswer("RecognizedSpeech", text="", json='{"DisplayText": ""}')
    assert map_answer(answer, ()) == NoMatch(
        NoMatchReason.NOT_RECOGNIZED, "the service recognized no words"
    )


def test_a_text_over_the_cap_is_refused_with_the_cap_named() -> None:
    raw = json.dumps({"DisplayText": "x" * 11})
    answer = SdkAnswer("RecognizedSpeech", text="x" * 11, json=raw)
    refused = map_answer(answer, (), max_chars=10)
    assert refused == Failed(ErrorKind.TEXT_TOO_LONG, too_long_detail(10))
    assert describe_failure(refused).body.startswith(
        "the service sent a text longer than 10 characters; nothing was typed."
    )
    assert map_answer(answer, (), max_chars=11) == Recognized("x" * 11)


def test_an_oversized_json_answer_is_refused_before_it_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(_text: str) -> object:
        raise AssertionError("an oversized answer was parsed")

    monkeypatch.setattr(azure_results.json, "loads", never)
    raw = '{"DisplayText": "' + "x" * (10 * 12 + 65_536) + '"}'
    answer = SdkAnswer("RecognizedSpeech", text="x", json=raw)
    assert map_answer(answer, (), max_chars=10) == Failed(
        ErrorKind.TEXT_TOO_LONG, too_long_detail(10)
    )


def test_a_hypothesis_reads_the_text_field() -> None:
    raw = json.dumps({"Text": "so far so good", "DisplayText": "ignored"})
    assert whole_text("so far", raw, "Text", 100) == "so far so good"
    assert whole_text("so far", raw, "Text", 5) is None
    # a shorter JSON field never replaces the SDK's text
    assert whole_text("so far so good", json.dumps({"Text": "so"}), "Text", 100) == (
        "so far so good"
    )


def test_no_match_and_end_of_stream_are_no_match() -> None:
    silence = SdkAnswer("NoMatch", no_match_reason="InitialSilenceTimeout")
    assert map_answer(silence, ()) == NoMatch(NoMatchReason.INITIAL_SILENCE_TIMEOUT)
    ended = SdkAnswer("Canceled", cancellation_reason="EndOfStream", error_code="NoError")
    assert map_answer(ended, ()) == NoMatch(
        NoMatchReason.NOT_RECOGNIZED, "the audio ended before any speech"
    )


def test_a_cancelled_answer_is_classified_and_the_key_scrubbed() -> None:
    answer = SdkAnswer(
        "Canceled",
        cancellation_reason="Error",
        error_code="AuthenticationFailure",
        error_details=UPGRADE.format(what="Authentication error", status=401) + f" key={KEY}",
    )
    failed = map_answer(answer, (KEY,))
    assert isinstance(failed, Failed) and failed.kind is ErrorKind.AUTHENTICATION
    assert KEY not in failed.detail and "key=***" in failed.detail


def test_an_unexpected_reason_is_an_internal_failure() -> None:
    assert map_answer(SdkAnswer("RecognizingSpeech", text="half"), ()) == Failed(
        ErrorKind.INTERNAL, "unexpected result from the Speech SDK: ResultReason.RecognizingSpeech"
    )


def test_at_the_listening_cap_what_was_recognized_so_far_is_the_result() -> None:
    assert so_far("half a sentence", False, 20, 10_000) == Recognized("half a sentence")
    assert so_far("", True, 20, 10_000) == Failed(ErrorKind.TEXT_TOO_LONG, too_long_detail(10_000))
    assert so_far("", False, 20, 10_000) == NoMatch(
        NoMatchReason.NOT_RECOGNIZED, "nothing was recognized in 20 s of listening"
    )


def test_detailed_answer_gives_every_form_and_the_language() -> None:
    """Issue 13: the pipeline tells an utterance-initial capital from a name by the
    lexical form; a detailed answer without DisplayText still gives the display text."""
    body = {
        "RecognitionStatus": "Success",
        "PrimaryLanguage": {"Language": "de-DE"},
        "NBest": [
            {"Lexical": "hallo welt", "ITN": "hallo welt", "MaskedITN": "hallo welt",
             "Display": "Hallo Welt."},
        ],
    }  # fmt: skip
    answer = SdkAnswer("RecognizedSpeech", text="Hallo Welt.", json=json.dumps(body))
    result = map_answer(answer, ())
    assert isinstance(result, Recognized)
    forms = (result.text, result.lexical, result.itn, result.masked_itn, result.language)
    assert forms == ("Hallo Welt.", "hallo welt", "hallo welt", "hallo welt", "de-DE")
    assert detailed_forms("not json", 100) == ("", "", "", "")
    assert detailed_forms(json.dumps({"NBest": [{"Lexical": "x" * 200}]}), 100)[0] == ""
    cut = SdkAnswer("RecognizedSpeech", text="Hallo", json=json.dumps(body))
    assert map_answer(cut, ()).text == "Hallo Welt."  # type: ignore[union-attr]
