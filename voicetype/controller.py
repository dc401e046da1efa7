"""The dictation state machine: one thread owns the state, everything else enqueues.

Pure: no desktop or SDK imports; the recognizer, inserter, notifier, UI, cue and clock
are injected. Threading: ``submit_*`` and ``request_quit`` may be called from any thread
(hotkey listener, tray loop, control socket) and never block; ``run`` is the controller
thread's body and the only code that changes state or calls the collaborators.

Presses: a press is accepted or ignored the moment it is submitted. A dictation (a
"session") opens when a press is accepted and closes just before the controller shows its
final state (idle, disabled or error), so a press made after the user sees that state
always starts a dictation, and a press made while one is pending or running is ignored
(and answered in the tooltip): a burst of presses yields exactly one dictation and leaves
no backlog. Each press returns a ``Press`` whose ``wait`` tells the submitter what came of
it; a press whose submitter stopped waiting before the controller took it is dropped,
never started late.
"""

from __future__ import annotations

import enum
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
    """Shows the state (tray icon and tooltip). Fast, never blocks. Called from the
    controller thread, and (one call at a time, under the controller's lock) from the
    recognizer's thread ("recognizing") and from threads submitting presses (the answer
    to a press during a dictation)."""

    def show(self, state: State, detail: str = "") -> None: ...


@dataclass(frozen=True)
class ControllerSettings:
    include_text_in_log: bool = False
    notify_no_match: bool = True
    start_sound: bool = True
    max_chars: int = 10_000  # longer recognitions are refused whole: nothing typed or kept


class PressOutcome(enum.Enum):
    """What came of a press (``Press.wait``)."""

    STARTED = "started"  # listening now
    BUSY = "busy"  # a dictation was pending or under way: this press was ignored
    DISABLED = "disabled"  # voicetype is turned off: ignored
    NOT_CONFIGURED = "not_configured"  # no key: the user was told how to set one


class Press:
    """One press's answer. The controller answers it; any thread may ``wait`` for it.

    A submitter that stops waiting (``wait`` timed out) abandons the press: if the
    controller had not taken it yet it never will, so a press is never started after its
    submitter reported a failure.
    """

    #: After the controller took the press, its answer follows without any I/O in between.
    CLAIMED_GRACE = 0.2

    def __init__(self, source: str) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._answered = threading.Event()
        self._outcome: PressOutcome | None = None
        self._claimed = False
        self._abandoned = False

    def wait(self, timeout: float) -> PressOutcome | None:
        """The outcome, or None when the controller did not take the press within
        ``timeout`` seconds (it then never will)."""
        if not self._answered.wait(max(0.0, timeout)):
            with self._lock:
                if not self._claimed:
                    self._abandoned = True
                    return None
            self._answered.wait(self.CLAIMED_GRACE)
        return self._outcome

    def _claim(self) -> bool:
        """Controller thread: take the press; False when its submitter gave up on it."""
        with self._lock:
            if self._abandoned:
                return False
            self._claimed = True
            return True

    def _answer(self, outcome: PressOutcome) -> None:
        self._outcome = outcome
        self._answered.set()


#: The tooltip's answer to a press made while a dictation is visibly under way.
BUSY_DETAIL = {
    State.LISTENING: "Already listening — speak, or wait for the text",
    State.RECOGNIZING: "Already recognizing — wait for the text",
    State.TYPING: "Still typing the last dictation — wait for it to finish",
}


@dataclass
class DictationRecord:
    """What the last dictation did, for ``status`` and the log (never the key)."""

    outcome: str = ""
    chars: int = 0
    recognize_ms: float = 0.0
    insert_ms: float = 0.0


@dataclass(frozen=True)
class _Dictate:
    press: Press


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
        self._detail = ""
        self._state_lock = threading.Lock()
        self._session_lock = threading.Lock()
        self._session_open = False  # a press was accepted; its dictation has not ended
        self._in_dictation = False  # controller thread: handling an accepted press
        self._note = ""  # the last message no notification service took (for the tooltip)
        self._quitting = threading.Event()
        self.last = DictationRecord()
        self.last_text: str | None = None  # kept when it could not be typed
        self.dictations = 0

    # ------------------------------------------------------------ any thread

    def submit_dictate(self, source: str = "hotkey") -> None:
        """A press whose outcome nobody waits for (hotkey, menu); see ``press``."""
        self.press(source)

    def press(self, source: str) -> Press:
        """Accept or ignore a press now (see the module doc); never blocks. ``wait`` on the
        result for its outcome."""
        press = Press(source)
        with self._session_lock:
            busy = self._session_open
            self._session_open = True
        if not busy:
            self._queue.put(_Dictate(press))
            return press
        press._claim()
        press._answer(PressOutcome.BUSY)
        log.debug("press during a dictation ignored (%s)", source)
        state = self._state
        if state in BUSY_DETAIL:
            self._set_state(state, BUSY_DETAIL[state], only_from=state)
        return press

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

    @property
    def detail(self) -> str:
        """What the tooltip says besides the state: an error's cause and fix, or the last
        message no notification service could show."""
        return self._detail

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
                self._finish(State.ERROR, "Internal error; see the log file")
            finally:
                self._end_session()

    def _handle(self, event: _Event) -> None:
        if isinstance(event, _Dictate):
            self._in_dictation = True
            try:
                self._take_press(event.press)
            finally:
                self._release_recognizer()
        elif isinstance(event, _SetEnabled):
            self._enabled = event.enabled
            log.info("enabled: %s", event.enabled)
            self._set_state(State.IDLE if event.enabled else State.DISABLED)
        elif isinstance(event, _TypeLast):
            self._type_last(event.source)
        elif isinstance(event, _Call):
            event.func()

    def _take_press(self, press: Press) -> None:
        """Answer an accepted press, then run its dictation."""
        if not press._claim():
            log.info("press dropped: its sender stopped waiting for it (%s)", press.source)
            return
        if not self._enabled:
            press._answer(PressOutcome.DISABLED)
            log.info("dictation ignored: voicetype is disabled (%s)", press.source)
            return
        self._note = ""
        if self.recognizer is None:
            press._answer(PressOutcome.NOT_CONFIGURED)
            message = self.not_configured_message()
            self._tell(message, Urgency.CRITICAL)
            self._finish(State.ERROR, message.as_text())
            return
        self._set_state(State.LISTENING)
        press._answer(PressOutcome.STARTED)
        self._dictate(press.source)

    def not_configured_message(self) -> Message:
        """Any thread: what a press says when no key is configured."""
        return self.not_configured or describe_failure(Failed(ErrorKind.NOT_CONFIGURED))

    def _end_session(self) -> None:
        """Controller thread: the accepted press's dictation is over; presses count again."""
        if self._in_dictation:
            self._in_dictation = False
            with self._session_lock:
                self._session_open = False

    def _finish(self, state: State, detail: str = "") -> None:
        """Show the state a step ends in; the session closes first, so a press made once
        the user sees it is accepted. Without ``detail`` the tooltip keeps the last message
        no notification service could show."""
        self._end_session()
        self._set_state(state, detail or self._note)

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

    def show_note(self, message: Message, delivered: bool) -> None:
        """Controller thread: after ``message`` was notified (or not: ``delivered``), keep
        it in the tooltip when no notification service showed it; the state stays."""
        if not delivered:
            self._note = message.as_text()
            self._set_state(self._state, self._note)

    def _idle_state(self) -> State:
        return State.IDLE if self._enabled else State.DISABLED

    def _set_state(self, state: State, detail: str = "", only_from: State | None = None) -> None:
        with self._state_lock:  # serializes the icon too: "recognizing" comes from an SDK thread
            if only_from is not None and self._state is not only_from:
                return
            self._state, self._detail = state, detail
            try:
                self.ui.show(state, detail)
            except Exception:
                log.exception("could not update the tray")

    def _tell(self, message: Message, urgency: Urgency, logged: str | None = None) -> bool:
        """Notify; log ``logged`` (default: the message) and keep the message for the
        tooltip when no notification service took it."""
        delivered = self.notifier.notify(message.summary, message.body, urgency)
        level = logging.INFO if urgency == Urgency.LOW else logging.WARNING
        text = message.as_text() if logged is None else logged
        log.log(level, "%s%s", text, "" if delivered else " (no notification service)")
        if not delivered:
            self._note = message.as_text()
        return delivered

    def _dictate(self, source: str) -> None:
        self.dictations += 1
        number = self.dictations
        assert self.recognizer is not None
        target = self.inserter.focused_target() if self.inserter else None
        started = self.clock()
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
        text: str | None = None
        final: tuple[State, str] = (self._idle_state(), "")
        if isinstance(result, Recognized):
            length, cap = len(result.text), self.settings.max_chars
            if length > cap:
                del result  # nothing of an oversized text is kept
                record.outcome = f"not typed (too long: {length} characters, limit {cap})"
                self._tell(
                    Message(
                        "The recognized text is too long",
                        f"The recognized text is {length:,} characters long, over the "
                        f"{cap:,} limit; nothing was typed. To allow longer texts, raise "
                        "[typing] max_chars in config.toml.",
                    ),
                    Urgency.NORMAL,
                )
                self._conclude(number, source, record, None, final)
                return
            text = sanitize(result.text)
            if text.strip():
                final = self._type(text, target, record)
                self._conclude(number, source, record, text, final)
                return
            result = NoMatch(NoMatchReason.NOT_RECOGNIZED, "the service returned empty text")
        if isinstance(result, NoMatch):
            record.outcome = f"no match ({result.reason.value})"
            if self.settings.notify_no_match:
                self._tell(describe_no_match(result), Urgency.LOW)
        else:
            result = self._blame_microphone(result)
            record.outcome = f"failed ({result.kind.value})"
            message = describe_failure(result)
            if result.detail:
                log.warning("recognition failed: %s (%s)", result.kind.value, result.detail)
            self._tell(message, Urgency.NORMAL)
            final = (State.ERROR, message.as_text())
        self._conclude(number, source, record, None, final)

    def _conclude(
        self,
        number: int,
        source: str,
        record: DictationRecord,
        text: str | None,
        final: tuple[State, str],
    ) -> None:
        """Record the dictation, close the session, then log it and show its final state:
        whoever sees either (``status``, the log) can press again and sees this record."""
        self.last = record
        self._end_session()
        self._log_line(number, source, record, text)
        self._finish(*final)

    def _type(self, text: str, target: Target | None, record: DictationRecord) -> tuple[State, str]:
        """Insert ``text``; returns the state (and detail) to show afterwards."""
        self._set_state(State.TYPING)
        start = self.clock()
        if self.inserter is None:
            self.last_text = text
            record.outcome = "not typed (no typing backend)"
            shown = f": {text}" if self.settings.include_text_in_log else " (text not logged)"
            self._tell(
                Message("Recognized, but can't type here", f"You said: {text}"),
                Urgency.NORMAL,
                logged=f"Recognized, but can't type here{shown}",
            )
            return self._idle_state(), ""
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
            return self._idle_state(), ""
        except InsertionError as exc:
            self.last_text = text
            nothing = _nothing_typed(exc)
            record.outcome = "typing failed" if nothing else "typing failed (part may be typed)"
            hint = KEPT_HINT if nothing else PARTLY_TYPED_HINT
            self._tell(Message("Could not type the text", f"{exc} {hint}"), Urgency.NORMAL)
            return State.ERROR, str(exc)
        record.insert_ms = (self.clock() - start) * 1000
        record.chars = len(text)
        record.outcome = "typed"
        self.last_text = None
        return self._idle_state(), ""

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
        self._note = ""
        text = self.last_text
        if text is None:
            message = Message("Nothing to type", "No dictation is kept: the last one was typed.")
            self.show_note(message, self._tell(message, Urgency.LOW))
            return
        target = self.inserter.focused_target() if self.inserter else None
        record = DictationRecord()
        final = self._type(text, target, record)
        self.last = record
        log.info("type last dictation (%s): %s, %d chars", source, record.outcome, record.chars)
        self._finish(*final)

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


#: Told instead of ``KEPT_HINT`` when typing may have stopped part-way: "Type last
#: dictation" types the whole text, so following the usual advice could type part twice.
PARTLY_TYPED_HINT = (
    "Part of the text may be in the window already. Your words are kept: remove that part "
    "before choosing “Type last dictation”, which types them all."
)

#: How every inserter says that an ``InsertionError`` left the window untouched.
_NOTHING_TYPED = ("nothing was typed", "nothing was pasted", "nothing typed")


def _nothing_typed(exc: InsertionError) -> bool:
    """Whether the window is known to have received none of the text.

    ``InsertionError`` carries no count yet: the inserters say "nothing was typed" (or
    pasted) in their message when that is known; any other failure may have typed a part.
    """
    return isinstance(exc, TargetGone) or any(p in str(exc).lower() for p in _NOTHING_TYPED)
