"""Logging for the daemon: a rotating file in the user log dir plus stderr.

The key is never logged (nothing logs it; ``KeyFilter`` scrubs it as a second guard).
Recognized text is logged only when ``[log] include_text`` is on (the controller decides).
The log directory is kept 0700 and every log file 0600 (new, rotated and existing ones:
``setup_logging`` tightens what an older version left 0755/0644), so no other local
user can read the log.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import stat
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


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A ``RotatingFileHandler`` whose files (the first one and each one a rotation starts)
    are created readable and writable by the owner only, whatever the umask."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        # the handler keeps the stream open and closes it itself
        stream = open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115
        assert isinstance(stream, io.TextIOWrapper)
        return stream


def make_private(directory: Path) -> None:
    """Create ``directory`` (and missing parents) 0700; make it 0700 and every
    ``voicetype.log*`` file in it 0600 if they are looser. Raises ``OSError`` when the
    directory cannot be created; files that cannot be changed are left as they are."""
    old_umask = os.umask(0o077)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    finally:
        os.umask(old_umask)
    if stat.S_IMODE(directory.stat().st_mode) != 0o700:
        os.chmod(directory, 0o700)
    for path in directory.glob(LOG_NAME + "*"):
        try:
            if path.is_file() and stat.S_IMODE(path.stat().st_mode) & 0o077:
                os.chmod(path, 0o600)
        except OSError:
            continue


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
        make_private(directory)
        handler = PrivateRotatingFileHandler(
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
