"""Dictation sessions, on the controller thread: listening (on the worker), judging what
was heard, typing (on the worker), and the end — tell, record, log, final state. "Type
last dictation" is a session without recognition.

Threading: the controller thread only (``Controller`` hands it its events); the blocking
steps go to the worker, whose results come back through ``post`` as events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from voicetype import dictation as d
from voicetype import inbox as ev
from voicetype.dictation import DictationParts, DictationRecord, Ending, Press, Session
from voicetype.feedback import Feedback
from voicetype.insertion import Target
from voicetype.notify import Urgency
from voicetype.recognition import AudioInput, Failed
from voicetype.recognition.messages import Message
from voicetype.state import State
from voicetype.text.model import Phrase

log = logging.getLogger(__name__)


class Sessions:
    """The session under way (``current``), the last one's record, and the kept text.

    ``show(state, detail)``, ``state_now()`` and ``idle_state()`` are the controller's:
    the state stays the controller's, changed through it.
    """

    def __init__(
        self,
        feedback: Feedback,
        worker: d.Worker,
        post: Callable[[ev.Event], None],
        show: Callable[[State, str], None],
        state_now: Callable[[], State],
        idle_state: Callable[[], State],
        *,
        audio: AudioInput,
        cue: Callable[[], None],
        clock: Callable[[], float],
        microphone_check: Callable[[], Failed | None] | None,
    ) -> None:
        self._feedback, self._worker, self._post = feedback, worker, post
        self._show, self._state_now, self._idle_state = show, state_now, idle_state
        self._audio, self._cue, self._clock = audio, cue, clock
        self._microphone_check = microphone_check
        self.current: Session | None = None
        self.dictations = 0
        self.last = DictationRecord()
        self.last_text: str | None = None  # kept when it could not be typed

    def start(self, press: Press, parts: DictationParts) -> None:
        """Open a session for an accepted press (its answer follows: STARTED)."""
        self.dictations += 1
        session = Session(self.dictations, press.source, self._clock(), parts)
        self.current = session
        self._show(State.LISTENING, "")
        audio, cue, check, clock = self._audio, self._cue, self._microphone_check, self._clock
        self._worker.submit(
            lambda: self._post(ev.Heard(session, d.listen(parts, audio, cue, check, clock)))
        )

    def open(self, source: str, parts: DictationParts) -> Session:
        """Open a session whose listening someone else runs (the recording modes,
        ``voicetype.live``); shows "listening". It ends through ``type_text`` or ``end``."""
        self.dictations += 1
        session = Session(self.dictations, source, self._clock(), parts)
        self.current = session
        self._show(State.LISTENING, "")
        return session

    def type_text(
        self,
        session: Session,
        text: str,
        target: Target | None,
        phrases: tuple[Phrase, ...] = (),
    ) -> None:
        """Type the session's text (its end follows through ``typed``): ``phrases`` (its
        parts, with the service's forms, joined they are ``text``) go to the text
        pipeline as one dictation; none given: ``text`` as one phrase."""
        self._type(session, text, target, phrases)

    def end(self, session: Session, text: str | None, ending: Ending) -> None:
        """End ``session`` without (more) typing; see ``_end``. A ``text`` the ending
        keeps (typing failed) is what "Type last dictation" then types."""
        if ending.keep and text is not None:
            self.last_text = text
        self._end(session, text, ending)

    def heard(self, session: Session, heard: d.Heard) -> None:
        session.record.recognize_ms = (heard.at - session.started) * 1000
        verdict = d.judge(heard.result, session.parts.settings)
        if isinstance(verdict, str):
            self._type(session, verdict, heard.target, d.phrases_of(heard.result, verdict))
        else:
            self._end(session, None, verdict)

    def type_last(self, source: str, parts: DictationParts, text: str | None = None) -> None:
        """Type the kept text (or ``text``: the tray's Recent) into the window focused now,
        or say nothing is kept."""
        self._feedback.clear_note()
        text = self.last_text if text is None else text
        if text is None:
            message = Message("Nothing to type", "No dictation is kept: the last one was typed.")
            if not self._feedback.tell(message, Urgency.LOW):
                self._show(self._state_now(), self._feedback.note)
            return
        # through the text pipeline as text already shaped: joined to the text before the
        # caret, never taken for a spoken command or changed by a replacement again
        self.current = Session(0, source, self._clock(), parts)
        self._type(self.current, text, None, (Phrase(text, shaped=True),), refocus=True)

    def _type(
        self,
        session: Session,
        text: str,
        target: Target | None,
        phrases: tuple[Phrase, ...] = (),
        refocus: bool = False,
    ) -> None:
        """Show "typing" and hand the text to the worker (through the text stage when
        there is one); ``typed`` follows."""
        self._show(State.TYPING, "")
        inserter, clock, stage = session.parts.inserter, self._clock, session.parts.text
        if inserter is None:
            self.typed(session, text, None)
            return
        phrases = phrases or (Phrase(text),)

        def step() -> d.Inserted:
            if stage is None:
                return d.insert(inserter, text, target, clock, refocus)
            return stage.deliver(inserter, phrases, target, clock, refocus)

        self._worker.submit(lambda: self._post(ev.Inserted(session, text, step())))

    def typed(self, session: Session, text: str, inserted: d.Inserted | None) -> None:
        ending = d.judge_typing(text, inserted)
        if inserted is not None and inserted.error is None:
            typed = text if inserted.typed is None else inserted.typed
            session.record.insert_ms, session.record.chars = inserted.ms, len(typed)
        private = inserted is not None and inserted.private  # a password field: keep nothing
        self.last_text = text if ending.keep and not private else None
        self._end(session, None if private else text, ending)

    def _end(self, session: Session, text: str | None, ending: Ending) -> None:
        """Tell how the session ended, record it, close it, then log it and show the final
        state: whoever sees either (``status``, the log) can press again and sees this
        record."""
        record = session.record
        record.outcome = ending.outcome
        if ending.message is not None:
            dictated = text if ending.dictated else None
            self._feedback.tell(ending.message, ending.urgency, dictated=dictated)
        self.last, self.current = record, None
        if session.number:
            log.info(
                "dictation #%d (%s): %s, recognize %.0f ms, insert %.0f ms, %d chars%s",
                session.number, session.source, record.outcome, record.recognize_ms,
                record.insert_ms, record.chars, self._feedback.loggable(text),
            )  # fmt: skip
            self._release(session)
        else:
            log.info(
                "type last dictation (%s): %s, %d chars",
                session.source, record.outcome, record.chars,
            )  # fmt: skip
        if ending.error is not None:
            self._show(State.ERROR, ending.error)
        else:
            self._show(self._idle_state(), self._feedback.note)

    def crashed(self) -> None:
        """A step failed unexpectedly (logged): the session ends in the error state."""
        session, self.current = self.current, None
        if session is not None and session.number:
            self._release(session)
        self._show(State.ERROR, "Internal error; see the log file")

    def _release(self, session: Session) -> None:
        """After the text is typed (or the user told): free the microphone and connection,
        on the worker, before any next session's steps."""
        recognizer = session.parts.recognizer
        self._worker.submit(lambda: d.release(recognizer))
