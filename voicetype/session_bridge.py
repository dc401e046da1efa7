"""What a recognition session's event means to the mode machine: pure.

The controller puts ``recognition.events`` values from ``ContinuousSession`` on its queue
and feeds ``mode_event(e)`` (when not None) to ``modes.ModeMachine``.
"""

from __future__ import annotations

from voicetype import modes
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
