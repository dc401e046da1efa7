"""The dictation history on disk, only with ``[history] keep = true``.

One JSON file (``history_path()``: ``~/.local/state/voicetype/history.json`` on Linux),
readable only by the user (0600, in a 0700 directory), rewritten whole and atomically
after each dictation, holding at most the history's capacity (``[text] history_size``)
of entries. Never a password field's dictation (the ``History`` never holds one). A file
that cannot be read (missing, damaged, another format) is treated as empty; turning
``keep`` off deletes the file.

Threading: ``save`` on the dictation worker; ``load`` and ``remove`` at build time (main
or reload thread). Errors are logged, never raised: the history is a convenience.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import platformdirs

from voicetype.text.history import HistoryEntry

log = logging.getLogger(__name__)

#: A file larger than this is not read (the history holds ≤ 100 entries of ≤ 1,000,000
#: characters each only in theory; a real one is a few kilobytes).
MAX_BYTES = 20_000_000


def history_path() -> Path:
    return Path(platformdirs.user_state_dir("voicetype", appauthor=False)) / "history.json"


class HistoryStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_path()

    def load(self) -> list[HistoryEntry]:
        """The saved entries, newest first ([] when there is no readable file)."""
        try:
            if self.path.stat().st_size > MAX_BYTES:
                log.warning("history file %s is too large; not read", self.path)
                return []
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError, RecursionError) as exc:
            log.warning("history file %s could not be read (%s); starting empty", self.path, exc)
            return []
        entries: list[HistoryEntry] = []
        for item in data if isinstance(data, list) else []:
            if not isinstance(item, dict):
                continue
            text, at, language = item.get("text"), item.get("at"), item.get("language", "")
            if isinstance(text, str) and isinstance(at, (int, float)) and isinstance(language, str):
                entries.append(HistoryEntry(text, float(at), language))
        return entries

    def save(self, entries: tuple[HistoryEntry, ...]) -> None:
        """Replace the file with ``entries`` (newest first), atomically, 0600."""
        data = [{"text": e.text, "at": e.at, "language": e.language} for e in entries]
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".history-", dir=self.path.parent)
            replaced = False
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp: mode 0600
                    json.dump(data, f, ensure_ascii=False)
                os.replace(tmp, self.path)
                replaced = True
            finally:
                if not replaced:
                    Path(tmp).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not save the history to %s: %s", self.path, exc)

    def remove(self) -> None:
        """``keep`` is off: no history on disk."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete the history file %s: %s", self.path, exc)
