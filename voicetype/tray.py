"""The tray icon and its menu (pystray), and the one place that picks pystray's backend.

Backend choice (``choose_tray_backend``): ``VOICETYPE_TRAY_BACKEND`` if set, else
``PYSTRAY_BACKEND`` if set, else Windows → ``win32``, macOS → ``darwin``, elsewhere
``appindicator`` when PyGObject with Gtk 3 and (Ayatana)AppIndicator3 is importable,
``gtk`` with PyGObject and Gtk 3 only, else ``xorg``.

Why AppIndicator first: it speaks StatusNotifierItem to the tray of KDE, GNOME with the
AppIndicator extension, Xfce, Cinnamon, waybar… (also on Wayland), and libayatana falls
back to an XEmbed icon when no StatusNotifier host runs; observed under Xvfb with
``trayer``: it docks (also when the tray starts after the icon), the docked window's name
is our title, a left click opens the menu and xdotool clicks pick its items. pystray's
``gtk`` backend (GtkStatusIcon, deprecated, XEmbed only) also docks and opens the menu on a
right click (a left click runs "Dictate now"), but shows nothing where only
StatusNotifier hosts exist. ``xorg`` (no PyGObject) is voicetype's own XEmbed icon
(``voicetype.xembed``, not pystray's ``_xorg``, which lost the icon 1 start in 5): it
docks also when the tray host starts later or restarts, and a left click runs "Dictate
now"; it has no menu and no notifications: ``Tray.has_menu`` is then False and the caller
shows ``missing_menu()`` to the user once.

Threading: ``run`` on the main thread (pystray requires it on macOS; GTK runs its loop
there). ``set_state``, ``refresh_menu`` and ``stop`` may be called from any thread and
return without waiting for the tray's loop: on the GTK backends every GTK call is
marshalled onto the loop with ``GLib.idle_add`` (pystray does this for its own calls; our
state and menu updates do the same); on ``xorg`` the icon's own thread owns its X
connection and is woken through a pipe. The ``TrayActions`` callbacks run on the tray's
loop thread and must return at once (enqueue work, read a flag).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from voicetype.errors import BackendUnavailable, ConfigError
from voicetype.icons import DEFAULT_SIZE, icon_image
from voicetype.state import State
from voicetype.xembed import XEmbedIcon

log = logging.getLogger(__name__)

BACKENDS = ("appindicator", "gtk", "xorg", "win32", "darwin", "dummy")
ENV_OVERRIDE = "VOICETYPE_TRAY_BACKEND"

APP_NAME = "voicetype"

# Menu labels (tests click them by position; see MENU_ROWS).
DICTATE = "Dictate now"
TYPE_LAST = "Type last dictation"
ENABLED = "Enabled"
AUTOSTART = "Start at login"
OPEN_CONFIG = "Open configuration"
QUIT = "Quit"
STATUS_ROW = "<status>"  # the disabled first row showing the state, e.g. "Idle"
SEPARATOR = "-"
#: The menu's rows from top to bottom as shown on the GTK backends.
MENU_ROWS: tuple[str, ...] = (
    STATUS_ROW,
    SEPARATOR,
    DICTATE,
    TYPE_LAST,
    ENABLED,
    AUTOSTART,
    OPEN_CONFIG,
    SEPARATOR,
    QUIT,
)

MENU_FIX = (
    "Install PyGObject: `sudo apt install python3-gi gir1.2-ayatanaappindicator3-0.1` and "
    "create voicetype's virtualenv with `python3 -m venv --system-site-packages`; or, inside "
    'the virtualenv, `pip install "PyGObject<3.51"` after `sudo apt install '
    "libgirepository1.0-dev libcairo2-dev pkg-config gir1.2-gtk-3.0 "
    "gir1.2-ayatanaappindicator3-0.1`. Then restart voicetype."
)


def menu_fix_hint() -> str:
    """How to get the tray menu (``MENU_FIX``), for the one-time message when
    ``Tray.has_menu`` is False."""
    return MENU_FIX


def missing_menu() -> BackendUnavailable:
    """What to tell the user (once) when the tray has no menu (``Tray.has_menu`` False)."""
    return BackendUnavailable(
        "The tray icon has no menu here because PyGObject is not installed; the hotkey "
        "and a left click on the icon still start a dictation.",
        MENU_FIX,
    )


_DETAIL_MAX = 120

#: GTK backends: how late the typing state and the one after it are shown (see
#: ``Tray.set_state``), in seconds.
TYPING_SHOW_DELAY = 0.15


def status_text(state: State, detail: str = "") -> str:
    """The menu's status row: the state's label, then the first line of ``detail``."""
    first = detail.strip().splitlines()[0].strip() if detail.strip() else ""
    if len(first) > _DETAIL_MAX:
        first = first[: _DETAIL_MAX - 1] + "…"
    return f"{state.label} — {first}" if first else state.label


def title_text(state: State, detail: str = "") -> str:
    """The icon's title/tooltip, e.g. ``voicetype — Listening…``."""
    return f"{APP_NAME} — {status_text(state, detail)}"


@dataclass(frozen=True)
class TrayActions:
    """The menu's callbacks. Each runs on the tray's loop thread and must only enqueue work
    or read state: blocking here freezes the tray. Exceptions are logged, not raised."""

    dictate: Callable[[], None]
    set_enabled: Callable[[bool], None]
    is_enabled: Callable[[], bool]
    set_autostart: Callable[[bool], None]
    is_autostart: Callable[[], bool]  # read at each menu open (GTK backends) and refresh
    open_config: Callable[[], None]
    quit: Callable[[], None]
    #: Types the kept text of a dictation that could not be typed into the focused window.
    type_last: Callable[[], None] = lambda: None
    #: Whether a text is kept (the "Type last dictation" row is greyed out otherwise).
    has_kept_text: Callable[[], bool] = lambda: False


def _gi_namespace_available(namespace: str, version: str) -> bool:
    try:
        import gi

        gi.require_version(namespace, version)
    except (ImportError, ValueError):
        return False
    return True


def _linux_candidates() -> list[str]:
    if not _gi_namespace_available("Gtk", "3.0"):
        return ["xorg"]
    if _gi_namespace_available("AppIndicator3", "0.1") or _gi_namespace_available(
        "AyatanaAppIndicator3", "0.1"
    ):
        return ["appindicator"]
    return ["gtk"]


def choose_tray_backend(
    env: MutableMapping[str, str],
    platform: str = sys.platform,
    probe: Callable[[], list[str]] = _linux_candidates,
) -> str:
    """Pick pystray's backend and write it to ``env["PYSTRAY_BACKEND"]``; return its name.

    Pass ``os.environ`` before pystray is imported (pystray reads the variable on import).
    Raises ``ConfigError`` for an unknown ``VOICETYPE_TRAY_BACKEND``/``PYSTRAY_BACKEND``.
    ``probe`` only checks that typelibs exist (``gi.require_version``); it imports no
    GTK and needs no display.
    """
    for variable in (ENV_OVERRIDE, "PYSTRAY_BACKEND"):
        requested = env.get(variable, "").strip().lower()
        if requested:
            if requested not in BACKENDS:
                raise ConfigError(
                    f"{variable}={requested!r} is not a tray backend",
                    f"use one of {', '.join(BACKENDS)}, or unset {variable}",
                )
            name = requested
            break
    else:
        if platform == "win32":
            name = "win32"
        elif platform == "darwin":
            name = "darwin"
        else:
            name = probe()[0]
    env["PYSTRAY_BACKEND"] = name
    return name


@contextlib.contextmanager
def _gtk_without_gl(env: MutableMapping[str, str]) -> Iterator[None]:
    """While GTK initialises (pystray's GTK backends call ``Gtk.init_check`` on import),
    ``GDK_GL=disable``: otherwise GDK probes GLX at start-up, which loads Mesa's software
    driver and LLVM (~50 MB of the idle daemon, measured) for a tray that draws nothing
    with OpenGL. GTK reads the variable once, at initialisation; it is restored afterwards
    so programs voicetype starts (the editor for *Open configuration*) do not inherit it.
    A user's own ``GDK_GL`` is left alone."""
    if "GDK_GL" in env:
        yield
        return
    env["GDK_GL"] = "disable"
    try:
        yield
    finally:
        env.pop("GDK_GL", None)


def _import_pystray(backend: str) -> ModuleType:
    try:
        if backend in ("appindicator", "gtk"):
            with _gtk_without_gl(os.environ):
                import pystray
        else:
            import pystray
    except Exception as e:  # backends raise ImportError, Xlib display errors, gi ValueError
        fix = (
            MENU_FIX
            if backend in ("appindicator", "gtk")
            else (
                "run voicetype inside a desktop session (DISPLAY or WAYLAND_DISPLAY set), or "
                f"choose another tray with {ENV_OVERRIDE}"
            )
        )
        raise BackendUnavailable(
            f"The tray icon cannot start with pystray's {backend!r} backend: {e}", fix
        ) from e
    return pystray


class _NoNotifier:
    """Replaces pystray's GTK D-Bus notifier, which makes ``run()`` raise when there is no
    session bus and makes stopping raise when no notification service runs (observed with
    pystray 0.19.5). voicetype notifies through ``voicetype.notify`` instead."""

    def notify(self, title: str, message: str, icon: str) -> None:
        pass

    def hide(self) -> None:
        pass


class Tray:
    """The tray icon: state icon and title, the menu, and the loop ``run`` blocks in.

    Construct on the main thread before ``run``. Raises ``BackendUnavailable`` (with the
    fix) when the chosen backend cannot load, and ``ConfigError`` for a bad override.
    """

    def __init__(self, actions: TrayActions, *, icon_size: int = DEFAULT_SIZE) -> None:
        self._actions = actions
        self._icon_size = icon_size
        chosen = choose_tray_backend(os.environ)
        self._lock = threading.Lock()  # serialises state changes and their pystray calls
        self._state = State.IDLE
        self._detail = ""
        self._stop_requested = threading.Event()
        self._ready_error: BaseException | None = None
        self._syncing = False  # GTK thread only: we are setting check items ourselves
        self._gtk_items: dict[str, Any] = {}  # GTK thread only: key -> Gtk.MenuItem
        self._keys: dict[int, str] = {}  # id(pystray.MenuItem) -> key
        self._xembed: XEmbedIcon | None = None
        self._gtk_pending = ""  # "now"/"later": an _apply_gtk_state callback is queued
        self._gtk_shown: tuple[State, str] = (State.IDLE, "")  # GTK thread only
        if chosen == "xorg":
            # voicetype's own XEmbed icon, not pystray's xorg backend (see voicetype.xembed)
            self.backend: str = "xorg"
            self.has_menu: bool = False
            self._gtk = False
            self._xembed = XEmbedIcon(
                APP_NAME,
                self._image(State.IDLE),
                title_text(State.IDLE),
                on_click=self._call(actions.dictate),
            )
            return
        pystray = _import_pystray(chosen)
        actual = pystray.Icon.__module__.rsplit(".", 1)[-1].lstrip("_")
        if actual not in BACKENDS:
            actual = chosen
        if actual != chosen:
            log.warning("pystray was imported before voicetype chose %r; using %r", chosen, actual)
        self.backend = actual
        self.has_menu = bool(pystray.Icon.HAS_MENU) and actual not in ("xorg", "dummy")
        self._gtk = actual in ("appindicator", "gtk")
        if self._gtk:
            from gi.repository import GLib

            self._glib: Any = GLib

        menu = self._build_menu(pystray) if self.has_menu else None
        icon_class = _gtk_icon_class(pystray.Icon, self) if self._gtk else pystray.Icon
        self._icon = icon_class(
            APP_NAME,
            icon=self._image(State.IDLE),
            title=title_text(State.IDLE),
            menu=menu,
        )

    # -- state --------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def title(self) -> str:
        return title_text(self._state, self._detail)

    def set_state(self, state: State, detail: str = "") -> None:
        """Show ``state``: icon, title/tooltip, menu status row. Any thread; returns at
        once without waiting for the tray's loop: on ``xorg`` the loop thread is woken to
        draw; on the GTK backends one callback is queued on the GTK loop (at most one
        pending; it applies the latest state).

        On the GTK backends the typing state, and the state that follows it, are shown
        ``TYPING_SHOW_DELAY`` after typing began (a short typing is never shown): redrawing
        the icon (PNG, AppIndicator, the tray host) while the target window still
        processed the keys made a 60-character dictation ~7–10 ms slower than on the
        plain X tray (bench/run.py, docs/performance.md)."""
        with self._lock:
            previous = self._state
            self._state, self._detail = state, detail
            if self._xembed is not None:
                self._xembed.show(self._image(state), title_text(state, detail))
                return
            if self._gtk:
                # "now": an idle callback is queued; "later": only the delayed one
                wanted = "later" if State.TYPING in (state, previous) else "now"
                if self._gtk_pending == "now" or self._gtk_pending == wanted:
                    return
                self._gtk_pending = wanted
            else:
                self._icon.icon = self._image(state)
                self._icon.title = title_text(state, detail)
        if self._gtk:
            if wanted == "later":
                self._glib.timeout_add(int(TYPING_SHOW_DELAY * 1000), self._apply_gtk_state)
            else:
                self._glib.idle_add(self._apply_gtk_state)
        elif self.has_menu:
            self.refresh_menu()

    def _apply_gtk_state(self) -> bool:
        """GTK loop: show the latest state (icon, title, menu rows) unless shown already."""
        with self._lock:
            self._gtk_pending = ""
            state, detail = self._state, self._detail
        if self._gtk_shown == (state, detail):
            return False
        self._gtk_shown = (state, detail)
        self._icon.icon = self._image(state)
        self._icon.title = title_text(state, detail)
        self._sync_gtk_menu()
        return False  # GLib.SOURCE_REMOVE

    def _image(self, state: State) -> Any:
        return icon_image(state, self._icon_size)

    def notify(self, title: str, message: str) -> bool:
        """Show a notification through pystray (Windows, macOS). False where the backend has
        none (xorg, dummy) and on the GTK backends (Linux uses ``voicetype.notify``)."""
        if self._gtk or self.backend in ("xorg", "dummy") or not self._icon.HAS_NOTIFICATION:
            return False
        self._icon.notify(message, title)
        return True

    # -- loop ---------------------------------------------------------------------------

    def run(self, on_ready: Callable[[], None]) -> None:
        """Show the icon and run the loop until ``stop``. Main thread only.

        ``on_ready`` runs once, after the icon was handed to the tray (on a helper thread
        on the GTK backends, on the calling thread on ``xorg`` and ``dummy``); it must
        return promptly (``stop`` waits up to 5 s for it). If it raises, the loop stops and ``run``
        re-raises that exception. Returns at once if ``stop`` came first. On the GTK
        backends SIGINT and SIGTERM stop the loop like ``stop``.
        """
        if self._stop_requested.is_set():
            return
        if self.backend == "dummy":
            self._run_headless(on_ready)
            return
        if self.backend == "xorg":
            self._run_xorg(on_ready)
            return

        def setup(icon: Any) -> None:
            with self._lock:
                icon.visible = True
            try:
                on_ready()
            except BaseException as e:  # re-raised by run() on the main thread
                self._ready_error = e
                self._stop_requested.set()
            if self._stop_requested.is_set():
                icon.stop()

        self._icon.run(setup)
        if self._ready_error is not None:
            raise self._ready_error

    def _run_headless(self, on_ready: Callable[[], None]) -> None:
        on_ready()
        self._stop_requested.wait()

    def _run_xorg(self, on_ready: Callable[[], None]) -> None:
        """The X icon's loop runs on a daemon thread that owns its X connection; the
        calling thread runs ``on_ready`` and waits for ``stop``, so an X server that stops
        answering can never hang voicetype or its exit."""
        assert self._xembed is not None
        threading.Thread(target=self._xembed.run, name="tray-x11", daemon=True).start()
        try:
            on_ready()
        except Exception:
            self.stop()
            raise
        self._stop_requested.wait()

    def stop(self) -> None:
        """End ``run``. Any thread, idempotent; also fine before ``run`` (it then returns
        at once)."""
        self._stop_requested.set()
        if self._xembed is not None:
            self._xembed.stop()
        elif self.backend != "dummy":
            self._icon.stop()

    def _on_signal(self) -> bool:
        log.info("signal received; stopping the tray")
        self.stop()
        return False  # GLib.SOURCE_REMOVE

    # -- menu ---------------------------------------------------------------------------

    def refresh_menu(self) -> None:
        """Re-read ``is_enabled``/``is_autostart`` and the status row into the menu.

        Any thread. On the GTK backends this updates the items in place on the loop (the
        menu also re-reads on each opening); elsewhere pystray rebuilds the menu."""
        if not self.has_menu:
            return
        if self._gtk:
            from gi.repository import GLib

            GLib.idle_add(self._sync_gtk_menu)
        else:
            self._icon.update_menu()

    def _build_menu(self, pystray: ModuleType) -> Any:
        a = self._actions
        item = pystray.MenuItem

        def status(_item: Any) -> str:
            return status_text(self._state, self._detail)

        rows = {
            "status": item(status, self._call(lambda: None), enabled=False),
            "dictate": item(DICTATE, self._call(a.dictate), default=True),
            "type_last": item(
                TYPE_LAST,
                self._call(a.type_last),
                enabled=lambda _item: self._read(a.has_kept_text),
            ),
            "enabled": item(
                ENABLED,
                self._call(lambda: a.set_enabled(not self._read(a.is_enabled))),
                checked=lambda _item: self._read(a.is_enabled),
            ),
            "autostart": item(
                AUTOSTART,
                self._call(lambda: a.set_autostart(not self._read(a.is_autostart))),
                checked=lambda _item: self._read(a.is_autostart),
            ),
            "open_config": item(OPEN_CONFIG, self._call(a.open_config)),
            "quit": item(QUIT, self._call(a.quit)),
        }
        self._keys = {id(descriptor): key for key, descriptor in rows.items()}
        sep = pystray.Menu.SEPARATOR
        return pystray.Menu(
            rows["status"],
            sep,
            rows["dictate"],
            rows["type_last"],
            rows["enabled"],
            rows["autostart"],
            rows["open_config"],
            sep,
            rows["quit"],
        )

    def _call(self, action: Callable[[], None]) -> Callable[[], None]:
        def activate() -> None:
            if self._syncing:  # our own set_active(), not the user's click
                return
            try:
                action()
            except Exception:
                log.exception("tray menu action failed")

        return activate

    @staticmethod
    def _read(getter: Callable[[], bool]) -> bool:
        try:
            return bool(getter())
        except Exception:
            log.exception("tray menu state callback failed")
            return False

    def _remember_gtk_item(self, descriptor: Any, gtk_item: Any) -> None:
        key = self._keys.get(id(descriptor))
        if key is not None:
            self._gtk_items[key] = gtk_item

    def _sync_gtk_menu(self) -> bool:
        """GTK thread: set the status row's text and the check items from the callbacks.

        ``Gtk.CheckMenuItem.set_active`` emits "activate" (GTK 3), which pystray routes to
        the action; ``_syncing`` makes those no-ops and stops pystray rebuilding the menu.
        """
        items = self._gtk_items
        self._syncing = True
        try:
            if "status" in items:
                items["status"].set_label(status_text(self._state, self._detail))
            if "type_last" in items:
                items["type_last"].set_sensitive(self._read(self._actions.has_kept_text))
            if "enabled" in items:
                items["enabled"].set_active(self._read(self._actions.is_enabled))
            if "autostart" in items:
                items["autostart"].set_active(self._read(self._actions.is_autostart))
        finally:
            self._syncing = False
        return False  # GLib.SOURCE_REMOVE


def _gtk_icon_class(base: type, tray: Tray) -> type:
    """pystray's GTK/AppIndicator icon with voicetype's fixes; see each method."""
    from gi.repository import GLib

    class _Icon(base):
        def _initialize(self) -> None:
            # pystray.GtkIcon._initialize without its D-Bus notifier (see _NoNotifier);
            # SIGINT/SIGTERM end the loop cleanly instead of killing the process.
            self._notifier = _NoNotifier()
            for signum in (signal.SIGINT, signal.SIGTERM):
                GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, tray._on_signal)
            self._mark_ready()

        def _create_menu(self, descriptors: Any) -> Any:
            menu = super()._create_menu(descriptors)
            if menu is not None:
                # re-read the check items and status each time the menu opens
                menu.connect("show", lambda _menu: tray._sync_gtk_menu())
            return menu

        def _create_menu_item(self, descriptor: Any) -> Any:
            gtk_item = super()._create_menu_item(descriptor)
            tray._remember_gtk_item(descriptor, gtk_item)
            return gtk_item

        def update_menu(self) -> None:
            if tray._syncing:  # pystray calls this after each (suppressed) activation
                return
            super().update_menu()

        def _show(self) -> None:
            super()._show()
            self._update_title()

        def _update_title(self) -> None:
            # pystray's gtk backend sets only the title; GtkStatusIcon shows the tooltip
            def apply() -> bool:
                status_icon = getattr(self, "_status_icon", None)
                if status_icon is not None:
                    status_icon.set_title(self.title)
                    status_icon.set_tooltip_text(self.title)
                appindicator = getattr(self, "_appindicator", None)
                if appindicator is not None:
                    appindicator.set_title(self.title)
                return False

            GLib.idle_add(apply)

    return _Icon
