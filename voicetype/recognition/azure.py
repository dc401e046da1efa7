"""``AzureRecognizer``: one utterance through the Speech SDK (``azure-cognitiveservices-speech``).

The only module that imports the SDK, and only the glue to it: what the SDK returns is read
off into plain values here and mapped to results by ``azure_results`` (pure, tested without
the SDK). Every outcome becomes exactly one ``Recognized``, ``NoMatch`` or ``Failed``; nothing
the service, the network, the microphone or the WAV file does raises out of
``recognize_once``.

Never hanging. Measured with SDK 1.53 against the fake service (tests/harness/fake_speech.py):
a silent service makes ``recognize_once`` wait ~60-70 s by default. The undocumented
``SPEECH-OneShotRecognition-OperationTimeoutMs`` bounds the *whole* call (a speaker still
talking after that long, hypotheses flowing, is cut off too), so it cannot tell a quiet service
from a long utterance. Instead a watchdog here ends the recognition when the SDK has reported
no sign of the service (connection, speech start/end, hypothesis) for
``AzureConfig.timeout_seconds``, by calling ``stop_continuous_recognition_async`` (which also
stops a one-shot recognition). ``SPEECH-StopRecognitionTimeoutInSeconds`` = 0 makes that stop,
and the destruction of the SDK recognizer, immediate (with the default, each took ~1 s more).

Bounds on what the service sends. A service that keeps sending hypotheses (every 0.2 s, say)
never lets the idle watchdog fire; ``max_listen_seconds`` (default 20 s) ends any recognition
that long after it started, and the result is what was recognized so far: the final answer if
it arrives while the SDK stops (within 2 s), else the last hypothesis, else ``NoMatch``.
Recognized text (final or hypothesis) longer than ``max_chars`` (default 10,000) is refused:
``Failed(TEXT_TOO_LONG)``; the service's JSON answer is measured before it is parsed, so an
oversized answer is never parsed or kept (the SDK itself still holds it while it decodes it:
with a 50 MB answer its native memory peaked at ~560 MB before voicetype saw the result).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from azure.cognitiveservices import speech as speechsdk

from voicetype.config import MAX_LANGUAGES_AT_START, AzureConfig
from voicetype.recognition import (
    AudioInput,
    ErrorKind,
    Failed,
    Microphone,
    RecognitionResult,
    Recognized,
    WavFile,
)
from voicetype.recognition.azure_results import (
    DEFAULT_MAX_CHARS,
    SdkAnswer,
    check_wav,
    classify_exception,
    map_answer,
    scrub,
    so_far,
    whole_text,
)
from voicetype.recognition.sdk_release import STOP_GRACE_SECONDS, Run, release_when_idle

log = logging.getLogger(__name__)

STOP_TIMEOUT_PROPERTY = "SPEECH-StopRecognitionTimeoutInSeconds"
# How long recognize_once still waits for the SDK after asking it to stop.
_STOP_GRACE_SECONDS = STOP_GRACE_SECONDS
# The longest one recognition may listen, whatever the service does.
MAX_LISTEN_SECONDS = 20.0
# A single utterance identifies its language at its start, among at most this many (the
# service's limit; the configuration allows 10 for hands-free dictation only).
MAX_AT_START = MAX_LANGUAGES_AT_START

# ------------------------------------------------------------------ the recognizer


class AzureRecognizer:
    """``Recognizer`` over the Azure Speech SDK, for the cloud (key + region) or a ``host``.

    The SDK's ``SpeechConfig`` is built once here; each ``recognize_once`` creates its own
    SDK recognizer, and ``release`` (called by the controller once the text is typed, or by
    the next ``recognize_once``/``close``) destroys it, so the microphone is open only while
    a recognition runs and the teardown (~20 ms, ~270 ms in one run of seven: measured with
    bench/run.py) is not on the way to the text.
    Missing credentials are not an error here: ``recognize_once`` then returns
    ``Failed(NOT_CONFIGURED)`` (the daemon starts and explains).

    Threading: ``recognize_once`` is for one thread at a time (the controller thread);
    a second concurrent call raises ``RuntimeError``. It blocks for at most about
    ``config.timeout_seconds`` after the service last showed a sign of life, and at most
    ``max_listen_seconds`` in all, plus 2 s (see the module doc for what it returns then).
    ``cancel`` and ``close`` may be called from any thread and never block for long:
    ``cancel`` makes a running ``recognize_once`` return ``Failed(SERVICE_TIMEOUT)`` within
    ~0.1 s (or the result if it was already known), and does nothing when none runs;
    ``close`` cancels, releases the last recognition's SDK objects and makes later calls
    raise ``RuntimeError``. The SDK calls back on its
    own threads; those callbacks only record times under a lock.
    """

    def __init__(
        self,
        config: AzureConfig,
        on_speech_end: Callable[[], None] | None = None,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        max_listen_seconds: float = MAX_LISTEN_SECONDS,
    ) -> None:
        """``on_speech_end`` runs on an SDK thread when the service hears the speech end
        (the icon's "recognizing"); it must be fast and must not raise. ``max_chars`` and
        ``max_listen_seconds`` bound what the service can make voicetype keep and how long
        the microphone stays open (module doc)."""
        self._config = config
        self._max_chars = max_chars
        self._max_listen = max_listen_seconds
        self._on_speech_end = on_speech_end
        self._secrets = (config.key,)
        self._lock = threading.Lock()  # held while recognize_once runs
        self._state = threading.Lock()  # guards _run, _pending and _closed
        self._run: Run | None = None
        self._pending: list[tuple[Any, Any, Run]] = []  # finished, not yet destroyed
        self._closed = False
        self._speech_config: Any = None
        self._setup_failure: Failed | None = None
        # one utterance: identification at its start only, among the first 4 languages
        self._languages = config.languages[:MAX_AT_START]
        if len(config.languages) > MAX_AT_START:
            log.warning(
                "a single utterance identifies among at most %d languages: using %s",
                MAX_AT_START,
                ", ".join(self._languages),
            )
        at_start = dataclasses.replace(config, language_id="at-start")
        built = build_speech_config(at_start, self._languages)
        if isinstance(built, Failed):
            self._setup_failure = built
            return
        self._speech_config = built

    # -------------------------------------------------------------- protocol

    def recognize_once(self, audio: AudioInput) -> RecognitionResult:
        """Recognize one utterance from ``audio``; see the class docstring for the contract."""
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("AzureRecognizer.recognize_once is already running")
        try:
            with self._state:
                if self._closed:
                    raise RuntimeError("AzureRecognizer is closed")
            self.release()  # the previous recognition's, if the caller didn't
            if self._setup_failure is not None:
                return self._setup_failure
            if isinstance(audio, WavFile):
                problem = check_wav(audio.path)
                if problem:
                    return Failed(ErrorKind.AUDIO_FILE, problem)
            return self._recognize(audio)
        finally:
            self._lock.release()

    def cancel(self) -> None:
        with self._state:
            run = self._run
        if run is not None:
            with run.cond:
                run.cancelled = True
                run.cond.notify_all()

    def close(self) -> None:
        """Cancel, and wait (up to ~5 s) until the SDK released the microphone."""
        with self._state:
            self._closed = True
        self.cancel()
        self.release()

    def release(self) -> None:
        """Destroy the SDK objects of finished recognitions (closes the microphone and the
        websocket). On the thread that ran ``recognize_once`` or at ``close``."""
        with self._state:
            pending, self._pending = self._pending, []
        while pending:
            recognizer, connection, run = pending.pop()
            box = [recognizer, connection]
            del recognizer, connection  # ``box`` holds the only references now
            release_when_idle(box, run)

    # -------------------------------------------------------------- internals

    def _recognize(self, audio: AudioInput) -> RecognitionResult:
        try:
            if isinstance(audio, Microphone):
                audio_config = speechsdk.audio.AudioConfig(use_default_microphone=True)
            else:
                audio_config = speechsdk.audio.AudioConfig(filename=str(audio.path))
            recognizer = new_recognizer(self._speech_config, audio_config, self._languages)
            apply_phrase_list(recognizer, self._config.phrases)
        except (RuntimeError, ValueError) as exc:
            failure = classify_exception(exc, audio, self._secrets)
            log.info("recognizer setup failed: %s", failure)
            return failure

        run = Run(threading.Condition(), time.monotonic())
        for signal in (
            recognizer.session_started,
            recognizer.speech_start_detected,
            recognizer.speech_end_detected,
        ):
            signal.connect(run.gate.wrap(run.touch))
        cap = self._max_chars
        recognizer.recognizing.connect(
            run.gate.wrap(
                lambda evt: run.hypothesize(
                    whole_text(str(evt.result.text or ""), _json_of(evt.result), "Text", cap)
                )
            )
        )
        recognizer.session_stopped.connect(run.gate.wrap(run.stop))
        if self._on_speech_end is not None:
            hook = self._on_speech_end
            recognizer.speech_end_detected.connect(run.gate.wrap(lambda _evt: hook()))
        connection = speechsdk.Connection.from_recognizer(recognizer)
        connection.connected.connect(run.gate.wrap(run.touch))
        connection.disconnected.connect(run.gate.wrap(run.disconnect))
        with self._state:
            self._run = run
            run.cancelled = self._closed  # close() raced the setup above
        try:
            return self._wait(recognizer, run, audio)
        finally:
            with self._state:
                self._run = None
                self._pending.append((recognizer, connection, run))
                closed = self._closed
            del recognizer, connection  # ``release`` holds the only references now
            if closed:  # close() ran meanwhile: nobody will call release() again
                self.release()
            log.debug("recognize_once returns at t=%.6f", time.monotonic())

    def _wait(self, recognizer: Any, run: Run, audio: AudioInput) -> RecognitionResult:
        future = recognizer.recognize_once_async()

        def collect() -> None:
            try:
                result = future.get()
            except Exception as exc:  # the SDK's own failure, reported as INTERNAL
                with run.cond:
                    run.error = exc
                    run.done = True
                    run.cond.notify_all()
                return
            log.debug("sdk result at t=%.6f", time.monotonic())
            with run.cond:
                run.result = result
                run.done = True
                run.cond.notify_all()

        threading.Thread(target=collect, name="azure-result", daemon=True).start()
        idle = self._config.timeout_seconds
        until = time.monotonic() + self._max_listen
        with run.cond:
            while not run.done and not run.cancelled:
                remaining = min(run.last_activity + idle, until) - time.monotonic()
                if remaining <= 0:
                    break
                run.cond.wait(remaining)
            if run.done:
                return self._outcome(run, audio)
            now = time.monotonic()
            capped = not run.cancelled and now < run.last_activity + idle
            if run.cancelled:
                why = "cancelled"
            elif capped:
                why = f"still listening after {self._max_listen:g} s"
            else:
                why = f"no answer from the speech service for {idle:g} s"
        log.info("stopping the recognition: %s", why)
        try:
            recognizer.stop_continuous_recognition_async()
        except RuntimeError as exc:  # already finishing: its result is collected below
            log.debug("stop failed: %s", exc)
        with run.cond:
            finished = run.cond.wait_for(lambda: run.done, _STOP_GRACE_SECONDS)
            if finished and run.result is not None and _is_final(run.result):
                return self._outcome(run, audio)  # the answer raced the stop: keep it
            hypothesis, too_long = run.hypothesis, run.hypothesis_too_long
        if not capped:
            return Failed(ErrorKind.SERVICE_TIMEOUT, why)
        log.warning(
            "stopped listening after %g s (the utterance had not ended): "
            "what was recognized so far is the result",
            self._max_listen,
        )
        return so_far(hypothesis, too_long, self._max_listen, self._max_chars)

    def _outcome(self, run: Run, audio: AudioInput) -> RecognitionResult:
        if run.error is not None:
            return classify_exception(run.error, audio, self._secrets)
        result = map_answer(sdk_answer(run.result), self._secrets, self._max_chars)
        if isinstance(result, Recognized) and not result.language and len(self._languages) == 1:
            return dataclasses.replace(result, language=self._languages[0])
        return result


def build_speech_config(config: AzureConfig, languages: tuple[str, ...] = ()) -> Any:
    """The SDK's ``SpeechConfig`` for ``config`` (cloud key + region, or ``host``), with
    immediate stops, the detailed output format and ``config.profanity``; or
    ``Failed(NOT_CONFIGURED)`` (key removed) when it cannot be built.

    ``languages`` (default ``config.languages``): one language is set as the recognition
    language; with several, the recognizer needs ``auto_detect(languages)`` too, and
    ``config.language_id == "continuous"`` sets the SDK's ``LanguageIdMode`` to
    "Continuous" (the service then identifies phrase by phrase; at-start otherwise).
    On the wire (SDK 1.53): ``format=detailed``, ``profanity=…`` and, with several
    languages, ``lidEnabled=…`` in the URL; speech.context carries ``phraseDetection
    .enrichment.profanity`` and a ``languageId`` section (``languages``, ``mode``
    "DetectAtAudioStart"/"DetectContinuous")."""
    if not config.has_credentials:
        missing = "key" if not config.key else "region or host"
        return Failed(ErrorKind.NOT_CONFIGURED, f"no Azure Speech {missing}")
    languages = languages or config.languages
    try:
        if config.host:
            sc = speechsdk.SpeechConfig(host=config.host, subscription=config.key)
        else:
            sc = speechsdk.SpeechConfig(subscription=config.key, region=config.region)
        if len(languages) == 1:
            sc.speech_recognition_language = languages[0]
        elif config.language_id == "continuous":
            mode = speechsdk.PropertyId.SpeechServiceConnection_LanguageIdMode
            sc.set_property(mode, "Continuous")
        # NBest with Lexical/ITN/MaskedITN/Display: the text pipeline's capitals need them
        sc.output_format = speechsdk.OutputFormat.Detailed
        sc.set_profanity(_PROFANITY[config.profanity])
        sc.set_property_by_name(STOP_TIMEOUT_PROPERTY, "0")
    except (RuntimeError, ValueError) as exc:
        return Failed(ErrorKind.NOT_CONFIGURED, scrub(str(exc), (config.key,)))
    return sc


def new_recognizer(speech_config: Any, audio_config: Any, languages: tuple[str, ...]) -> Any:
    """An SDK ``SpeechRecognizer``; with several ``languages``, identifying among them
    (``AutoDetectSourceLanguageConfig``). Raises what the SDK raises."""
    if len(languages) > 1:
        auto = speechsdk.languageconfig.AutoDetectSourceLanguageConfig(languages=list(languages))
        return speechsdk.SpeechRecognizer(
            speech_config=speech_config,
            audio_config=audio_config,
            auto_detect_source_language_config=auto,
        )
    return speechsdk.SpeechRecognizer(speech_config=speech_config, audio_config=audio_config)


def apply_phrase_list(recognizer: Any, phrases: tuple[str, ...]) -> None:
    """Give the SDK ``recognizer`` the phrase list (``AzureConfig.phrases``): the service
    then hears product names and the command words as such. Sent in ``speech.context``
    when the recognition starts. Raises what the SDK raises (``RuntimeError``)."""
    if not phrases:
        return
    grammar = speechsdk.PhraseListGrammar.from_recognizer(recognizer)
    for phrase in phrases:
        grammar.addPhrase(phrase)


_PROFANITY = {
    "masked": speechsdk.ProfanityOption.Masked,
    "removed": speechsdk.ProfanityOption.Removed,
    "raw": speechsdk.ProfanityOption.Raw,
}


def sdk_answer(result: Any) -> SdkAnswer:
    """The plain values of an SDK ``SpeechRecognitionResult`` that ``map_answer`` reads."""
    reason = result.reason
    if reason == speechsdk.ResultReason.NoMatch:
        return SdkAnswer(reason.name, no_match_reason=result.no_match_details.reason.name)
    if reason == speechsdk.ResultReason.Canceled:
        details = result.cancellation_details
        return SdkAnswer(
            reason.name,
            cancellation_reason=details.reason.name,
            error_code=details.code.name,
            error_details=details.error_details or "",
        )
    return SdkAnswer(reason.name, text=str(result.text or ""), json=_json_of(result))


def _json_of(result: Any) -> str:
    """The service's JSON answer (unparsed; ``whole_text`` measures it before parsing)."""
    return str(getattr(result, "json", "") or "")


def _is_final(result: Any) -> bool:
    """Whether a result raced our stop with a real answer (not the stop's own cancellation)."""
    final = (speechsdk.ResultReason.RecognizedSpeech, speechsdk.ResultReason.NoMatch)
    return bool(result.reason in final)


def open_default_microphone() -> Failed | None:
    """Whether the SDK can open the default microphone in this process: None when it can,
    else the failure. Opens no network connection (the SDK connects only when recognition
    starts). The audio libraries it loads print pages of noise (ALSA, JACK) on file
    descriptor 2 and may block on a hung audio server: callers use
    ``voicetype.recognition.microphone.probe_microphone``, which runs this in a child process.
    """
    try:
        config = speechsdk.SpeechConfig(host="ws://127.0.0.1:9", subscription="probe")
        audio_config = speechsdk.audio.AudioConfig(use_default_microphone=True)
        recognizer = speechsdk.SpeechRecognizer(speech_config=config, audio_config=audio_config)
        del recognizer
    except (RuntimeError, ValueError) as exc:
        return classify_exception(exc, Microphone(), ())
    return None
