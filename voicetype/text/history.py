"""The last dictations, for the *Recent* menu, ``voicetype history`` and re-typing.

Memory only (never written to disk here), bounded to ``capacity`` entries, newest first.
A text already in the history moves to the front instead of appearing twice (typing an
entry again from *Recent* or ``voicetype retype`` does not fill the menu with copies).
Threading: any thread (one lock) — the controller adds, the tray reads for its menu.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from voicetype.text.model import Outcome


@dataclass(frozen=True)
class HistoryEntry:
    text: str  # the dictated words, without the separating space voicetype added
    at: float  # wall-clock time (``time.time()``) when it was typed
    language: str = ""


class History:
    def __init__(self, capacity: int = 10) -> None:
        if capacity < 0:
            raise ValueError("capacity must be 0 or more")
        self._lock = threading.Lock()
        self._items: deque[HistoryEntry] = deque(maxlen=capacity)

    def add(self, text: str, at: float, language: str = "") -> None:
        """Keep ``text`` (blank text is ignored) as the newest entry; an equal older entry
        is dropped, and the oldest entry goes when full."""
        text = text.strip()
        if not text or self._items.maxlen == 0:
            return
        with self._lock:
            for old in [e for e in self._items if e.text == text]:
                self._items.remove(old)
            self._items.appendleft(HistoryEntry(text, at, language))

    def add_outcome(self, outcome: Outcome, at: float) -> None:
        """Keep what a pipeline outcome typed, unless it is private (a password field), a
        "scratch that", or only line breaks."""
        if outcome.private or outcome.scratch:
            return
        self.add(outcome.text, at, outcome.language)

    def entries(self) -> tuple[HistoryEntry, ...]:
        with self._lock:
            return tuple(self._items)

    def last(self) -> HistoryEntry | None:
        with self._lock:
            return self._items[0] if self._items else None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
