"""What a continuous recognition session reports (pure types, no SDK).

``recognition.session.ContinuousSession`` delivers these, in order, through one callback
that must only enqueue. ``t`` is ``time.monotonic()`` when the SDK reported it. Every
session that was started and not cancelled ends with exactly one ``SessionStopped``; a
cancelled session delivers nothing after ``cancel()`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from voicetype.recognition import Failed, NoMatch, Recognized


@dataclass(frozen=True)
class SpeechStarted:
    t: float


@dataclass(frozen=True)
class Hypothesis:
    """Words so far of the phrase being spoken (for live feedback; never typed)."""

    t: float
    text: str


@dataclass(frozen=True)
class PhraseRecognized:
    """A final phrase, exactly as the service sent it: ``text`` the display form (the one
    to type); ``lexical``, ``itn``, ``masked_itn`` the other forms of the service's
    detailed answer ("" when it sent none); ``language`` the language it was recognized
    in: the one the service identified (``PrimaryLanguage``) when it identified among
    several, else the session's one language ("" when unknown)."""

    t: float
    text: str
    lexical: str = ""
    itn: str = ""
    masked_itn: str = ""
    language: str = ""

    @property
    def recognized(self) -> Recognized:
        """The phrase as the ``Recognized`` result the text pipeline reads."""
        return Recognized(self.text, self.lexical, self.itn, self.masked_itn, self.language)


@dataclass(frozen=True)
class PhraseNoMatch:
    """The service heard a segment but recognized no words in it."""

    t: float
    no_match: NoMatch


@dataclass(frozen=True)
class SpeechEnded:
    t: float


@dataclass(frozen=True)
class SessionFailed:
    """The session cannot go on (service unreachable, refused, dropped, text too long);
    a ``SessionStopped`` follows."""

    t: float
    failure: Failed


@dataclass(frozen=True)
class SessionStopped:
    """The last event of a session. ``reason``: "end of audio" (after ``stop()``, every
    phrase delivered), "failed", "stop timed out" (the service did not finalize within the
    bound: what it had not sent is lost), or "service ended"."""

    t: float
    reason: str


SessionEvent = (
    SpeechStarted
    | Hypothesis
    | PhraseRecognized
    | PhraseNoMatch
    | SpeechEnded
    | SessionFailed
    | SessionStopped
)
