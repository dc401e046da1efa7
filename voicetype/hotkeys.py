"""Hotkey strings (pure parsing) and the one place that chooses the global hotkey listener.

The syntax is pynput's: ``<ctrl>+<alt>+<space>``, modifiers and named keys in angle
brackets, a plain character for a character key. Parsing imports no desktop package so
that configuration can be validated anywhere.

Listeners (``choose_listener``): in a Wayland session the desktop's GlobalShortcuts portal
(``hotkeys_portal``; on sway and other wlroots compositors the compositor's own key binding
to ``voicetype dictate``/``start``/``stop``: ``voicetype shortcut`` prints it; the portal's
listener is a ``BackgroundStart``: it binds without holding up the daemon's start); on Linux/BSD
with ``DISPLAY`` a passive X11 key grab
(``hotkeys_x11``: no application sees the key); on Windows and macOS pynput's listener
(``hotkeys_pynput``: it listens, it does not take the key). ``VOICETYPE_HOTKEY_BACKEND``
(``x11`` | ``pynput``) overrides the choice. Platform packages are imported only when a
listener is made.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from voicetype.errors import BackendUnavailable, VoicetypeError

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


class HotkeyTaken(VoicetypeError):
    """Another application holds the hotkey (the X server refused our grab: BadAccess)."""

    def __init__(self, hotkey: Hotkey) -> None:
        super().__init__(
            f"{hotkey} is taken by another application", "choose another in [hotkey] dictate"
        )
        self.hotkey = hotkey


class HotkeyListener(Protocol):
    """A global hotkey listener for one hotkey.

    Threading: ``start`` and ``stop`` are called from one thread at a time; the
    ``on_press``/``on_release`` callbacks given to the listener run on its own thread,
    once per physical press and release (auto-repeat filtered), and must only enqueue.
    ``start`` raises ``HotkeyTaken`` when another application holds the key and
    ``BackendUnavailable`` when no listener can run here. ``stop`` gives the key back
    (ungrab) and is idempotent.
    """

    def start(self) -> None: ...

    def stop(self) -> None: ...


@runtime_checkable
class BackgroundStart(Protocol):
    """A listener whose ``start`` may wait long for the desktop (the GlobalShortcuts
    portal's consent dialog): ``start_in_background(settled)`` returns at once, and the
    listener calls ``settled(None)`` from its own thread once the hotkey is live, or
    ``settled(error)`` (a ``BackendUnavailable``) when it cannot be; never after ``stop``."""

    def start_in_background(self, settled: Callable[[BackendUnavailable | None], None]) -> None: ...


BACKENDS = ("x11", "pynput")
_X11_PLATFORMS = ("linux", "freebsd", "openbsd", "netbsd", "dragonfly")


def uses_x11_grab(platform: str, environ: Mapping[str, str]) -> bool:
    """True where ``choose_listener`` makes the X11 grab listener."""
    backend = environ.get("VOICETYPE_HOTKEY_BACKEND", "").strip().lower()
    if backend:
        return backend == "x11"
    return platform.startswith(_X11_PLATFORMS) and bool(environ.get("DISPLAY"))


def choose_listener(
    hotkey: Hotkey,
    on_press: Callable[[], None],
    on_release: Callable[[], None],
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    on_escape: Callable[[], None] | None = None,
) -> HotkeyListener:
    """The listener for this platform (see the module docstring); not started.

    Raises ``BackendUnavailable`` for an unknown override or a Linux/BSD session without
    an X display (a Wayland-only session has no global hotkey for X11 clients).
    """
    platform = platform or sys.platform
    env = os.environ if environ is None else environ
    backend = env.get("VOICETYPE_HOTKEY_BACKEND", "").strip().lower()
    if backend and backend not in BACKENDS:
        raise BackendUnavailable(
            f"VOICETYPE_HOTKEY_BACKEND={backend!r} is not a hotkey backend",
            f"set it to one of {', '.join(BACKENDS)}, or unset it",
        )
    if not backend and platform.startswith(_X11_PLATFORMS):
        from voicetype.insertion.wayland_select import detect_session

        session = detect_session(env)
        if session.kind == "wayland":  # an X11 grab would see XWayland windows only
            from voicetype.hotkeys_portal import select_wayland_hotkeys

            return select_wayland_hotkeys(hotkey, on_press, on_release, session.desktop, env)
    if not backend and platform.startswith(_X11_PLATFORMS) and not env.get("DISPLAY"):
        raise BackendUnavailable(
            "The global hotkey needs an X11 display (DISPLAY is unset)",
            "Run voicetype in an X11 session, or bind `voicetype dictate` "
            "to a shortcut in your desktop's keyboard settings.",
        )
    if uses_x11_grab(platform, env):
        from voicetype.hotkeys_x11 import X11HotkeyListener

        display = env.get("DISPLAY") or None
        return X11HotkeyListener(hotkey, on_press, on_release, display, on_escape=on_escape)
    from voicetype.hotkeys_pynput import PynputHotkeyListener

    return PynputHotkeyListener(hotkey, on_press, on_release)
