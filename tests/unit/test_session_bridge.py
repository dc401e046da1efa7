"""Session events → mode machine events, and a whole session through both: pure."""

from __future__ import annotations

import pytest

from voicetype import modes
from voicetype.recognition import ErrorKind, Failed, NoMatch, NoMatchReason
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
from voicetype.session_bridge import mode_event


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (SpeechStarted(1.0), modes.Speech(1.0)),
        (Hypothesis(1.5, "hel"), modes.Speech(1.5)),
        (PhraseRecognized(2.0, "Hello."), modes.Phrase(2.0, "Hello.")),
        (PhraseNoMatch(2.0, NoMatch(NoMatchReason.NOT_RECOGNIZED)), modes.Phrase(2.0, "")),
        (SpeechEnded(2.1), None),
        (SessionStopped(3.0, "end of audio"), modes.SessionEnded(3.0)),
    ],
)
def test_mode_event(event: SessionEvent, expected: modes.Event | None) -> None:
    assert mode_event(event) == expected


def test_a_failure_becomes_one_plain_words_message() -> None:
    got = mode_event(SessionFailed(4.0, Failed(ErrorKind.CONNECTION_FAILURE, "refused")))
    assert isinstance(got, modes.SessionFailed)
    assert got.t == 4.0
    assert got.message == (
        "Could not reach the speech service: Check the network connection, "
        "and `region` (or `host`) in config.toml."
    )


def test_a_hold_through_the_bridge_types_every_phrase_once_in_order() -> None:
    m = modes.ModeMachine()
    out: list[modes.Action] = []
    out += m.feed(modes.Press(0.0))
    out += m.feed(modes.Tick(0.4))
    session: list[SessionEvent] = [
        SpeechStarted(0.5),
        PhraseRecognized(2.0, "One."),
        SpeechEnded(2.0),
        SpeechStarted(3.0),
        PhraseRecognized(5.0, "Two."),
    ]
    for e in session:
        me = mode_event(e)
        if me is not None:
            out += m.feed(me)
    out += m.feed(modes.Release(6.0))
    for e in (PhraseRecognized(6.1, "Three."), SessionStopped(6.2, "end of audio")):
        me = mode_event(e)
        assert me is not None
        out += m.feed(me)
    typed = [a for a in out if isinstance(a, (modes.TypeAll, modes.TypePhrase))]
    assert typed == [modes.TypeAll("One. Two. Three.")]


def test_a_final_phrase_becomes_the_pipelines_phrase_without_control_characters() -> None:
    from voicetype.session_bridge import phrase_of
    from voicetype.text import Phrase

    assert phrase_of(PhraseRecognized(1.0, "Hello\x1b[2J world.\r\n")) == Phrase(
        "Hello[2J world.\n"
    )


def test_the_detailed_forms_and_language_are_taken_when_the_event_has_them() -> None:
    """The continuous session is to hand them on (``PhraseRecognized.lexical`` …, named as
    on ``Recognized``); until then only the text is there."""
    from dataclasses import dataclass

    from voicetype.session_bridge import phrase_of
    from voicetype.text import Phrase

    @dataclass(frozen=True)
    class Detailed(PhraseRecognized):
        lexical: str = ""
        itn: str = ""
        masked_itn: str = ""
        language: str = ""

    event = Detailed(1.0, "Paris today.", "paris today", "Paris today", "Paris today", "en-US")
    assert phrase_of(event) == Phrase(
        "Paris today.", "paris today", "Paris today", "Paris today", "en-US"
    )
