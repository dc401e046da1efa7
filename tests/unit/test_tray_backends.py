"""The tray's backends without a desktop: the pystray one (Windows, macOS) against a fake
pystray, the headless one through ``Tray``, and the lazy imports."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from voicetype.icons import icon_image
from voicetype.state import State
from voicetype.tray import (
    LANGUAGE,
    MENU_ROWS,
    MICROPHONE,
    RECENT,
    SEPARATOR,
    STATUS_ROW,
    Microphones,
    Tray,
    TrayActions,
)
from voicetype.tray.menu import LISTENING_ROWS
from voicetype.tray.pystray_icon import PystrayTray


class FakeItem:
    """pystray's MenuItem as far as voicetype uses it: an action that is a ``FakeMenu``
    makes a submenu, and the item is visible only while that has visible items."""

    def __init__(
        self,
        text: Any,
        action: Any,
        *,
        checked: Callable[[Any], bool] | None = None,
        radio: bool = False,
        enabled: bool | Callable[[Any], bool] = True,
        default: bool = False,
        visible: bool | Callable[[Any], bool] = True,
    ) -> None:
        self._text, self.action, self._checked, self._enabled = text, action, checked, enabled
        self._visible, self.radio = visible, radio

    @property
    def submenu(self) -> FakeMenu | None:
        return self.action if isinstance(self.action, FakeMenu) else None

    @property
    def visible(self) -> bool:
        shown = bool(self._visible(self) if callable(self._visible) else self._visible)
        submenu = self.submenu
        return shown and (submenu is None or any(i.visible for i in submenu.items))

    @property
    def text(self) -> str:
        return str(self._text(self) if callable(self._text) else self._text)

    @property
    def checked(self) -> bool | None:
        return None if self._checked is None else self._checked(self)

    @property
    def enabled(self) -> bool:
        return bool(self._enabled(self) if callable(self._enabled) else self._enabled)


class FakeMenu:
    SEPARATOR = object()

    def __init__(self, *items: Any) -> None:
        self._items = items

    @property
    def items(self) -> tuple[Any, ...]:
        """Like pystray: one callable instead of items is called for them each time."""
        only = self._items[0] if len(self._items) == 1 else None
        if callable(only) and not isinstance(only, FakeItem):
            return tuple(only())
        return self._items


class FakeIcon:
    """pystray's public Icon API, as far as PystrayTray uses it."""

    HAS_MENU = True
    HAS_NOTIFICATION = True

    def __init__(self, name: str, icon: Any, title: str, menu: Any) -> None:
        self.name, self.icon, self.title, self.menu = name, icon, title, menu
        self.visible = False
        self.notified: list[tuple[str, str]] = []
        self.menu_updates = 0
        self._stopped = threading.Event()

    def run(self, setup: Callable[[Any], None]) -> None:
        setup(self)
        assert self._stopped.wait(5)

    def stop(self) -> None:
        self._stopped.set()

    def update_menu(self) -> None:
        self.menu_updates += 1

    def notify(self, message: str, title: str) -> None:
        self.notified.append((title, message))


FAKE_PYSTRAY: Any = SimpleNamespace(Icon=FakeIcon, Menu=FakeMenu, MenuItem=FakeItem)


def _actions(calls: list[str], values: dict[str, bool]) -> TrayActions:
    def fail() -> None:
        raise RuntimeError("broken action")

    return TrayActions(
        dictate=lambda: calls.append("dictate"),
        set_enabled=lambda on: calls.append(f"enabled={on}"),
        is_enabled=lambda: values["enabled"],
        set_autostart=lambda on: calls.append(f"autostart={on}"),
        is_autostart=lambda: values["autostart"],
        open_config=fail,
        quit=lambda: calls.append("quit"),
        stop=lambda: calls.append("stop"),
        cancel=lambda: calls.append("cancel"),
        is_listening=lambda: values.get("listening", False),
    )


def test_pystray_menu_has_the_rows_and_each_row_does_its_job(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []
    values = {"enabled": True, "autostart": False}
    tray = PystrayTray("win32", _actions(calls, values), 64, pystray=FAKE_PYSTRAY)
    items = tray.menu.items
    shown = [i for i in items if i is FakeMenu.SEPARATOR or i.visible]
    rows = [SEPARATOR if i is FakeMenu.SEPARATOR else i.text for i in shown]
    assert rows == [row if row != STATUS_ROW else "Idle" for row in MENU_ROWS]
    by_text = {i.text: i for i in items if i is not FakeMenu.SEPARATOR}
    assert by_text["Idle"].enabled is False
    assert by_text["Type last dictation"].enabled is False  # nothing kept
    assert (by_text["Enabled"].checked, by_text["Start at login"].checked) == (True, False)
    values["enabled"] = False  # changed elsewhere: a click sets the opposite of *now*
    by_text["Enabled"].action()
    by_text["Start at login"].action()
    by_text["Dictate now"].action()
    by_text["Open configuration"].action()  # raises inside: logged, the loop lives on
    assert calls == ["enabled=True", "autostart=True", "dictate"]
    assert "tray menu action failed" in caplog.text


def test_pystray_menu_while_listening_stops_and_cancels() -> None:
    calls: list[str] = []
    values = {"enabled": True, "autostart": False, "listening": True}
    tray = PystrayTray("win32", _actions(calls, values), 64, pystray=FAKE_PYSTRAY)
    shown = [i for i in tray.menu.items if i is FakeMenu.SEPARATOR or i.visible]
    rows = [SEPARATOR if i is FakeMenu.SEPARATOR else i.text for i in shown]
    assert rows == [row if row != STATUS_ROW else "Idle" for row in LISTENING_ROWS]
    by_text = {i.text: i for i in shown if i is not FakeMenu.SEPARATOR}
    by_text["Stop dictation"].action()
    by_text["Cancel dictation"].action()
    assert calls == ["stop", "cancel"]


def test_pystray_shows_state_and_notifies_through_the_icon() -> None:
    tray = PystrayTray("darwin", _actions([], {"enabled": True, "autostart": False}), 32,
                       pystray=FAKE_PYSTRAY)  # fmt: skip
    icon = tray._icon
    tray.show(State.ERROR, "No key\nmore")
    assert icon.icon is icon_image(State.ERROR, 32)
    assert icon.title == "voicetype — Error — No key"
    assert tray.menu.items[0].text == "Error — No key"
    assert icon.menu_updates == 1
    assert tray.notify("Title", "Body") is True
    assert icon.notified == [("Title", "Body")]


def test_pystray_run_reraises_what_on_ready_raised_and_stops() -> None:
    tray = PystrayTray("win32", _actions([], {"enabled": True, "autostart": False}), 64,
                       pystray=FAKE_PYSTRAY)  # fmt: skip

    def broken() -> None:
        raise OSError("on_ready failed")

    with pytest.raises(OSError, match="on_ready failed"):
        tray.run(broken)
    assert tray._icon.visible is True


def test_headless_tray_runs_until_stopped_from_another_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOICETYPE_TRAY_BACKEND", "dummy")
    tray = Tray(_actions([], {"enabled": True, "autostart": False}))
    assert (tray.backend, tray.has_menu) == ("dummy", False)
    tray.set_state(State.LISTENING)
    assert tray.title == "voicetype — Listening…"
    assert tray.notify("a", "b") is False
    ready = threading.Event()

    def on_ready() -> None:
        ready.set()
        threading.Timer(0.05, tray.stop).start()

    tray.run(on_ready)  # returns once stop() came from the timer thread
    assert ready.is_set()
    tray.run(lambda: pytest.fail("run after stop must return at once"))


def test_importing_the_tray_loads_no_platform_package() -> None:
    code = (
        "import sys, voicetype.tray, voicetype.tray.gtk, voicetype.tray.pystray_icon\n"
        "print(sorted(m for m in ('gi', 'pystray', 'Xlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_pystray_submenus_read_their_rows_each_time_and_hide_when_empty() -> None:
    calls: list[str] = []
    history = ["an older dictation"]
    languages: dict[str, Any] = {"choices": ("en-US",), "current": "en-US"}
    base = _actions(calls, {"enabled": True, "autostart": False})
    actions = dataclasses.replace(
        base,
        recent=lambda: tuple(history),
        type_text=lambda text: calls.append(f"type {text}"),
        microphones=lambda: Microphones((("vt_second", "Second Mic"),), "vt_second"),
        choose_microphone=lambda name: calls.append(f"mic {name!r}"),
        languages=lambda: (languages["choices"], languages["current"]),
        choose_language=lambda code: calls.append(f"language {code}"),
    )
    tray = PystrayTray("win32", actions, 64, pystray=FAKE_PYSTRAY)
    by_text = {i.text: i for i in tray.menu.items if i is not FakeMenu.SEPARATOR}
    visible = [i.text for i in tray.menu.items if i is not FakeMenu.SEPARATOR and i.visible]
    assert RECENT in visible and MICROPHONE in visible and LANGUAGE not in visible

    def rows(label: str) -> list[tuple[str, bool | None, bool, bool]]:
        submenu = by_text[label].submenu
        return [(i.text, i.checked, i.radio, i.enabled) for i in submenu.items]

    assert rows(MICROPHONE) == [("System default", False, True, True),
                                ("Second Mic", True, True, True)]  # fmt: skip
    history.insert(0, "x" * 50)  # read again each time pystray builds the menu
    assert rows(RECENT) == [("x" * 39 + "…", None, False, True),
                            ("an older dictation", None, False, True)]  # fmt: skip
    by_text[RECENT].submenu.items[0].action()
    by_text[MICROPHONE].submenu.items[0].action()
    languages.update(choices=("en-US", "de-DE"), current="de-DE")
    assert by_text[LANGUAGE].visible
    assert rows(LANGUAGE) == [("en-US", False, True, True), ("de-DE", True, True, True)]
    by_text[LANGUAGE].submenu.items[0].action()
    assert calls == ["type " + "x" * 50, "mic ''", "language en-US"]
    history.clear()
    assert rows(RECENT) == [("No dictations yet", None, False, False)]
    by_text[RECENT].submenu.items[0].action()  # greyed: does nothing
    assert calls[-1] == "language en-US"


def test_pystray_shows_the_level_without_rebuilding_the_menu() -> None:
    tray = PystrayTray("win32", _actions([], {"enabled": True, "autostart": False}), 32,
                       pystray=FAKE_PYSTRAY)  # fmt: skip
    icon = tray._icon
    tray.show(State.LISTENING, "")
    tray.show(State.LISTENING, "", 2)
    assert icon.icon is icon_image(State.LISTENING, 32, 2)
    assert icon.menu_updates == 1
    tray.show(State.LISTENING, "no sound from Mic", 0)
    assert icon.title == "voicetype — Listening… — no sound from Mic"
    assert icon.menu_updates == 2  # the status row changed
