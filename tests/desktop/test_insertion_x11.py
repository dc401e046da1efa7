"""Text insertion into a real Tk window under Xvfb + openbox: exactness, focus, keymap and
clipboard restored, modifiers. The corpus doubles as the exactness benchmark's input."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from harness.corpus import CORPUS, MIXED
from harness.procs import require, wait_for
from harness.textwin import TextWindow

from voicetype.insertion import InsertionError, TargetGone
from voicetype.insertion.apps import profile_for, shape_text
from voicetype.insertion.clipboard import ClipboardInserter
from voicetype.insertion.x11 import X11Inserter
from voicetype.insertion.x11_session import X11Target

pytestmark = pytest.mark.desktop

HARNESS = Path(__file__).resolve().parents[1] / "harness"


def long_text(n: int = 5000) -> str:
    words = ["Dictation", "works", "well:", "Grüße", "5 €,", "日本,", "😀", "naïve", "line\n"]
    out, i = "", 0
    while len(out) < n:
        out += words[i % len(words)] + " "
        i += 1
    return out[:n]


def xkb_dump(display: str) -> str:
    out = subprocess.run(
        ["xkbcomp", "-xkb", display, "-"], capture_output=True, text=True, check=True, timeout=20
    ).stdout
    assert "xkb_symbols" in out
    return out


@pytest.fixture
def inserter(x_display: str) -> Iterator[X11Inserter]:
    require("xkbcomp", "xclip")
    ins = X11Inserter(x_display)
    yield ins
    ins.close()


def typed_into(ins: X11Inserter, win: TextWindow, text: str) -> str:
    target = ins.focused_target()
    assert target == X11Target(win.window_id)
    ins.insert(text, target)
    return win.wait_for_text(text)


def test_ascii_unicode_multiline_and_shortcut_lookalikes_arrive_exactly(
    inserter: X11Inserter, text_window: TextWindow, x_display: str
) -> None:
    before = xkb_dump(x_display)
    for text in ["Hello, World!", MIXED, "one\n\ttwo\nthree\t3", "ctrl+c <alt>+F4 ^V"]:
        text_window.clear()
        typed_into(inserter, text_window, text)
    text_window.clear()
    inserter.insert("esc\x1b[A bell\x07 ok\r\n", inserter.focused_target())
    text_window.wait_for_text("esc[A bell ok")  # trailing line breaks are stripped
    assert inserter.settle()  # the temporary bindings are cleared a moment later
    assert xkb_dump(x_display) == before


def test_press_backspace_and_return_edit_the_window(
    inserter: X11Inserter, text_window: TextWindow
) -> None:
    """``press`` (the text stage's "scratch that" and final "new line")."""
    typed_into(inserter, text_window, "Hello world")
    target = inserter.focused_target()
    inserter.press("BackSpace", 5, target)
    inserter.press("Return", 2, target)
    inserter.insert("there", target)
    assert text_window.wait_for_text("Hello \n\nthere") == "Hello \n\nthere"


def test_5000_characters(inserter: X11Inserter, text_window: TextWindow, x_display: str) -> None:
    before = xkb_dump(x_display)
    text = long_text()
    t0 = time.perf_counter()
    inserter.insert(text, inserter.focused_target())
    text_window.wait_for_text(text, timeout=30)
    elapsed = time.perf_counter() - t0
    print(f"5,000 mixed characters typed in {elapsed:.2f} s ({len(text) / elapsed:.0f} chars/s)")
    assert inserter.settle()  # the temporary bindings are cleared a moment later
    assert xkb_dump(x_display) == before


def test_corpus_exact_and_keymap_restored(
    inserter: X11Inserter, text_window: TextWindow, x_display: str
) -> None:
    assert len(CORPUS) >= 40
    before = xkb_dump(x_display)
    wrong = []
    for text in CORPUS:
        text_window.clear()
        inserter.insert(text, inserter.focused_target())
        expected = shape_text(text, profile_for(None))  # trailing line breaks stripped
        try:
            text_window.wait_for_text(expected, timeout=5)
        except AssertionError:
            wrong.append((text, text_window.content()))
    assert wrong == []
    assert inserter.settle()  # the temporary bindings are cleared a moment later
    assert xkb_dump(x_display) == before


def test_caps_lock_is_ignored_and_left_on(
    inserter: X11Inserter, text_window: TextWindow, x_env: dict[str, str]
) -> None:
    def caps_on() -> bool:
        out = subprocess.run(["xset", "q"], env=x_env, capture_output=True, text=True).stdout
        return "Caps Lock:   on" in out

    subprocess.run(["xdotool", "key", "Caps_Lock"], env=x_env, check=True)
    try:
        assert caps_on()
        typed_into(inserter, text_window, "Hello ÉCOLE école")
        assert caps_on()
    finally:
        subprocess.run(["xdotool", "key", "Caps_Lock"], env=x_env, check=True)
    assert not caps_on()


def test_focus_moved_away_text_lands_in_original_window(
    inserter: X11Inserter, text_window_factory: Callable[..., TextWindow]
) -> None:
    first = text_window_factory("first")
    other = text_window_factory("other")
    first.focus()
    target = inserter.focused_target()
    other.focus()
    assert inserter.focused_target() == X11Target(other.window_id)
    inserter.insert("back home ✓", target)
    first.wait_for_text("back home ✓")
    assert inserter.focused_target() == X11Target(first.window_id)
    assert other.settle() == ""


def test_target_destroyed_raises_target_gone_and_types_nothing(
    inserter: X11Inserter, text_window_factory: Callable[..., TextWindow]
) -> None:
    doomed = text_window_factory("doomed")
    other = text_window_factory("other")
    doomed.focus()
    target = inserter.focused_target()
    doomed.close()
    other.focus()
    with pytest.raises(TargetGone):
        inserter.insert("must not appear", target)
    assert other.settle() == ""


def test_focus_lost_while_typing_stops_and_says_how_much(
    inserter: X11Inserter, text_window: TextWindow, x_display: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = xkb_dump(x_display)
    checks = iter([True, True])  # the first two chunks' checks
    real = inserter.focus_is_in
    monkeypatch.setattr(inserter, "focus_is_in", lambda w: next(checks, False) and real(w))
    text = "€" + "x" * 300
    with pytest.raises(InsertionError, match="128 of 301 characters"):
        inserter.insert(text, inserter.focused_target())
    assert text_window.settle() == text[:128]
    assert inserter.settle()  # the temporary bindings are cleared a moment later
    assert xkb_dump(x_display) == before


def test_waits_while_a_modifier_is_held(
    inserter: X11Inserter, text_window: TextWindow, x_env: dict[str, str]
) -> None:
    seen_held = threading.Event()
    real = inserter.keyboard.keys_down

    def watched(keycodes: Sequence[int]) -> list[int]:
        held = real(keycodes)
        if held:
            seen_held.set()
        return held

    inserter.keyboard.keys_down = watched  # type: ignore[method-assign]
    inserter.modifier_timeout = 10
    target = inserter.focused_target()
    subprocess.run(["xdotool", "keydown", "ctrl"], env=x_env, check=True)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            inserter.insert("as text, not ctrl+a", target)
        except BaseException as e:
            errors.append(e)

    worker = threading.Thread(target=run)
    try:
        worker.start()
        assert seen_held.wait(5), "the inserter never saw the held Ctrl"
        assert worker.is_alive() and text_window.content() == ""
    finally:
        subprocess.run(["xdotool", "keyup", "ctrl"], env=x_env, check=True)
    worker.join(10)
    assert errors == []
    text_window.wait_for_text("as text, not ctrl+a")


def test_modifier_still_held_after_timeout_types_nothing(
    inserter: X11Inserter, text_window: TextWindow, x_env: dict[str, str]
) -> None:
    inserter.modifier_timeout = 0.2
    subprocess.run(["xdotool", "keydown", "Shift_L"], env=x_env, check=True)
    try:
        with pytest.raises(InsertionError, match="Shift_L"):
            inserter.insert("nothing", inserter.focused_target())
    finally:
        subprocess.run(["xdotool", "keyup", "Shift_L"], env=x_env, check=True)
    assert text_window.settle() == ""


def clipboard(x_env: dict[str, str], target: str = "UTF8_STRING") -> str:
    return subprocess.run(
        ["xclip", "-selection", "clipboard", "-o", "-t", target],
        env=x_env,
        capture_output=True,
        text=True,
        timeout=5,
    ).stdout


def set_clipboard(x_env: dict[str, str], text: str) -> None:
    subprocess.run(
        ["xclip", "-selection", "clipboard", "-i"],
        input=text,
        text=True,
        env=x_env,
        check=True,
        timeout=5,
    )
    wait_for(lambda: clipboard(x_env) == text, 5, "xclip to own the clipboard")


def test_paste_is_exact_and_restores_the_clipboard(
    x_display: str, x_env: dict[str, str], text_window: TextWindow
) -> None:
    require("xclip", "xkbcomp")
    before = xkb_dump(x_display)
    set_clipboard(x_env, "the user's clipboard: ü € 😀")
    paster = ClipboardInserter(display_name=x_display)
    try:
        for text in [MIXED, "multi\nline\twith tab", long_text()]:
            text_window.clear()
            t0 = time.perf_counter()
            paster.insert(text, paster.focused_target())
            text_window.wait_for_text(text)
            print(f"pasted {len(text)} chars in {time.perf_counter() - t0:.3f} s")
            assert clipboard(x_env) == "the user's clipboard: ü € 😀"
    finally:
        paster.close()
    assert xkb_dump(x_display) == before


def test_typing_leaves_the_clipboard_alone(
    inserter: X11Inserter, text_window: TextWindow, x_env: dict[str, str]
) -> None:
    set_clipboard(x_env, "untouched")
    typed_into(inserter, text_window, "typed, not pasted ✓")
    assert clipboard(x_env) == "untouched"


def test_paste_with_an_empty_clipboard_leaves_it_empty(
    x_display: str, x_env: dict[str, str], text_window: TextWindow
) -> None:
    from Xlib import display as xdisplay

    d = xdisplay.Display(x_display)
    try:
        clip = d.intern_atom("CLIPBOARD")
        d.screen().root.create_window(0, 0, 1, 1, 0, 0).set_selection_owner(clip, 0)
        d.sync()
        # our throwaway window owns it; destroying the connection leaves no owner
    finally:
        d.close()
    paster = ClipboardInserter(display_name=x_display)
    try:
        paster.insert("into nothing", paster.focused_target())
        text_window.wait_for_text("into nothing")
        assert clipboard(x_env) == ""
        d = xdisplay.Display(x_display)
        owner = d.get_selection_owner(d.intern_atom("CLIPBOARD"))
        d.close()
        assert owner in (0, None) or getattr(owner, "id", 1) == 0
    finally:
        paster.close()


def keymap_changes(display: object) -> int:
    """MappingNotify (keyboard) events queued on ``display`` (an observer connection: the
    server sends them to every client)."""
    from Xlib import X

    n = 0
    while display.pending_events():  # type: ignore[attr-defined]
        ev = display.next_event()  # type: ignore[attr-defined]
        n += ev.type == X.MappingNotify and ev.request == X.MappingKeyboard
    return n


def test_repeated_mixed_text_changes_the_keymap_once_and_waits_for_no_window(
    inserter: X11Inserter, text_window: TextWindow, x_display: str
) -> None:
    """Tk does not list ``_NET_WM_PING``: old code waited a fixed 100 ms after each
    remap and ~150 ms before each restore, and changed the keymap (a MappingNotify to
    every client, each making it re-read the keymap) twice for every text. Now the first
    text binds its characters, texts typed soon after reuse them without a change, and
    the bindings are cleared once, a moment later."""
    from Xlib import display as xdisplay

    observer = xdisplay.Display(x_display)
    text = "Grüße, naïve café — €12.50"
    try:
        observer.sync()
        keymap_changes(observer)
        changes = []
        for _ in range(3):
            text_window.clear()
            typed_into(inserter, text_window, text)
            observer.sync()
            changes.append(keymap_changes(observer))
        assert changes[0] >= 3 and changes[1:] == [0, 0]  # 6 characters: 3 keycodes
        assert inserter.settle()
        observer.sync()
        assert keymap_changes(observer) >= 1  # cleared
    finally:
        observer.close()


@pytest.mark.parametrize("busy", [0.4, 1.2])
def test_a_busy_window_that_answers_pings_late_still_gets_every_character(
    inserter: X11Inserter, x_display: str, tmp_path: Path, busy: float
) -> None:
    """A loaded browser: it lists _NET_WM_PING but reads nothing for ``busy`` s once the
    keymap changes, then fetches the mapping at the next key (Xlib's XKB rule). The
    bindings must stay until it answered a ping sent after the keys (once, a loaded
    Firefox got "Gre, nave caf  12.50": taken for a window that never answers after 0.1 s,
    its bindings were cleared 150 ms after the last key)."""
    require("xdotool")
    out = tmp_path / "typed.txt"
    out.write_text("")
    env = {**os.environ, "DISPLAY": x_display}
    client = subprocess.Popen(
        [sys.executable, str(HARNESS / "busy_client.py"), str(out), str(busy)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert client.stdout is not None
        window = int(client.stdout.readline())
        activate = ["xdotool", "windowactivate", "--sync", str(window)]
        subprocess.run(activate, env=env, check=True, capture_output=True, timeout=10)
        wait_for(lambda: inserter.focused_target() == X11Target(window), 5, "focus")
        text = "Grüße, naïve café — €12.50"
        inserter.insert(text, X11Target(window))
        with contextlib.suppress(TimeoutError):  # lost keys: fewer characters ever come
            wait_for(lambda: len(out.read_text(encoding="utf-8")) >= len(text), busy + 5, "keys")
        assert out.read_text(encoding="utf-8") == text
    finally:
        client.kill()
        client.wait(5)
