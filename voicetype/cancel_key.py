"""Escape as the cancel key on X11: grabbed on the root window only while listening.

``X11CancelKey.grab()`` / ``release()`` return at once; a thread of its own
("cancel-key") carries them out in order with an ``X11HotkeyListener`` for Escape (no
modifiers, every lock combination), started at ``grab`` and stopped (ungrabbed) at
``release``, with any modifiers (the hotkey's may still be held in hold-to-talk). So
Escape reaches applications untouched whenever voicetype is not listening.
A press of Escape while grabbed calls ``on_press`` on the listener's reader thread (it must
only enqueue). Escape taken by another client is logged; cancel then works from the tray and
``voicetype cancel`` only.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from voicetype.errors import VoicetypeError
from voicetype.hotkeys import Hotkey

log = logging.getLogger(__name__)

ESCAPE = Hotkey(modifiers=(), key="esc")


class X11CancelKey:
    """See the module doc. ``grab``/``release`` from any thread; ``close`` ends the thread."""

    def __init__(self, on_press: Callable[[], None], display_name: str | None = None) -> None:
        self._on_press = on_press
        self._display_name = display_name
        self._jobs: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="cancel-key", daemon=True)
        self._thread.start()
        self.grabbed = threading.Event()  # set while Escape is grabbed (tests, benches)

    def grab(self) -> None:
        self._jobs.put("grab")

    def release(self) -> None:
        self._jobs.put("release")

    def close(self) -> None:
        self._jobs.put("close")
        self._thread.join(2.0)

    def _run(self) -> None:
        from voicetype.hotkeys_x11 import X11HotkeyListener

        listener: X11HotkeyListener | None = None
        while True:
            job = self._jobs.get()
            if job == "grab" and listener is None:
                candidate = X11HotkeyListener(
                    ESCAPE, self._on_press, lambda: None, self._display_name, any_modifier=True
                )
                try:
                    candidate.start()
                except VoicetypeError as exc:
                    log.warning("Escape cannot cancel dictations: %s", exc.message)
                    continue
                listener = candidate
                self.grabbed.set()
            elif job in ("release", "close") and listener is not None:
                listener.stop()
                listener = None
                self.grabbed.clear()
            if job == "close":
                return
