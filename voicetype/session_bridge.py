"""What a recognition session's event means to the mode machine and to the text
pipeline: pure.

The controller puts ``recognition.events`` values from ``ContinuousSession`` on its queue
and feeds ``mode_event(e)`` (when not None) to ``modes.ModeMachine``; ``phrase_of`` turns a
final phrase into the text pipeline's ``Phrase``.
"""

from __future__ import annotations

from voicetype import modes
from voicetype.insertion import sanitize
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
from voicetype.recognition.messages import describe_failure
from voicetype.text.model import Phrase


def plain_phrase(text: str) -> Phrase:
    """A phrase known only by its text (e.g. the mode machine's), cleaned like
    ``phrase_of``'s."""
    return Phrase(sanitize(text).strip())


def phrase_of(event: PhraseRecognized) -> Phrase:
    """The pipeline's phrase: the event's text without control characters (it is shown,
    logged and kept before any inserter cleans it), with the service's other forms."""
    e = event
    return Phrase(sanitize(e.text), e.lexical, e.itn, e.masked_itn, e.language)


def mode_event(event: SessionEvent) -> modes.Event | None:
    """The mode machine's event for ``event``; None when it does not concern the mode
    (speech end: the service finalizes the phrase right after)."""
    if isinstance(event, (SpeechStarted, Hypothesis)):
        return modes.Speech(event.t)
    if isinstance(event, PhraseRecognized):
        return modes.Phrase(event.t, event.text)
    if isinstance(event, PhraseNoMatch):
        return modes.Phrase(event.t, "")
    if isinstance(event, SessionFailed):
        return modes.SessionFailed(event.t, describe_failure(event.failure).as_text())
    if isinstance(event, SessionStopped):
        return modes.SessionEnded(event.t)
    assert isinstance(event, SpeechEnded)
    return None
