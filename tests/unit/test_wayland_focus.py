"""The Wayland window from AT-SPI (``voicetype.context.focus``): the terminal decision
table, the window identity for the text memory, the bounded probe the portal and the
virtual keyboard take, and the text stage on an inserter whose compositor names no
window (the portal): "new line" is Return in a text editor, a space in a terminal or an
unknown window; "scratch that" works where the window is known and is refused where not."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest

from voicetype.compose import _wire_focus
from voicetype.context import NoCaretReader
from voicetype.context.focus import Focus, identity, is_terminal, terminal_probe
from voicetype.context.keywatch import NoKeyWatch
from voicetype.dictation import judge_typing
from voicetype.insertion import InsertionError, Key
from voicetype.insertion.sway_ipc import SwayWindow
from voicetype.insertion.wayland_vk import VirtualKeyboardInserter, WaylandTarget, for_window
from voicetype.text import CaretContext, DictationMemory, History, Phrase, TextSettings
from voicetype.typing_stage import TextStage, _window_of, type_once

GEDIT = Focus("gedit", 4242, "text", window=":1.5/org/a11y/atspi/accessible/7")
KWRITE = Focus("kwrite", 5151, "text", window=":1.9/org/a11y/atspi/accessible/1")
VTE = Focus("tilda-like", 77, "terminal", terminal_role=True, window=":1.7/w")


@pytest.mark.parametrize(
    ("focus", "terminal"),
    [
        (None, True),  # foot, kitty: no AT-SPI; or no answer in time
        (GEDIT, False),
        (KWRITE, False),
        (Focus("gnome-text-editor", 1, "text"), False),
        (Focus("Firefox", 1, "entry"), False),
        (Focus("soffice", 1, "paragraph"), False),
        (VTE, True),  # role TERMINAL whatever the application's name
        (Focus("whatever", 1, "terminal"), True),
        (Focus("konsole", 1, "text"), True),
        (Focus("gnome-terminal-server", 1, "filler"), True),
        (Focus("xfce4-terminal", 1, "text"), True),
        (Focus("Xfce Terminal", 1, "text"), True),
        (Focus("org.gnome.Console", 1, "text"), True),
        (Focus("kitty", 1, "text"), True),
        (Focus("Alacritty", 1, "text"), True),
        (Focus("wezterm", 1, "text"), True),
        (Focus("XTerm", 1, "text"), True),
        (Focus("", 1, "text"), True),  # an application without a name: not known
    ],
)
def test_terminal_decision(focus: Focus | None, terminal: bool) -> None:
    assert is_terminal(focus) is terminal


def test_identity_is_stable_per_window_and_differs_between_windows() -> None:
    assert identity(None) is None
    assert identity(Focus("gedit", None, "text", window="w")) is None
    one = identity(GEDIT)
    assert isinstance(one, int) and one > 0
    assert identity(Focus("gedit", 4242, "entry", window=GEDIT.window)) == one
    other_window = Focus("gedit", 4242, "text", window=":1.5/org/a11y/atspi/accessible/9")
    assert identity(other_window) != one
    assert identity(KWRITE) != one


@dataclass
class FocusReader:
    """A reader whose focused window the test sets; ``delay`` pretends a slow answer."""

    focus: Focus | None = None
    asked: list[float] = field(default_factory=list)
    fail: bool = False
    texts: dict[str, str] = field(default_factory=dict)  # the windows' text, by app
    readable: bool = True  # False: the text cannot be read (an app without AT-SPI text)

    def read(self, pid: int | None, timeout: float = 0.1) -> CaretContext | None:
        focus = self.focus
        if not self.readable or focus is None or focus.pid != pid:
            return None
        return CaretContext(before=self.texts.get(focus.app, ""), after="")

    def focused(self, timeout: float = 0.1) -> Focus | None:
        self.asked.append(timeout)
        if self.fail:
            raise RuntimeError("the helper broke")
        return self.focus

    def close(self) -> None:
        pass


def test_probe_is_bounded_and_unknown_or_broken_means_terminal() -> None:
    reader = FocusReader(GEDIT)
    probe = terminal_probe(reader)
    assert probe() is False
    assert reader.asked == [0.1]
    reader.focus = None
    assert probe() is True
    reader.focus, reader.fail = GEDIT, True
    assert probe() is True
    assert terminal_probe(NoCaretReader())() is True


@dataclass
class PortalLike:
    """An inserter like the portal: it names no window and takes an ``is_terminal``
    probe; the text goes to whichever fake window ``reader.focus`` is."""

    reader: FocusReader
    calls: list[str] = field(default_factory=list)
    is_terminal: object = None

    @property
    def text(self) -> dict[str, str]:
        return self.reader.texts

    def _window(self) -> str:
        return self.reader.focus.app if self.reader.focus else "foot"

    def focused_target(self) -> None:
        return None

    def insert(self, text: str, target: object) -> None:
        assert callable(self.is_terminal)
        if self.is_terminal():
            text = text.replace("\n", " ")
        self.calls.append(f"insert {text!r}")
        w = self._window()
        self.text[w] = self.text.get(w, "") + text

    def press(self, key: Key, count: int, target: object) -> None:
        assert callable(self.is_terminal)
        assert key != "Return" or not self.is_terminal(), "Return pressed in a terminal"
        self.calls.append(f"{key} x{count}")
        w = self._window()
        if key == "BackSpace":
            self.text[w] = self.text.get(w, "")[:-count]
        else:
            self.text[w] = self.text.get(w, "") + "\n" * count

    def close(self) -> None:
        pass


CLOCK = count(100)


def make(focus: Focus | None) -> tuple[TextStage, PortalLike, FocusReader]:
    reader = FocusReader(focus)
    stage = TextStage(TextSettings(), reader, DictationMemory(), History(10), NoKeyWatch())
    inserter = PortalLike(reader)
    _wire_focus(inserter, stage)
    return stage, inserter, reader


def say(stage: TextStage, inserter: PortalLike, text: str, lexical: str = "") -> object:
    return stage.deliver(inserter, (Phrase(text, lexical),), None, lambda: float(next(CLOCK)))


def test_the_composition_root_wires_the_probe_only_into_inserters_that_take_one() -> None:
    stage, inserter, _ = make(GEDIT)
    assert callable(inserter.is_terminal) and inserter.is_terminal() is False

    class X11Like:
        pass

    x11 = X11Like()
    _wire_focus(x11, stage)  # type: ignore[arg-type]
    assert not hasattr(x11, "is_terminal")


def test_new_line_in_a_text_editor_is_return() -> None:
    stage, inserter, _ = make(GEDIT)
    say(stage, inserter, "Hello.")
    say(stage, inserter, "New line.", "new line")
    say(stage, inserter, "Next one.")
    assert inserter.text["gedit"] == "Hello.\nNext one."
    assert "Return x1" in inserter.calls


@pytest.mark.parametrize("focus", [VTE, None], ids=["terminal", "unknown"])
def test_new_line_in_a_terminal_or_unknown_window_is_a_space(focus: Focus | None) -> None:
    stage, inserter, _ = make(focus)
    say(stage, inserter, "Hello.")
    inserted = say(stage, inserter, "New line.", "new line")
    window = focus.app if focus else "foot"
    assert "\n" not in inserter.text[window]
    assert not any(c.startswith("Return") for c in inserter.calls)
    assert inserted.error is None  # type: ignore[attr-defined]


def test_joining_and_scratch_that_work_in_a_known_window() -> None:
    stage, inserter, _ = make(GEDIT)
    say(stage, inserter, "Hello world.")
    say(stage, inserter, "How are you?")
    assert inserter.text["gedit"] == "Hello world. How are you?"
    inserted = say(stage, inserter, "Scratch that.", "scratch that")
    assert inserter.text["gedit"] == "Hello world."
    assert judge_typing("Scratch that.", inserted).outcome == "typed (13 erased first)"  # type: ignore[arg-type]


def test_the_pause_period_is_taken_back_in_a_known_window() -> None:
    stage, inserter, _ = make(GEDIT)
    say(stage, inserter, "I went to the.", "i went to the")
    say(stage, inserter, "Store.", "store")
    assert inserter.text["gedit"] == "I went to the store."


def test_scratch_that_after_switching_windows_is_refused() -> None:
    stage, inserter, reader = make(GEDIT)
    say(stage, inserter, "Hello world.")
    reader.focus = KWRITE
    inserted = say(stage, inserter, "Scratch that.", "scratch that")
    assert inserter.text == {"gedit": "Hello world."}
    ending = judge_typing("Scratch that.", inserted)  # type: ignore[arg-type]
    assert ending.outcome == "refused (nothing changed)"


def test_without_the_text_before_the_caret_nothing_is_erased_by_memory() -> None:
    """No key watcher on Wayland: where the text cannot be read the memory only joins, so a
    key the user typed in between can never make "scratch that" erase the wrong text."""
    stage, inserter, reader = make(GEDIT)
    reader.readable = False
    say(stage, inserter, "I went to the.", "i went to the")
    say(stage, inserter, "Store.", "store")
    inserted = say(stage, inserter, "Scratch that.", "scratch that")
    assert inserter.text["gedit"] == "I went to the. Store."  # joined, the period kept
    assert not any(c.startswith("BackSpace") for c in inserter.calls)
    ending = judge_typing("Scratch that.", inserted)  # type: ignore[arg-type]
    assert ending.outcome == "refused (nothing changed)"
    assert ending.message is not None
    assert ending.message.summary == (
        "Nothing was deleted: this application does not let voicetype read its text, so"
        " voicetype cannot check that your last dictation is still there"
    )


def test_a_key_typed_in_between_shows_in_the_text_and_scratch_that_refuses() -> None:
    stage, inserter, reader = make(GEDIT)
    say(stage, inserter, "Hello world.")
    reader.texts["gedit"] += "x"  # the user typed
    inserted = say(stage, inserter, "Scratch that.", "scratch that")
    assert inserter.text["gedit"] == "Hello world.x"
    ending = judge_typing("Scratch that.", inserted)  # type: ignore[arg-type]
    assert ending.message is not None
    assert "no longer what voicetype typed" in ending.message.summary


def test_scratch_that_in_an_unknown_window_is_refused_with_the_notification() -> None:
    stage, inserter, _ = make(None)
    say(stage, inserter, "Hello world.")
    inserted = say(stage, inserter, "Scratch that.", "scratch that")
    assert inserter.text == {"foot": "Hello world."}
    ending = judge_typing("Scratch that.", inserted)  # type: ignore[arg-type]
    assert ending.outcome == "refused (nothing changed)"
    assert ending.message is not None
    assert ending.message.summary.startswith("Nothing was deleted")


def test_the_virtual_keyboard_asks_the_probe_for_windows_the_compositor_does_not_name(
    tmp_path: Path,
) -> None:
    """wlroots without sway IPC: Return only where the probe says "not a terminal"."""
    vk = VirtualKeyboardInserter({"WAYLAND_DISPLAY": "wayland-x", "XDG_RUNTIME_DIR": str(tmp_path)})
    assert vk.ipc is None
    with pytest.raises(InsertionError):
        vk.press("Return", 1, None)  # no probe: unknown, a terminal
    vk.is_terminal = lambda: True
    with pytest.raises(InsertionError):
        vk.press("Return", 1, None)
    vk.is_terminal = lambda: False
    assert vk._aim(None) == (False, False)
    assert for_window("a\nb", vk._aim(None)[0]) == "a\nb"


def test_a_sway_window_is_its_container_for_the_memory() -> None:
    target = WaylandTarget(SwayWindow(41, "org.gnome.texteditor", False))
    assert _window_of(target) == 41
    assert _window_of(WaylandTarget(None)) is None


@dataclass
class SwayLike:
    """The virtual keyboard on sway: the target names the window (foot here)."""

    text: str = ""

    def focused_target(self) -> WaylandTarget:
        return WaylandTarget(SwayWindow(9, "foot", False))

    def insert(self, text: str, target: object) -> None:
        self.text += text.replace("\n", " ")

    def press(self, key: Key, count: int, target: object) -> None:
        raise InsertionError("a line break is never typed into a terminal")

    def close(self) -> None:
        pass


def test_a_final_new_line_in_a_terminal_sway_names_is_a_space_not_a_refusal() -> None:
    stage = TextStage(TextSettings(), NoCaretReader(), DictationMemory(), History(5), NoKeyWatch())
    vk = SwayLike()
    stage.deliver(vk, (Phrase("Hello.", "hello"),), vk.focused_target(), lambda: 1.0)
    done = stage.deliver(vk, (Phrase("New line.", "new line"),), vk.focused_target(), lambda: 2.0)
    assert done.error is None
    assert vk.text == "Hello. "  # joined by memory (same container): a space


def test_voicetype_once_wires_the_probe_too() -> None:
    reader = FocusReader(GEDIT)
    inserter = PortalLike(reader)
    phrases = (Phrase("Hi.", "hi"), Phrase("New line.", "new line"))
    done = type_once(TextSettings(), inserter, phrases, reader)
    assert done.error is None
    assert inserter.text["gedit"] == "Hi.\n"
    assert inserter.calls[-1] == "Return x1"
