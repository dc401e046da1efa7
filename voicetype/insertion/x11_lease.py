"""Our temporary keysym bindings on spare keycodes: kept after a text, cleared a while later.

Why later: a window interprets a key with the keymap it holds when it *processes* the key,
and Xlib's XKB code marks its keymap stale as soon as it *reads* a MappingNotify, so
changing the binding of a keycode while keys typed on it may still wait in a window's
queue garbles them (Tk under load: keys lost or typed with the next binding). Nothing
proves that a window which does not answer ``_NET_WM_PING`` (xterm, Tk) has processed its
keys, so the bindings are cleared only a measured time after the last key typed on them
(``clear_at``) — by this lease's own thread, off the typing path: ``insert`` returns once
the keys are sent, and a text typed before the clear reuses the bindings still in place.

What is kept: the set of keycodes we bound (their symbols are read back from the server
by the next run) and when clearing them becomes safe. A keycode that carried symbols
before we came is never ours. If the process is killed before the clear, the keycodes keep
their last binding: harmless (no physical key sends them; the next run types with them).

Threading: ``take``/``give_back``/``wait_cleared``/``close`` from the inserter's thread (one
at a time); the clear runs on the daemon thread ``x11-keymap-clear`` with a connection of
its own (opened at the first clear), never while a run holds the lease (``take`` waits for
a clear under way: ~1 ms).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from voicetype.insertion.keymap import contiguous_runs

log = logging.getLogger(__name__)


def _connect(display_name: str | None) -> Any:
    from Xlib import display

    return display.Display(display_name)


class KeymapLease:
    """The keycodes we bound and when they may be cleared; see the module docstring."""

    def __init__(
        self,
        display_name: str | None,
        connect: Callable[[str | None], Any] = _connect,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._display_name = display_name
        self._connect = connect
        self._clock = clock
        self._cond = threading.Condition()
        self._bound: set[int] = set()
        self._width = 0  # keysyms per keycode of the server's core keymap
        self._clear_at = 0.0
        self._safe_at = 0.0
        self._held = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self.clears = 0  # how many times bindings were cleared (tests, bench)

    def take(self) -> tuple[frozenset[int], float]:
        """A run starts: our keycodes are the run's until ``give_back``. Returns them and
        the monotonic time after which changing their binding is safe."""
        with self._cond:
            self._held = True
            return frozenset(self._bound), self._safe_at

    def give_back(
        self, keycodes: set[int], width: int, safe_at: float, clear_at: float | None = None
    ) -> None:
        """A run ended: ``keycodes`` carry our bindings now; rebinding them is safe from
        ``safe_at`` (what the next ``take`` returns); clear them at ``clear_at`` (default
        ``safe_at``; never before it) unless a run takes them again first."""
        with self._cond:
            self._bound = set(keycodes)
            self._width = width or self._width
            self._safe_at = safe_at
            self._clear_at = max(safe_at, clear_at if clear_at is not None else safe_at)
            self._held = False
            if self._bound and self._thread is None and not self._closing:
                self._thread = threading.Thread(
                    target=self._loop, name="x11-keymap-clear", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def wait_cleared(self, timeout: float) -> bool:
        """Wait until none of our bindings is left (tests; ``close``); False on timeout."""
        deadline = self._clock() + timeout
        with self._cond:
            while self._bound and self._thread is not None:
                left = deadline - self._clock()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return not self._bound

    def close(self, timeout: float = 2.0) -> None:
        """Clear what is still bound (at its ``clear_at``), then end the thread; bounded by
        ``timeout`` plus the time to ``clear_at``."""
        with self._cond:
            wait = max(0.0, self._clear_at - self._clock()) if self._bound else 0.0
        self.wait_cleared(wait + timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -------------------------------------------------------------- the clearing thread

    def _due(self) -> bool:
        """Under the lock: wait until there is something to clear now; False to end."""
        while True:
            if self._closing and (not self._bound or self._held):
                return False
            if self._bound and not self._held:
                wait = self._clear_at - self._clock()
                if wait <= 0:
                    return True
                self._cond.wait(wait)
            else:
                self._cond.wait()

    def _loop(self) -> None:
        display: Any = None
        try:
            while True:
                with self._cond:
                    if not self._due():
                        return
                    try:
                        if display is None:
                            display = self._connect(self._display_name)
                        for run in contiguous_runs(self._bound):
                            display.change_keyboard_mapping(
                                run[0], [[0] * self._width for _ in run]
                            )
                        display.sync()
                        self.clears += 1
                    except Exception as exc:  # the thread's boundary: X errors, a lost server
                        log.warning("could not clear the temporary key bindings: %s", exc)
                    self._bound = set()
                    self._cond.notify_all()
        finally:
            if display is not None:
                try:
                    display.close()
                except Exception as exc:  # closing a dead connection
                    log.debug("closing the keymap connection: %s", exc)
