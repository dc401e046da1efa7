"""Continuous recognition on the Speech SDK, fed by our own audio through a push stream.

``ContinuousRecognizer(config).start(feed, on_event)`` opens one ``ContinuousSession``:
``start_continuous_recognition_async`` on a ``PushAudioInputStream`` (16 kHz mono 16-bit)
that ``feed`` (a ``Capture``, or a WAV in tests) writes into. What the SDK reports becomes
``recognition.events`` values handed to ``on_event``; the SDK's callbacks do nothing else,
and ``on_event`` must only enqueue (it runs on SDK threads, under the session's lock).

Ending a session never blocks the caller on the SDK. ``stop_continuous_recognition`` is
known to block ~10 s when the service has not finalized (Azure-Samples/
cognitive-services-speech-sdk#331, #1199, #2629, also when its future is merely dropped),
so neither ``stop`` nor ``cancel`` calls it on the caller's thread:

- ``stop()`` closes the feed (the microphone) and the push stream: the SDK sends the end of
  audio, the service finalizes the last phrase, the SDK reports it, then ``session_stopped``
  → ``SessionStopped("end of audio")``. If that has not happened within ``stop_timeout``
  (default ``AzureConfig.timeout_seconds``), ``SessionStopped("stop timed out")`` is
  delivered instead and whatever comes later is dropped.
- ``cancel()`` closes the feed and the push stream and drops everything: no event is
  delivered after it returns.

Both return in a few milliseconds (the microphone's close, ~5 ms). The SDK recognizer is
stopped and destroyed on a helper thread of its own (``azure-session-release``), which may
wait on the SDK (bounded by the SDK itself) and then for its callbacks to be over
(``sdk_gate``); nothing waits for that thread.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from azure.cognitiveservices import speech as speechsdk

from voicetype.audio import SAMPLE_RATE, AudioFeed
from voicetype.config import AzureConfig
from voicetype.recognition import ErrorKind, Failed, NoMatch, Recognized
from voicetype.recognition.azure import (
    _json_of,
    apply_phrase_list,
    build_speech_config,
    new_recognizer,
    sdk_answer,
)
from voicetype.recognition.azure_results import DEFAULT_MAX_CHARS, map_answer, whole_text
from voicetype.recognition.events import (
    Hypothesis,
    PhraseNoMatch,
    PhraseRecognized,
    SessionEvent,
    SessionFailed,
    SessionStopped,
    SpeechEnded,
    SpeechStarted,
)
from voicetype.recognition.language import LanguageSwitch
from voicetype.recognition.sdk_gate import CallbackGate

log = logging.getLogger(__name__)

# How long the release waits for the SDK's callbacks to be over (``sdk_gate``).
_SETTLE_SECONDS = 5.0

OnEvent = Callable[[SessionEvent], None]


class ContinuousRecognizer:
    """Builds the SDK's ``SpeechConfig`` (once per set of candidate languages); ``start``
    opens one session per dictation, with the same request as a single utterance: the
    phrase list (``config.phrases``, in speech.context), the detailed output format (the
    phrase events carry Lexical/ITN/MaskedITN), ``config.profanity``, and with several
    candidate languages the service's language identification (at-start, or continuous
    when ``config.language_id`` says so).

    ``language``: the run-time choice (``LanguageSwitch``), read at each ``start``: a
    pinned language is recognized alone; None uses ``config.languages``.
    ``segmentation_silence_ms``: the service's ``Speech_SegmentationSilenceTimeoutMs`` (how
    long a pause ends a phrase); None keeps the service's default.
    Threading: ``start`` from one thread at a time (the controller's), ~10–30 ms.
    """

    def __init__(
        self,
        config: AzureConfig,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        stop_timeout: float | None = None,
        segmentation_silence_ms: int | None = None,
        language: LanguageSwitch | None = None,
    ) -> None:
        self._config = config
        self._max_chars = max_chars
        self._stop_timeout = config.timeout_seconds if stop_timeout is None else stop_timeout
        self._segmentation_ms = segmentation_silence_ms
        self.language = language or LanguageSwitch(config.languages)
        self._speech_configs: dict[tuple[str, ...], Any] = {}
        built = self._speech_config(config.languages)
        self._setup_failure: Failed | None = built if isinstance(built, Failed) else None

    def _speech_config(self, languages: tuple[str, ...]) -> Any:
        """The ``SpeechConfig`` for these candidate languages (made once, then kept), or
        the ``Failed`` that kept it from being made."""
        built = self._speech_configs.get(languages)
        if built is None:
            built = build_speech_config(self._config, languages)
            if not isinstance(built, Failed) and self._segmentation_ms is not None:
                built.set_property(
                    speechsdk.PropertyId.Speech_SegmentationSilenceTimeoutMs,
                    str(self._segmentation_ms),
                )
            self._speech_configs[languages] = built
        return built

    def start(self, feed: AudioFeed, on_event: OnEvent) -> ContinuousSession:
        """Start recognizing what ``feed`` delivers (it is attached here). Never raises for
        what the service or the SDK does: a session that cannot start delivers
        ``SessionFailed`` and ``SessionStopped("failed")`` (and closes ``feed``)."""
        languages = self.language.candidates()
        session = ContinuousSession(
            feed, on_event, self._max_chars, self._stop_timeout, languages, self.language
        )
        built = self._setup_failure or self._speech_config(languages)
        if isinstance(built, Failed):
            session._fail(built)
            return session
        if len(languages) > 1:
            how = "phrase by phrase" if self._config.language_id == "continuous" else "at start"
            log.info("language: identified %s among %s", how, ", ".join(languages))
        else:
            log.info("language: %s", languages[0])
        session._start(built, self._config.key, self._config.phrases)
        return session


class ContinuousSession:
    """One running continuous recognition (see the module doc for the contract).

    ``stop``, ``cancel`` and the read-only attributes may be used from any thread.
    ``bytes_sent``: audio bytes written to the SDK. ``released`` is set once the helper
    thread has destroyed the SDK objects (tests and benches wait on it).
    """

    def __init__(
        self,
        feed: AudioFeed,
        on_event: OnEvent,
        max_chars: int,
        stop_timeout: float,
        languages: tuple[str, ...] = ("en-US",),
        switch: LanguageSwitch | None = None,
    ):
        self._languages = languages
        self._switch = switch
        self._identified = ""  # the last language the service identified (SDK threads)
        self._feed = feed
        self._on_event = on_event
        self._max_chars = max_chars
        self._stop_timeout = stop_timeout
        self._lock = threading.Lock()
        self._done = False  # SessionStopped delivered
        self._cancelled = False
        self._stopping = False
        self._ended = threading.Event()  # the SDK reported session_stopped (or we gave up)
        self._push: Any = None
        self._recognizer: Any = None
        self._start_future: Any = None
        self._released_started = False
        self._gate = CallbackGate()  # every SDK callback goes through it (sdk_gate)
        self.released = threading.Event()
        self.bytes_sent = 0
        self.stop_requested_at: float | None = None

    # -------------------------------------------------------------- caller side

    def stop(self) -> None:
        """End the audio now and let the service finalize (module doc); returns at once."""
        with self._lock:
            if self._stopping or self._cancelled or self._done:
                return
            self._stopping = True
            self.stop_requested_at = time.monotonic()
        self._close_audio()
        threading.Thread(target=self._stop_watch, name="azure-session-stop", daemon=True).start()

    def cancel(self) -> None:
        """Close the microphone and drop everything; nothing is delivered after this returns."""
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
        self._close_audio()
        self._ended.set()
        self._release_in_background()

    @property
    def finished(self) -> bool:
        """``SessionStopped`` was delivered, or the session was cancelled."""
        with self._lock:
            return self._done or self._cancelled

    # -------------------------------------------------------------- setup

    def _start(self, speech_config: Any, key: str, phrases: tuple[str, ...] = ()) -> None:
        try:
            fmt = speechsdk.audio.AudioStreamFormat(
                samples_per_second=SAMPLE_RATE, bits_per_sample=16, channels=1
            )
            self._push = speechsdk.audio.PushAudioInputStream(stream_format=fmt)
            audio_config = speechsdk.audio.AudioConfig(stream=self._push)
            recognizer = new_recognizer(speech_config, audio_config, self._languages)
            apply_phrase_list(recognizer, phrases)
        except (RuntimeError, ValueError) as exc:
            text = str(exc).replace(key, "***") if key else str(exc)
            self._fail(Failed(ErrorKind.INTERNAL, text))
            return
        self._recognizer = recognizer
        cap = self._max_chars
        wrap = self._gate.wrap
        recognizer.speech_start_detected.connect(wrap(lambda e: self._emit(SpeechStarted(_now()))))
        recognizer.speech_end_detected.connect(wrap(lambda e: self._emit(SpeechEnded(_now()))))
        recognizer.recognizing.connect(
            wrap(
                lambda e: self._hypothesis(
                    whole_text(str(e.result.text or ""), _json_of(e.result), "Text", cap)
                )
            )
        )
        recognizer.recognized.connect(wrap(lambda e: self._recognized(e.result, key)))
        recognizer.canceled.connect(wrap(lambda e: self._canceled(e.result, key)))
        recognizer.session_stopped.connect(wrap(lambda e: self._session_stopped()))
        self._start_future = recognizer.start_continuous_recognition_async()
        self._feed.attach(self._write)

    def _write(self, block: bytes) -> None:
        self._push.write(block)
        self.bytes_sent += len(block)

    # -------------------------------------------------------------- SDK threads

    def _emit(self, event: SessionEvent) -> None:
        with self._lock:
            if self._done or self._cancelled:
                return
            if isinstance(event, SessionStopped):
                self._done = True
            self._on_event(event)

    def _hypothesis(self, text: str | None) -> None:
        if text:
            self._emit(Hypothesis(_now(), text))

    def _recognized(self, result: Any, key: str) -> None:
        outcome = map_answer(sdk_answer(result), (key,), self._max_chars)
        if isinstance(outcome, Recognized):
            language = self._language_of(outcome.language)
            self._emit(
                PhraseRecognized(
                    _now(),
                    outcome.text,
                    outcome.lexical,
                    outcome.itn,
                    outcome.masked_itn,
                    language,
                )
            )
        elif isinstance(outcome, NoMatch):
            self._emit(PhraseNoMatch(_now(), outcome))
        else:  # the text cap: nothing of it is kept, and the session cannot go on
            self._fail(outcome)

    def _language_of(self, identified: str) -> str:
        """The phrase's language: the one identified (logged when it changes, told to the
        switch), or the session's only language."""
        if len(self._languages) == 1:
            return self._languages[0]
        if not identified:
            return ""
        if identified != self._identified:
            self._identified = identified
            log.info("language identified: %s", identified)
        if self._switch is not None:
            self._switch.heard(identified)
        return identified

    def _canceled(self, result: Any, key: str) -> None:
        answer = sdk_answer(result)
        if answer.cancellation_reason == "EndOfStream":
            return  # our own end of audio: session_stopped follows
        outcome = map_answer(answer, (key,), self._max_chars)
        if isinstance(outcome, Failed):
            self._fail(outcome)

    def _session_stopped(self) -> None:
        with self._lock:
            reason = "end of audio" if self._stopping else "service ended"
        self._emit(SessionStopped(_now(), reason))
        self._ended.set()
        self._close_audio()
        self._release_in_background()

    def _fail(self, failure: Failed) -> None:
        log.info("recognition session failed: %s", failure)
        self._emit(SessionFailed(_now(), failure))
        self._emit(SessionStopped(_now(), "failed"))
        self._ended.set()
        self._close_audio()
        self._release_in_background()

    # -------------------------------------------------------------- endings

    def _close_audio(self) -> None:
        """The feed first (no write after it returns), then the push stream (end of audio)."""
        self._feed.close()
        with self._lock:
            push, self._push = self._push, None
        if push is not None:
            try:
                push.close()
            except RuntimeError as exc:
                log.debug("closing the push stream: %s", exc)

    def _stop_watch(self) -> None:
        if not self._ended.wait(self._stop_timeout):
            log.warning(
                "the speech service did not finalize within %g s of the end of audio",
                self._stop_timeout,
            )
            self._emit(SessionStopped(_now(), "stop timed out"))
        self._release_in_background()

    def _release_in_background(self) -> None:
        with self._lock:
            if self._released_started:
                return
            self._released_started = True
            recognizer, self._recognizer = self._recognizer, None
            future, self._start_future = self._start_future, None
        threading.Thread(
            target=self._release,
            args=(recognizer, future),
            name="azure-session-release",
            daemon=True,
        ).start()

    def _release(self, recognizer: Any, future: Any) -> None:
        """On the helper thread: may wait on the SDK (up to ~10 s, see the module doc), then
        for no callback to have run for a quiet time before the objects go (``sdk_gate``:
        dropping them while an SDK thread still dispatches one aborts the process)."""
        try:
            if future is not None:
                try:
                    future.get()
                except RuntimeError as exc:
                    log.debug("start_continuous_recognition: %s", exc)
            if recognizer is not None:
                try:
                    recognizer.stop_continuous_recognition_async().get()
                except RuntimeError as exc:
                    log.debug("stop_continuous_recognition: %s", exc)
                for signal in (
                    recognizer.speech_start_detected,
                    recognizer.speech_end_detected,
                    recognizer.recognizing,
                    recognizer.recognized,
                    recognizer.canceled,
                    recognizer.session_stopped,
                ):
                    signal.disconnect_all()
                self._gate.settle_or_keep(recognizer, _SETTLE_SECONDS)
            del recognizer, future
        finally:
            _trim_heap()
            self.released.set()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once (``find_library`` runs ``ldconfig``); None
    without glibc (musl, macOS, Windows)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def _trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``) once a
    session's SDK objects are gone. The SDK assembles each answer in buffers on its own
    threads' malloc arenas, which glibc keeps after they are freed: a 50 MB answer left the
    daemon ~60 MB larger at idle without this, ~23 MB with it. No-op without glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _now() -> float:
    return time.monotonic()
