"""Speech recognition: the ``Recognizer`` interface and its result types.

A recognition returns exactly one of ``Recognized``, ``NoMatch`` or ``Failed``; it never
raises for anything the service or the microphone does. The Azure implementation lives
in ``voicetype.recognition.azure``, the only module that imports the SDK; what the SDK
returns is mapped to these results by ``azure_results`` (pure), and ``microphone`` asks
whether the default microphone opens (in a child process).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class NoMatchReason(enum.Enum):
    NOT_RECOGNIZED = "not_recognized"
    INITIAL_SILENCE_TIMEOUT = "initial_silence_timeout"
    INITIAL_BABBLE_TIMEOUT = "initial_babble_timeout"
    END_SILENCE_TIMEOUT = "end_silence_timeout"
    KEYWORD_NOT_RECOGNIZED = "keyword_not_recognized"


class ErrorKind(enum.Enum):
    AUTHENTICATION = "authentication"  # 401: wrong key, or key for another region
    FORBIDDEN = "forbidden"  # 403: quota exhausted, resource disabled
    THROTTLED = "throttled"  # 429
    BAD_REQUEST = "bad_request"  # 400: language code, audio format
    CONNECTION_FAILURE = "connection_failure"  # refused, DNS, TLS, dropped
    SERVICE_TIMEOUT = "service_timeout"  # the service went quiet
    SERVICE_ERROR = "service_error"  # 5xx, invalid answers
    SERVICE_UNAVAILABLE = "service_unavailable"  # 503
    MICROPHONE_UNAVAILABLE = "microphone_unavailable"
    AUDIO_FILE = "audio_file"  # unreadable or not a 16-bit PCM WAV
    NOT_CONFIGURED = "not_configured"  # no key / region / host
    TEXT_TOO_LONG = "text_too_long"  # the service sent more than the text cap: nothing typed
    INTERNAL = "internal"  # anything else the SDK reports


@dataclass(frozen=True)
class Recognized:
    """``text``: the display form (punctuation, capitals), the one to type. The other
    forms come from the service's detailed answer (empty when it sent none): ``lexical``
    the words as heard, ``itn``/``masked_itn`` with numbers normalized; ``language`` the
    recognized language ("" when not told). The text pipeline reads them to tell an
    utterance-initial capital from a name. Equality compares ``text`` only: two results
    that type the same text are the same result."""

    text: str
    lexical: str = field(default="", compare=False)
    itn: str = field(default="", compare=False)
    masked_itn: str = field(default="", compare=False)
    language: str = field(default="", compare=False)


@dataclass(frozen=True)
class NoMatch:
    reason: NoMatchReason
    detail: str = ""


@dataclass(frozen=True)
class Failed:
    kind: ErrorKind
    detail: str = ""  # the SDK's own words, key removed


RecognitionResult = Recognized | NoMatch | Failed


@dataclass(frozen=True)
class Microphone:
    """The system's default capture device."""


@dataclass(frozen=True)
class WavFile:
    path: Path


AudioInput = Microphone | WavFile


class Recognizer(Protocol):
    """Recognizes one utterance.

    Threading: ``recognize_once``, ``release`` and ``close`` are called from one thread at
    a time (in the daemon: the controller's worker thread, never an input thread).
    ``recognize_once`` blocks until a result is known, and returns within the configured
    bound even when the service goes quiet. ``cancel`` may be called from any thread; it
    makes a running ``recognize_once`` return promptly (with ``Failed(SERVICE_TIMEOUT)``
    or the result already known). ``release`` frees what the last recognition still holds
    (the microphone, the connection): the controller asks for it once the text is typed,
    so that work is not on the way to the text; ``recognize_once`` and ``close`` call it
    too. ``close`` releases everything; after it the object is unusable.
    """

    def recognize_once(self, audio: AudioInput) -> RecognitionResult: ...

    def release(self) -> None: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...
