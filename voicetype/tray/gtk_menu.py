"""The tray menu as a ``Gtk.Menu``: built once, its rows updated in place.

GTK loop thread only (build it on the main thread before the loop runs; building reads
no callback: the daemon's are not ready then). Each opening, each state change and each
``refresh_menu`` re-reads the status row, the first row (Dictate now, or Stop dictation
with Cancel dictation below it while listening), "Type last dictation"'s sensitivity, the
check rows and the submenus' rows (``menu.submenu_rows``) from the callbacks, so a change
made elsewhere (``voicetype autostart``, a new dictation, a microphone plugged in) shows
at once. A submenu's rows are also re-read when its row is activated: that is how an
AppIndicator menu shown by a StatusNotifier host (over D-Bus, libdbusmenu) learns that
a submenu opens ("about-to-show" activates the item). A submenu's items are rebuilt only
when its rows changed; radio rows are check items drawn as radio buttons (their state is
the model's, never GTK's toggling).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from voicetype.tray.menu import (
    AUTOSTART,
    CANCEL,
    DICTATE,
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
    submenu_rows,
    toggles,
)


class GtkMenu:
    """``menu`` is the ``Gtk.Menu``; ``status`` gives the first row's text when shown."""

    def __init__(
        self, gtk: Any, glib: Any, actions: TrayActions, status: Callable[[], str]
    ) -> None:
        self._gtk = gtk
        self._glib = glib
        self._actions = actions
        self._status_text = status
        self._syncing = False  # set_active() emits "activate": ours, not the user's click
        flip = toggles(actions)
        menu = gtk.Menu.new()
        self._status = gtk.MenuItem.new_with_label(status())
        self._status.set_sensitive(False)
        self.dictate = self._item(DICTATE, lambda: first_row(actions)[1]())
        self._bold(DICTATE)
        self._cancel = self._item(CANCEL, actions.cancel)
        self._type_last = self._item(TYPE_LAST, actions.type_last)
        self._enabled = self._item(ENABLED, flip[ENABLED], check=True)
        self._autostart = self._item(AUTOSTART, flip[AUTOSTART], check=True)
        self._submenus = {
            label: _Submenu(gtk, label, self._row_item, functools.partial(make, actions))
            for label, make in SUBMENUS
        }
        rows = [
            self._status,
            gtk.SeparatorMenuItem(),
            self.dictate,
            self._cancel,
            self._type_last,
            *(sub.item for sub in self._submenus.values()),
            self._enabled,
            self._autostart,
            self._item(OPEN_CONFIG, actions.open_config),
            gtk.SeparatorMenuItem(),
            self._item(QUIT, actions.quit),
        ]
        for row in rows:
            menu.append(row)
        menu.connect("show", lambda _menu: self.sync())
        menu.show_all()
        self._cancel.hide()  # shown while listening (sync)
        for sub in self._submenus.values():
            sub.item.hide()  # shown once sync() found rows for it
        self.menu = menu  # the callbacks are first read by sync(), on the running loop

    def _item(self, label: str, action: Callable[[], None], *, check: bool = False) -> Any:
        kind = self._gtk.CheckMenuItem if check else self._gtk.MenuItem
        item = kind.new_with_label(label)

        def activate(_item: Any) -> None:
            if not self._syncing:
                safe_call(action)

        item.connect("activate", activate)
        return item

    def _row_item(self, row: Row) -> Any:
        """A submenu row's item: greyed, plain, or a radio row showing ``row.checked``."""
        if row.checked is None:
            item = self._gtk.MenuItem.new_with_label(row.label)
        else:
            item = self._gtk.CheckMenuItem.new_with_label(row.label)
            item.set_draw_as_radio(True)
            item.set_active(row.checked)
        item.set_sensitive(row.enabled)

        def activate(_item: Any) -> None:
            if self._syncing:
                return
            if row.checked is not None:  # GTK toggled it: the model says what is checked
                self._syncing = True
                try:
                    item.set_active(row.checked)
                finally:
                    self._syncing = False
            if row.enabled:
                safe_call(row.action)

        item.connect("activate", activate)
        return item

    def _bold(self, label: str) -> None:
        self.dictate.get_children()[0].set_markup(f"<b>{self._glib.markup_escape_text(label)}</b>")

    def sync(self) -> bool:
        """Set the rows from the callbacks. GTK loop only; returns False (as an idle
        callback it runs once)."""
        a = self._actions
        self._syncing = True
        try:
            self._status.set_label(self._status_text())
            label, _ = first_row(a)
            self._bold(label)
            self._cancel.set_visible(label != DICTATE)
            self._type_last.set_sensitive(safe_read(a.has_kept_text))
            self._enabled.set_active(safe_read(a.is_enabled))
            self._autostart.set_active(safe_read(a.is_autostart))
            for label, rows in submenu_rows(a).items():
                self._submenus[label].show_rows(rows)
        finally:
            self._syncing = False
        return False  # GLib.SOURCE_REMOVE


class _Submenu:
    """A row opening a submenu (``item``) and the rows it shows; hidden without rows.
    Activating the row (opening the submenu) reads ``rows()`` again."""

    def __init__(
        self,
        gtk: Any,
        label: str,
        make_item: Callable[[Row], Any],
        rows: Callable[[], tuple[Row, ...]],
    ) -> None:
        self.item = gtk.MenuItem.new_with_label(label)
        self._menu = gtk.Menu.new()
        self.item.set_submenu(self._menu)
        self._make_item = make_item
        self._rows: tuple[Row, ...] | None = None
        self.item.connect("activate", lambda _item: self.show_rows(rows()))

    def show_rows(self, rows: tuple[Row, ...]) -> None:
        """GTK loop: show ``rows`` (rebuilding the items only when they changed)."""
        self.item.set_visible(bool(rows))
        if rows == self._rows:
            return
        self._rows = rows
        for child in self._menu.get_children():
            self._menu.remove(child)
            child.destroy()
        for row in rows:
            self._menu.append(self._make_item(row))
        self._menu.show_all()
