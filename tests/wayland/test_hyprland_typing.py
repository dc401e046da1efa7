"""Hyprland focus detection typing for real: the real ``VirtualKeyboardInserter`` on the
real headless sway, with the focus answers coming from a fake Hyprland request socket
(``harness.fake_hyprland.SwayBacked``, Hyprland's published IPC answered from sway's
tree) instead of sway's IPC — only the focus answer is faked; keys, focus changes and
the text that lands are real."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from harness.fake_hyprland import SwayBacked
from harness.sway import Sway, TextTarget

from voicetype.doctor import check_session
from voicetype.insertion import InsertionError, TargetGone
from voicetype.insertion.hyprland_ipc import HyprlandIpc
from voicetype.insertion.wayland_select import describe, detect_session
from voicetype.insertion.wayland_vk import VirtualKeyboardInserter, WaylandTarget

pytestmark = pytest.mark.desktop


@pytest.fixture
def hypr(sway: Sway) -> Iterator[SwayBacked]:
    fake = SwayBacked(sway)
    yield fake
    fake.stop()


def hyprland_env(sway: Sway, hypr: SwayBacked) -> dict[str, str]:
    """sway's Wayland socket, Hyprland's instance signature, no SWAYSOCK."""
    env = {**sway.env, **hypr.env}
    del env["SWAYSOCK"]
    return env


def test_foot_named_by_hyprland_gets_spaces_and_never_return(
    sway: Sway, sway_foot: TextTarget, hypr: SwayBacked
) -> None:
    env = hyprland_env(sway, hypr)
    line = describe(detect_session(env))
    assert line.startswith("Wayland (Hyprland): typing through a virtual keyboard")
    assert line.endswith("spaces in terminals")  # Hyprland names the window: no AT-SPI
    assert check_session(env, "auto", "linux").detail == line  # doctor / status say so
    inserter = VirtualKeyboardInserter(env)
    try:
        assert isinstance(inserter.ipc, HyprlandIpc)
        target = inserter.focused_target()
        assert isinstance(target, WaylandTarget) and target.window is not None
        assert target.window.id == hypr.address(sway_foot.con_id) and target.terminal
        assert target.identity == int(hypr.address(sway_foot.con_id), 16)
        inserter.insert("echo one\necho two é€😀", target)
        sway_foot.wait_for_text("echo one echo two é€😀")
        with pytest.raises(InsertionError, match="never typed into a terminal"):
            inserter.press("Return", 1, target)
        time.sleep(0.3)  # a Return would have arrived by now (nothing to await)
        assert sway_foot.content() == "echo one echo two é€😀"
    finally:
        inserter.close()
    assert "j/activewindow" in hypr.requests


def test_focus_is_given_back_through_hyprland_and_a_closed_window_gets_nothing(
    sway: Sway, sway_gtk: TextTarget, sway_foot: TextTarget, hypr: SwayBacked
) -> None:
    inserter = VirtualKeyboardInserter(hyprland_env(sway, hypr))
    try:
        sway.ipc(f"[con_id={sway_gtk.con_id}] focus")  # the window of the hotkey press
        target = inserter.focused_target()
        assert isinstance(target, WaylandTarget) and not target.terminal
        sway.ipc(f"[con_id={sway_foot.con_id}] focus")  # the user clicked the terminal
        inserter.insert("back to GTK\nsecond line", target)
        sway_gtk.wait_for_text("back to GTK\nsecond line")
        assert f"dispatch focuswindow address:{hypr.address(sway_gtk.con_id)}" in hypr.requests
        assert sway_foot.content() == ""
        sway.ipc(f"[con_id={sway_foot.con_id}] focus")
        sway_gtk.close()
        with pytest.raises(TargetGone):
            inserter.insert("nowhere", target)
        time.sleep(0.3)  # keys sent by mistake would have arrived by now
        assert sway_foot.content() == ""
    finally:
        inserter.close()
