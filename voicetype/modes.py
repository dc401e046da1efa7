"""Recording modes: what a press, a release, a timer or a recognizer event means now.

Pure: no threads, no clock, no desktop or SDK imports. The controller feeds ``ModeMachine``
events stamped with its monotonic clock and carries out the actions it answers with, in
order. ``next_deadline()`` says when the machine wants a ``Tick`` (the controller waits on
its queue at most until then); a late tick is fine, decisions use the events' timestamps.

Modes (``[dictation] mode``):

- ``auto``: a tap (released within ``hold_threshold_ms``) is one utterance that ends with the
  first final phrase (the end of speech); a second press while it listens stops now and
  types what was recognized so far. A hold (still down at the threshold) is push-to-talk:
  every phrase until the release is kept and typed at once after it, joined with one space.
- ``toggle``: a press starts hands-free dictation; each final phrase is typed as it arrives;
  the next press stops. It also stops by itself after ``idle_stop_seconds`` without speech
  and after ``max_session_minutes``, with a notification saying why.
- ``hold``: push-to-talk only (a press opens, the release stops and types).
- ``once``: one utterance per press; a second press stops early.

Every session (all modes) ends at ``max_session_minutes`` at the latest, so a lost release
never leaves the microphone open. A tap's utterance ends after ``tap_max_seconds``.

Commands: ``dictate`` is a tap (press and release at one instant; in ``hold`` mode it is one
utterance, as push-to-talk of no length would hear nothing); ``start`` and ``stop`` are a
press and a release (sway's ``bindsym`` / ``bindsym --release``); ``cancel`` ends the session
with nothing typed. Presses never queue: one session at a time, a press while a session
finishes is ignored with a reason, so 50 taps in a second give one session.

Recognizer events: ``Speech`` (speech start or a hypothesis: someone is talking), ``Phrase``
(a final phrase; empty text is the service's "no match"), ``SessionEnded`` (the recognizer
is done, normally after ``StopAndFlush``), ``SessionFailed`` (it cannot go on). A failure
while the key is held is reported at the release, not while the user is still talking.
``InputLost`` (the microphone was disconnected) stops listening at once, as a stop would:
the service finalizes what it heard, that is typed, and the message is told once at the end.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

DEFAULT_HOLD_THRESHOLD_MS = 400
DEFAULT_IDLE_STOP_SECONDS = 30.0
DEFAULT_MAX_SESSION_MINUTES = 10.0
DEFAULT_TAP_MAX_SECONDS = 20.0  # the longest a tap's single utterance listens
DEFAULT_FINISH_TIMEOUT_SECONDS = 5.0  # stop asked → the recognizer must have ended by then


class Mode(enum.Enum):
    AUTO = "auto"
    TOGGLE = "toggle"
    HOLD = "hold"
    ONCE = "once"


MODES = tuple(m.value for m in Mode)


@dataclass(frozen=True)
class ModeSettings:
    mode: Mode = Mode.AUTO
    hold_threshold_ms: int = DEFAULT_HOLD_THRESHOLD_MS
    idle_stop_seconds: float = DEFAULT_IDLE_STOP_SECONDS
    max_session_minutes: float = DEFAULT_MAX_SESSION_MINUTES
    tap_max_seconds: float = DEFAULT_TAP_MAX_SECONDS
    finish_timeout_seconds: float = DEFAULT_FINISH_TIMEOUT_SECONDS


# ------------------------------------------------------------------ events (t: monotonic s)


@dataclass(frozen=True)
class Press:
    """The hotkey went down, or ``voicetype start``."""

    t: float


@dataclass(frozen=True)
class Release:
    """The hotkey came up, or ``voicetype stop``."""

    t: float


@dataclass(frozen=True)
class Dictate:
    """``voicetype dictate`` or the tray's *Dictate now*: a tap."""

    t: float


@dataclass(frozen=True)
class Cancel:
    """Escape while listening, the tray's *Cancel dictation*, ``voicetype cancel``."""

    t: float


@dataclass(frozen=True)
class Tick:
    """Time passed (the controller's queue wait reached ``next_deadline``)."""

    t: float


@dataclass(frozen=True)
class Speech:
    """The service hears speech (speech start or a hypothesis)."""

    t: float


@dataclass(frozen=True)
class Phrase:
    """A final phrase; ``text`` "" is a segment the service could not recognize."""

    t: float
    text: str


@dataclass(frozen=True)
class SessionEnded:
    """The recognition session is over (after a stop, or the service ended it)."""

    t: float


@dataclass(frozen=True)
class SessionFailed:
    """The recognition session cannot go on; ``message`` is for the user."""

    t: float
    message: str


@dataclass(frozen=True)
class InputLost:
    """The microphone went away while listening; ``message`` is for the user."""

    t: float
    message: str


Event = (
    Press
    | Release
    | Dictate
    | Cancel
    | Tick
    | Speech
    | Phrase
    | SessionEnded
    | SessionFailed
    | InputLost
)


# ------------------------------------------------------------------ actions


@dataclass(frozen=True)
class StartSession:
    """Open the microphone and start a continuous recognition session."""


@dataclass(frozen=True)
class StopAndFlush:
    """Stop capturing and end the audio, so the service finalizes the last phrase; a
    ``SessionEnded`` event must follow (the session bounds that wait)."""

    reason: str


@dataclass(frozen=True)
class CloseSession:
    """End the session now and drop whatever it would still deliver (its result is known)."""


@dataclass(frozen=True)
class CancelSession:
    """The user cancelled: close the microphone at once, nothing is typed."""


@dataclass(frozen=True)
class TypePhrase:
    """Type this into the window focused now (toggle); the separator is included."""

    text: str


@dataclass(frozen=True)
class TypeAll:
    """Type the session's text (phrases joined with one space)."""

    text: str


@dataclass(frozen=True)
class NoSpeech:
    """The session ended with nothing recognized ("Didn't catch that")."""


@dataclass(frozen=True)
class Notify:
    """Tell the user why the session ended (or failed)."""

    message: str


@dataclass(frozen=True)
class Ignore:
    """The input has no effect now; ``reason`` may answer it in the tooltip."""

    reason: str


@dataclass(frozen=True)
class GrabCancelKey:
    """Listening began: take Escape from applications until ``ReleaseCancelKey``."""


@dataclass(frozen=True)
class ReleaseCancelKey:
    """The session is over: give Escape back to applications."""


Action = (
    StartSession
    | StopAndFlush
    | CloseSession
    | CancelSession
    | TypePhrase
    | TypeAll
    | NoSpeech
    | Notify
    | Ignore
    | GrabCancelKey
    | ReleaseCancelKey
)

NOT_LISTENING = "not listening"
FINISHING = "finishing the last phrase — the text comes in a moment"
ALREADY_DOWN = "the key is already down"


def join_phrases(phrases: Iterable[str]) -> str:
    """Phrases of one session joined with exactly one space ("world. How", never
    "world.How" or "world.  How"); empty phrases are left out."""
    return " ".join(p.strip() for p in phrases if p.strip())


class Phase(enum.Enum):
    IDLE = "idle"
    PRESSED = "pressed"  # auto: listening, down, below the threshold (tap or hold?)
    TAP = "tap"  # one utterance, ends at the first final phrase
    HOLD = "hold"  # push-to-talk, ends at the release
    TOGGLE = "toggle"  # hands-free, phrases typed live
    FINISHING = "finishing"  # stop asked, waiting for SessionEnded
    FAILED_HELD = "failed_held"  # failed while the key is down: report at the release


LISTENING_PHASES = frozenset({Phase.PRESSED, Phase.TAP, Phase.HOLD, Phase.TOGGLE})


@dataclass
class _Session:
    started: float
    last_speech: float
    phrases: list[str] = field(default_factory=list)
    live: bool = False  # phrases are typed as they arrive (toggle)
    typed_any: bool = False
    stop_asked: float = 0.0
    failure: str = ""
    lost: str = ""  # the microphone went away: told when the session ends


class ModeMachine:
    """The recording-mode state machine. ``feed`` returns the actions to carry out, in order.

    Threading: not thread-safe; the controller thread owns it.
    """

    def __init__(self, settings: ModeSettings | None = None) -> None:
        self.settings = settings or ModeSettings()
        self.phase = Phase.IDLE
        self._down = False  # the key (or `start`) is down
        self._swallow_release = False  # this press's release has no meaning
        self._pressed_at = 0.0
        self._session: _Session | None = None

    # -------------------------------------------------------------- queries

    @property
    def listening(self) -> bool:
        """The microphone is open for the user (the tray shows *Stop* / *Cancel*)."""
        return self.phase in LISTENING_PHASES

    @property
    def in_session(self) -> bool:
        return self.phase is not Phase.IDLE

    @property
    def key_down(self) -> bool:
        """The hotkey (or ``start``) is down: while it is, its passive grab takes every key
        from the focused window, so typing waits for the release."""
        return self._down

    def next_deadline(self) -> float | None:
        """When the machine wants a ``Tick`` (monotonic s), or None."""
        s, cfg = self._session, self.settings
        if s is None:
            return None
        max_end = s.started + cfg.max_session_minutes * 60
        if self.phase is Phase.PRESSED:
            return min(self._pressed_at + cfg.hold_threshold_ms / 1000, max_end)
        if self.phase is Phase.TAP:
            return min(s.started + cfg.tap_max_seconds, max_end)
        if self.phase is Phase.HOLD:
            return max_end
        if self.phase is Phase.TOGGLE:
            return min(s.last_speech + cfg.idle_stop_seconds, max_end)
        if self.phase is Phase.FINISHING:
            return s.stop_asked + cfg.finish_timeout_seconds
        return None

    # -------------------------------------------------------------- the one entry point

    def feed(self, event: Event) -> list[Action]:
        if isinstance(event, Press):
            return self._press(event.t)
        if isinstance(event, Release):
            return self._release(event.t)
        if isinstance(event, Dictate):
            return self._dictate(event.t)
        if isinstance(event, Cancel):
            return self._cancel()
        if isinstance(event, Tick):
            return self._tick(event.t)
        if isinstance(event, Speech):
            if self._session is not None:
                self._session.last_speech = max(self._session.last_speech, event.t)
            return []
        if isinstance(event, Phrase):
            return self._phrase(event.t, event.text)
        if isinstance(event, SessionEnded):
            return self._ended()
        if isinstance(event, InputLost):
            return self._input_lost(event.t, event.message)
        return self._failed(event.message)

    # -------------------------------------------------------------- keys and commands

    def _press(self, t: float) -> list[Action]:
        if self._down:
            return [Ignore(ALREADY_DOWN)]
        self._down = True
        self._pressed_at = t
        self._swallow_release = True
        mode = self.settings.mode
        if self.phase is Phase.IDLE:
            if mode is Mode.AUTO:
                self._swallow_release = False
                return self._start(t, Phase.PRESSED)
            if mode is Mode.HOLD:
                self._swallow_release = False
                return self._start(t, Phase.HOLD)
            return self._start(t, Phase.TOGGLE if mode is Mode.TOGGLE else Phase.TAP)
        if self.phase in (Phase.TAP, Phase.TOGGLE):
            reason = "stopped" if self.phase is Phase.TOGGLE else "second tap"
            return self._stop(t, reason)
        if self.phase is Phase.FINISHING:
            return [Ignore(FINISHING)]
        return [Ignore(ALREADY_DOWN)]  # PRESSED/HOLD/FAILED_HELD need a release first

    def _release(self, t: float) -> list[Action]:
        if not self._down:
            return [Ignore("the key was not down")]
        self._down = False
        if self._swallow_release:
            self._swallow_release = False
            return []
        if self.phase is Phase.PRESSED:
            if (t - self._pressed_at) * 1000 < self.settings.hold_threshold_ms:
                self.phase = Phase.TAP  # a tap: the utterance goes on to its end
                assert self._session is not None
                if self._session.phrases:  # ...unless it already ended while down
                    return [CloseSession(), *self._finish("")]
                return []
            self.phase = Phase.HOLD  # the tick came late: the timestamps decide
        if self.phase is Phase.HOLD:
            return self._stop(t, "released")
        if self.phase is Phase.FAILED_HELD:
            assert self._session is not None
            return self._finish(self._session.failure)
        return []

    def _dictate(self, t: float) -> list[Action]:
        if self._down:
            return [Ignore(ALREADY_DOWN)]
        if self.phase is Phase.IDLE:
            phase = Phase.TOGGLE if self.settings.mode is Mode.TOGGLE else Phase.TAP
            return self._start(t, phase)
        if self.phase in (Phase.TAP, Phase.TOGGLE, Phase.HOLD):
            return self._stop(t, "stopped")
        return [Ignore(FINISHING)]

    def _cancel(self) -> list[Action]:
        if self.phase is Phase.IDLE:
            return [Ignore(NOT_LISTENING)]
        self._reset()
        return [CancelSession(), ReleaseCancelKey()]

    # -------------------------------------------------------------- time

    def _tick(self, t: float) -> list[Action]:
        deadline = self.next_deadline()
        s = self._session
        if deadline is None or t < deadline or s is None:
            return []
        cfg = self.settings
        if t >= s.started + cfg.max_session_minutes * 60 and self.phase in LISTENING_PHASES:
            minutes = f"{cfg.max_session_minutes:g} minute" + (
                "" if cfg.max_session_minutes == 1 else "s"
            )
            return [
                Notify(f"Dictation stopped after {minutes}, the longest session"),
                *self._stop(t, "max session"),
            ]
        if self.phase is Phase.PRESSED:
            self.phase = Phase.HOLD
            return []
        if self.phase is Phase.TAP:
            return self._stop(t, f"still listening after {cfg.tap_max_seconds:g} s")
        if self.phase is Phase.TOGGLE:
            return [
                Notify(f"Dictation stopped: no speech for {cfg.idle_stop_seconds:g} s"),
                *self._stop(t, "idle"),
            ]
        if self.phase is Phase.FINISHING:
            return [CloseSession(), *self._finish(s.lost)]
        return []

    # -------------------------------------------------------------- recognizer events

    def _input_lost(self, t: float, message: str) -> list[Action]:
        """Stop listening now (the key may still be down: its release then means
        nothing); what the service heard is typed when it has finalized it."""
        s = self._session
        if s is None or self.phase not in LISTENING_PHASES:
            return []
        s.lost = message
        return self._stop(t, "the microphone was disconnected")

    def _phrase(self, t: float, text: str) -> list[Action]:
        s = self._session
        if s is None or self.phase is Phase.FAILED_HELD:
            return []
        s.last_speech = max(s.last_speech, t)
        text = text.strip()
        if self.phase is Phase.TAP:
            if text:
                s.phrases.append(text)
            self._down_keeps_swallow()
            return [CloseSession(), *self._finish("")]
        if not text:
            return []
        if s.live:
            out = text if not s.typed_any else " " + text
            s.typed_any = True
            s.phrases.append(text)
            return [TypePhrase(out)]
        s.phrases.append(text)
        return []

    def _ended(self) -> list[Action]:
        if self._session is None or self.phase is Phase.FAILED_HELD:
            return []
        if self.phase is Phase.PRESSED or (self.phase is Phase.HOLD and self._down):
            # the service ended the session while the key is still down: report at release
            return self._failed("the speech service ended the session")
        return self._finish(self._session.lost)

    def _failed(self, message: str) -> list[Action]:
        s = self._session
        if s is None:
            return []
        if self._down and self.phase in (Phase.PRESSED, Phase.HOLD):
            s.failure = message
            self.phase = Phase.FAILED_HELD
            self._swallow_release = False
            return [CloseSession()]
        return self._finish(s.lost or message)

    # -------------------------------------------------------------- transitions

    def _start(self, t: float, phase: Phase) -> list[Action]:
        self.phase = phase
        self._session = _Session(started=t, last_speech=t, live=phase is Phase.TOGGLE)
        return [StartSession(), GrabCancelKey()]

    def _stop(self, t: float, reason: str) -> list[Action]:
        assert self._session is not None
        self._session.stop_asked = t
        self.phase = Phase.FINISHING
        return [StopAndFlush(reason)]

    def _down_keeps_swallow(self) -> None:
        """The session ends while the key may still be down (a tap's utterance ended
        before its release): that release then has no meaning."""
        if self._down:
            self._swallow_release = True

    def _finish(self, failure: str) -> list[Action]:
        s = self._session
        assert s is not None
        out: list[Action] = []
        if not s.live:
            text = join_phrases(s.phrases)
            if text:
                out.append(TypeAll(text))
            elif not failure:
                out.append(NoSpeech())
        elif not s.phrases and not failure:
            out.append(NoSpeech())
        if failure:
            out.append(Notify(failure))
        out.append(ReleaseCancelKey())
        if self._down:
            self._swallow_release = True
        self._reset(keep_key=True)
        return out

    def _reset(self, keep_key: bool = False) -> None:
        self.phase = Phase.IDLE
        self._session = None
        if not keep_key:
            self._swallow_release = self._down
