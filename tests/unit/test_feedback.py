"""The one feedback policy: notification, else the tooltip's note; always the log;
dictated text in the log only with ``include_text``."""

from __future__ import annotations

import logging

import pytest
from harness.fakes import Notes

from voicetype.feedback import Feedback
from voicetype.notify import Urgency
from voicetype.recognition.messages import Message

SAID = Message("Recognized, but can't type here", "You said: private words")


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "voicetype.feedback"]


def test_a_shown_message_is_logged_and_leaves_no_note(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    notes = Notes()
    feedback = Feedback(notes)
    assert feedback.tell(Message("Didn't catch that", "no speech detected."), Urgency.LOW)
    assert notes.calls == [("Didn't catch that", "no speech detected.", Urgency.LOW)]
    assert feedback.note == ""
    assert logged(caplog) == [(logging.INFO, "Didn't catch that: no speech detected.")]


def test_without_a_notification_service_the_note_keeps_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    feedback = Feedback(Notes(delivered=False))
    message = Message("Azure is throttling requests (429)", "Wait a minute.")
    assert not feedback.tell(message, Urgency.NORMAL)
    assert feedback.note == "Azure is throttling requests (429): Wait a minute."
    assert logged(caplog) == [
        (
            logging.WARNING,
            "Azure is throttling requests (429): Wait a minute. (no notification service)",
        )
    ]
    feedback.clear_note()
    assert feedback.note == ""


@pytest.mark.parametrize("include", [False, True])
def test_dictated_text_reaches_the_log_only_when_asked(
    include: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    notes = Notes(delivered=False)
    feedback = Feedback(notes, include_text=include)
    feedback.tell(SAID, Urgency.NORMAL, dictated="private words")
    assert notes.calls[0][1] == "You said: private words"  # the user still reads it
    assert feedback.note == "Recognized, but can't type here: You said: private words"
    text = " ".join(m for _, m in logged(caplog))
    assert ("private words" in text) is include, text
    assert feedback.loggable("private words") == (" text='private words'" if include else "")
