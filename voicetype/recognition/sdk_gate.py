"""``CallbackGate``: when the Speech SDK's objects may be dropped.

The SDK keeps its recognizer alive while one of its own threads dispatches an event to a
callback, and lets go of it after the callback returned. If voicetype drops its last
reference while such a dispatch is still under way — woken, for instance, by the very
``session_stopped`` callback that is still returning — the SDK's destructor runs on that
dispatching thread, stops the thread from itself, throws, and ``std::terminate`` aborts the
whole process (``Fatal Python error: Aborted`` in ``_Handle.__del__``, seen in CI; the same
chain is traced in the SDK's source in Azure-Samples/cognitive-services-speech-sdk#3070).

So every callback given to the SDK goes through ``wrap``, which counts the callbacks in
flight and notes when the last one returned, and the owner calls ``settle`` before dropping
the objects: it returns once no callback has been in flight for ``quiet`` seconds (the
SDK's own frames above the callback end within microseconds of it; the margin is for a
loaded machine that deschedules that thread). Pure logic, no SDK import.

What must never be destroyed (a session that never ended, a callback that never returned)
goes to ``keep_forever``: one list for every user of the SDK.

Threading: ``wrap``'s callables run on any thread; ``settle`` blocks its caller, bounded by
its ``timeout``; ``keep_forever`` may be called from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("voicetype.recognition.azure")  # one logger for the SDK glue

# How long no SDK callback must have been in flight before the SDK's objects are dropped.
QUIET_SECONDS = 0.5
# SDK objects never to be destroyed: destroying them is how the SDK aborts the process.
_KEPT: list[object] = []


def keep_forever(objects: object, why: str) -> None:
    """Keep ``objects`` (the SDK's, or a list of them) for the life of the process."""
    log.warning("%s; its objects are kept", why)
    _KEPT.append(objects)


class CallbackGate:
    """Counts the SDK's callbacks in flight; ``settle`` waits for a quiet time after them."""

    def __init__(
        self, quiet: float = QUIET_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._quiet = quiet
        self._clock = clock
        self._cond = threading.Condition()
        self._in_flight = 0
        self._last = clock()  # when the last callback returned (or the gate was made)

    def wrap(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """``callback``, counted while it runs (it may raise: the count stays right)."""

        def counted(*args: Any) -> Any:
            with self._cond:
                self._in_flight += 1
            try:
                return callback(*args)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._last = self._clock()
                    self._cond.notify_all()

        return counted

    def settle(self, timeout: float) -> bool:
        """Wait until no callback is in flight and none has returned for ``quiet`` seconds.
        True when that came within ``timeout``; False if a callback was still running or
        had just returned (the caller must then keep the SDK's objects)."""
        deadline = self._clock() + timeout
        with self._cond:
            while True:
                now = self._clock()
                quiet_in = self._last + self._quiet - now if self._in_flight == 0 else None
                if quiet_in is not None and quiet_in <= 0:
                    return True
                left = deadline - now
                if left <= 0:
                    return False
                self._cond.wait(left if quiet_in is None else min(left, quiet_in))

    def settle_or_keep(self, objects: object, timeout: float) -> bool:
        """``settle``; when it fails, ``objects`` are kept forever (and False returned)."""
        if self.settle(timeout):
            return True
        keep_forever(objects, "a Speech SDK callback did not return")
        return False
