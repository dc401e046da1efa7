"""Typing on Windows with ``SendInput`` and ``KEYEVENTF_UNICODE``.

Every character is sent as its UTF-16 code units, each a key-down and a key-up with
``KEYEVENTF_UNICODE`` (``wVk = 0``, ``wScan = code unit``): a non-BMP character (emoji,
flag halves) is its high surrogate down/up then its low surrogate down/up, the order the
Windows emoji panel uses. Newline is ``VK_RETURN`` and tab ``VK_TAB`` (down/up, no unicode
flag), because many controls ignore a unicode ``\\n``. The keyboard layout, the clipboard
and the modifier state are never touched, so there is nothing to restore.

``insert`` waits (bounded) until no modifier is held (``GetAsyncKeyState`` of Shift, Ctrl,
Alt, Win), raising ``InsertionError`` if one still is; raises ``TargetGone`` if the window
no longer exists (``IsWindow``); brings it back to the foreground if needed
(``SetForegroundWindow``, then checked with ``GetForegroundWindow``) or raises; then sends
the inputs in chunks of ``CHUNK`` characters, checking between chunks that the target is
still in the foreground. ``SendInput`` inserting fewer events than given (blocked by UIPI,
e.g. an elevated target) raises ``InsertionError`` with the count typed.

``WindowsInserter`` is the ``template.Port`` of Windows (``template.insert_with`` runs
those steps). The Win32 calls go through a ``WindowsApi`` object (ctypes, imported lazily in
``Win32Api``); tests inject a fake. Threading: call from one thread at a time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from voicetype.insertion import InsertionError, Key, Target, TargetGone, refuse_press
from voicetype.insertion.template import Chunk, insert_with

INPUT_KEYBOARD = 1
KEYEVENTF_KEYUP = 0x0002
KEYEVENTF_UNICODE = 0x0004
VK_TAB = 0x09
VK_RETURN = 0x0D
MODIFIER_VKS = (0x10, 0x11, 0x12, 0x5B, 0x5C)  # Shift, Ctrl, Alt, left/right Win
CHUNK = 200


@dataclass(frozen=True)
class KeyInput:
    """One ``KEYBDINPUT``: virtual key, scan code (a UTF-16 unit with the unicode flag)."""

    vk: int
    scan: int
    flags: int


@dataclass(frozen=True)
class WindowsTarget:
    hwnd: int


class WindowsApi(Protocol):
    def foreground_window(self) -> int: ...

    def is_window(self, hwnd: int) -> bool: ...

    def set_foreground_window(self, hwnd: int) -> bool: ...

    def key_is_down(self, vk: int) -> bool: ...

    def send_input(self, inputs: Sequence[KeyInput]) -> int:
        """Send ``inputs`` in one ``SendInput`` call; the number inserted."""
        ...


def inputs_for_char(ch: str) -> list[KeyInput]:
    if ch == "\n":
        return [KeyInput(VK_RETURN, 0, 0), KeyInput(VK_RETURN, 0, KEYEVENTF_KEYUP)]
    if ch == "\t":
        return [KeyInput(VK_TAB, 0, 0), KeyInput(VK_TAB, 0, KEYEVENTF_KEYUP)]
    units = ch.encode("utf-16-le", "surrogatepass")
    out = []
    for i in range(0, len(units), 2):
        unit = int.from_bytes(units[i : i + 2], "little")
        out.append(KeyInput(0, unit, KEYEVENTF_UNICODE))
        out.append(KeyInput(0, unit, KEYEVENTF_UNICODE | KEYEVENTF_KEYUP))
    return out


def inputs_for_text(text: str) -> list[KeyInput]:
    return [ki for ch in text for ki in inputs_for_char(ch)]


class WindowsInserter:
    """SendInput typing; the ``template.Port`` of Windows (see the module docstring)."""

    def __init__(
        self,
        api: WindowsApi | None = None,
        modifier_timeout: float = 2.0,
        focus_timeout: float = 1.0,
    ) -> None:
        self.api: WindowsApi = api if api is not None else Win32Api()
        self.modifier_timeout = modifier_timeout
        self.focus_timeout = focus_timeout

    def focused_target(self) -> WindowsTarget | None:
        hwnd = self.api.foreground_window()
        return WindowsTarget(hwnd) if hwnd else None

    def press(self, key: Key, count: int, target: Target | None) -> None:
        """Not implemented on Windows yet: refuses before pressing anything."""
        refuse_press(key, count, "on Windows")

    def insert(self, text: str, target: Target | None) -> None:
        insert_with(self, text, target)

    def close(self) -> None:
        pass

    # -- the template's port -------------------------------------------------------------

    def clean(self, text: str) -> str:
        return "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)

    def wait_modifiers_released(self) -> None:
        deadline = time.monotonic() + self.modifier_timeout
        while any(self.api.key_is_down(vk) for vk in MODIFIER_VKS):
            if time.monotonic() > deadline:
                raise InsertionError(
                    "a modifier key is still held; nothing was typed, so that the text"
                    " could not arrive as shortcuts",
                    fix="release all keys after pressing the hotkey",
                )
            time.sleep(0.01)

    def ensure_focus(self, target: Target | None) -> int:
        if target is not None and not isinstance(target, WindowsTarget):
            raise TypeError(f"not a Windows target: {target!r}")
        hwnd = target.hwnd if target else self.api.foreground_window()
        if not self.api.is_window(hwnd):
            raise TargetGone(
                "the window that had focus when you pressed the hotkey was closed;"
                " nothing was typed"
            )
        if self.api.foreground_window() != hwnd:
            self.api.set_foreground_window(hwnd)
            deadline = time.monotonic() + self.focus_timeout
            while self.api.foreground_window() != hwnd:
                if time.monotonic() > deadline:
                    raise InsertionError(
                        "could not bring back the window that had focus when you pressed"
                        " the hotkey; nothing was typed"
                    )
                time.sleep(0.01)
        return hwnd

    def shape(self, text: str, window: int) -> str:
        return text

    @contextmanager
    def delivery(self, text: str, window: int) -> Iterator[Iterator[Chunk[str]]]:
        yield iter(
            [
                Chunk(text[i : i + CHUNK], len(text[i : i + CHUNK]))
                for i in range(0, len(text), CHUNK)
            ]
        )

    def between(self, typed: int, total: int) -> bool:
        return False

    def focus_is_in(self, window: int) -> bool:
        return self.api.foreground_window() == window

    def focus_lost(self, typed: int, total: int) -> InsertionError:
        return InsertionError(
            f"the focus left the window while typing: {typed} of {total} characters were typed"
        )

    def send(self, payload: str, typed: int, total: int) -> None:
        inputs = inputs_for_text(payload)
        sent = self.api.send_input(inputs)
        if sent != len(inputs):
            raise InsertionError(
                f"Windows accepted only part of the typed text ({typed} of {total}"
                " characters and part of a chunk were typed)",
                fix="the target may run as administrator; run voicetype the same way",
            )


class Win32Api:
    """The real calls, through ctypes (imported here, only on Windows)."""

    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        self._ctypes: Any = ctypes
        user32: Any = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
        self._user32 = user32

        class KEYBDINPUT(ctypes.Structure):
            _fields_ = (
                ("wVk", wintypes.WORD),
                ("wScan", wintypes.WORD),
                ("dwFlags", wintypes.DWORD),
                ("time", wintypes.DWORD),
                ("dwExtraInfo", ctypes.c_size_t),
            )

        class MOUSEINPUT(ctypes.Structure):  # sizes the union like the real INPUT
            _fields_ = (
                ("dx", wintypes.LONG),
                ("dy", wintypes.LONG),
                ("mouseData", wintypes.DWORD),
                ("dwFlags", wintypes.DWORD),
                ("time", wintypes.DWORD),
                ("dwExtraInfo", ctypes.c_size_t),
            )

        class _U(ctypes.Union):
            _fields_ = (("ki", KEYBDINPUT), ("mi", MOUSEINPUT))

        class INPUT(ctypes.Structure):
            _fields_ = (("type", wintypes.DWORD), ("u", _U))

        self._KEYBDINPUT = KEYBDINPUT
        self._INPUT = INPUT

    def foreground_window(self) -> int:
        return int(self._user32.GetForegroundWindow() or 0)

    def is_window(self, hwnd: int) -> bool:
        return bool(self._user32.IsWindow(hwnd))

    def set_foreground_window(self, hwnd: int) -> bool:
        return bool(self._user32.SetForegroundWindow(hwnd))

    def key_is_down(self, vk: int) -> bool:
        return bool(self._user32.GetAsyncKeyState(vk) & 0x8000)

    def send_input(self, inputs: Sequence[KeyInput]) -> int:
        array = (self._INPUT * len(inputs))()
        for slot, ki in zip(array, inputs, strict=True):
            slot.type = INPUT_KEYBOARD
            slot.u.ki = self._KEYBDINPUT(ki.vk, ki.scan, ki.flags, 0, 0)
        return int(self._user32.SendInput(len(inputs), array, self._ctypes.sizeof(self._INPUT)))
