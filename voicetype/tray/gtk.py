"""The GTK trays, with PyGObject directly: AppIndicator and GtkStatusIcon.

``appindicator``: StatusNotifierItem, with libayatana's own XEmbed fallback when no
StatusNotifier host runs; a left click opens the menu. ``gtk``: GtkStatusIcon (XEmbed); a
left click runs "Dictate now", a right click opens the menu. Both take the icon from a
PNG file: one per state, written once into a private temporary directory that ``run``
removes at its end.

Threading: build on the main thread; ``run`` runs a ``GLib.MainLoop`` there. Every GTK
call is made on that loop: ``show``, ``refresh_menu`` and ``stop`` (any thread) only queue
a callback (``GLib.idle_add``/``timeout_add``) and return. No signal handling here: the
daemon's Python handlers run while the loop runs (PyGObject's ``MainLoop.run`` wakes on
signals) and call ``stop``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from voicetype.errors import BackendUnavailable
from voicetype.icons import icon_image, level_file_name
from voicetype.state import State
from voicetype.tray.choice import MENU_FIX
from voicetype.tray.gtk_menu import GtkMenu
from voicetype.tray.menu import APP_NAME, TrayActions, safe_call, status_text, title_text

#: How late the typing state and the one after it are shown (see ``GtkTray.show``), in s.
TYPING_SHOW_DELAY = 0.15


@contextlib.contextmanager
def gtk_without_gl(env: MutableMapping[str, str]) -> Iterator[None]:
    """While GTK initialises (on import of ``Gtk``), ``GDK_GL=disable``: otherwise GDK
    probes GLX at start-up, which loads Mesa's software driver and LLVM (~50 MB of the
    idle daemon, measured) for a tray that draws nothing with OpenGL. GTK reads the
    variable once, at initialisation; it is restored afterwards so programs voicetype
    starts (the editor for *Open configuration*) do not inherit it. A user's own
    ``GDK_GL`` is left alone."""
    if "GDK_GL" in env:
        yield
        return
    env["GDK_GL"] = "disable"
    try:
        yield
    finally:
        env.pop("GDK_GL", None)


def _load(appindicator: bool) -> tuple[Any, Any, Any]:
    """(Gtk, GLib, AppIndicator module or None), GTK initialised on this display."""
    try:
        with gtk_without_gl(os.environ):
            import gi

            gi.require_version("Gtk", "3.0")
            from gi.repository import GLib, Gtk

            if not Gtk.init_check()[0]:
                raise BackendUnavailable(
                    "The tray icon cannot start: GTK cannot open the display",
                    "run voicetype inside a desktop session (DISPLAY or WAYLAND_DISPLAY set)",
                )
            indicator = _load_appindicator(gi) if appindicator else None
    except (ImportError, ValueError) as e:  # no PyGObject, or a typelib missing
        raise BackendUnavailable(f"The tray icon cannot start: {e}", MENU_FIX) from e
    return Gtk, GLib, indicator


def _load_appindicator(gi: Any) -> Any:
    try:
        gi.require_version("AppIndicator3", "0.1")
        from gi.repository import AppIndicator3

        return AppIndicator3
    except ValueError:
        gi.require_version("AyatanaAppIndicator3", "0.1")
        from gi.repository import AyatanaAppIndicator3

        return AyatanaAppIndicator3


class _IconFiles:
    """The state icons (and the listening level steps) as PNG files in a private (0700)
    temporary directory, each written when first shown."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._dir: Path | None = None

    def path(self, state: State, level: int | None = None) -> str:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="voicetype-tray-"))
        path = self._dir / level_file_name(state, level)
        if not path.exists():
            icon_image(state, self._size, level).save(path, "PNG")
        return str(path)

    def remove(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


class GtkTray:
    """What both GTK trays share: the loop, the menu, marshalling the state onto the loop.
    Subclasses put the icon on screen (``_display``, ``_reveal``)."""

    has_menu = True

    def __init__(self, actions: TrayActions, icon_size: int, *, appindicator: bool) -> None:
        self._gtk, self._glib, self._indicator_module = _load(appindicator)
        self._actions = actions
        self._files = _IconFiles(icon_size)
        self._lock = threading.Lock()
        self._wanted: tuple[State, str, int | None] = (State.IDLE, "", None)
        self._previous = State.IDLE
        self._pending = ""  # "now"/"later": an _apply callback is queued
        self._shown: tuple[State, str, int | None] | None = None  # loop thread only
        self._stopped = threading.Event()
        self._ready_error: Exception | None = None
        self._loop = self._glib.MainLoop()
        self._menu = GtkMenu(self._gtk, self._glib, actions, self._status)

    def _status(self) -> str:
        with self._lock:
            state, detail, _ = self._wanted
        return status_text(state, detail)

    # -- any thread ---------------------------------------------------------------------

    def show(self, state: State, detail: str, level: int | None = None) -> None:
        """Queue one callback on the loop (at most one pending; it shows the latest state).

        The typing state, and the state that follows it, are shown ``TYPING_SHOW_DELAY``
        after typing began (a short typing is never shown): redrawing the icon (PNG,
        AppIndicator, the tray host) while the target window still processed the keys made
        a 60-character dictation ~7–10 ms slower than on the plain X tray."""
        with self._lock:
            previous, self._previous = self._previous, state
            self._wanted = (state, detail, level)
            wanted = "later" if State.TYPING in (state, previous) else "now"
            if self._pending == "now" or self._pending == wanted:
                return
            self._pending = wanted
        if wanted == "later":
            self._glib.timeout_add(int(TYPING_SHOW_DELAY * 1000), self._apply)
        else:
            self._glib.idle_add(self._apply)

    def refresh_menu(self) -> None:
        self._glib.idle_add(self._menu.sync)

    def notify(self, title: str, message: str) -> bool:
        return False  # Linux notifies through voicetype.notify

    def stop(self) -> None:
        self._stopped.set()
        self._glib.idle_add(self._quit)

    # -- the loop -----------------------------------------------------------------------

    def run(self, on_ready: Callable[[], None]) -> None:
        if self._stopped.is_set():
            return
        self._glib.idle_add(self._start, on_ready)
        try:
            self._loop.run()
        finally:
            self._files.remove()
        if self._ready_error is not None:
            raise self._ready_error

    def _quit(self) -> bool:
        self._loop.quit()
        return False

    def _start(self, on_ready: Callable[[], None]) -> bool:
        self._shown = None
        self._apply()
        self._reveal()
        try:
            on_ready()
        except Exception as e:  # re-raised by run() on the main thread
            self._ready_error = e
            self._loop.quit()
        return False

    def _apply(self) -> bool:
        """Loop thread: show the latest state (icon, title, menu rows) unless shown; a
        change of the level step alone re-reads no menu row."""
        with self._lock:
            self._pending = ""
            wanted = self._wanted
        shown, self._shown = self._shown, wanted
        if shown != wanted:
            state, detail, level = wanted
            self._display(self._files.path(state, level), title_text(state, detail))
            if shown is None or shown[:2] != wanted[:2]:
                self._menu.sync()
        return False  # GLib.SOURCE_REMOVE

    def _display(self, path: str, title: str) -> None:
        raise NotImplementedError

    def _reveal(self) -> None:
        raise NotImplementedError


class AppIndicatorTray(GtkTray):
    """AppIndicator: the host opens the menu on a left click."""

    def __init__(self, actions: TrayActions, icon_size: int) -> None:
        super().__init__(actions, icon_size, appindicator=True)
        module = self._indicator_module
        self._active = module.IndicatorStatus.ACTIVE
        self._indicator = module.Indicator.new(
            APP_NAME, "", module.IndicatorCategory.APPLICATION_STATUS
        )
        self._indicator.set_menu(self._menu.menu)

    def _display(self, path: str, title: str) -> None:
        self._indicator.set_icon_full(path, title)
        self._indicator.set_title(title)

    def _reveal(self) -> None:
        self._indicator.set_status(self._active)


class StatusIconTray(GtkTray):
    """GtkStatusIcon: a left click dictates, a right click opens the menu."""

    def __init__(self, actions: TrayActions, icon_size: int) -> None:
        super().__init__(actions, icon_size, appindicator=False)
        icon = self._gtk.StatusIcon.new()
        icon.set_visible(False)
        icon.connect("activate", lambda _icon: safe_call(actions.dictate))
        icon.connect("popup-menu", self._popup)
        self._icon = icon

    def _popup(self, icon: Any, button: int, time: int) -> None:
        position = self._gtk.StatusIcon.position_menu
        self._menu.menu.popup(None, None, position, icon, button, time)

    def _display(self, path: str, title: str) -> None:
        self._icon.set_from_file(path)
        self._icon.set_title(title)  # the docked window's name
        self._icon.set_tooltip_text(title)

    def _reveal(self) -> None:
        self._icon.set_visible(True)


def open_gtk_tray(name: str, actions: TrayActions, icon_size: int) -> GtkTray:
    """``appindicator`` or ``gtk``; ``BackendUnavailable`` with the fix when PyGObject, GTK
    or the display is missing."""
    if name == "appindicator":
        return AppIndicatorTray(actions, icon_size)
    return StatusIconTray(actions, icon_size)
