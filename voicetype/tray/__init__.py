"""The tray icon: state icon and title, the menu, the loop ``run`` blocks in.

One class per backend, chosen once (``choose_tray_backend``) when ``Tray`` is built:

============== =============================== ==========================================
backend        module                          what it is
============== =============================== ==========================================
appindicator   ``voicetype.tray.gtk``          AppIndicator (StatusNotifierItem), PyGObject
gtk            ``voicetype.tray.gtk``          GtkStatusIcon (XEmbed), PyGObject
xorg           ``voicetype.tray.xorg``         voicetype's own XEmbed icon, python-xlib
win32, darwin  ``voicetype.tray.pystray_icon`` pystray's icon, through its public API
dummy          ``voicetype.tray.dummy``        no icon (headless runs)
============== =============================== ==========================================

Each backend module imports its platform packages when the backend is built, never when
this package is imported. The tray handles no signals: the daemon (``voicetype.app``)
owns SIGINT/SIGTERM and calls ``Tray.stop`` from its handler (the GTK loop lets Python
signal handlers run: PyGObject's ``GLib.MainLoop.run`` wakes on signals).

Threading: build and ``run`` on the main thread (pystray requires it on macOS; GTK runs
its loop there). ``set_state``, ``refresh_menu`` and ``stop`` may be called from any
thread and return without waiting for the tray's loop. The ``TrayActions`` callbacks run
on the tray's loop thread and must return at once (enqueue work, read a flag), but for
``TrayActions.level``, which the level thread reads while listening
(``voicetype.tray.level``): the icon then shows the microphone's level and the tooltip
"no sound from <device>" after 3 s of silence.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Protocol

from voicetype.icons import DEFAULT_SIZE
from voicetype.state import State
from voicetype.tray.choice import (
    BACKENDS,
    ENV_OVERRIDE,
    MENU_FIX,
    choose_tray_backend,
    menu_fix_hint,
)
from voicetype.tray.level import LevelWatch, Look
from voicetype.tray.menu import (
    APP_NAME,
    AUTOSTART,
    DICTATE,
    ENABLED,
    LANGUAGE,
    MENU_ROWS,
    MICROPHONE,
    OPEN_CONFIG,
    QUIT,
    RECENT,
    SEPARATOR,
    STATUS_ROW,
    TYPE_LAST,
    Level,
    Microphones,
    TrayActions,
    menu_rows,
    status_text,
    title_text,
)

__all__ = [
    "APP_NAME",
    "AUTOSTART",
    "BACKENDS",
    "DICTATE",
    "ENABLED",
    "ENV_OVERRIDE",
    "LANGUAGE",
    "MENU_FIX",
    "MENU_ROWS",
    "MICROPHONE",
    "OPEN_CONFIG",
    "QUIT",
    "RECENT",
    "SEPARATOR",
    "STATUS_ROW",
    "TYPE_LAST",
    "Level",
    "Microphones",
    "Tray",
    "TrayActions",
    "TrayBackend",
    "choose_tray_backend",
    "menu_fix_hint",
    "menu_rows",
    "status_text",
    "title_text",
]


class TrayBackend(Protocol):
    """One way of showing the icon. Built on the main thread; raises
    ``BackendUnavailable`` (with the fix) when it cannot work here."""

    #: Whether the icon has the menu (``MENU_ROWS``); without it a left click dictates.
    has_menu: bool

    def show(self, state: State, detail: str, level: int | None = None) -> None:
        """Show ``state`` (icon, title, the menu's status row); ``level``: the listening
        icon's level step (``voicetype.icons``), None for the plain icon. Any thread;
        never waits for the tray's loop; the latest call wins. A call that changes only
        ``level`` need not re-read the menu."""

    def refresh_menu(self) -> None:
        """Re-read the ``TrayActions`` getters into the menu (check rows and submenus).
        Any thread; never waits."""

    def notify(self, title: str, message: str) -> bool:
        """Show a notification through the icon; False where the backend has none."""

    def run(self, on_ready: Callable[[], None]) -> None:
        """Show the icon and serve it until ``stop``. Main thread, once. ``on_ready`` runs
        once the icon was handed to the tray and must return promptly; if it raises, the
        loop stops and ``run`` re-raises. Returns at once if ``stop`` came first."""

    def stop(self) -> None:
        """End ``run``. Any thread, idempotent; also fine before ``run``."""


def open_backend(name: str, actions: TrayActions, icon_size: int) -> TrayBackend:
    """Build backend ``name`` (one of ``BACKENDS``), importing only its own packages."""
    if name in ("appindicator", "gtk"):
        from voicetype.tray.gtk import open_gtk_tray

        return open_gtk_tray(name, actions, icon_size)
    if name == "xorg":
        from voicetype.tray.xorg import XorgTray

        return XorgTray(actions, icon_size)
    if name == "dummy":
        from voicetype.tray.dummy import DummyTray

        return DummyTray()
    from voicetype.tray.pystray_icon import PystrayTray

    return PystrayTray(name, actions, icon_size)


class Tray:
    """The daemon's tray: the backend chosen for this desktop, and the state it shows.

    Construct on the main thread before ``run``. Raises ``BackendUnavailable`` (with the
    fix) when the chosen backend cannot load, and ``ConfigError`` for a bad override.
    """

    def __init__(self, actions: TrayActions, *, icon_size: int = DEFAULT_SIZE) -> None:
        self.backend: str = choose_tray_backend(os.environ)
        self._impl = open_backend(self.backend, actions, icon_size)
        self.has_menu: bool = self._impl.has_menu
        self._lock = threading.Lock()  # keeps the backend's show() calls in state order
        self._state = State.IDLE
        self._detail = ""
        self._listening = 0  # counts listening sessions (a level is shown for its own)
        self._look: Look = (None, "")  # the level step and "no sound" note while listening
        self._level = LevelWatch(actions.level, self._show_level)

    @property
    def state(self) -> State:
        return self._state

    @property
    def title(self) -> str:
        with self._lock:
            return title_text(self._state, self._shown_detail())

    def _shown_detail(self) -> str:
        note = self._look[1]
        return f"{self._detail}; {note}" if self._detail and note else self._detail or note

    def set_state(self, state: State, detail: str = "") -> None:
        """Show ``state``: icon, title/tooltip, menu status row. Any thread; returns at
        once without waiting for the tray's loop (see the backend's ``show``). Entering
        the listening state starts the level display; leaving it stops it."""
        with self._lock:
            entering = state is State.LISTENING and self._state is not State.LISTENING
            self._state, self._detail = state, detail
            if entering:
                self._listening += 1
                self._look = (None, "")
                self._level.listen(self._listening)
            elif state is not State.LISTENING:
                self._look = (None, "")
                self._level.pause()
            self._impl.show(state, self._shown_detail(), self._look[0])

    def _show_level(self, session: int, look: Look) -> None:
        """The level thread: show ``look`` if still in that listening session."""
        with self._lock:
            if self._state is not State.LISTENING or session != self._listening:
                return
            self._look = look
            self._impl.show(self._state, self._shown_detail(), look[0])

    def refresh_menu(self) -> None:
        """Re-read the check rows, "Type last dictation" and the submenus (*Recent*,
        *Microphone*, *Language*) into the menu. Any thread; the menu also re-reads them
        each time it opens and at each state change."""
        self._impl.refresh_menu()

    def notify(self, title: str, message: str) -> bool:
        """Show a notification through the icon (pystray on Windows and macOS). False on
        the other backends: Linux notifies through ``voicetype.notify``."""
        return self._impl.notify(title, message)

    def run(self, on_ready: Callable[[], None]) -> None:
        """Show the icon and run the loop until ``stop``. Main thread only. ``on_ready``
        runs once, after the icon was handed to the tray (on the calling thread; on a
        helper thread with pystray, Windows and macOS); it must return promptly. If it
        raises, the loop stops and ``run`` re-raises. Returns at once if ``stop`` came
        first."""
        self._impl.run(on_ready)

    def stop(self) -> None:
        """End ``run``. Any thread, idempotent; also fine before ``run``."""
        self._level.stop()
        self._impl.stop()
