"""Choosing the notifier; the log-only and tray notifiers (no D-Bus needed)."""

from __future__ import annotations

import logging

import pytest

from voicetype.errors import ConfigError
from voicetype.notify import Urgency
from voicetype.notify.freedesktop import FreedesktopNotifier
from voicetype.notify.logonly import LogNotifier
from voicetype.notify.select import TrayNotifier, select_notifier


class FakeTray:
    def __init__(self, result: bool = True, fail: bool = False) -> None:
        self.shown: list[tuple[str, str]] = []
        self.result = result
        self.fail = fail

    def notify(self, title: str, message: str) -> bool:
        if self.fail:
            raise OSError("balloon failed")
        self.shown.append((title, message))
        return self.result


def test_linux_uses_freedesktop_with_or_without_tray() -> None:
    assert isinstance(select_notifier(None, platform="linux", env={}), FreedesktopNotifier)
    tray = FakeTray()
    chosen = select_notifier(tray, platform="linux", env={})  # type: ignore[arg-type]
    assert isinstance(chosen, FreedesktopNotifier)


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_windows_and_macos_use_the_tray_else_the_log(platform: str) -> None:
    tray = FakeTray()
    chosen = select_notifier(tray, platform=platform, env={})  # type: ignore[arg-type]
    assert isinstance(chosen, TrayNotifier)
    assert chosen.notify("Summary", "Body") is True
    assert tray.shown == [("Summary", "Body")]
    assert isinstance(select_notifier(None, platform=platform, env={}), LogNotifier)


def test_override() -> None:
    env = {"VOICETYPE_NOTIFIER": "log"}
    assert isinstance(select_notifier(None, platform="linux", env=env), LogNotifier)
    env = {"VOICETYPE_NOTIFIER": "tray"}
    assert isinstance(select_notifier(None, platform="linux", env=env), LogNotifier)
    with pytest.raises(ConfigError):
        select_notifier(None, env={"VOICETYPE_NOTIFIER": "growl"})


def test_tray_notifier_never_raises() -> None:
    notifier = TrayNotifier(FakeTray(fail=True))  # type: ignore[arg-type]
    assert notifier.notify("a", "b", Urgency.CRITICAL) is False


def test_log_notifier_logs_the_summary_only_and_returns_false(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The body may hold dictated text ("You said: …"); callers log messages under the
    ``include_text`` rule, so the fallback notifier must not log bodies."""
    caplog.set_level(logging.INFO, logger="voicetype.notify.logonly")
    notifier = LogNotifier()
    assert notifier.notify("Didn't catch that", "no speech detected", Urgency.LOW) is False
    assert notifier.notify("Azure rejected the key", "check it", Urgency.CRITICAL) is False
    levels = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert levels == [
        (logging.INFO, "not shown (no notification service): Didn't catch that"),
        (logging.ERROR, "not shown (no notification service): Azure rejected the key"),
    ]
    notifier.close()


def test_freedesktop_without_bus_address_returns_false_at_once() -> None:
    notifier = FreedesktopNotifier(env={})
    assert notifier.notify("x", "y") is False
