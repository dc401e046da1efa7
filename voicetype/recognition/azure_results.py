"""The Speech SDK's answers and errors as voicetype's results: pure, imports no SDK.

``azure.py`` (the SDK glue) hands over plain values: the SDK's enum member names, the
service's JSON text, its error details and exceptions. The SDK's words reach a result only
through ``scrub`` (the key taken out, one line); no function here raises for what the SDK
or the service sent. ``check_wav`` checks a WAV file before the SDK sees it.

Bounds on what the service sends: recognized text (final or hypothesis) longer than
``max_chars`` (default 10,000) is refused as ``Failed(TEXT_TOO_LONG)``; the service's JSON
answer is measured before it is parsed, so an oversized answer is never parsed.
"""

from __future__ import annotations

import json
import re
import wave
from dataclasses import dataclass
from pathlib import Path

from voicetype.recognition import (
    AudioInput,
    ErrorKind,
    Failed,
    Microphone,
    NoMatch,
    NoMatchReason,
    RecognitionResult,
    Recognized,
    WavFile,
)
from voicetype.recognition.messages import too_long_detail

# The longest text accepted from the service (characters).
DEFAULT_MAX_CHARS = 10_000
# The JSON of an answer whose text fits the cap is at most this long: every character may be
# escaped as a surrogate pair (12 characters), plus the other fields.
_JSON_PER_CHAR = 12
_JSON_OVERHEAD = 65_536

NO_MATCH_REASONS = {
    "NotRecognized": NoMatchReason.NOT_RECOGNIZED,
    "InitialSilenceTimeout": NoMatchReason.INITIAL_SILENCE_TIMEOUT,
    "InitialBabbleTimeout": NoMatchReason.INITIAL_BABBLE_TIMEOUT,
    "EndSilenceTimeout": NoMatchReason.END_SILENCE_TIMEOUT,
    "KeywordNotRecognized": NoMatchReason.KEYWORD_NOT_RECOGNIZED,
}

ERROR_CODES = {
    "AuthenticationFailure": ErrorKind.AUTHENTICATION,
    "BadRequest": ErrorKind.BAD_REQUEST,
    "TooManyRequests": ErrorKind.THROTTLED,
    "Forbidden": ErrorKind.FORBIDDEN,
    "ConnectionFailure": ErrorKind.CONNECTION_FAILURE,
    "ServiceTimeout": ErrorKind.SERVICE_TIMEOUT,
    "ServiceError": ErrorKind.SERVICE_ERROR,
    "ServiceUnavailable": ErrorKind.SERVICE_UNAVAILABLE,
    "ServiceRedirectTemporary": ErrorKind.SERVICE_ERROR,
    "ServiceRedirectPermanent": ErrorKind.SERVICE_ERROR,
    "RuntimeError": ErrorKind.INTERNAL,
    "EmbeddedModelError": ErrorKind.INTERNAL,
    "NoError": ErrorKind.INTERNAL,
}

# Codes too generic to trust over what the details say.
_GENERIC_CODES = {"ConnectionFailure", "RuntimeError", "ServiceError", "NoError", ""}

# "WebSocket upgrade failed: Authentication error (403)", "Failed with HTTP 500 …",
# "… status code 429"; never the bare numbers of a JSON body ("Duration": 27846875).
_HTTP_STATUS = re.compile(
    r"(?:\((?P<a>[1-5]\d\d)\))|(?:\bHTTP[ /]?(?:1\.1 )?(?P<b>[1-5]\d\d)\b)"
    r"|(?:\bstatus(?: code)?[: ]+(?P<c>[1-5]\d\d)\b)",
    re.IGNORECASE,
)

_CONNECTION_WORDS = re.compile(
    r"connection refused|connection reset|connection (?:was )?closed|"
    r"name or service not known|temporary failure in name resolution|getaddrinfo|"
    r"could not resolve|failed to resolve|dns|host not found|no route to host|"
    r"network is unreachable|tls|ssl|certificate|handshake failed|socket",
    re.IGNORECASE,
)


def kind_for_http_status(status: int) -> ErrorKind:
    """The error kind an HTTP status from the speech service means."""
    if status == 400:
        return ErrorKind.BAD_REQUEST
    if status == 401:
        return ErrorKind.AUTHENTICATION
    if status == 403:
        return ErrorKind.FORBIDDEN
    if status == 429:
        return ErrorKind.THROTTLED
    if status in (408, 504):
        return ErrorKind.SERVICE_TIMEOUT
    if status == 503:
        return ErrorKind.SERVICE_UNAVAILABLE
    if status >= 500:
        return ErrorKind.SERVICE_ERROR
    return ErrorKind.CONNECTION_FAILURE


def http_status_in(details: str) -> int | None:
    """The HTTP status the SDK quotes in its error details, if any."""
    m = _HTTP_STATUS.search(details)
    if not m:
        return None
    return int(m.group("a") or m.group("b") or m.group("c"))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` on one line with every secret (the key) replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return " ".join(text.split())


def classify_cancellation(code: str, details: str, secrets: tuple[str, ...] = ()) -> Failed:
    """Map a ``CancellationErrorCode`` name and the SDK's error details to a ``Failed``.

    An HTTP status quoted in the details wins (the SDK reports a 403 on the websocket upgrade
    as ``AuthenticationFailure``); a generic code with network words in the details is a
    connection failure; otherwise the code decides. Unknown codes are ``INTERNAL``.
    """
    detail = scrub(details, secrets)
    status = http_status_in(details)
    if status is not None and status >= 400:
        kind = kind_for_http_status(status)
    elif code in _GENERIC_CODES and _CONNECTION_WORDS.search(details):
        kind = ErrorKind.CONNECTION_FAILURE
    else:
        kind = ERROR_CODES.get(code, ErrorKind.INTERNAL)
    return Failed(kind, detail)


def classify_no_match(reason: str) -> NoMatch:
    """Map a ``NoMatchReason`` name; unknown reasons count as not recognized."""
    return NoMatch(NO_MATCH_REASONS.get(reason, NoMatchReason.NOT_RECOGNIZED))


_SPX_CODE = re.compile(r"\b(SPXERR_[A-Z_]+)\b")


def classify_exception(exc: BaseException, audio: AudioInput, secrets: tuple[str, ...]) -> Failed:
    """Map an exception the SDK raised while setting up a recognition.

    The SDK raises ``RuntimeError`` with a native call stack and a line such as
    ``Exception with an error code: 0x… (SPXERR_MIC_NOT_AVAILABLE)``; only that line is kept.
    """
    text = str(exc)
    spx = _SPX_CODE.search(text)
    line = next(
        (ln for ln in text.splitlines() if "SPXERR_" in ln), text.splitlines()[0] if text else ""
    )
    detail = scrub(line or type(exc).__name__, secrets)
    code = spx.group(1) if spx else ""
    if code == "SPXERR_MIC_NOT_AVAILABLE" or (
        isinstance(audio, Microphone)
        and code in ("SPXERR_MIC_ERROR", "SPXERR_AUDIO_SYS_LIBRARY_NOT_FOUND")
    ):
        return Failed(ErrorKind.MICROPHONE_UNAVAILABLE, detail)
    if isinstance(audio, WavFile) and code in (
        "SPXERR_FILE_OPEN_FAILED",
        "SPXERR_INVALID_HEADER",
        "SPXERR_UNSUPPORTED_FORMAT",
        "SPXERR_UNEXPECTED_EOF",
    ):
        return Failed(ErrorKind.AUDIO_FILE, detail)
    return Failed(ErrorKind.INTERNAL, detail)


def check_wav(path: Path | str) -> str | None:
    """Why the SDK cannot read ``path`` (None when it is a readable 16-bit PCM WAV).

    The SDK itself accepts a non-PCM or truncated file and then fails in odd ways (a
    RuntimeError on construction, or silence), so files are checked before it sees them.
    """
    try:
        with wave.open(str(path), "rb") as w:
            width, channels, rate, frames = (
                w.getsampwidth(),
                w.getnchannels(),
                w.getframerate(),
                w.getnframes(),
            )
    except FileNotFoundError:
        return f"{path} does not exist"
    except (OSError, wave.Error, EOFError) as exc:
        return f"{path} is not a PCM WAV file ({exc or type(exc).__name__})"
    if width != 2:
        return f"{path} has {8 * width}-bit samples; 16-bit PCM is needed"
    if channels != 1:
        return f"{path} has {channels} channels; mono is needed"
    if not 8000 <= rate <= 48000:
        return f"{path} has a sample rate of {rate} Hz; 8000-48000 Hz is needed"
    if frames == 0:
        return f"{path} holds no audio"
    return None


@dataclass(frozen=True)
class SdkAnswer:
    """What the Speech SDK returned for one recognition, as plain values (``azure.py`` reads
    them off its ``SpeechRecognitionResult``). Names are the SDK's enum member names."""

    reason: str  # ResultReason: "RecognizedSpeech", "NoMatch", "Canceled", …
    text: str = ""  # result.text (cut by the SDK at 2,047 UTF-8 bytes)
    json: str = ""  # the service's JSON answer, unparsed
    no_match_reason: str = ""  # NoMatchReason, for "NoMatch"
    cancellation_reason: str = ""  # CancellationReason, for "Canceled": "EndOfStream", "Error"
    error_code: str = ""  # CancellationErrorCode, for "Canceled"
    error_details: str = ""  # the SDK's words, for "Canceled"


def map_answer(
    answer: SdkAnswer, secrets: tuple[str, ...], max_chars: int = DEFAULT_MAX_CHARS
) -> RecognitionResult:
    """Map what the SDK returned to exactly one result.

    Recognized text is returned exactly as the SDK decoded it. An empty text counts as
    ``NoMatch(NOT_RECOGNIZED)`` (nothing to type); a text longer than ``max_chars`` is
    ``Failed(TEXT_TOO_LONG)``. ``Canceled`` with ``EndOfStream`` means the audio ended
    before anything was recognized.
    """
    if answer.reason == "RecognizedSpeech":
        text = whole_text(answer.text, answer.json, "DisplayText", max_chars)
        if text is None:
            return Failed(ErrorKind.TEXT_TOO_LONG, too_long_detail(max_chars))
        if text:
            return Recognized(text, *detailed_forms(answer.json, max_chars))
        return NoMatch(NoMatchReason.NOT_RECOGNIZED, "the service recognized no words")
    if answer.reason == "NoMatch":
        return classify_no_match(answer.no_match_reason)
    if answer.reason == "Canceled":
        if answer.cancellation_reason == "EndOfStream":
            return NoMatch(NoMatchReason.NOT_RECOGNIZED, "the audio ended before any speech")
        return classify_cancellation(answer.error_code, answer.error_details, secrets)
    return Failed(
        ErrorKind.INTERNAL, f"unexpected result from the Speech SDK: ResultReason.{answer.reason}"
    )


def so_far(
    hypothesis: str, too_long: bool, listened_seconds: float, max_chars: int
) -> RecognitionResult:
    """The result of a recognition stopped at the listening cap before a final answer: the
    last hypothesis within ``max_chars`` (``hypothesis``), ``TEXT_TOO_LONG`` when the last
    one was over the cap (``too_long``), else ``NoMatch``."""
    if too_long:
        return Failed(ErrorKind.TEXT_TOO_LONG, too_long_detail(max_chars))
    if hypothesis:
        return Recognized(hypothesis)
    return NoMatch(
        NoMatchReason.NOT_RECOGNIZED,
        f"nothing was recognized in {listened_seconds:g} s of listening",
    )


def whole_text(text: str, raw_json: str, field: str, max_chars: int) -> str | None:
    """The recognized text, whole, or None when it is longer than ``max_chars``.

    ``text`` (the SDK's ``result.text``) is cut by the SDK at 2,047 UTF-8 bytes (measured with
    SDK 1.53), so a long dictation would lose its end; ``field`` of the service's JSON answer
    ``raw_json`` (``DisplayText`` for a final result, ``Text`` for a hypothesis) is not. The
    JSON is measured before it is parsed: one too long for ``max_chars`` characters is never
    parsed. Falls back to ``text`` when the JSON is missing, invalid or lacks ``field``.
    """
    if len(raw_json) > max_chars * _JSON_PER_CHAR + _JSON_OVERHEAD:
        return None
    try:
        answer = json.loads(raw_json or "{}")
        value = answer.get(field)
        if value is None and field == "DisplayText":  # detailed answers may only have NBest
            value = answer["NBest"][0]["Display"]
    except (ValueError, RecursionError, AttributeError, LookupError, TypeError):
        value = None
    if isinstance(value, str) and len(value) >= len(text):
        text = value
    return text if len(text) <= max_chars else None


def detailed_forms(raw_json: str, max_chars: int) -> tuple[str, str, str, str]:
    """(lexical, itn, masked_itn, language) from the service's detailed answer (the
    first of ``NBest``; ``PrimaryLanguage.Language`` when language identification ran);
    empty strings for what it lacks, for invalid JSON, and for an answer too long for
    ``max_chars`` (never parsed)."""
    if not raw_json or len(raw_json) > max_chars * _JSON_PER_CHAR + _JSON_OVERHEAD:
        return "", "", "", ""
    try:
        answer = json.loads(raw_json)
    except (ValueError, RecursionError):
        return "", "", "", ""
    if not isinstance(answer, dict):
        return "", "", "", ""
    best = answer.get("NBest")
    first = best[0] if isinstance(best, list) and best and isinstance(best[0], dict) else {}
    primary = answer.get("PrimaryLanguage")
    language = primary.get("Language") if isinstance(primary, dict) else None

    def form(value: object) -> str:
        return value if isinstance(value, str) and len(value) <= max_chars else ""

    return (
        form(first.get("Lexical")),
        form(first.get("ITN")),
        form(first.get("MaskedITN")),
        form(language),
    )
