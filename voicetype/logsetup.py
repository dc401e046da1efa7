"""Logging for the daemon: a rotating file in the user log dir plus stderr.

The key is never logged (nothing logs it; ``KeyFilter`` scrubs it as a second guard).
Recognized text is logged only when ``[log] include_text`` is on (the controller decides).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

LOG_NAME = "voicetype.log"


class KeyFilter(logging.Filter):
    """Replaces the Azure key (every key the daemon has held) wherever it would appear in a
    record, tracebacks included."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self._keys: set[str] = set()
        self.add(key)

    def add(self, key: str) -> None:
        if key and len(key) >= 4:
            self._keys.add(key)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._keys:
            return True
        message = record.getMessage()
        if any(k in message for k in self._keys):
            for key in self._keys:
                message = message.replace(key, "********")
            record.msg = message
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if any(k in text for k in self._keys):
                for key in self._keys:
                    text = text.replace(key, "********")
                record.msg = f"{record.getMessage()}\n{text}"
                record.args = None
                record.exc_info = None
                record.exc_text = None
        return True


def scrub_secret(key: str) -> None:
    """Also keep ``key`` out of every log handler set up by ``setup_logging`` (a key that
    arrived with a configuration reload)."""
    for handler in logging.getLogger().handlers:
        for flt in handler.filters:
            if isinstance(flt, KeyFilter):
                flt.add(key)


def setup_logging(directory: Path, verbose: bool, key: str = "") -> tuple[Path | None, str]:
    """Configure the root logger; return (log file or None, a problem to tell the user).

    An unwritable log directory is not fatal: logging continues on stderr and the
    returned problem says where it tried and how to fix it.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    key_filter = KeyFilter(key)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.DEBUG if verbose else logging.WARNING)
    stderr.setFormatter(formatter)
    stderr.addFilter(key_filter)
    root.addHandler(stderr)
    path = directory / LOG_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        return None, (
            f"Cannot write the log file {path} ({exc.strerror}); logging to the terminal only. "
            f"Fix: make {directory} writable."
        )
    handler.setFormatter(formatter)
    handler.addFilter(key_filter)
    root.addHandler(handler)
    for noisy in ("PIL", "websockets", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path, ""
