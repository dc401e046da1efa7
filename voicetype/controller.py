"""The dictation state machine: one thread owns the state, everything else enqueues.

Pure: no desktop or SDK imports; the parts (recognizer, inserter, settings), the
feedback, the UI, the cue and the clock are injected.

Threads:

- Any thread: the ``Inbox`` methods (``press``, ``flip_enabled``, ``speech_ended``,
  ``apply``, ``tell``…) and ``request_quit`` only put an event on the queue and never
  block; ``status`` returns the last published ``Status`` (a frozen snapshot).
- The controller thread (``run``): the only code that changes the state, the only caller
  of the UI and the feedback. It handles one event at a time and never waits for the
  speech service or a window.
- Its worker thread ("dictation", started and stopped by ``run``): the only caller of the
  recognizer's and the inserter's methods (but ``Recognizer.cancel``, from
  ``request_quit``), one call at a time, in the order the controller asked; each result
  comes back as an event.

Presses: the controller answers each press when it takes it from the queue. A dictation
(a "session") opens when a press is accepted and closes just before the controller shows
its final state (idle, disabled or error); since one thread handles presses in order, a
press made after the user sees that state always starts a dictation, and a press made
during one is answered at once (BUSY, and the tooltip says so) — never queued as a second
dictation. A press whose submitter stopped waiting before the controller took it is
dropped, never started late (``Press``).

Recording modes (when the parts have a ``listener``: own microphone + continuous
recognition): a press is an edge — tap, key down, key up, cancel (``inbox.TAP``…) — that the
mode machine (``voicetype.live``, ``voicetype.modes``) answers: start, stop (a second tap,
the release of a hold), cancel, or ignored with a reason; its timers are the queue's wait
(``Tick`` when the machine's deadline comes first). The recognizer's events come back
through the queue too; the microphone is opened on the worker and closed (stop, cancel) on
this thread in a few milliseconds. Without a listener, a press is one ``recognize_once``.

Turning voicetype off or on applies at once
(the icon changes when the session ends); new parts (``apply``), "Type last dictation"
and ``submit_call`` wait for the session to end.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from typing import Protocol

from voicetype import dictation as d
from voicetype import inbox as ev
from voicetype.dictation import (
    BUSY_DETAIL,
    KEPT_HINT,
    PARTLY_TYPED_HINT,
    ControllerSettings,
    DictationParts,
    DictationRecord,
    Press,
    PressOutcome,
)
from voicetype.feedback import Feedback
from voicetype.live import CancelKey, LiveSessions, NoCancelKey
from voicetype.notify import Urgency
from voicetype.recognition import AudioInput, ErrorKind, Failed, Microphone
from voicetype.recognition.messages import Message, describe_failure
from voicetype.sessions import Sessions
from voicetype.state import State, Status

__all__ = [
    "BUSY_DETAIL",
    "KEPT_HINT",
    "PARTLY_TYPED_HINT",
    "Controller",
    "ControllerSettings",
    "DictationParts",
    "DictationRecord",
    "Press",
    "PressOutcome",
    "State",
    "Status",
]

log = logging.getLogger(__name__)


class UI(Protocol):
    """Shows the state (tray icon and tooltip). Called from the controller thread only;
    fast, never blocks."""

    def show(self, state: State, detail: str = "") -> None: ...


class Controller(ev.Inbox):
    """See the module doc for the threads. ``run`` is the controller thread's body;
    the dictation sessions themselves are ``voicetype.sessions``."""

    def __init__(
        self,
        parts: DictationParts,
        feedback: Feedback,
        ui: UI,
        *,
        audio: AudioInput | None = None,
        cue: Callable[[], None] = lambda: None,
        stop_cue: Callable[[], None] = lambda: None,
        cancel_key: CancelKey | None = None,
        clock: Callable[[], float] = time.monotonic,
        microphone_check: Callable[[], Failed | None] | None = None,
    ) -> None:
        super().__init__()
        self._parts, self._feedback, self._ui = parts, feedback, ui
        feedback.include_text = parts.settings.include_text_in_log
        self._worker = d.Worker(lambda exc: self._queue.put(ev.Crashed()))
        # controller thread only:
        self._state, self._detail, self._enabled = State.IDLE, "", True
        self._held: list[ev.Event] = []
        self._sessions = Sessions(
            feedback,
            self._worker,
            self._queue.put,
            self._set_state,
            lambda: self._state,
            self._idle_state,
            audio=audio or Microphone(),
            cue=cue,
            clock=clock,
            microphone_check=microphone_check,
        )
        self._clock = clock
        self._live = LiveSessions(
            self._sessions,
            feedback,
            self._worker,
            self._queue.put,
            self._set_state,
            cue=cue,
            stop_cue=stop_cue,
            cancel_key=cancel_key or NoCancelKey(),
            clock=clock,
        )
        self._live.configure(parts.settings.modes)
        self._status = Status(backends=parts.backends)

    # ------------------------------------------------------------ any thread

    @property
    def status(self) -> Status:
        return self._status

    @property
    def last(self) -> DictationRecord:
        """The last dictation's record (controller thread; others read ``status``)."""
        return self._sessions.last

    @property
    def last_text(self) -> str | None:
        """The kept text (controller thread; others read ``status.kept_text``)."""
        return self._sessions.last_text

    @property
    def parts(self) -> DictationParts:
        """The parts dictations use now (a reload's are taken between dictations)."""
        return self._parts

    def request_quit(self) -> None:
        """Stop after the current event; a running recognition is cancelled."""
        self._quitting.set()
        recognizer = self._parts.recognizer
        if recognizer is not None:
            recognizer.cancel()
        self._queue.put(ev.Quit())

    def not_configured_message(self) -> Message:
        """What a press says when no key is configured."""
        return self._parts.not_configured or describe_failure(Failed(ErrorKind.NOT_CONFIGURED))

    # ------------------------------------------------------------ controller thread

    def run(self) -> None:
        """Process events until quit; a failing step is logged and the loop carries on."""
        self._worker.start()
        self._set_state(self._idle_state())
        try:
            while True:
                try:
                    event = self._next_event()
                except queue.Empty:
                    self._guarded(self._live.tick)
                    continue
                if isinstance(event, ev.Quit) or self._quitting.is_set():
                    return
                if self._sessions.current is not None and isinstance(event, ev.AFTER_SESSION):
                    self._held.append(event)
                    continue
                self._handle(event)
                while self._sessions.current is None and self._held:
                    self._handle(self._held.pop(0))
        finally:
            self._live.abort()
            if not self._worker.stop(timeout=5):
                log.warning("the dictation worker did not stop within 5 s")

    def _next_event(self) -> ev.Event:
        """The next event; ``queue.Empty`` when the mode machine's deadline came first."""
        deadline = self._live.deadline()
        if deadline is None:
            return self._queue.get()
        return self._queue.get(timeout=max(0.0, deadline - self._clock()))

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception:
            log.exception("internal error in a recording-mode step")
            self._crashed()

    def _crashed(self) -> None:
        self._live.abort()
        self._sessions.crashed()

    def _handle(self, event: ev.Event) -> None:
        try:
            if isinstance(event, ev.Dictate):
                if self._parts.listener is not None or self._live.active:
                    self._take_key(event.press, event.edge)
                elif event.edge in (ev.TAP, ev.DOWN):
                    self._take_press(event.press)
                elif event.press.claim():
                    event.press.answer(PressOutcome.NOT_LISTENING)
            elif isinstance(event, ev.Recognition):
                self._live.recognition(event.live, event.event)
            elif isinstance(event, ev.Opened):
                self._live.opened(event.live, event.opened)
            elif isinstance(event, ev.PhraseTyped):
                self._live.phrase_typed(event.session, event.text, event.inserted)
            elif isinstance(event, ev.Flip):
                self._flip(event)
            elif isinstance(event, ev.SpeechEnded):
                if self._sessions.current is not None and self._state is State.LISTENING:
                    self._set_state(State.RECOGNIZING)
            elif isinstance(event, ev.Heard):
                if event.session is self._sessions.current:
                    self._sessions.heard(event.session, event.heard)
            elif isinstance(event, ev.Inserted):
                if event.session is self._sessions.current:
                    self._sessions.typed(event.session, event.text, event.inserted)
            elif isinstance(event, ev.Crashed):
                self._crashed()
            elif isinstance(event, ev.Tell):
                self._tell(event)
            elif isinstance(event, ev.Apply):
                self._apply(event)
            elif isinstance(event, ev.TypeLast):
                self._sessions.type_last(event.source, self._parts, event.text)
            elif isinstance(event, ev.Call):
                event.func()
        except Exception:
            log.exception("internal error while handling %s", type(event).__name__)
            self._crashed()

    def _take_press(self, press: Press) -> None:
        """Answer a press once the state it leads to is shown (a ``status`` after the
        answer sees it); an accepted one opens a session and starts listening."""
        if not press.claim():
            log.info("press dropped: its sender stopped waiting for it (%s)", press.source)
            return
        if self._sessions.current is not None:
            log.debug("press during a dictation ignored (%s)", press.source)
            if self._state in BUSY_DETAIL:
                self._set_state(self._state, BUSY_DETAIL[self._state])
            press.answer(PressOutcome.BUSY)
            return
        if not self._enabled:
            press.answer(PressOutcome.DISABLED)
            log.info("dictation ignored: voicetype is disabled (%s)", press.source)
            return
        self._feedback.clear_note()
        parts = self._parts
        if parts.recognizer is None:
            message = self.not_configured_message()
            self._set_state(State.ERROR, message.as_text())
            press.answer(PressOutcome.NOT_CONFIGURED)  # `status` shows the error from now
            self._feedback.tell(message, Urgency.CRITICAL)
            return
        self._sessions.start(press, parts)
        press.answer(PressOutcome.STARTED)

    def _take_key(self, press: Press, edge: str) -> None:
        """A press, release, tap or cancel in the recording modes (``voicetype.live``)."""
        if not press.claim():
            log.info("press dropped: its sender stopped waiting for it (%s)", press.source)
            return
        starts = not self._live.machine.in_session and edge in (ev.TAP, ev.DOWN)
        if starts and self._sessions.current is not None:  # "type last" under way
            press.answer(PressOutcome.BUSY)
            return
        if starts and not self._enabled:
            press.answer(PressOutcome.DISABLED)
            log.info("dictation ignored: voicetype is disabled (%s)", press.source)
            return
        if starts:
            self._feedback.clear_note()
        outcome = self._live.press(press, edge, self._parts)
        press.answer(outcome)

    def _flip(self, event: ev.Flip) -> None:
        self._enabled = not self._enabled
        log.info("enabled: %s", self._enabled)
        if self._sessions.current is None:
            self._set_state(self._idle_state())
        else:
            self._publish()
        if event.answer is not None:
            event.answer(self._enabled)

    def _tell(self, event: ev.Tell) -> None:
        if event.problem is not None:
            self._feedback.clear_note()
        delivered = [self._feedback.tell(m, event.urgency) for m in event.messages]
        if event.problem is not None:
            state = State.ERROR if self._parts.recognizer is None else self._idle_state()
            self._set_state(state, event.problem or self._feedback.note)
        elif not all(delivered) and self._sessions.current is None:
            self._set_state(self._state, self._feedback.note)

    def _apply(self, event: ev.Apply) -> None:
        old, new = self._parts, event.parts
        self._parts = new
        self._live.configure(new.settings.modes)
        self._feedback.include_text = new.settings.include_text_in_log
        keep = (new.recognizer, new.inserter, new.listener)
        for part in (old.recognizer, old.inserter, old.listener):
            if part is not None and all(part is not k for k in keep):
                self._worker.submit(_closer(part))
        self._publish()
        if event.tell is not None:
            self._tell(event.tell)
        event.done()

    def _idle_state(self) -> State:
        return State.IDLE if self._enabled else State.DISABLED

    def _set_state(self, state: State, detail: str = "") -> None:
        self._state, self._detail = state, detail
        self._publish()
        try:
            self._ui.show(state, detail)
        except Exception:
            log.exception("could not update the tray")

    def _publish(self) -> None:
        self._status = Status(
            state=self._state,
            detail=self._detail,
            enabled=self._enabled,
            last_outcome=self._sessions.last.outcome,
            kept_text=self._sessions.last_text is not None,
            dictations=self._sessions.dictations,
            backends=self._parts.backends,
        )


def _closer(part: object) -> Callable[[], None]:
    return lambda: d.close(part)
