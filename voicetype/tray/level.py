"""The live level while listening: a small thread that reads the microphone's level and
hands the tray what to show (a level step of the listening icon, and "no sound from
<device>" once nothing was heard for ``NO_SOUND_SECONDS``).

Why a thread of its own: the level comes from the capture, whose lock PortAudio's thread
holds while it hands a block to the speech SDK; reading it on the tray's loop could stall
the menu. This thread reads it (``TrayActions.level``) and passes on only a change, so the
tray's loop never waits for the capture.

Threading: ``listen``, ``pause`` and ``stop`` from any thread, never blocking. While
paused the thread sleeps on a condition with no timeout (no wake-ups while idle); while
listening it reads ``INTERVAL`` apart (≤ 10 updates a second) and calls ``show`` only when
what is shown changes; a reading that raises counts as none (logged once a session).
``show`` must not block for long (``Tray`` hands it to its backend,
which only queues it for the loop).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from voicetype.icons import level_step
from voicetype.tray.menu import Level

log = logging.getLogger(__name__)

#: Seconds between two readings while listening.
INTERVAL = 0.1
#: Seconds without sound before the tooltip says so (``voicetype.audio.level``'s watch).
NO_SOUND_SECONDS = 3.0

#: What the tray shows for a reading: (level step or None, note for the tooltip).
Look = tuple[int | None, str]


def look_of(reading: Level | None, no_sound_seconds: float = NO_SOUND_SECONDS) -> Look:
    """The level step and the note for ``reading`` (None: no microphone open yet: the plain
    listening icon, no note)."""
    if reading is None:
        return None, ""
    note = f"no sound from {reading.device}" if reading.silent_for >= no_sound_seconds else ""
    return level_step(reading.level), note


class LevelWatch:
    """Calls ``show(session, look)`` while listening (``listen(session)``), for each change
    of ``look_of(read())``; ``session`` is the value given to ``listen``, so the receiver
    can drop a look that arrives after the next session began."""

    def __init__(
        self,
        read: Callable[[], Level | None],
        show: Callable[[int, Look], None],
        *,
        interval: float = INTERVAL,
    ) -> None:
        self._read, self._show, self._interval = read, show, interval
        self._cond = threading.Condition()
        self._session: int | None = None  # None: paused
        self._stopped = False
        self._thread: threading.Thread | None = None

    def listen(self, session: int) -> None:
        """Start reading (a new listening session: the first reading is always shown)."""
        with self._cond:
            if self._stopped:
                return
            self._session = session
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tray-level", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._session = None
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._session = None
            self._cond.notify_all()

    def _run(self) -> None:
        shown: tuple[int, Look] | None = None
        failed: int | None = None  # the session whose reading failed (logged once)
        while True:
            with self._cond:
                while self._session is None and not self._stopped:
                    self._cond.wait()
                if self._stopped or self._session is None:
                    return
                session = self._session
            try:
                reading = self._read()
            except Exception:  # a broken reading must not end the thread (or flood the log)
                if failed != session:
                    failed = session
                    log.exception("reading the microphone level failed")
                reading = None
            look = look_of(reading)
            if shown != (session, look):
                shown = (session, look)
                try:
                    self._show(session, look)
                except Exception:
                    log.exception("showing the microphone level failed")
            with self._cond:
                if self._session == session and not self._stopped:
                    self._cond.wait(self._interval)
