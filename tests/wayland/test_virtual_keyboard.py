"""Typing into native Wayland windows on a real headless sway through the virtual
keyboard: the corpus exact in GTK3 and foot (line breaks become spaces in a terminal),
more distinct characters than one keymap holds, focus given back, a closed window, and
the rate (printed and written to test-artifacts, not asserted as a timing)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from harness.corpus import CORPUS, long_text
from harness.procs import wait_for
from harness.sway import Sway, TextTarget

from voicetype.insertion import InsertionError, TargetGone
from voicetype.insertion.wayland_vk import VirtualKeyboardInserter, WaylandTarget, for_window

pytestmark = pytest.mark.desktop


def test_corpus_exact_in_gtk3(sway: Sway, sway_gtk: TextTarget, artifacts: Path) -> None:
    inserter = VirtualKeyboardInserter(sway.env)
    expected = ""
    try:
        for text in CORPUS:
            target = inserter.focused_target()
            assert isinstance(target, WaylandTarget) and target.window is not None
            assert target.window.id == sway_gtk.con_id and not target.window.xwayland
            inserter.insert(text, target)
            expected += text
            sway_gtk.wait_for_text(expected)
        shot = artifacts / "wayland_vk_gtk3.png"
        subprocess.run(["grim", str(shot)], env={**os.environ, **sway.env}, check=True)
    finally:
        inserter.close()


def test_corpus_in_foot_line_breaks_become_spaces(sway: Sway, sway_foot: TextTarget) -> None:
    inserter = VirtualKeyboardInserter(sway.env)
    expected = ""
    try:
        for text in CORPUS:
            inserter.insert(text, inserter.focused_target())
            expected += for_window(text, terminal=True)
            sway_foot.wait_for_text(expected)
    finally:
        inserter.close()
    assert "\n" not in expected and "line one line two line three" in expected


def test_a_line_break_never_runs_a_command_in_a_terminal(sway: Sway) -> None:
    marker = sway.workdir / f"ran-{time.monotonic_ns()}"
    title = f"bash-{time.monotonic_ns()}"
    log = sway.workdir / f"{title}.txt"
    log.touch()
    log.chmod(0o666)
    # bash reads the typed line; `script` is not needed: foot gives it a tty.
    target = TextTarget(sway, title, log, f"foot -T {title} bash --norc --noprofile -i")
    inserter = VirtualKeyboardInserter(sway.env)
    try:
        inserter.insert(f"touch {marker}\n", inserter.focused_target())
        inserter.insert(f"touch {marker}\r\n", inserter.focused_target())
        time.sleep(1.0)  # what is asserted is that nothing happens; give bash the time
        assert not marker.exists()
        # The text did arrive: the user's own Return runs it.
        subprocess.run(["wtype", "-k", "Return"], env={**os.environ, **sway.env}, check=True)
        wait_for(marker.exists, 5, "bash to run the typed line after a real Return")
    finally:
        inserter.close()
        target.close()


def test_more_characters_than_one_keymap_holds(sway: Sway, sway_gtk: TextTarget) -> None:
    text = "".join(chr(0x4E00 + i) for i in range(700)) + " 😀 é\n"
    inserter = VirtualKeyboardInserter(sway.env)
    try:
        inserter.insert(text, inserter.focused_target())
        sway_gtk.wait_for_text(text)
    finally:
        inserter.close()


def test_focus_is_given_back_and_a_closed_window_gets_nothing(
    sway: Sway, sway_gtk: TextTarget, sway_foot: TextTarget
) -> None:
    inserter = VirtualKeyboardInserter(sway.env)
    try:
        # sway_foot started last and has focus; the dictation was for the GTK window.
        sway.ipc(f"[con_id={sway_gtk.con_id}] focus")
        target = inserter.focused_target()
        sway.ipc(f"[con_id={sway_foot.con_id}] focus")
        inserter.insert("back to GTK é", target)
        sway_gtk.wait_for_text("back to GTK é")
        assert sway_foot.content() == ""
        sway_gtk.close()
        with pytest.raises(TargetGone):
            inserter.insert("nowhere", target)
        time.sleep(0.3)
        assert sway_foot.content() == ""
    finally:
        inserter.close()


def test_typing_rate(sway: Sway, sway_foot: TextTarget, artifacts: Path) -> None:
    text = long_text(5000).replace("\n", " ")
    inserter = VirtualKeyboardInserter(sway.env)
    try:
        inserter.insert("warm", inserter.focused_target())
        sway_foot.wait_for_text("warm")
        start = time.monotonic()
        inserter.insert(text, inserter.focused_target())
        sway_foot.wait_for_text("warm" + text, timeout=30)
        elapsed = time.monotonic() - start
    finally:
        inserter.close()
    rate = len(text) / elapsed
    line = f"wayland virtual keyboard, foot on sway: {len(text)} chars in {elapsed:.2f} s"
    line += f" = {rate:.0f} chars/s, exact"
    print(line)
    (artifacts / "wayland_vk_rate.txt").write_text(line + "\n")


def test_xwayland_window_gets_the_text_exactly(sway: Sway) -> None:
    """An X11 app under sway (XWayland): the keymap reaches it as an X keymap change,
    so the inserter waits between keymap uploads (see XWAYLAND_SETTLE)."""
    title = f"xterm-{time.monotonic_ns()}"
    path = sway.workdir / f"{title}.txt"
    path.touch()
    path.chmod(0o666)
    command = f"xterm -T {title} -u8 -e sh -c 'stty -icanon -echo; exec cat >> {path}'"
    target = TextTarget(sway, title, path, command)
    inserter = VirtualKeyboardInserter(sway.env)
    try:
        focused = inserter.focused_target()
        assert isinstance(focused, WaylandTarget) and focused.window is not None
        assert focused.window.xwayland and focused.window.app_id == "xterm"
        text = "Grüße 5 € 日本語 😀 🇫🇷 שלום " + "".join(chr(0x4E00 + i) for i in range(300))
        inserter.insert(text, focused)
        target.wait_for_text(text, timeout=20)
    finally:
        inserter.close()
        target.close()


def test_scratch_that_and_new_line_keys_and_no_return_into_a_terminal(
    sway: Sway, sway_gtk: TextTarget, sway_foot: TextTarget
) -> None:
    """BackSpace ("scratch that") and Return (a final "new line") are pressed in a text
    window; Return is refused in a terminal before anything is pressed."""
    inserter = VirtualKeyboardInserter(sway.env)
    try:
        foot = inserter.focused_target()  # sway_foot started last: it has focus
        with pytest.raises(InsertionError, match="never typed into a terminal"):
            inserter.press("Return", 1, foot)
        sway.ipc(f"[con_id={sway_gtk.con_id}] focus")
        gtk = inserter.focused_target()
        inserter.insert("Grüße world", gtk)
        sway_gtk.wait_for_text("Grüße world")
        inserter.press("BackSpace", 6, gtk)
        sway_gtk.wait_for_text("Grüße")
        inserter.press("Return", 2, gtk)
        inserter.insert("x", gtk)
        sway_gtk.wait_for_text("Grüße\n\nx")
    finally:
        inserter.close()
    assert sway_foot.content() == ""
