"""The global hotkey through pynput's keyboard listener (Windows and macOS).

pynput listens to the keyboard; it does not take the key, so the focused application
sees the hotkey too. Imported only by ``hotkeys.choose_listener``; pynput itself is
imported in ``start``.
"""

from __future__ import annotations

from collections.abc import Callable

from voicetype.errors import BackendUnavailable
from voicetype.hotkeys import Hotkey


class PynputHotkeyListener:
    """Reports the hotkey's press (all its keys down) and the release that follows (the
    first of its keys to come up).

    Threading: ``on_press`` and ``on_release`` run on pynput's listener thread and must
    only enqueue work (blocking there freezes the user's keyboard). ``start`` raises
    ``BackendUnavailable`` when no listener can run.
    """

    def __init__(
        self, hotkey: Hotkey, on_press: Callable[[], None], on_release: Callable[[], None]
    ) -> None:
        self._hotkey = hotkey
        self._on_press = on_press
        self._on_release = on_release
        self._listener: object | None = None
        self._active = False

    def start(self) -> None:
        try:
            from pynput import keyboard
        except Exception as exc:  # pynput raises assorted errors when no backend can load
            raise BackendUnavailable(
                f"The global hotkey cannot be used here ({exc})",
                "Run voicetype in an X11 session, or bind `voicetype dictate` "
                "to a shortcut in your desktop's keyboard settings.",
            ) from exc

        keys = keyboard.HotKey.parse(self._hotkey.pynput_string())
        hotkey = keyboard.HotKey(keys, self._fire)
        listener: keyboard.Listener

        def press(key: object) -> None:
            hotkey.press(listener.canonical(key))  # a held key's repeats do not fire again

        def release(key: object) -> None:
            canonical = listener.canonical(key)
            hotkey.release(canonical)
            if self._active and canonical in keys:
                self._active = False
                self._on_release()

        listener = keyboard.Listener(on_press=press, on_release=release)
        listener.start()
        listener.wait()
        self._listener = listener

    def _fire(self) -> None:
        self._active = True
        self._on_press()

    def stop(self) -> None:
        listener = self._listener
        if listener is not None:
            listener.stop()  # type: ignore[attr-defined]
            self._listener = None
