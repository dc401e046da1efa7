"""``voicetype doctor`` asks the daemon's own selectors (typing, hotkey, notifications), so it
says what the daemon would say, in the same words, with no desktop needed to find a fault."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jeepney import HeaderFields, MessageType

from voicetype.config import Config
from voicetype.doctor import Check, check_hotkey, check_notifications, check_session
from voicetype.errors import BackendUnavailable
from voicetype.notify.freedesktop import NO_SERVICE_FIX, FreedesktopNotifier


def _config(tmp_path: Path) -> Config:
    return Config(path=tmp_path / "config.toml")


def test_no_display_is_told_as_the_daemon_tells_it() -> None:
    check = check_session({}, "auto", "linux")
    assert check == Check(
        "desktop session",
        False,
        "no X display to type into (DISPLAY is not set)",
        "run voicetype inside your desktop session, or set DISPLAY (e.g. DISPLAY=:0)",
    )


def test_a_wayland_session_without_x_cannot_type() -> None:
    check = check_session({"WAYLAND_DISPLAY": "wayland-0"}, "auto", "linux")
    assert not check.ok  # the daemon's own choice: the Wayland path, which finds no socket
    assert check.detail == "no Wayland compositor to type into (XDG_RUNTIME_DIR is not set)"
    assert check.fix == "run voicetype inside your Wayland session"


def test_a_display_that_does_not_answer_is_not_a_desktop(tmp_path: Path) -> None:
    # Before, doctor saw DISPLAY set and said "✓ X11 on :…"; the daemon then could not type.
    check = check_session({"DISPLAY": ":4242", "XAUTHORITY": str(tmp_path / "x")}, "type", "linux")
    assert not check.ok
    assert check.detail.startswith("cannot connect to the X display :4242")


def test_the_hotkey_without_a_display_is_told_as_the_daemon_tells_it(tmp_path: Path) -> None:
    check = check_hotkey(_config(tmp_path), {}, "linux")
    assert check == Check(
        "hotkey",
        False,
        "The global hotkey needs an X11 display (DISPLAY is unset)",
        "Run voicetype in an X11 session, or bind `voicetype dictate` "
        "to a shortcut in your desktop's keyboard settings.",
    )


def test_an_unknown_hotkey_backend_is_refused(tmp_path: Path) -> None:
    check = check_hotkey(_config(tmp_path), {"VOICETYPE_HOTKEY_BACKEND": "evdev"}, "linux")
    assert check is not None and not check.ok
    assert check.detail == "VOICETYPE_HOTKEY_BACKEND='evdev' is not a hotkey backend"


def test_pynput_platforms_have_nothing_to_probe(tmp_path: Path) -> None:
    assert check_hotkey(_config(tmp_path), {}, "darwin") is None


def test_notifications_follow_the_override() -> None:
    logged = check_notifications({"VOICETYPE_NOTIFIER": "log"}, "linux")
    assert logged == Check(
        "notifications", True, "the tray tooltip and the log only (VOICETYPE_NOTIFIER=log)"
    )
    bad = check_notifications({"VOICETYPE_NOTIFIER": "growl"}, "linux")
    assert not bad.ok
    assert bad.detail == "VOICETYPE_NOTIFIER='growl' is not a notifier"
    assert "freedesktop, tray, log" in bad.fix
    assert check_notifications({}, "win32") == Check("notifications", True, "through the tray icon")


def test_notifications_use_the_bus_the_daemon_uses(tmp_path: Path) -> None:
    # The daemon's notifier connects only to DBUS_SESSION_BUS_ADDRESS (no autolaunch, no
    # $XDG_RUNTIME_DIR/bus guess): doctor now asks that same notifier.
    (tmp_path / "bus").touch()
    check = check_notifications({"XDG_RUNTIME_DIR": str(tmp_path)}, "linux")
    assert check == Check(
        "notifications",
        False,
        "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)",
        NO_SERVICE_FIX,
    )
    gone = f"unix:path={tmp_path}/no-such-bus"
    check = check_notifications({"DBUS_SESSION_BUS_ADDRESS": gone}, "linux")
    assert not check.ok and check.detail.startswith("cannot reach the D-Bus session bus")


class _FakeConnection:
    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.methods: list[str] = []

    def send_and_get_reply(self, message: Any, timeout: float) -> Any:
        self.methods.append(message.header.fields[HeaderFields.member])
        return self.reply

    def close(self) -> None:
        pass


def _notifier(reply: Any) -> tuple[FreedesktopNotifier, _FakeConnection]:
    conn = _FakeConnection(reply)
    env = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/fake"}
    return FreedesktopNotifier(env=env, connect=lambda *_a, **_k: conn), conn


def test_server_information_names_the_service_and_shows_nothing() -> None:
    header = SimpleNamespace(message_type=MessageType.method_return, fields={})
    notifier, conn = _notifier(SimpleNamespace(header=header, body=("dunst", "knopwob", "1.9")))
    assert notifier.server_information() == "dunst 1.9 (knopwob)"
    assert conn.methods == ["GetServerInformation"]  # no Notify: nothing was shown


def test_server_information_without_a_service() -> None:
    header = SimpleNamespace(
        message_type=MessageType.error,
        fields={HeaderFields.error_name: "org.freedesktop.DBus.Error.ServiceUnknown"},
    )
    notifier, _conn = _notifier(SimpleNamespace(header=header, body=("no owner",)))
    with pytest.raises(BackendUnavailable) as raised:
        notifier.server_information()
    assert raised.value.message == "no notification service on the session bus"
    assert raised.value.fix == NO_SERVICE_FIX
