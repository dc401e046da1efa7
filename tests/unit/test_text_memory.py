"""Dictations in a row through the pipeline and ``DictationMemory``, applied to a simulated
editor (Backspace erases one user-perceived character), plus the "scratch that" refusals.

Each test asserts the editor's content and the message the user is shown."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from voicetype.text import (
    CaretContext,
    DictationMemory,
    Outcome,
    Phrase,
    Previous,
    TextPipeline,
    TextSettings,
    Typed,
)
from voicetype.text.graphemes import clusters

A, B = 11, 22


class Editor:
    """A text field with the caret at its end; knows nothing about voicetype."""

    def __init__(self, text: str = "") -> None:
        self.text = text

    def apply(self, outcome: Outcome) -> None:
        if outcome.backspaces:
            parts = clusters(self.text)
            assert "".join(parts[-outcome.backspaces :]) == outcome.erase
            self.text = "".join(parts[: -outcome.backspaces])
        self.text += outcome.text


class Session:
    """The controller's part: memory → pipeline → window → memory."""

    def __init__(self, settings: TextSettings | None = None, read_caret: bool = False) -> None:
        self.pipeline = TextPipeline(settings or TextSettings())
        self.memory = DictationMemory()
        self.editors = {A: Editor(), B: Editor()}
        self.read_caret = read_caret  # True: AT-SPI tells the text before the caret
        self.now = 100.0
        self.notices: list[str] = []

    def say(self, *displays: str, window: int = A, wait: float = 3.0) -> Outcome:
        self.now += wait
        editor = self.editors[window]
        context = CaretContext(before=editor.text if self.read_caret else None)
        outcome = self.pipeline.process(
            [Phrase(d) for d in displays], context, self.memory.previous(), window, self.now
        )
        editor.apply(outcome)
        self.memory.commit(window, outcome, self.now)
        if outcome.notice:
            self.notices.append(outcome.notice.message)
        return outcome

    def user_types(self, text: str, window: int = A) -> None:
        self.editors[window].text += text
        self.memory.user_typed()


@pytest.mark.parametrize("read_caret", [False, True], ids=["memory", "atspi"])
def test_two_dictations_read_as_one_text(read_caret: bool) -> None:
    s = Session(read_caret=read_caret)
    s.say("Hello world.")
    s.say("How are you?")
    assert s.editors[A].text == "Hello world. How are you?"


@pytest.mark.parametrize("read_caret", [False, True], ids=["memory", "atspi"])
def test_a_sentence_continued_after_a_pause_loses_the_stray_period(read_caret: bool) -> None:
    s = Session(read_caret=read_caret)
    s.say("I went to the.")
    s.say("Store.")
    assert s.editors[A].text == "I went to the store."


def test_keep_leaves_the_service_period() -> None:
    s = Session(replace(TextSettings(), end_punctuation="keep"))
    s.say("I went to the.")
    s.say("Store.")
    assert s.editors[A].text == "I went to the. Store."


def test_scratch_that_removes_exactly_the_last_dictation_then_the_one_before() -> None:
    s = Session()
    s.say("Hello world.")
    s.say("Wrong words 😀.")
    s.say("Scratch that.")
    assert s.editors[A].text == "Hello world."
    s.say("Scratch that.")
    assert s.editors[A].text == ""
    s.say("Scratch that.")
    assert s.editors[A].text == ""
    assert s.notices == ["Nothing was deleted: there is no dictation to take back"]


def test_scratch_that_after_a_continuation_restores_the_period() -> None:
    s = Session()
    s.say("I went to the.")
    s.say("Store.")
    s.say("Scratch that.")
    assert s.editors[A].text == "I went to the."
    s.say("Shop.")
    assert s.editors[A].text == "I went to the shop."


def test_new_line_then_text_starts_the_line_with_a_capital() -> None:
    s = Session()
    s.say("Dear Ana,")
    s.say("New line.")
    s.say("thanks for the tea.")
    assert s.editors[A].text == "Dear Ana,\nThanks for the tea."
    s.say("Scratch that.")
    s.say("Scratch that.")
    assert s.editors[A].text == "Dear Ana,"


def test_a_key_typed_in_between_stops_memory_joining_and_scratch() -> None:
    s = Session()
    s.say("Hello world.")
    s.user_types(" Typed myself")
    s.say("Next.")
    assert s.editors[A].text == "Hello world. Typed myselfNext."  # nothing known: as said
    s.user_types("!")
    outcome = s.say("Scratch that.")
    assert not outcome.does_something
    assert s.editors[A].text == "Hello world. Typed myselfNext.!"
    assert s.notices == ["Nothing was deleted: you typed since the last dictation"]


def test_with_the_caret_read_a_key_in_between_still_joins_right() -> None:
    s = Session(read_caret=True)
    s.say("Hello world.")
    s.user_types(" And")
    s.say("Then we left.")
    assert s.editors[A].text == "Hello world. And then we left."


def test_scratch_that_refuses_in_another_window() -> None:
    s = Session()
    s.say("Hello world.", window=A)
    outcome = s.say("Scratch that.", window=B)
    assert not outcome.does_something
    assert s.editors[A].text == "Hello world."
    assert s.notices == ["Nothing was deleted: the last dictation went to another window"]
    assert outcome.notice is not None
    assert "Switch back" in outcome.notice.fix


def test_scratch_that_refuses_after_join_seconds() -> None:
    s = Session()
    s.say("Hello world.")
    outcome = s.say("Scratch that.", wait=121)
    assert not outcome.does_something
    assert s.notices == ["Nothing was deleted: the last dictation is more than 120 seconds old"]


def test_scratch_that_refuses_when_the_caret_text_changed() -> None:
    pipeline = TextPipeline(TextSettings())
    previous = Previous(Typed(A, " Hello there.", 99.0))
    context = CaretContext(before="Hello there. And more")
    outcome = pipeline.process([Phrase("Scratch that.")], context, previous, A, 100.0)
    assert not outcome.does_something
    assert outcome.notice is not None
    assert outcome.notice.message == (
        "Nothing was deleted: the text before the cursor is no longer what voicetype typed"
    )


def test_scratch_that_refuses_in_a_password_field_and_nothing_is_kept() -> None:
    s = Session()
    pipeline, memory = s.pipeline, s.memory
    context = CaretContext(is_password=True)
    out = pipeline.process([Phrase("Secret.")], context, memory.previous(), A, 1.0)
    assert out.private and out.text == "Secret."
    memory.commit(A, out, 1.0)
    assert memory.previous().typed is None
    out = pipeline.process([Phrase("Scratch that.")], context, memory.previous(), A, 2.0)
    assert not out.does_something
    assert out.notice is not None
    assert "password" in out.notice.message


def test_joining_from_memory_ends_after_join_seconds() -> None:
    s = Session()
    s.say("Hello world.")
    s.say("How are you?", wait=121)
    assert s.editors[A].text == "Hello world.How are you?"  # unknown: typed as recognized


def test_join_seconds_zero_turns_memory_joining_off() -> None:
    s = Session(replace(TextSettings(), join_seconds=0))
    s.say("Hello world.")
    s.say("How are you?")
    assert s.editors[A].text == "Hello world.How are you?"


def test_memory_keeps_a_bounded_number_of_dictations() -> None:
    memory = DictationMemory(depth=3)
    for n in range(10):
        memory.commit(A, Outcome(text=f" {n}"), float(n))
    scratch = Outcome(scratch=True, backspaces=2, erase=" 9")
    for _ in range(3):
        memory.commit(A, scratch, 20.0)
    assert memory.previous().typed is None


def test_memory_is_safe_to_use_from_two_threads() -> None:
    memory = DictationMemory()
    stop = threading.Event()

    def keys() -> None:
        while not stop.is_set():
            memory.user_typed()

    thread = threading.Thread(target=keys)
    thread.start()
    try:
        for n in range(2000):
            memory.commit(A, Outcome(text="x"), float(n))
            memory.previous()
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_scratch_that_twice_in_one_dictation_takes_back_only_the_last_dictation() -> None:
    s = Session()
    s.say("I went to the.")
    s.say("Store.")
    outcome = s.say("Scratch that.", "Scratch that.")
    assert s.editors[A].text == "I went to the."
    assert s.notices == ["Only the last dictation can be taken back; nothing more was deleted"]
    assert outcome.scratch
