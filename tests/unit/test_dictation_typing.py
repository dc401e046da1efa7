"""How typing a dictation ends (``dictation.judge_typing``): what the user is told and
whether the words are kept for "Type last dictation"."""

from __future__ import annotations

from voicetype.dictation import KEPT_HINT, PARTLY_TYPED_HINT, Inserted, judge_typing
from voicetype.insertion import InsertionError, TargetGone, TypingStopped
from voicetype.notify import Urgency


def test_escape_while_typing_is_told_quietly_with_the_count_and_nothing_is_kept() -> None:
    ending = judge_typing("x" * 500, Inserted(TypingStopped(120, 500), 40.0))
    assert ending.outcome == "stopped by Escape (120 of 500 chars typed)"
    assert ending.message is not None
    assert ending.message.summary == "Typing stopped"
    assert ending.message.body == (
        "Typing stopped (Escape) after 120 of 500 characters; the rest was not typed."
    )
    assert ending.urgency is Urgency.LOW
    assert ending.error is None  # the icon goes back to idle, not to the error state
    assert not ending.keep  # "Type last dictation" would type the 120 again


def test_a_note_from_the_inserter_reaches_the_outcome() -> None:
    ending = judge_typing("hi", Inserted(None, 3.0, "sent to chromium, not confirmed"))
    assert ending.outcome == "typed (sent to chromium, not confirmed)"
    assert ending.message is None
    assert judge_typing("hi", Inserted(None, 3.0)).outcome == "typed"


def test_window_closed_keeps_the_words() -> None:
    ending = judge_typing("hi", Inserted(TargetGone("gone; nothing was typed"), 1.0))
    assert ending.keep and ending.message is not None
    assert ending.message.body == f"Nothing was typed. {KEPT_HINT}"


def test_a_failure_part_way_warns_that_part_may_be_typed() -> None:
    ending = judge_typing("hi", Inserted(InsertionError("the focus left the window"), 1.0))
    assert ending.keep and ending.message is not None
    assert ending.message.body.endswith(PARTLY_TYPED_HINT)
