"""Dictations in the recording modes, on the controller thread: the mode machine
(``voicetype.modes``) decides what a press, a release, a timer or a recognizer event
means; this carries out its actions with the controller's parts.

- The microphone opens and recognition starts on the worker (``listening.open_live``); the
  recognizer's events come back through the controller's queue (``Recognition``).
- Stop and cancel go straight to the ``listening.Live`` handle (a few ms: the microphone's
  close), never through the worker, which may be typing.
- Text: hold and tap type everything once the session ended, into the window focused at the
  press (``Sessions.type_text``, the phrases handed to the text pipeline as one dictation);
  toggle types each phrase into the window focused when it arrives (worker jobs, in order,
  each through the text pipeline joined to the session's previous phrase: ``PhraseChain``),
  and the session ends once the last one is typed.
- Escape is taken from applications only while listening (``CancelKey``).
- The microphone disconnected while listening (``listening.MicrophoneLost``): listening
  stops as by a stop, what the service heard is typed, and one notification says which
  microphone was disconnected and what happens next.

Threading: the controller thread only (``Controller`` hands it its events).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Protocol

from voicetype import dictation as d
from voicetype import inbox as ev
from voicetype import modes
from voicetype.dictation import DictationParts, Ending, PhraseChain, Press, PressOutcome, Session
from voicetype.feedback import Feedback
from voicetype.listening import LOST_FIX, Live, MicrophoneLost, Opened, open_live
from voicetype.notify import Urgency
from voicetype.recognition import ErrorKind, Failed, NoMatch, NoMatchReason, Recognized
from voicetype.recognition.events import (
    Hypothesis,
    PhraseNoMatch,
    PhraseRecognized,
    SessionEvent,
    SessionFailed,
    SpeechEnded,
)
from voicetype.recognition.messages import Message, describe_failure
from voicetype.session_bridge import mode_event, phrase_of, plain_phrase
from voicetype.sessions import Sessions
from voicetype.state import State
from voicetype.text.model import Phrase

log = logging.getLogger(__name__)


#: A hotkey press this soon after a previous one that stopped or was ignored, with no
#: session under way, starts nothing (a bouncing or mashed key: 50 taps in a second make
#: one session, no backlog). A press right after one that started a session that ended at
#: once ("Didn't catch that") does start again.
REPRESS_GUARD = 0.5

#: The longest typing waits for the hotkey's release (its grab would take the typed keys).
KEY_UP_WAIT = 1.0


class CancelKey(Protocol):
    """Escape as the cancel key: ``grab`` while listening, ``release`` right after. Both
    from the controller thread, return at once (the X requests run on the key's own
    thread); a press of the grabbed key calls the cancel the daemon wired in."""

    def grab(self) -> None: ...

    def release(self) -> None: ...


class NoCancelKey:
    def grab(self) -> None:
        pass

    def release(self) -> None:
        pass


_EDGES: dict[str, Callable[[float], modes.Event]] = {
    ev.TAP: modes.Dictate,
    ev.DOWN: modes.Press,
    ev.UP: modes.Release,
    ev.CANCEL: modes.Cancel,
}


class LiveSessions:
    """The mode machine and the dictation it runs (see the module doc)."""

    def __init__(
        self,
        sessions: Sessions,
        feedback: Feedback,
        worker: d.Worker,
        post: Callable[[ev.Event], None],
        show: Callable[[State, str], None],
        *,
        cue: Callable[[], None],
        stop_cue: Callable[[], None],
        cancel_key: CancelKey,
        clock: Callable[[], float],
    ) -> None:
        self._sessions, self._feedback, self._worker, self._post = sessions, feedback, worker, post
        self._show, self._cue, self._stop_cue = show, cue, stop_cue
        self._cancel_key, self._clock = cancel_key, clock
        self.machine = modes.ModeMachine()
        self._session: Session | None = None
        self._live: Live | None = None
        self._opened: Opened | None = None
        self._listening = False  # the microphone is (being) open for this session
        self._no_match: NoMatch | None = None
        self._failure: Failed | None = None
        self._typing = 0  # hands-free phrases handed to the worker, not yet typed
        self._typed_any = False
        self._end_when_typed = False
        self._after_release: list[Callable[[], None]] = []  # typing held for the key's release
        self._after_release_until: float | None = None
        self._last_hotkey_press = -1e9
        self._last_press_started = False  # the last hotkey press started a session
        self._quiet_until: float | None = None  # a single utterance's service watchdog
        self._last_hypothesis = ""  # words of a phrase not finalized yet
        self._phrases: list[Phrase] = []  # the session's final phrases, with their forms
        self._chain = PhraseChain()  # what the session typed last (hands-free)
        self._lost: Message | None = None  # the microphone was disconnected

    # ------------------------------------------------------------ queries

    @property
    def active(self) -> bool:
        """A dictation of ours is under way (the controller's session)."""
        return self._session is not None and self._session is self._sessions.current

    def deadline(self) -> float | None:
        deadlines = [self.machine.next_deadline(), self._after_release_until, self._quiet_until]
        return min((t for t in deadlines if t is not None), default=None)

    def configure(self, settings: modes.ModeSettings) -> None:
        """Use ``settings`` (a reload) once no session is under way."""
        if settings != self.machine.settings and not self.machine.in_session:
            self.machine = modes.ModeMachine(settings)

    # ------------------------------------------------------------ inputs

    def press(self, press: Press, edge: str, parts: DictationParts) -> PressOutcome:
        """Feed a press (already claimed, enabled and configured checked by the caller when it
        can start a session); the press's outcome."""
        now = self._clock()
        hotkey_press = edge in (ev.DOWN, ev.TAP) and press.source == "hotkey"
        if hotkey_press:
            previous, self._last_hotkey_press = self._last_hotkey_press, now
            mashed = not self._last_press_started and now - previous < REPRESS_GUARD
            if mashed and not self.machine.in_session:
                log.debug("hotkey press %.0f ms after the last ignored", (now - previous) * 1e3)
                return PressOutcome.BUSY
        actions = self.machine.feed(_EDGES[edge](now))
        starts = any(isinstance(a, modes.StartSession) for a in actions)
        if hotkey_press:
            self._last_press_started = starts
        self._carry(actions, parts, press.source)
        if not self.machine.key_down:
            self._type_held()
        if starts:
            return PressOutcome.STARTED
        if any(isinstance(a, modes.CancelSession) for a in actions):
            return PressOutcome.CANCELLED
        if any(isinstance(a, (modes.StopAndFlush, modes.CloseSession)) for a in actions):
            return PressOutcome.STOPPED
        ignored = next((a for a in actions if isinstance(a, modes.Ignore)), None)
        if ignored is None:  # e.g. a tap's release: the utterance goes on
            return PressOutcome.STARTED if self.machine.listening else PressOutcome.NOT_LISTENING
        log.debug("%s (%s) ignored: %s", edge, press.source, ignored.reason)
        if not self.machine.in_session:
            return PressOutcome.NOT_LISTENING
        if ignored.reason == modes.FINISHING:
            self._show(State.RECOGNIZING, "Finishing the last phrase — the text comes in a moment")
        return PressOutcome.BUSY

    def tick(self) -> None:
        now = self._clock()
        if self._after_release_until is not None and now >= self._after_release_until:
            log.info("the hotkey is still down %g s after the text was ready; typing", KEY_UP_WAIT)
            self._type_held()
        if self._quiet_until is not None and now >= self._quiet_until:
            self._quiet_until = None
            self._service_silent()
        self._carry(self.machine.feed(modes.Tick(now)))

    def _service_silent(self) -> None:
        """A single utterance heard nothing from the service since the microphone opened."""
        if not self.active or self.machine.phase not in (modes.Phase.PRESSED, modes.Phase.TAP):
            return
        wait = self._parts().settings.service_timeout
        log.warning("no answer from the speech service %g s after the microphone opened", wait)
        self._failure = Failed(ErrorKind.SERVICE_TIMEOUT, f"no answer within {wait:g} s")
        message = describe_failure(self._failure).as_text()
        self._carry(self.machine.feed(modes.SessionFailed(self._clock(), message)))

    def _when_key_up(self, step: Callable[[], None]) -> None:
        """Run ``step`` (typing) now, or once the hotkey is up (bounded by ``KEY_UP_WAIT``):
        while it is down its grab takes the keys from the window."""
        if not self.machine.key_down and not self._after_release:
            step()
            return
        self._after_release.append(step)
        if self._after_release_until is None:
            self._after_release_until = self._clock() + KEY_UP_WAIT

    def _type_held(self) -> None:
        steps, self._after_release = self._after_release, []
        self._after_release_until = None
        for step in steps:
            step()

    def opened(self, live: Live, opened: Opened) -> None:
        if live is not self._live or not self.active:
            return
        self._opened = opened
        if opened.failure is None and self.machine.phase in (modes.Phase.PRESSED, modes.Phase.TAP):
            self._quiet_until = opened.at + self._parts().settings.service_timeout
        if opened.note:
            self._feedback.tell(Message(opened.note, ""), Urgency.NORMAL)
        if opened.failure is not None:
            self._failure = opened.failure
            message = describe_failure(opened.failure).as_text()
            self._carry(self.machine.feed(modes.SessionFailed(self._clock(), message)))

    def recognition(self, live: Live, event: SessionEvent) -> None:
        if live is not self._live or not self.active:
            return
        log.debug("recognition: %s (%s)", type(event).__name__, self.machine.phase.value)
        self._quiet_until = None
        if isinstance(event, MicrophoneLost):
            label = f"“{event.label}”" if event.label else "in use"
            self._lost = Message(f"The microphone {label} was disconnected", LOST_FIX)
            self._carry(self.machine.feed(modes.InputLost(event.t, self._lost.as_text())))
            return
        if isinstance(event, Hypothesis):
            self._last_hypothesis = event.text
        elif isinstance(event, (PhraseRecognized, PhraseNoMatch)):
            self._last_hypothesis = ""
        if isinstance(event, PhraseRecognized) and event.text.strip():
            self._phrases.append(phrase_of(event))
        if isinstance(event, PhraseNoMatch):
            self._no_match = event.no_match
        elif isinstance(event, SessionFailed):
            self._failure = event.failure
        elif isinstance(event, SpeechEnded) and self.machine.phase is modes.Phase.TAP:
            self._show(State.RECOGNIZING, "")
        mode = mode_event(event)
        if mode is not None:
            self._carry(self.machine.feed(mode))

    def phrase_typed(self, session: Session, text: str, inserted: d.Inserted) -> None:
        if session is not self._session or not self.active:
            return
        self._typing -= 1
        if inserted.error is not None:
            if self._live is not None:
                self._live.cancel()
            self._stopped_listening()
            self._reset_machine()
            self._finish(d.judge_typing(text, inserted), None if inserted.private else text)
            return
        if inserted.notice is not None:  # a refused "scratch that"
            self._feedback.tell(inserted.notice, Urgency.LOW)
        session.record.chars += len(text if inserted.typed is None else inserted.typed)
        session.record.insert_ms = inserted.ms
        self._typed_any = True
        if self._end_when_typed and self._typing == 0:
            self._finish(d.Ending("typed"))

    # ------------------------------------------------------------ actions

    def _carry(
        self, actions: list[modes.Action], parts: DictationParts | None = None, source: str = ""
    ) -> None:
        type_all: str | None = None
        ending: Ending | None = None
        failed: Ending | None = None
        for action in actions:
            if isinstance(action, modes.StartSession):
                assert parts is not None
                self._start(parts, source)
            elif isinstance(action, modes.GrabCancelKey):
                self._cancel_key.grab()
            elif isinstance(action, modes.ReleaseCancelKey):
                self._cancel_key.release()
            elif isinstance(action, modes.StopAndFlush):
                log.info("stopped listening: %s", action.reason)
                if self._live is not None:
                    self._live.stop()
                self._stopped_listening()
                if self.active:
                    self._show(State.RECOGNIZING, "")
            elif isinstance(action, (modes.CloseSession, modes.CancelSession)):
                if self._live is not None:
                    self._live.cancel()
                self._stopped_listening()
                if isinstance(action, modes.CancelSession):
                    ending = d.Ending("cancelled")
            elif isinstance(action, modes.TypePhrase):
                self._typing += 1
                phrase = self._phrases[-1] if self._phrases else None  # the event's own
                if phrase is None or phrase.display.strip() != action.text.strip():
                    phrase = plain_phrase(action.text)
                self._when_key_up(functools.partial(self._type_phrase, action.text, phrase))
            elif isinstance(action, modes.TypeAll):
                type_all = action.text
            elif isinstance(action, modes.NoSpeech) and self._last_hypothesis:
                # the service never finalized (it stopped, or answered only hypotheses):
                # its last words are what the user said
                log.info("no final phrase: typing the last hypothesis")
                type_all = self._last_hypothesis
            elif isinstance(action, modes.NoSpeech):
                no_match = self._no_match or NoMatch(NoMatchReason.INITIAL_SILENCE_TIMEOUT)
                verdict = d.judge(no_match, self._parts().settings)
                assert not isinstance(verdict, str)
                ending = verdict
            elif isinstance(action, modes.Notify):
                failure = self._failure
                if self._lost is not None and action.message == self._lost.as_text():
                    self._feedback.tell(self._lost, Urgency.NORMAL)
                elif failure is not None and action.message == describe_failure(failure).as_text():
                    verdict = d.judge(failure, self._parts().settings)
                    assert not isinstance(verdict, str)
                    failed = verdict
                else:
                    self._feedback.tell(Message(action.message, ""), Urgency.NORMAL)
        if not self.machine.in_session:
            self._quiet_until = None
            if self._live is not None:
                self._live.cancel()  # over: nothing more is wanted from the session
            self._stopped_listening()
        if type_all is not None:
            if failed is not None and failed.message is not None:
                self._feedback.tell(failed.message, failed.urgency)
            self._when_key_up(functools.partial(self._type_all, type_all))
        elif ending is not None or failed is not None:
            self._finish(failed or ending or d.Ending("cancelled"))
        elif self.active and any(isinstance(a, modes.ReleaseCancelKey) for a in actions):
            # the machine's session ended now (every ending gives Escape back)
            if self._typing:
                self._end_when_typed = True
            else:
                self._finish(d.Ending("typed" if self._typed_any else "no match"))

    def _parts(self) -> DictationParts:
        assert self._session is not None
        return self._session.parts

    def _start(self, parts: DictationParts, source: str) -> None:
        listener = parts.listener
        assert listener is not None
        session = self._sessions.open(source, parts)
        live = Live()
        self._session, self._live, self._opened = session, live, None
        self._listening, self._no_match, self._failure = True, None, None
        self._typing, self._typed_any, self._end_when_typed = 0, False, False
        self._after_release, self._after_release_until = [], None
        self._quiet_until, self._last_hypothesis, self._lost = None, "", None
        self._phrases, self._chain = [], PhraseChain()
        post, clock = self._post, self._clock
        cue = self._cue if parts.settings.start_sound else None

        def on_event(event: SessionEvent) -> None:
            post(ev.Recognition(live, event))

        self._worker.submit(
            lambda: post(
                ev.Opened(live, open_live(live, listener, parts.inserter, cue, on_event, clock))
            )
        )

    def _stopped_listening(self) -> None:
        """The microphone closed: the stop sound, once per session."""
        if not self._listening:
            return
        self._listening = False
        if self._session is not None and self._session.parts.settings.stop_sound:
            try:
                self._stop_cue()
            except Exception:
                log.debug("stop sound failed", exc_info=True)

    def _type_phrase(self, text: str, phrase: Phrase) -> None:
        """Hand a hands-free phrase to the worker (counted in ``_typing`` when it was
        scheduled; ``phrase_typed`` follows): ``phrase`` goes through the text pipeline,
        ``text`` (the mode machine's, with its separator) is typed when there is none."""
        session = self._session
        if session is None or not self.active:
            return
        inserter = session.parts.inserter
        if inserter is None:
            self._feedback.tell(
                Message("Recognized, but can't type here", f"You said: {text}"),
                Urgency.NORMAL,
                dictated=text,
            )
            self._typing -= 1
            if self._end_when_typed and self._typing == 0:
                self._finish(d.Ending("not typed (no typing backend)"))
            return
        post, clock, chain, parts = self._post, self._clock, self._chain, session.parts
        self._worker.submit(
            lambda: post(
                ev.PhraseTyped(session, text, d.type_phrase(parts, phrase, text, clock, chain))
            )
        )

    def _type_all(self, text: str) -> None:
        session = self._session
        if session is None or not self.active:
            return
        session.record.recognize_ms = (self._clock() - session.started) * 1000
        verdict = d.judge(Recognized(text), session.parts.settings)
        if isinstance(verdict, str):
            target = self._opened.target if self._opened is not None else None
            phrases = tuple(self._phrases)  # one dictation of several phrases (a hold)
            if modes.join_phrases(p.display for p in phrases) != verdict:
                phrases = ()  # e.g. the last hypothesis: the text as one phrase
            self._sessions.type_text(session, verdict, target, phrases)
        else:
            self._finish(verdict)

    def _finish(self, ending: Ending, text: str | None = None) -> None:
        session = self._session
        if session is None or not self.active:
            return
        self._sessions.end(session, text, ending)

    def _reset_machine(self) -> None:
        """End the machine's session after a typing failure (nothing more is typed)."""
        if self.machine.in_session:
            self._cancel_key.release()
            self.machine.feed(modes.Cancel(self._clock()))

    def abort(self) -> None:
        """The session ended another way (an internal error, quitting): close the microphone,
        give Escape back and forget the machine's session."""
        if self._live is not None:
            self._live.cancel()
        self._listening = False
        self._reset_machine()
        self._session = self._live = None
        self._after_release, self._after_release_until = [], None
        self._quiet_until, self._last_hypothesis = None, ""
        self._phrases = []
