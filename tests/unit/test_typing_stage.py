"""The text stage (``voicetype.typing_stage``) with a fake inserter and caret reader: what
reaches the window, what is remembered and kept in the history, and what is told."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest
from harness.fakes import Lab

from voicetype.compose import Relay, build
from voicetype.config import Config, HistoryConfig
from voicetype.context.keywatch import NoKeyWatch
from voicetype.dictation import judge_typing
from voicetype.history_store import HistoryStore
from voicetype.insertion import InsertionError, Key
from voicetype.insertion.apps import XTERM, AppProfile
from voicetype.text import CaretContext, DictationMemory, History, Phrase, TextSettings
from voicetype.text.history import HistoryEntry
from voicetype.typing_stage import TextStage

GTK, TERM = 0x100, 0x200


@dataclass(frozen=True)
class Win:
    window: int


@dataclass
class FakeWindows:
    """An inserter over fake windows: each keeps its text; Backspace removes a character."""

    text: dict[int, str] = field(default_factory=lambda: {GTK: "", TERM: ""})
    focused: int = GTK
    fail: InsertionError | None = None
    calls: list[str] = field(default_factory=list)

    def focused_target(self) -> Win:
        return Win(self.focused)

    def insert(self, text: str, target: object) -> None:
        if self.fail:
            raise self.fail
        self.calls.append(f"insert {text!r}")
        self.text[_window(target)] += text

    def press(self, key: Key, count: int, target: object) -> None:
        if not count:
            return
        self.calls.append(f"{key} x{count}")
        window = _window(target)
        if key == "BackSpace":
            self.text[window] = self.text[window][:-count]
        else:
            assert window != TERM, "Return pressed in a terminal"
            self.text[window] += "\n" * count

    def close(self) -> None:
        pass

    def window_profile(self, window: int) -> AppProfile:
        return XTERM if window == TERM else AppProfile("gedit")

    def window_pid(self, window: int) -> int | None:
        return 4242


def _window(target: object) -> int:
    assert isinstance(target, Win)
    return target.window


@dataclass
class FakeReader:
    """Reads the fake window's text (None: like xterm, not on the accessibility bus)."""

    windows: FakeWindows | None = None
    password: bool = False
    reads: list[int | None] = field(default_factory=list)

    def read(self, pid: int | None, timeout: float = 0.1) -> CaretContext | None:
        self.reads.append(pid)
        if self.password:
            return CaretContext(is_password=True)
        if self.windows is None or self.windows.focused == TERM:
            return None
        return CaretContext(before=self.windows.text[self.windows.focused], after="")

    def focused(self, timeout: float = 0.1) -> None:
        return None

    def close(self) -> None:
        pass


def make(reader: FakeReader | None = None, **settings: object) -> tuple[TextStage, FakeWindows]:
    windows = FakeWindows()
    if reader is not None and reader.windows is None:
        reader.windows = windows
    stage = TextStage(
        TextSettings(**settings),  # type: ignore[arg-type]
        reader or FakeReader(),
        DictationMemory(),
        History(10),
        NoKeyWatch(),
        wall=lambda: 1.0,
    )
    return stage, windows


CLOCK = count(100)


def clock() -> float:
    return float(next(CLOCK))


def say(stage: TextStage, windows: FakeWindows, text: str, lexical: str = "") -> object:
    return stage.deliver(windows, (Phrase(text, lexical),), Win(windows.focused), clock)


@pytest.mark.parametrize("reader", [None, FakeReader()], ids=["memory", "atspi"])
def test_two_dictations_join_with_one_space(reader: FakeReader | None) -> None:
    stage, windows = make(reader)
    say(stage, windows, "Hello world.")
    say(stage, windows, "How are you?")
    assert windows.text[GTK] == "Hello world. How are you?"
    assert [e.text for e in stage.history.entries()] == ["How are you?", "Hello world."]


def test_scratch_that_removes_exactly_the_previous_dictation() -> None:
    stage, windows = make()
    say(stage, windows, "Hello world.")
    say(stage, windows, "How are you?")
    inserted = say(stage, windows, "Scratch that.", "scratch that")
    assert windows.text[GTK] == "Hello world."
    assert windows.calls[-1] == "BackSpace x13"
    ending = judge_typing("Scratch that.", inserted)  # type: ignore[arg-type]
    assert ending.outcome == "typed (13 erased first)"


def test_scratch_that_refuses_after_a_key_the_user_typed_and_says_so() -> None:
    stage, windows = make()
    say(stage, windows, "Hello world.")
    stage.memory.user_typed()
    inserted = say(stage, windows, "Scratch that.", "scratch that")
    assert windows.text[GTK] == "Hello world."
    ending = judge_typing("Scratch that.", inserted)  # type: ignore[arg-type]
    assert ending.outcome == "refused (nothing changed)"
    assert ending.message is not None
    assert ending.message.summary == "Nothing was deleted: you typed since the last dictation"
    assert "Ctrl+Z" in ending.message.body


def test_a_key_typed_in_between_resets_joining_by_memory() -> None:
    stage, windows = make()
    windows.focused = TERM
    say(stage, windows, "Hello world.")
    stage.memory.user_typed()
    windows.text[TERM] += "\n"  # the user pressed Return, say
    say(stage, windows, "How are you?")
    assert windows.text[TERM] == "Hello world.\nHow are you?"


def test_mid_sentence_continuation_read_through_the_caret_is_lower_cased() -> None:
    stage, windows = make(FakeReader())
    windows.text[GTK] = "I went to the"
    say(stage, windows, "Store.", "store")
    assert windows.text[GTK] == "I went to the store."


def test_new_line_in_a_terminal_is_a_space() -> None:
    stage, windows = make()
    windows.focused = TERM
    say(stage, windows, "Hello.")
    say(stage, windows, "New line.", "new line")
    assert "\n" not in windows.text[TERM]
    assert windows.text[TERM].startswith("Hello.")


def test_password_field_is_never_read_remembered_or_kept() -> None:
    reader = FakeReader(password=True)
    stage, windows = make(reader)
    inserted = say(stage, windows, "Hunter two.")
    assert windows.text[GTK] == "Hunter two."
    assert inserted.private  # type: ignore[attr-defined]
    assert len(stage.history) == 0
    assert stage.memory.previous().typed is None


def test_a_failed_insert_forgets_the_memory() -> None:
    stage, windows = make()
    say(stage, windows, "Hello world.")
    windows.fail = InsertionError("the focus left the window while typing")
    inserted = say(stage, windows, "How are you?")
    assert inserted.error is windows.fail  # type: ignore[attr-defined]
    assert stage.memory.previous().typed is None


def test_a_reload_keeps_the_memory_and_the_history() -> None:
    stage, windows = make()
    say(stage, windows, "Hello world.")
    again = stage.with_settings(TextSettings(history_size=3), None)
    say(again, windows, "How are you?")
    assert windows.text[GTK] == "Hello world. How are you?"
    assert [e.text for e in again.history.entries()] == ["How are you?", "Hello world."]


def test_the_window_pid_goes_to_the_reader() -> None:
    reader = FakeReader()
    stage, windows = make(reader)
    say(stage, windows, "Hello.")
    assert reader.reads == [4242]


def test_new_line_at_the_end_of_a_dictation_is_pressed_as_return() -> None:
    stage, windows = make()
    say(stage, windows, "Hello.")
    say(stage, windows, "New line.", "new line")
    say(stage, windows, "Next one.")
    assert windows.text[GTK] == "Hello.\nNext one."
    assert "Return x1" in windows.calls


def test_history_keep_saves_0600_and_loads_back_bounded(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "state" / "history.json")
    stage, windows = make()
    stage = stage.with_settings(TextSettings(history_size=2), store)
    for text in ("One.", "Two.", "Three."):
        say(stage, windows, text)
    assert [e.text for e in store.load()] == ["Three.", "Two."]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    store.path.write_text("{not json", encoding="utf-8")
    assert store.load() == []  # damaged: empty, never an error
    store.remove()
    assert not store.path.exists()


def test_history_keep_never_saves_a_password_field(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.json")
    stage, windows = make(FakeReader(password=True))
    stage = stage.with_settings(stage.settings, store)
    say(stage, windows, "Hunter two.")
    assert not store.path.exists()


def test_the_daemon_loads_a_kept_history_and_deletes_it_when_keep_is_off(
    tmp_path: Path,
) -> None:
    lab = Lab()
    lab.history_store.saved = [HistoryEntry("Kept from last time.", 1.0)]
    keep = Config(path=tmp_path / "config.toml", history=HistoryConfig(keep=True))
    parts, _ = build(keep, lab.makers(), Relay())
    assert parts.text is not None
    assert [e.text for e in parts.text.history.entries()] == ["Kept from last time."]
    assert lab.history_store.removed == 0
    off = Config(path=tmp_path / "config.toml", history=HistoryConfig(keep=False))
    reloaded, _ = build(off, lab.makers(), Relay(), previous=parts)
    assert lab.history_store.removed == 1 and lab.history_store.saved == []
    assert reloaded.text is not None and reloaded.text.store is None
