"""The plain X tray (no PyGObject): voicetype's own XEmbed icon, no menu (so no
submenus: the README says how to get the menu); it shows the listening level like the
others.

A left click runs "Dictate now". The icon's loop runs on a daemon thread that owns its X
connection (``voicetype.tray.xembed``); the thread calling ``run`` runs ``on_ready`` and
waits for ``stop``, so an X server that stops answering can never hang voicetype or its
exit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from voicetype.icons import icon_image
from voicetype.state import State
from voicetype.tray.menu import APP_NAME, TrayActions, safe_call, title_text
from voicetype.tray.xembed import XEmbedIcon


class XorgTray:
    """Construct on any thread (opens the X connection; ``BackendUnavailable`` without a
    display). ``show`` and ``stop`` never block (they wake the icon's thread)."""

    has_menu = False

    def __init__(self, actions: TrayActions, icon_size: int) -> None:
        self._size = icon_size
        self._stopped = threading.Event()
        self._icon = XEmbedIcon(
            APP_NAME,
            icon_image(State.IDLE, icon_size),
            title_text(State.IDLE),
            on_click=lambda: safe_call(actions.dictate),
        )

    def show(self, state: State, detail: str, level: int | None = None) -> None:
        self._icon.show(icon_image(state, self._size, level), title_text(state, detail))

    def refresh_menu(self) -> None:
        pass

    def notify(self, title: str, message: str) -> bool:
        return False

    def run(self, on_ready: Callable[[], None]) -> None:
        if self._stopped.is_set():
            return
        threading.Thread(target=self._icon.run, name="tray-x11", daemon=True).start()
        try:
            on_ready()
        except Exception:
            self.stop()
            raise
        self._stopped.wait()

    def stop(self) -> None:
        self._stopped.set()
        self._icon.stop()
