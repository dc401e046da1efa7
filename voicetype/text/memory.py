"""What voicetype itself typed, where and when: the caret context of last resort, and
what "scratch that" takes back.

Threading: every method may be called from any thread (one lock). The controller calls
``previous()`` before the pipeline and ``commit()`` after the text was inserted;
the key listener calls ``user_typed()`` for every key the *user* pressed (keys voicetype
injects itself must not be reported). Text is held in memory only, never written out, and
nothing typed into a password field is kept.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from voicetype.text.model import Outcome, Previous, Typed

DEPTH = 20  # dictations kept for repeated "scratch that" (one window only)


class DictationMemory:
    def __init__(self, depth: int = DEPTH) -> None:
        self._depth = depth
        self._lock = threading.Lock()
        self._entries: list[Typed] = []
        self._keys_since = False

    def previous(self) -> Previous:
        with self._lock:
            return Previous(self._entries[-1] if self._entries else None, self._keys_since)

    def user_typed(self) -> None:
        """The user pressed a key: the remembered text no longer tells what is before the
        caret (and "scratch that" must refuse)."""
        with self._lock:
            self._keys_since = True

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
            self._keys_since = False

    def commit(self, window: int | None, outcome: Outcome, now: float) -> None:
        """Record that ``outcome`` was carried out in ``window`` at ``now``. Call only
        when it was delivered in full; after a failed or partial insertion call
        ``forget()``."""
        with self._lock:
            if outcome.private or window is None:
                self._entries.clear()
                self._keys_since = False
                return
            if not outcome.does_something:
                return
            if self._keys_since or (self._entries and self._entries[-1].window != window):
                self._entries.clear()
            self._keys_since = False
            rest = outcome.text
            if outcome.scratch:
                if self._entries:
                    popped = self._entries.pop()
                    if rest.startswith(popped.erased):
                        rest = rest[len(popped.erased) :]
                        if popped.erased and self._entries:
                            last = self._entries[-1]
                            self._entries[-1] = replace(last, text=last.text + popped.erased)
                erased = ""
            else:
                erased = outcome.erase
                if erased and self._entries and self._entries[-1].text.endswith(erased):
                    last = self._entries[-1]
                    self._entries[-1] = replace(last, text=last.text[: -len(erased)])
            if rest:
                self._entries.append(Typed(window, rest, now, erased))
            del self._entries[: -self._depth]
