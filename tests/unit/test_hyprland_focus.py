"""Hyprland's focused window through its request socket (``hyprland_ipc``), against a
fake that serves Hyprland's published IPC (``harness.fake_hyprland``): the socket found
where Hyprland puts it; the terminal rule for foot/kitty (a line break a space, Return
refused); focus given back before typing; a closed window is ``TargetGone``; no socket or
a hung one is "not known" within the bound; the text memory keyed by the window address.
The virtual keyboard's Wayland side is stubbed here (no compositor): what it would type
is recorded; tests/wayland/test_hyprland_typing.py types for real through sway."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.fake_hyprland import FakeHyprland

from voicetype.context import NoCaretReader
from voicetype.context.keywatch import NoKeyWatch
from voicetype.insertion import InsertionError, TargetGone
from voicetype.insertion.focus_ipc import Window, find_focus_ipc
from voicetype.insertion.hyprland_ipc import TIMEOUT, HyprlandIpc
from voicetype.insertion.sway_ipc import SwayIpc
from voicetype.insertion.wayland_vk import VirtualKeyboardInserter, WaylandTarget
from voicetype.text import DictationMemory, History, Phrase, TextSettings
from voicetype.typing_stage import TextStage, _window_of


@pytest.fixture
def runtime() -> Iterator[Path]:
    """A short runtime dir (a Unix socket path has at most 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="vt-h", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def hypr(runtime: Path) -> Iterator[FakeHyprland]:
    fake = FakeHyprland(runtime)
    yield fake
    fake.stop()


class Typed:
    """The virtual keyboard with its Wayland side stubbed: records what it would type,
    pressed keys, and which window had focus in the fake when it did."""

    def __init__(self, vk: VirtualKeyboardInserter, hypr: FakeHyprland, mp: pytest.MonkeyPatch):
        self.texts: list[tuple[str, str | None]] = []
        self.keys: list[str] = []
        mp.setattr(vk, "_keyboard", lambda: (None, 0))
        mp.setattr(vk, "_type", lambda kb, text, xw: self.texts.append((text, hypr.active)))
        mp.setattr(vk, "_send", lambda kb, batch, xw: self.keys.extend(batch.keysyms))


def inserter(hypr: FakeHyprland, mp: pytest.MonkeyPatch) -> tuple[VirtualKeyboardInserter, Typed]:
    vk = VirtualKeyboardInserter({**hypr.env, "WAYLAND_DISPLAY": "wayland-1"})
    return vk, Typed(vk, hypr, mp)


def test_the_socket_is_found_where_hyprland_puts_it(runtime: Path) -> None:
    env = {"WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": str(runtime)}
    assert find_focus_ipc(env) is None  # no HYPRLAND_INSTANCE_SIGNATURE, no sway socket
    assert find_focus_ipc({**env, "HYPRLAND_INSTANCE_SIGNATURE": "nothere_1_1"}) is None
    for legacy in (False, True):  # $XDG_RUNTIME_DIR/hypr (0.40+), /tmp/hypr before
        fake = FakeHyprland(runtime, legacy=legacy)
        try:
            ipc = find_focus_ipc(fake.env)
            assert isinstance(ipc, HyprlandIpc) and ipc.path == fake.path
            assert str(ipc.path).startswith("/tmp/hypr/" if legacy else str(runtime))
        finally:
            fake.stop()
    sway_sock = runtime / "sway-ipc.0.1.sock"
    sway_sock.touch()
    assert isinstance(find_focus_ipc(env), SwayIpc)


def test_the_focused_window_is_read_from_activewindow(hypr: FakeHyprland) -> None:
    ipc = HyprlandIpc.find(hypr.env)
    assert ipc is not None
    assert ipc.focused() is None  # no window: Hyprland answers {}
    kitty = hypr.add("kitty", "~")
    gedit = hypr.add("org.gnome.gedit", "notes", xwayland=True)
    assert ipc.focused() == Window(gedit, "org.gnome.gedit", True)
    assert ipc.exists(Window(kitty, "kitty", False))
    assert ipc.focus(Window(kitty, "kitty", False))
    assert ipc.focused() == Window(kitty, "kitty", False)
    assert hypr.requests == [
        "j/activewindow",
        "j/activewindow",
        "j/clients",
        f"dispatch focuswindow address:{kitty}",
        "j/activewindow",
    ]
    assert ipc.request("nonsense") == "unknown request"


def test_an_answer_that_is_not_the_published_json_is_not_a_window(
    hypr: FakeHyprland, monkeypatch: pytest.MonkeyPatch
) -> None:
    hypr.add("foot")
    monkeypatch.setattr(hypr, "answer", lambda request: "unknown request")
    ipc = HyprlandIpc.find(hypr.env)
    assert ipc is not None
    with pytest.raises(ValueError, match="unknown request"):
        ipc.focused()
    vk, _ = inserter(hypr, monkeypatch)
    assert vk.focused_target() is None  # not known: treated as a terminal


@pytest.mark.parametrize("terminal", ["foot", "kitty"])
def test_a_terminal_gets_a_space_for_a_line_break_and_no_return(
    hypr: FakeHyprland, monkeypatch: pytest.MonkeyPatch, terminal: str
) -> None:
    vk, typed = inserter(hypr, monkeypatch)
    vk.unknown_is_terminal = False  # the answer must come from Hyprland, not the default
    window = hypr.add(terminal)
    target = vk.focused_target()
    assert isinstance(target, WaylandTarget) and target.terminal
    vk.insert("ls\nrm -rf build", target)
    assert typed.texts == [("ls rm -rf build", window)]
    with pytest.raises(InsertionError, match="never typed into a terminal"):
        vk.press("Return", 1, target)
    assert typed.keys == []
    hypr.add("org.gnome.TextEditor")
    editor = vk.focused_target()
    vk.insert("a\nb", editor)
    vk.press("Return", 1, editor)
    assert typed.texts[-1][0] == "a\nb" and typed.keys == ["Return"]


def test_focus_is_given_back_before_typing(
    hypr: FakeHyprland, monkeypatch: pytest.MonkeyPatch
) -> None:
    vk, typed = inserter(hypr, monkeypatch)
    editor = hypr.add("org.gnome.TextEditor")
    target = vk.focused_target()
    hypr.add("foot")  # the user clicked a terminal while voicetype listened
    vk.insert("Grüße", target)
    assert typed.texts == [("Grüße", editor)]  # typed after Hyprland focused the editor
    assert f"dispatch focuswindow address:{editor}" in hypr.requests


@pytest.mark.parametrize("old_dispatch", [False, True])
def test_a_closed_window_is_target_gone_and_gets_nothing(
    runtime: Path, monkeypatch: pytest.MonkeyPatch, old_dispatch: bool
) -> None:
    """Hyprland before dispatch errors answered ``ok`` even for an unknown address: the
    window list decides, not the dispatcher's answer."""
    hypr = FakeHyprland(runtime, old_dispatch=old_dispatch)
    try:
        vk, typed = inserter(hypr, monkeypatch)
        editor = hypr.add("org.gnome.TextEditor")
        target = vk.focused_target()
        hypr.add("foot")
        hypr.close(editor)
        with pytest.raises(TargetGone):
            vk.insert("nowhere", target)
        with pytest.raises(TargetGone):
            vk.press("BackSpace", 3, target)
        assert typed.texts == [] and typed.keys == []
    finally:
        hypr.stop()


def test_no_socket_or_a_hung_one_is_not_known_within_the_bound(
    hypr: FakeHyprland, monkeypatch: pytest.MonkeyPatch
) -> None:
    vk, typed = inserter(hypr, monkeypatch)
    hypr.add("org.gnome.TextEditor")
    hypr.hang = True
    start = time.monotonic()
    target = vk.focused_target()
    elapsed = time.monotonic() - start
    assert target is None and TIMEOUT <= elapsed < 0.1
    vk.insert("a\nb", target)  # not known: a terminal's rule
    assert typed.texts[-1][0] == "a b"
    hypr.path.unlink()  # Hyprland gone: the socket file with it
    start = time.monotonic()
    assert vk.focused_target() is None and time.monotonic() - start < 0.1


def test_the_memory_knows_the_window_by_its_address(
    hypr: FakeHyprland, monkeypatch: pytest.MonkeyPatch
) -> None:
    vk, typed = inserter(hypr, monkeypatch)
    stage = TextStage(TextSettings(), NoCaretReader(), DictationMemory(), History(5), NoKeyWatch())
    editor = hypr.add("org.gnome.TextEditor")
    target = vk.focused_target()
    assert _window_of(target) == int(editor, 16)
    stage.deliver(vk, (Phrase("Hello.", "hello"),), target, lambda: 1.0)
    stage.deliver(vk, (Phrase("how are you", "how are you"),), vk.focused_target(), lambda: 2.0)
    other = hypr.add("org.gnome.TextEditor", "another file")
    stage.deliver(vk, (Phrase("fresh start", "fresh start"),), vk.focused_target(), lambda: 3.0)
    assert [t for t, _ in typed.texts] == ["Hello.", " How are you", "fresh start"]
    assert typed.texts[-1][1] == other


def test_a_hyprland_that_stops_answering_before_typing_types_nothing(
    hypr: FakeHyprland, monkeypatch: pytest.MonkeyPatch
) -> None:
    vk, typed = inserter(hypr, monkeypatch)
    hypr.add("org.gnome.TextEditor")
    target = vk.focused_target()
    hypr.hang = True
    with pytest.raises(InsertionError, match="could not ask Hyprland") as err:
        vk.insert("text", target)
    assert err.value.fix == "check that Hyprland is running (hyprctl activewindow)"
    assert typed.texts == []
