"""No icon at all (``VOICETYPE_TRAY_BACKEND=dummy``): for headless runs and tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from voicetype.state import State


class DummyTray:
    """Shows nothing; ``run`` calls ``on_ready`` on the calling thread, then waits for
    ``stop`` (any thread)."""

    has_menu = False

    def __init__(self) -> None:
        self._stopped = threading.Event()

    def show(self, state: State, detail: str, level: int | None = None) -> None:
        pass

    def refresh_menu(self) -> None:
        pass

    def notify(self, title: str, message: str) -> bool:
        return False

    def run(self, on_ready: Callable[[], None]) -> None:
        if self._stopped.is_set():
            return
        on_ready()
        self._stopped.wait()

    def stop(self) -> None:
        self._stopped.set()
