"""Typing on macOS with Quartz keyboard events carrying a unicode string.

Text goes out as ``CGEventKeyboardSetUnicodeString`` on a key-down/key-up pair per chunk
of at most ``CHUNK_UNITS`` UTF-16 code units (apps truncate longer strings), never
splitting a surrogate pair; newline and tab are the Return (36) and Tab (48) virtual keys.
Every posted event has its modifier flags cleared, so a held key can't turn the text into
shortcuts. This is what pynput's Quartz ``Controller.type`` does, minus its per-character
round trips. Needs the Accessibility permission (System Settings › Privacy & Security ›
Accessibility) for the app running voicetype; without it macOS drops the events silently.

``insert`` waits (bounded) until no modifier is held, raises ``TargetGone`` if the target
app quit, re-activates it if another app is frontmost (raising if that fails), then posts
the chunks, checking the frontmost app between chunks.

``MacInserter`` is the ``template.Port`` of macOS (``template.insert_with`` runs those
steps). Quartz/AppKit calls go through a ``MacApi`` object (pyobjc, imported lazily in
``QuartzApi``, which comes with pynput on macOS); tests inject a fake. Threading: call from
one thread at a time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from voicetype.errors import BackendUnavailable
from voicetype.insertion import InsertionError, Key, Target, TargetGone, refuse_press
from voicetype.insertion.template import Chunk, insert_with

CHUNK_UNITS = 20
VK_RETURN = 36
VK_TAB = 48


@dataclass(frozen=True)
class MacTarget:
    pid: int


@dataclass(frozen=True)
class MacKey:
    """One event to post: ``keycode`` with ``down``; ``text`` set for unicode events."""

    keycode: int
    down: bool
    text: str = ""


class MacApi(Protocol):
    def frontmost_pid(self) -> int: ...

    def app_running(self, pid: int) -> bool: ...

    def activate(self, pid: int) -> bool: ...

    def modifiers_down(self) -> bool: ...

    def post(self, key: MacKey) -> None: ...


def utf16_len(s: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in s)


def events_for_text(text: str) -> list[MacKey]:
    """Return/Tab as keys; other runs in unicode chunks of <= CHUNK_UNITS code units."""
    out: list[MacKey] = []
    run = ""

    def flush() -> None:
        nonlocal run
        if run:
            out.append(MacKey(0, True, run))
            out.append(MacKey(0, False, run))
            run = ""

    for ch in text:
        if ch in "\n\t":
            flush()
            kc = VK_RETURN if ch == "\n" else VK_TAB
            out.extend((MacKey(kc, True), MacKey(kc, False)))
            continue
        if utf16_len(run) + utf16_len(ch) > CHUNK_UNITS:
            flush()
        run += ch
    flush()
    return out


class MacInserter:
    """Quartz typing; the ``template.Port`` of macOS (see the module docstring)."""

    def __init__(
        self, api: MacApi | None = None, modifier_timeout: float = 2.0, focus_timeout: float = 1.0
    ) -> None:
        self.api: MacApi = api if api is not None else QuartzApi()
        self.modifier_timeout = modifier_timeout
        self.focus_timeout = focus_timeout

    def focused_target(self) -> MacTarget | None:
        pid = self.api.frontmost_pid()
        return MacTarget(pid) if pid else None

    def press(self, key: Key, count: int, target: Target | None) -> None:
        """Not implemented on macOS yet: refuses before pressing anything."""
        refuse_press(key, count, "on macOS")

    def insert(self, text: str, target: Target | None) -> None:
        insert_with(self, text, target)

    def close(self) -> None:
        pass

    # -- the template's port -------------------------------------------------------------

    def clean(self, text: str) -> str:
        return "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)

    def wait_modifiers_released(self) -> None:
        deadline = time.monotonic() + self.modifier_timeout
        while self.api.modifiers_down():
            if time.monotonic() > deadline:
                raise InsertionError(
                    "a modifier key is still held; nothing was typed",
                    fix="release all keys after pressing the hotkey",
                )
            time.sleep(0.01)

    def ensure_focus(self, target: Target | None) -> int:
        if target is not None and not isinstance(target, MacTarget):
            raise TypeError(f"not a macOS target: {target!r}")
        pid = target.pid if target else self.api.frontmost_pid()
        if not self.api.app_running(pid):
            raise TargetGone("the app that had focus was closed; nothing was typed")
        if self.api.frontmost_pid() != pid:
            self.api.activate(pid)
            deadline = time.monotonic() + self.focus_timeout
            while self.api.frontmost_pid() != pid:
                if time.monotonic() > deadline:
                    raise InsertionError(
                        "could not bring back the app that had focus; nothing was typed"
                    )
                time.sleep(0.01)
        return pid

    def shape(self, text: str, window: int) -> str:
        return text

    @contextmanager
    def delivery(self, text: str, window: int) -> Iterator[Iterator[Chunk[tuple[MacKey, MacKey]]]]:
        """One chunk per key-down/key-up pair, the frontmost app checked before each."""
        events = events_for_text(text)
        pairs = zip(events[::2], events[1::2], strict=True)
        yield iter([Chunk((down, up), len(down.text) if down.text else 1) for down, up in pairs])

    def between(self, typed: int, total: int) -> bool:
        return False

    def focus_is_in(self, window: int) -> bool:
        return self.api.frontmost_pid() == window

    def focus_lost(self, typed: int, total: int) -> InsertionError:
        return InsertionError(
            f"the focus left the app while typing: {typed} of {total} characters were typed"
        )

    def send(self, payload: tuple[MacKey, MacKey], typed: int, total: int) -> None:
        for event in payload:
            self.api.post(event)


class QuartzApi:
    """pyobjc's Quartz and AppKit (imported here, only on macOS)."""

    def __init__(self) -> None:
        try:
            import AppKit  # type: ignore[import-not-found,unused-ignore]
            import Quartz  # type: ignore[import-not-found,unused-ignore]
        except ImportError as e:
            raise BackendUnavailable(
                f"typing on macOS needs pyobjc's Quartz and AppKit ({e})",
                fix="pip install pyobjc-framework-Quartz pyobjc-framework-Cocoa",
            ) from e
        self.Q: Any = Quartz
        self.AppKit: Any = AppKit

    def frontmost_pid(self) -> int:
        app = self.AppKit.NSWorkspace.sharedWorkspace().frontmostApplication()
        return int(app.processIdentifier()) if app is not None else 0

    def app_running(self, pid: int) -> bool:
        app = self.AppKit.NSRunningApplication.runningApplicationWithProcessIdentifier_(pid)
        return app is not None and not app.isTerminated()

    def activate(self, pid: int) -> bool:
        app = self.AppKit.NSRunningApplication.runningApplicationWithProcessIdentifier_(pid)
        return bool(app is not None and app.activateWithOptions_(0))

    def modifiers_down(self) -> bool:
        Q = self.Q
        flags = Q.CGEventSourceFlagsState(Q.kCGEventSourceStateHIDSystemState)
        mask = (
            Q.kCGEventFlagMaskShift
            | Q.kCGEventFlagMaskControl
            | Q.kCGEventFlagMaskAlternate
            | Q.kCGEventFlagMaskCommand
        )
        return bool(flags & mask)

    def post(self, key: MacKey) -> None:
        Q = self.Q
        event = Q.CGEventCreateKeyboardEvent(None, key.keycode, key.down)
        if key.text:
            Q.CGEventKeyboardSetUnicodeString(event, utf16_len(key.text), key.text)
        Q.CGEventSetFlags(event, 0)
        Q.CGEventPost(Q.kCGHIDEventTap, event)
