"""The recording modes through the text pipeline (issues 12 × 13), with the controller, a
fake listener, the real ``TextStage`` and fake windows: no desktop, no SDK.

Asserted is what the windows show: hands-free phrases join (one space, capitals, the
pause period), spoken commands act inside a session, another window starts fresh, and a
hold's phrases make one dictation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from harness.fakes import ModesRecognizer, Notes
from harness.procs import wait_for

from voicetype import inbox
from voicetype.context import NoCaretReader
from voicetype.context.keywatch import NoKeyWatch
from voicetype.controller import Controller, ControllerSettings, DictationParts
from voicetype.feedback import Feedback
from voicetype.insertion import InsertionError
from voicetype.listening import OnEvent
from voicetype.modes import Mode, ModeSettings
from voicetype.recognition.events import PhraseRecognized, SessionEvent, SessionStopped
from voicetype.state import State
from voicetype.text import DictationMemory, History, TextSettings
from voicetype.typing_stage import TextStage

FIRST, SECOND = 0x10, 0x20


class Running:
    def __init__(self, on_event: OnEvent) -> None:
        self.on_event = on_event
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True
        self.on_event(SessionStopped(time.monotonic(), "end of audio"))

    def cancel(self) -> None:
        self.stopped = True

    def say(self, *events: SessionEvent) -> None:
        for event in events:
            self.on_event(event)


@dataclass
class Listener:
    sessions: list[Running] = field(default_factory=list)

    def start(self, on_event: OnEvent) -> tuple[Running, str]:
        self.sessions.append(Running(on_event))
        return self.sessions[-1], ""

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Win:
    window: int


@dataclass
class Windows:
    """Text windows nothing can be read from (like Tk or xterm): memory joins."""

    text: dict[int, str] = field(default_factory=lambda: {FIRST: "", SECOND: ""})
    focused: int = FIRST
    fail: InsertionError | None = None

    def focused_target(self) -> Win:
        return Win(self.focused)

    def insert(self, text: str, target: object) -> None:
        assert isinstance(target, Win)
        if self.fail is not None:
            raise self.fail
        self.text[target.window] += text

    def press(self, key: str, count: int, target: object) -> None:
        assert isinstance(target, Win)
        if key == "BackSpace":
            self.text[target.window] = self.text[target.window][:-count]
        else:
            self.text[target.window] += "\n" * count

    def close(self) -> None:
        pass


class UI:
    def show(self, state: State, detail: str = "") -> None:
        pass


@dataclass
class Rig:
    controller: Controller
    listener: Listener
    windows: Windows
    notes: Notes

    def press(self, edge: str) -> None:
        self.controller.press("hotkey", edge).wait(2)

    def running(self, n: int = 1) -> Running:
        wait_for(lambda: len(self.listener.sessions) >= n, 2, "the microphone to open")
        return self.listener.sessions[n - 1]

    def phrase(self, session: Running, text: str, window: int, shows: str) -> None:
        session.say(PhraseRecognized(time.monotonic(), text))
        wait_for(lambda: self.windows.text[window] == shows, 2, repr(shows))

    def idle(self) -> None:
        wait_for(lambda: self.controller.status.state is State.IDLE, 3, "idle")


@pytest.fixture
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    mode = getattr(request, "param", Mode.TOGGLE)
    listener, windows, notes = Listener(), Windows(), Notes()
    settings = ControllerSettings(
        start_sound=False,
        stop_sound=False,
        modes=ModeSettings(mode=mode, hold_threshold_ms=100, idle_stop_seconds=30),
    )
    stage = TextStage(TextSettings(), NoCaretReader(), DictationMemory(), History(), NoKeyWatch())
    parts = DictationParts(ModesRecognizer(), windows, settings, listener=listener, text=stage)
    controller = Controller(parts, Feedback(notes), UI())
    thread = threading.Thread(target=controller.run, daemon=True)
    thread.start()
    yield Rig(controller, listener, windows, notes)
    controller.request_quit()
    thread.join(5)


def test_hands_free_phrases_join_continue_and_scratch_as_typed(rig: Rig) -> None:
    rig.press(inbox.TAP)
    session = rig.running()
    rig.phrase(session, "Hello world.", FIRST, "Hello world.")
    rig.phrase(session, "How are you?", FIRST, "Hello world. How are you?")
    rig.phrase(session, "I went to the.", FIRST, "Hello world. How are you? I went to the.")
    rig.phrase(session, "Store.", FIRST, "Hello world. How are you? I went to the store.")
    rig.phrase(session, "Scratch that.", FIRST, "Hello world. How are you? I went to the.")
    rig.phrase(session, "New line.", FIRST, "Hello world. How are you? I went to the.\n")
    rig.phrase(session, "bye.", FIRST, "Hello world. How are you? I went to the.\nBye.")
    rig.press(inbox.TAP)
    rig.idle()
    assert rig.controller.last.outcome == "typed" and rig.notes.calls == []


def test_a_hands_free_phrase_in_another_window_starts_fresh(rig: Rig) -> None:
    rig.press(inbox.TAP)
    session = rig.running()
    rig.phrase(session, "Hello world,", FIRST, "Hello world,")
    rig.windows.focused = SECOND  # the user clicks into another window and goes on
    rig.phrase(session, "Dear Ana.", SECOND, "Dear Ana.")
    rig.phrase(session, "Thanks.", SECOND, "Dear Ana. Thanks.")
    rig.press(inbox.TAP)
    rig.idle()
    assert rig.windows.text[FIRST] == "Hello world,"


def test_a_refused_scratch_that_in_a_session_is_told(rig: Rig) -> None:
    rig.press(inbox.TAP)
    session = rig.running()
    rig.phrase(session, "Hello world.", FIRST, "Hello world.")
    rig.windows.focused = SECOND
    session.say(PhraseRecognized(time.monotonic(), "Scratch that."))
    wait_for(lambda: rig.notes.calls, 2, "the refusal")
    assert rig.notes.calls[0][0] == (
        "Nothing was deleted: the last dictation went to another window"
    )
    assert rig.windows.text == {FIRST: "Hello world.", SECOND: ""}
    rig.press(inbox.TAP)
    rig.idle()


def test_a_hands_free_phrase_that_could_not_be_typed_is_kept_for_type_last(rig: Rig) -> None:
    rig.press(inbox.TAP)
    session = rig.running()
    rig.phrase(session, "Hello world.", FIRST, "Hello world.")
    rig.windows.fail = InsertionError("the window refused the keys; nothing was typed")
    session.say(PhraseRecognized(time.monotonic(), "How are you?"))
    wait_for(lambda: rig.controller.last.outcome == "typing failed", 2, "the failure")
    assert "Type last dictation" in rig.notes.calls[-1][1]
    assert rig.controller.status.kept_text  # as the message says (was: nothing kept)
    rig.windows.fail = None
    rig.controller.submit_type_last("menu")
    # nothing can read this window and the failure reset the memory: as recognized
    wait_for(lambda: rig.windows.text[FIRST] == "Hello world.How are you?", 2, "typed")


@pytest.mark.parametrize("rig", [Mode.AUTO], indirect=True)
def test_a_holds_phrases_are_one_dictation_through_the_pipeline(rig: Rig) -> None:
    rig.press(inbox.DOWN)
    session = rig.running()
    time.sleep(0.15)  # past the hold threshold
    for text in ("I went to the.", "Store.", "Wrong.", "Scratch that.", "New line."):
        session.say(PhraseRecognized(time.monotonic(), text))
    rig.press(inbox.UP)
    rig.idle()
    assert rig.windows.text[FIRST] == "I went to the store.\n"


# -- voicetype retype: the last dictation again, through the pipeline -------------------


def retype(rig: Rig) -> dict[str, object]:
    from types import SimpleNamespace

    from voicetype import commands

    daemon = SimpleNamespace(controller=rig.controller)
    return commands.run(daemon, "retype", commands.Request("command"))


def test_retype_types_the_newest_dictation_again_into_the_focused_window(rig: Rig) -> None:
    rig.press(inbox.TAP)
    session = rig.running()
    rig.phrase(session, "Hello world.", FIRST, "Hello world.")
    rig.phrase(session, "how are you?", FIRST, "Hello world. How are you?")
    rig.press(inbox.TAP)
    rig.idle()
    rig.windows.focused = SECOND
    assert retype(rig) == {"message": "typing the last dictation into the focused window"}
    wait_for(lambda: rig.windows.text[SECOND] == "How are you?", 2, "the phrase again")
    rig.idle()
    assert rig.notes.calls == []
    retype(rig)  # again: joined to itself
    wait_for(lambda: rig.windows.text[SECOND] == "How are you? How are you?", 2, "joined")


def test_retype_with_no_dictation_refuses(rig: Rig) -> None:
    assert retype(rig) == {
        "ok": False,
        "error": "there is no dictation to type again",
        "outcome": "none",
    }
    rig.idle()
    assert rig.windows.text == {FIRST: "", SECOND: ""}
