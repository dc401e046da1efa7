"""The tray on Windows and macOS: pystray's icon, through pystray's public API only.

pystray picks its platform backend when it is first imported (from ``PYSTRAY_BACKEND``);
this module sets that variable to the chosen backend right before the import. Submenus
are pystray's own: a ``MenuItem`` whose action is a ``Menu`` made from a callable, which
pystray calls again whenever it builds the menu (``update_menu``, which ``show`` and
``refresh_menu`` call); radio rows are ``checked`` items with ``radio=True``; a submenu
without rows is hidden (pystray hides an item whose submenu has no visible item). Tested
with fakes only (no Windows or macOS here).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

from voicetype.errors import BackendUnavailable
from voicetype.icons import icon_image
from voicetype.state import State
from voicetype.tray.choice import ENV_OVERRIDE
from voicetype.tray.menu import (
    APP_NAME,
    AUTOSTART,
    CANCEL,
    ENABLED,
    OPEN_CONFIG,
    QUIT,
    SUBMENUS,
    TYPE_LAST,
    Row,
    TrayActions,
    first_row,
    safe_call,
    safe_read,
    status_text,
    title_text,
    toggles,
)


def import_pystray(backend: str) -> ModuleType:
    """pystray with ``backend``; ``BackendUnavailable`` (with the fix) if it cannot load."""
    os.environ["PYSTRAY_BACKEND"] = backend
    try:
        import pystray
    except Exception as e:  # backends raise ImportError, OSError, display errors
        raise BackendUnavailable(
            f"The tray icon cannot start with pystray's {backend!r} backend: {e}",
            f"run voicetype inside a desktop session, or choose another tray with {ENV_OVERRIDE}",
        ) from e
    return pystray


class PystrayTray:
    """pystray's ``Icon`` with voicetype's menu. ``show``/``refresh_menu``/``stop`` from
    any thread (pystray marshals them onto its loop). ``run`` on the main thread; pystray
    runs ``on_ready`` on a helper thread."""

    def __init__(
        self,
        backend: str,
        actions: TrayActions,
        icon_size: int,
        *,
        pystray: ModuleType | None = None,
    ) -> None:
        self._pystray = pystray or import_pystray(backend)
        self._actions = actions
        self._size = icon_size
        self._status = status_text(State.IDLE)
        self._stopped = threading.Event()
        self._ready_error: Exception | None = None
        icon_class: Any = self._pystray.Icon
        self.has_menu: bool = bool(icon_class.HAS_MENU)
        self._icon = icon_class(
            APP_NAME,
            icon=icon_image(State.IDLE, icon_size),
            title=title_text(State.IDLE),
            menu=self._menu() if self.has_menu else None,
        )

    def _menu(self) -> Any:
        a = self._actions
        item = self._pystray.MenuItem
        flip = toggles(a)

        def call(action: Callable[[], None]) -> Callable[[], None]:
            return lambda: safe_call(action)

        sep = self._pystray.Menu.SEPARATOR
        return self._pystray.Menu(
            item(lambda _item: self._status, None, enabled=False),
            sep,
            item(lambda _item: first_row(a)[0], lambda: safe_call(first_row(a)[1]), default=True),
            item(CANCEL, call(a.cancel), visible=lambda _item: safe_read(a.is_listening)),
            item(TYPE_LAST, call(a.type_last), enabled=lambda _item: safe_read(a.has_kept_text)),
            *(item(label, self._submenu(make)) for label, make in SUBMENUS),
            item(ENABLED, call(flip[ENABLED]), checked=lambda _item: safe_read(a.is_enabled)),
            item(AUTOSTART, call(flip[AUTOSTART]), checked=lambda _item: safe_read(a.is_autostart)),
            item(OPEN_CONFIG, call(a.open_config)),
            sep,
            item(QUIT, call(a.quit)),
        )

    def _submenu(self, make: Callable[[TrayActions], tuple[Row, ...]]) -> Any:
        """A pystray ``Menu`` whose items are ``make``'s rows each time pystray builds it."""
        return self._pystray.Menu(lambda: tuple(self._row_item(r) for r in make(self._actions)))

    def _row_item(self, row: Row) -> Any:
        checked = None if row.checked is None else (lambda _item: bool(row.checked))
        return self._pystray.MenuItem(
            row.label,
            lambda: safe_call(row.action) if row.enabled else None,
            checked=checked,
            radio=row.checked is not None,
            enabled=row.enabled,
        )

    @property
    def menu(self) -> Any:
        """pystray's menu (None without one): its items read the actions when shown."""
        return self._icon.menu

    def show(self, state: State, detail: str, level: int | None = None) -> None:
        status = status_text(state, detail)
        changed = status != self._status
        self._status = status
        self._icon.icon = icon_image(state, self._size, level)
        self._icon.title = title_text(state, detail)
        if changed or level is None:
            self.refresh_menu()

    def refresh_menu(self) -> None:
        if self.has_menu:
            self._icon.update_menu()

    def notify(self, title: str, message: str) -> bool:
        if not self._icon.HAS_NOTIFICATION:
            return False
        self._icon.notify(message, title)
        return True

    def run(self, on_ready: Callable[[], None]) -> None:
        if self._stopped.is_set():
            return

        def setup(icon: Any) -> None:
            icon.visible = True
            try:
                on_ready()
            except Exception as e:  # re-raised by run() on the main thread
                self._ready_error = e
                self._stopped.set()
            if self._stopped.is_set():
                icon.stop()

        self._icon.run(setup)
        if self._ready_error is not None:
            raise self._ready_error

    def stop(self) -> None:
        self._stopped.set()
        self._icon.stop()
