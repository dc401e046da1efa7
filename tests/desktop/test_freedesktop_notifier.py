"""FreedesktopNotifier against a private bus and the recording notification server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.dbus_notify import NotificationBus
from jeepney.io.blocking import open_dbus_connection

from voicetype.notify import Urgency
from voicetype.notify.freedesktop import EXPIRE_MS, FreedesktopNotifier

pytestmark = pytest.mark.desktop


@pytest.fixture
def notifier(notifications: NotificationBus) -> Iterator[FreedesktopNotifier]:
    n = FreedesktopNotifier(env=notifications.env)
    yield n
    n.close()


def test_notify_is_recorded_with_our_name_words_and_urgency(
    notifier: FreedesktopNotifier, notifications: NotificationBus
) -> None:
    summary = "Didn't catch that"
    body = "No speech detected — try again closer to the microphone"
    assert notifier.notify(summary, body, Urgency.LOW) is True
    (call,) = notifications.wait_for(1)
    assert (call.app_name, call.summary, call.body) == ("voicetype", summary, body)
    assert call.urgency == 0 and call.replaces_id == 0
    assert call.expire_timeout == EXPIRE_MS[Urgency.LOW]
    assert call.hints["desktop-entry"] == "voicetype"
    assert call.app_icon.startswith("file://") and call.app_icon.endswith("voicetype.png")
    assert Path(call.app_icon.removeprefix("file://")).is_file()
    assert notifier.last_id == call.id


def test_successive_notifications_replace_the_previous_one(
    notifier: FreedesktopNotifier, notifications: NotificationBus
) -> None:
    assert notifier.notify("one", "first", Urgency.NORMAL)
    assert notifier.notify("two", "second", Urgency.CRITICAL)
    assert notifier.notify("three", "third")
    first, second, third = notifications.wait_for(3)
    assert first.replaces_id == 0
    assert second.replaces_id == first.id and third.replaces_id == second.id
    assert [c.urgency for c in (first, second, third)] == [1, 2, 1]
    assert second.expire_timeout == 0  # critical: stays until dismissed


def test_body_is_escaped_only_when_the_server_renders_markup(
    notifications: NotificationBus,
) -> None:
    notifications.capabilities = ["body", "body-markup"]
    markup = FreedesktopNotifier(env=notifications.env)
    assert markup.notify("Typing failed", "xdotool <missing> & no clipboard")
    markup.close()
    notifications.capabilities = ["body"]
    plain = FreedesktopNotifier(env=notifications.env)
    assert plain.notify("Typing failed", "xdotool <missing> & no clipboard")
    plain.close()
    escaped, verbatim = notifications.wait_for(2)
    assert escaped.body == "xdotool &lt;missing&gt; &amp; no clipboard"
    assert verbatim.body == "xdotool <missing> & no clipboard"


def test_no_notification_service_returns_false_quickly_then_recovers(
    notifier: FreedesktopNotifier, notifications: NotificationBus
) -> None:
    with notifications.without_server():
        started = time.monotonic()
        assert notifier.notify("Azure rejected the key", "Check `key`", Urgency.CRITICAL) is False
        assert time.monotonic() - started < 1.0
    assert notifier.notify("back", "again") is True
    assert [c.summary for c in notifications.wait_for(1)] == ["back"]


def test_no_bus_returns_false(tmp_path: Path) -> None:
    missing = FreedesktopNotifier(env={"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no"})
    started = time.monotonic()
    assert missing.notify("x", "y") is False
    assert FreedesktopNotifier(env={}).notify("x", "y") is False
    assert (
        FreedesktopNotifier(env={"DBUS_SESSION_BUS_ADDRESS": "tcp:host=x"}).notify("x", "y")
        is False
    )
    assert time.monotonic() - started < 1.0


def test_a_hung_bus_is_bounded_in_time(tmp_path: Path) -> None:
    path = tmp_path / "hung"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    try:
        hung = FreedesktopNotifier(env={"DBUS_SESSION_BUS_ADDRESS": f"unix:path={path}"})
        started = time.monotonic()
        assert hung.notify("x", "y") is False
        assert time.monotonic() - started < 1.5
    finally:
        for s in accepted:
            s.close()
        server.close()


def test_reconnects_once_when_the_connection_broke(notifications: NotificationBus) -> None:
    opened: list[Any] = []

    def connect(address: str, **kwargs: Any) -> Any:
        conn = open_dbus_connection(address, **kwargs)
        opened.append(conn)
        return conn

    notifier = FreedesktopNotifier(env=notifications.env, connect=connect)
    assert notifier.notify("one", "first")
    opened[0].sock.shutdown(socket.SHUT_RDWR)  # as if the bus had dropped us
    assert notifier.notify("two", "second")
    assert len(opened) == 2
    first, second = notifications.wait_for(2)
    assert second.replaces_id == first.id
    notifier.close()
