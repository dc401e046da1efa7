"""The GlobalShortcuts hotkey against the fake portal: registration first, the session
with the shortcut and a fixed token, press/release reaching the callbacks once each, and
desktops without the portal told how to bind a key instead."""

from __future__ import annotations

import threading
import time

import pytest
from harness.fake_portal import GS, REGISTRY, FakePortal, unwrap
from harness.procs import wait_for

from voicetype.errors import BackendUnavailable
from voicetype.hotkeys import parse_hotkey
from voicetype.hotkeys_portal import APP_ID, PortalHotkeyListener, preferred_trigger

pytestmark = pytest.mark.desktop


def test_press_and_release_reach_the_callbacks(fake_portal: FakePortal) -> None:
    events: list[str] = []
    lock = threading.Lock()

    def record(name: str) -> None:
        with lock:
            events.append(name)

    hotkey = parse_hotkey("<ctrl>+<alt>+<space>")
    listener = PortalHotkeyListener(
        hotkey, lambda: record("press"), lambda: record("release"), fake_portal.env
    )
    listener.start()
    try:
        calls = [c for c in fake_portal.calls if c.interface in (GS, REGISTRY)]
        assert [c.member for c in calls] == ["Register", "CreateSession", "BindShortcuts"]
        assert calls[0].body[0] == APP_ID
        options = unwrap(calls[1].body[0])
        assert options["session_handle_token"] == "voicetype"
        (shortcut,) = options["shortcuts"]
        assert shortcut[0] == "dictate"
        assert unwrap(shortcut[1])["preferred_trigger"] == "CTRL+ALT+space"
        assert listener.trigger == "Ctrl+Alt+Space"
        fake_portal.press("dictate")
        fake_portal.press("dictate")  # a repeat while held
        fake_portal.press("other")
        fake_portal.release("dictate")
        wait_for(lambda: len(events) >= 2, 5, "press and release")
        fake_portal.press("dictate")
        fake_portal.release("dictate")
        wait_for(lambda: len(events) >= 4, 5, "the second press and release")
        assert events == ["press", "release", "press", "release"]
    finally:
        listener.stop()
    assert fake_portal.calls[-1].member == "Close"
    listener.stop()  # idempotent


def test_portal_without_registry_still_binds(fake_portal: FakePortal) -> None:
    fake_portal.registry = False
    listener = PortalHotkeyListener(
        parse_hotkey("<super>+<f9>"), lambda: None, lambda: None, fake_portal.env
    )
    listener.start()
    listener.stop()
    assert "BindShortcuts" in fake_portal.members()


def test_no_global_shortcuts_says_how_to_bind_a_key(fake_portal: FakePortal) -> None:
    fake_portal.shortcuts_version = 0
    listener = PortalHotkeyListener(
        parse_hotkey("<ctrl>+<alt>+<space>"), lambda: None, lambda: None, fake_portal.env
    )
    with pytest.raises(BackendUnavailable) as err:
        listener.start()
    assert "voicetype shortcut" in err.value.fix


def test_trigger_notation() -> None:
    assert preferred_trigger(parse_hotkey("<super>+<shift>+d")) == "SHIFT+LOGO+d"
    assert preferred_trigger(parse_hotkey("<ctrl>+<f9>")) == "CTRL+F9"


def test_binding_in_the_background_returns_at_once_and_settles_later(
    fake_portal: FakePortal,
) -> None:
    fake_portal.bind = "hold"  # the desktop shows its dialog and the user takes their time
    outcomes: list[BackendUnavailable | None] = []
    settled = threading.Event()
    events: list[str] = []

    def settle(error: BackendUnavailable | None) -> None:
        outcomes.append(error)
        settled.set()

    listener = PortalHotkeyListener(
        parse_hotkey("<ctrl>+<alt>+<space>"),
        lambda: events.append("press"),
        lambda: events.append("release"),
        fake_portal.env,
    )
    began = time.monotonic()
    listener.start_in_background(settle)
    returned = time.monotonic() - began
    try:
        assert returned < 0.5
        wait_for(lambda: "BindShortcuts" in fake_portal.members(), 5, "BindShortcuts")
        assert not settled.wait(0.3) and outcomes == []
        fake_portal.answer_bind(0)
        assert settled.wait(5)
        assert outcomes == [None] and listener.trigger == "Ctrl+Alt+Space"
        fake_portal.press("dictate")
        fake_portal.release("dictate")
        wait_for(lambda: len(events) >= 2, 5, "press and release")
        assert events == ["press", "release"]
    finally:
        listener.stop()
    assert fake_portal.calls[-1].member == "Close"


def test_stop_while_the_desktop_asks_ends_the_binding_quietly(fake_portal: FakePortal) -> None:
    fake_portal.bind = "hold"
    outcomes: list[BackendUnavailable | None] = []
    listener = PortalHotkeyListener(
        parse_hotkey("<ctrl>+<alt>+<space>"), lambda: None, lambda: None, fake_portal.env
    )
    listener.start_in_background(outcomes.append)
    wait_for(lambda: "BindShortcuts" in fake_portal.members(), 5, "BindShortcuts")
    began = time.monotonic()
    listener.stop()
    assert time.monotonic() - began < 1.5
    time.sleep(0.3)  # what is asserted is that nothing is reported afterwards
    assert outcomes == []


def test_a_declined_binding_settles_with_the_fix(fake_portal: FakePortal) -> None:
    fake_portal.bind = "deny"
    outcomes: list[BackendUnavailable | None] = []
    settled = threading.Event()
    listener = PortalHotkeyListener(
        parse_hotkey("<ctrl>+<alt>+<space>"), lambda: None, lambda: None, fake_portal.env
    )

    def settle(error: BackendUnavailable | None) -> None:
        outcomes.append(error)
        settled.set()

    listener.start_in_background(settle)
    assert settled.wait(5)
    listener.stop()
    (error,) = outcomes
    assert isinstance(error, BackendUnavailable)
    assert "declined" in error.message and "voicetype shortcut" in error.fix
