"""The dictation state machine: one thread owns the state, everything else enqueues.

Pure: no desktop or SDK imports; the recognizer, inserter, notifier, UI, cue and clock
are injected. Threading: ``submit_*`` and ``request_quit`` may be called from any thread
(hotkey listener, tray loop, control socket) and never block; ``run`` is the controller
thread's body and the only code that changes state or calls the collaborators.

Presses while a dictation is under way are ignored: a ``dictate`` event that was
submitted before the current dictation finished is dropped when it is dequeued, so a
burst of presses yields exactly one dictation and leaves no backlog.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from voicetype.insertion import Inserter, InsertionError, Target, TargetGone, sanitize
from voicetype.notify import Notifier, Urgency
from voicetype.recognition import (
    AudioInput,
    ErrorKind,
    Failed,
    Microphone,
    NoMatch,
    NoMatchReason,
    Recognized,
    Recognizer,
)
from voicetype.recognition.messages import Message, describe_failure, describe_no_match
from voicetype.state import State

log = logging.getLogger(__name__)


class UI(Protocol):
    """Shows the state (tray icon and tooltip). Called from the controller thread; fast."""

    def show(self, state: State, detail: str = "") -> None: ...


@dataclass(frozen=True)
class ControllerSettings:
    include_text_in_log: bool = False
    notify_no_match: bool = True
    start_sound: bool = True


@dataclass
class DictationRecord:
    """What the last dictation did, for ``status`` and the log (never the key)."""

    outcome: str = ""
    chars: int = 0
    recognize_ms: float = 0.0
    insert_ms: float = 0.0


@dataclass(frozen=True)
class _Dictate:
    at: float
    source: str


@dataclass(frozen=True)
class _SetEnabled:
    enabled: bool


@dataclass(frozen=True)
class _Call:
    func: Callable[[], None]


@dataclass(frozen=True)
class _TypeLast:
    source: str


@dataclass(frozen=True)
class _Quit:
    pass


_Event = _Dictate | _SetEnabled | _Call | _TypeLast | _Quit

#: Told when a dictation could not be typed (window closed, typing failed); the words are
#: kept in ``Controller.last_text`` until "Type last dictation" types them.
KEPT_HINT = (
    "Your words are kept: click where they should go, then choose "
    "“Type last dictation” in the tray menu."
)


@dataclass
class Controller:
    recognizer: Recognizer | None  # None: no key configured; dictation explains how to set one
    inserter: Inserter | None  # None: no way to type here; the text goes to the notification
    notifier: Notifier
    ui: UI
    settings: ControllerSettings = field(default_factory=ControllerSettings)
    not_configured: Message | None = None  # the message shown when recognizer is None
    audio: AudioInput = field(default_factory=Microphone)
    cue: Callable[[], None] = lambda: None
    clock: Callable[[], float] = time.monotonic
    #: Checks that the microphone still opens (None when it does). Asked after a dictation
    #: from the microphone timed out: a dead audio server starves the service of audio,
    #: which otherwise looks like a silent service.
    microphone_check: Callable[[], Failed | None] | None = None

    def __post_init__(self) -> None:
        self._queue: queue.SimpleQueue[_Event] = queue.SimpleQueue()
        self._enabled = True
        self._state = State.IDLE
        self._state_lock = threading.Lock()
        self._busy_until = float("-inf")
        self._quitting = threading.Event()
        self.last = DictationRecord()
        self.last_text: str | None = None  # kept when it could not be typed
        self.dictations = 0

    # ------------------------------------------------------------ any thread

    def submit_dictate(self, source: str = "hotkey") -> None:
        self._queue.put(_Dictate(self.clock(), source))

    def submit_enabled(self, enabled: bool) -> None:
        self._queue.put(_SetEnabled(enabled))

    def submit_type_last(self, source: str = "menu") -> None:
        """Type the kept text (``last_text``) into the window focused when this is handled;
        tells the user when nothing is kept. Never starts a recognition."""
        self._queue.put(_TypeLast(source))

    @property
    def has_kept_text(self) -> bool:
        return self.last_text is not None

    def submit_call(self, func: Callable[[], None]) -> None:
        """Run ``func`` on the controller thread, between dictations."""
        self._queue.put(_Call(func))

    def request_quit(self) -> None:
        """Stop after the current step; a running recognition is cancelled."""
        self._quitting.set()
        if self.recognizer is not None:
            self.recognizer.cancel()
        self._queue.put(_Quit())

    def speech_ended(self) -> None:
        """Any thread (the recognizer's): show "recognizing" while still listening."""
        self._set_state(State.RECOGNIZING, only_from=State.LISTENING)

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def state(self) -> State:
        return self._state

    # ------------------------------------------------------------ controller thread

    def run(self) -> None:
        """Process events until quit; a failing step is logged and the loop carries on."""
        self._set_state(State.IDLE if self._enabled else State.DISABLED)
        while True:
            event = self._queue.get()
            if isinstance(event, _Quit) or self._quitting.is_set():
                return
            try:
                self._handle(event)
            except Exception:
                log.exception("internal error while handling %s", type(event).__name__)
                self._set_state(State.ERROR, "Internal error; see the log file")

    def _handle(self, event: _Event) -> None:
        if isinstance(event, _Dictate):
            if event.at <= self._busy_until:
                log.debug("press during a dictation ignored (%s)", event.source)
                return
            if not self._enabled:
                log.info("dictation ignored: voicetype is disabled (%s)", event.source)
                return
            try:
                self._dictate(event.source)
            finally:
                self._busy_until = self.clock()
                self._release_recognizer()
        elif isinstance(event, _SetEnabled):
            self._enabled = event.enabled
            log.info("enabled: %s", event.enabled)
            self._set_state(State.IDLE if event.enabled else State.DISABLED)
        elif isinstance(event, _TypeLast):
            self._type_last(event.source)
        elif isinstance(event, _Call):
            event.func()

    def _release_recognizer(self) -> None:
        """After the text is typed (or the user told): free the microphone and connection."""
        if self.recognizer is None:
            return
        try:
            self.recognizer.release()
        except Exception:
            log.exception("could not release the recognizer")

    def show_problem(self, detail: str) -> None:
        """Controller thread (use ``submit_call``): show a startup problem in the tooltip; the
        icon shows an error when dictation cannot work at all (no key)."""
        self._set_state(State.ERROR if self.recognizer is None else self._idle_state(), detail)

    def _idle_state(self) -> State:
        return State.IDLE if self._enabled else State.DISABLED

    def _set_state(self, state: State, detail: str = "", only_from: State | None = None) -> None:
        with self._state_lock:  # serializes the icon too: "recognizing" comes from an SDK thread
            if only_from is not None and self._state is not only_from:
                return
            self._state = state
            try:
                self.ui.show(state, detail)
            except Exception:
                log.exception("could not update the tray")

    def _tell(self, message: Message, urgency: Urgency) -> bool:
        delivered = self.notifier.notify(message.summary, message.body, urgency)
        level = logging.INFO if urgency == Urgency.LOW else logging.WARNING
        log.log(level, "%s%s", message.as_text(), "" if delivered else " (no notification service)")
        return delivered

    def _dictate(self, source: str) -> None:
        self.dictations += 1
        number = self.dictations
        if self.recognizer is None:
            message = self.not_configured or describe_failure(Failed(ErrorKind.NOT_CONFIGURED))
            self._tell(message, Urgency.CRITICAL)
            self._set_state(State.ERROR, message.as_text())
            self.last = DictationRecord(outcome="not configured")
            return
        target = self.inserter.focused_target() if self.inserter else None
        started = self.clock()
        self._set_state(State.LISTENING)
        if self.settings.start_sound:
            try:
                self.cue()
            except Exception:
                log.debug("start sound failed", exc_info=True)
        result = self.recognizer.recognize_once(self.audio)
        recognized_at = self.clock()
        record = DictationRecord(recognize_ms=(recognized_at - started) * 1000)
        if self._quitting.is_set():
            return
        if isinstance(result, Recognized):
            text = sanitize(result.text)
            if not text.strip():
                result = NoMatch(NoMatchReason.NOT_RECOGNIZED, "the service returned empty text")
            else:
                self._type(text, target, record)
                self.last = record
                self._log_line(number, source, record, text)
                return
        if isinstance(result, NoMatch):
            record.outcome = f"no match ({result.reason.value})"
            if self.settings.notify_no_match:
                self._tell(describe_no_match(result), Urgency.LOW)
            self._set_state(self._idle_state())
        else:
            result = self._blame_microphone(result)
            record.outcome = f"failed ({result.kind.value})"
            message = describe_failure(result)
            if result.detail:
                log.warning("recognition failed: %s (%s)", result.kind.value, result.detail)
            self._tell(message, Urgency.NORMAL)
            self._set_state(State.ERROR, message.as_text())
        self.last = record
        self._log_line(number, source, record, None)

    def _type(self, text: str, target: Target | None, record: DictationRecord) -> None:
        self._set_state(State.TYPING)
        start = self.clock()
        if self.inserter is None:
            self.last_text = text
            record.outcome = "not typed (no typing backend)"
            self._tell(
                Message("Recognized, but can't type here", f"You said: {text}"), Urgency.NORMAL
            )
            self._set_state(self._idle_state())
            return
        try:
            self.inserter.insert(text, target)
        except TargetGone:
            self.last_text = text
            record.outcome = "kept (window closed)"
            self._tell(
                Message(
                    "The window closed before the text arrived",
                    f"Nothing was typed. {KEPT_HINT}",
                ),
                Urgency.NORMAL,
            )
            self._set_state(self._idle_state())
            return
        except InsertionError as exc:
            self.last_text = text
            record.outcome = "typing failed"
            self._tell(Message("Could not type the text", f"{exc} {KEPT_HINT}"), Urgency.NORMAL)
            self._set_state(State.ERROR, str(exc))
            return
        record.insert_ms = (self.clock() - start) * 1000
        record.chars = len(text)
        record.outcome = "typed"
        self.last_text = None
        self._set_state(self._idle_state())

    def _blame_microphone(self, result: Failed) -> Failed:
        """A timeout while the microphone cannot be opened is the microphone's fault."""
        if result.kind is not ErrorKind.SERVICE_TIMEOUT or not isinstance(self.audio, Microphone):
            return result
        if self.microphone_check is None:
            return result
        try:
            problem = self.microphone_check()
        except Exception:
            log.debug("microphone check failed", exc_info=True)
            return result
        if problem is None:
            return result
        log.warning("the microphone stopped during the dictation: %s", problem.detail)
        return Failed(ErrorKind.MICROPHONE_UNAVAILABLE, f"the microphone stopped: {problem.detail}")

    def _type_last(self, source: str) -> None:
        text = self.last_text
        if text is None:
            self._tell(
                Message("Nothing to type", "No dictation is kept: the last one was typed."),
                Urgency.LOW,
            )
            return
        target = self.inserter.focused_target() if self.inserter else None
        record = DictationRecord()
        self._type(text, target, record)
        self.last = record
        log.info("type last dictation (%s): %s, %d chars", source, record.outcome, record.chars)

    def _log_line(
        self, number: int, source: str, record: DictationRecord, text: str | None
    ) -> None:
        shown = f" text={text!r}" if text is not None and self.settings.include_text_in_log else ""
        log.info(
            "dictation #%d (%s): %s, recognize %.0f ms, insert %.0f ms, %d chars%s",
            number,
            source,
            record.outcome,
            record.recognize_ms,
            record.insert_ms,
            record.chars,
            shown,
        )
