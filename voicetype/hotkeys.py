"""Hotkey strings (pure parsing) and the global hotkey listener (pynput, imported lazily).

The syntax is pynput's: ``<ctrl>+<alt>+<space>``, modifiers and named keys in angle
brackets, a plain character for a character key. Parsing imports no desktop package so
that configuration can be validated anywhere.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from voicetype.errors import BackendUnavailable

MODIFIERS = {
    "ctrl": "ctrl",
    "control": "ctrl",
    "alt": "alt",
    "shift": "shift",
    "cmd": "cmd",
    "super": "cmd",
    "win": "cmd",
    "meta": "cmd",
    "alt_gr": "alt_gr",
}
_MODIFIER_ORDER = ("ctrl", "alt", "alt_gr", "shift", "cmd")

NAMED_KEYS = frozenset(
    {
        "space", "enter", "tab", "backspace", "delete", "esc", "insert", "home", "end",
        "page_up", "page_down", "up", "down", "left", "right", "pause", "print_screen",
        "scroll_lock", "menu", "num_lock", "caps_lock",
    }
    | {f"f{n}" for n in range(1, 21)}
)  # fmt: skip


@dataclass(frozen=True)
class Hotkey:
    """A parsed hotkey: some modifiers and exactly one other key."""

    modifiers: tuple[str, ...]  # canonical names, in _MODIFIER_ORDER
    key: str  # a named key ("space", "f9") or a single lower-case character

    def pynput_string(self) -> str:
        """The canonical pynput ``GlobalHotKeys`` form, e.g. ``<ctrl>+<alt>+<space>``."""
        parts = [f"<{m}>" for m in self.modifiers]
        parts.append(f"<{self.key}>" if self.key in NAMED_KEYS else self.key)
        return "+".join(parts)

    def __str__(self) -> str:
        names = [m.capitalize() if m != "cmd" else "Super" for m in self.modifiers]
        key = self.key.replace("_", " ").title() if self.key in NAMED_KEYS else self.key.upper()
        return "+".join([*names, key])


class HotkeyError(ValueError):
    """The hotkey string does not parse or names a combination that cannot work."""


def parse_hotkey(text: str) -> Hotkey:
    """Parse a pynput-style hotkey string; raise ``HotkeyError`` with what is wrong.

    Rules beyond pynput's syntax: exactly one non-modifier key; at least one of Ctrl, Alt
    or Super unless the key is a function key (a bare letter or Shift+letter would eat
    ordinary typing); no key twice.
    """
    if not text.strip():
        raise HotkeyError("the hotkey is empty")
    modifiers: set[str] = set()
    keys: list[str] = []
    for raw in text.strip().split("+"):
        token = raw.strip()
        if not token:
            raise HotkeyError(f"{text!r} has an empty part (two '+' in a row or a trailing '+')")
        if token.startswith("<") and token.endswith(">") and len(token) > 2:
            name = token[1:-1].strip().lower()
            if name in MODIFIERS:
                canonical = MODIFIERS[name]
                if canonical in modifiers:
                    raise HotkeyError(f"{text!r} names <{name}> twice")
                modifiers.add(canonical)
            elif name in NAMED_KEYS:
                keys.append(name)
            else:
                known = sorted(set(MODIFIERS) | NAMED_KEYS)
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean <{close[0]}>?)" if close else ""
                raise HotkeyError(f"{text!r}: <{name}> is not a key name{hint}")
        elif len(token) == 1:
            if token.isspace():
                raise HotkeyError(f"{text!r}: write the space bar as <space>")
            keys.append(token.lower())
        else:
            lowered = token.lower()
            hint = (
                f" (write it as <{lowered}>)"
                if lowered in MODIFIERS or lowered in NAMED_KEYS
                else ""
            )
            raise HotkeyError(
                f"{text!r}: {token!r} is neither a single character nor a <named> key{hint}"
            )
    if not keys:
        raise HotkeyError(f"{text!r} has only modifiers; add a key, e.g. <ctrl>+<alt>+<space>")
    if len(keys) > 1:
        raise HotkeyError(f"{text!r} has {len(keys)} non-modifier keys; use exactly one")
    key = keys[0]
    is_function_key = key.startswith("f") and key[1:].isdigit()
    if not (modifiers & {"ctrl", "alt", "cmd", "alt_gr"}) and not is_function_key:
        raise HotkeyError(
            f"{text!r} would fire during ordinary typing; add <ctrl>, <alt> or <super>"
        )
    ordered = tuple(m for m in _MODIFIER_ORDER if m in modifiers)
    return Hotkey(modifiers=ordered, key=key)


class HotkeyListener:
    """Listens for one global hotkey with pynput.

    Threading: ``on_press`` and ``on_release`` run on pynput's listener thread and must
    only enqueue work (blocking there freezes the user's keyboard). ``start`` raises
    ``BackendUnavailable`` when no listener can run (no X display, Wayland-only session).
    ``modifiers_held`` may be called from any thread.
    """

    def __init__(self, hotkey: Hotkey, on_press: Callable[[], None]) -> None:
        self._hotkey = hotkey
        self._on_press = on_press
        self._listener: object | None = None
        self._lock = threading.Lock()
        self._held: set[object] = set()

    def start(self) -> None:
        try:
            from pynput import keyboard
        except Exception as exc:  # pynput raises assorted errors when no backend can load
            raise BackendUnavailable(
                f"The global hotkey cannot be used here ({exc})",
                "Run voicetype in an X11 session, or bind `voicetype dictate` "
                "to a shortcut in your desktop's keyboard settings.",
            ) from exc

        hotkey = keyboard.HotKey(keyboard.HotKey.parse(self._hotkey.pynput_string()), self._fire)
        listener: keyboard.Listener

        def press(key: object) -> None:
            with self._lock:
                self._held.add(listener.canonical(key))
            hotkey.press(listener.canonical(key))

        def release(key: object) -> None:
            with self._lock:
                self._held.discard(listener.canonical(key))
            hotkey.release(listener.canonical(key))

        listener = keyboard.Listener(on_press=press, on_release=release)
        listener.start()
        listener.wait()
        self._listener = listener

    def _fire(self) -> None:
        self._on_press()

    def modifiers_held(self) -> bool:
        """True while any key that the listener saw go down has not come back up."""
        with self._lock:
            return bool(self._held)

    def stop(self) -> None:
        listener = self._listener
        if listener is not None:
            listener.stop()  # type: ignore[attr-defined]
            self._listener = None
