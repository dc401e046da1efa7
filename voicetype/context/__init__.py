"""Reading the text around the caret of the focused widget (for joining dictations).

``CaretReader.read(pid)`` returns a ``voicetype.text.CaretContext`` or None when nothing
could be learned in time — then the caller falls back to ``DictationMemory``. A password
field gives ``CaretContext(is_password=True)`` and its text is never read.

Backends: ``atspi`` (Linux; a helper process owns libatspi, see ``atspi.py``) and ``none``.
``caret_reader()`` chooses; ``VOICETYPE_CARET=none`` turns reading off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Protocol

from voicetype.context.focus import Focus
from voicetype.text.model import CaretContext

ENV_CARET = "VOICETYPE_CARET"


class CaretReader(Protocol):
    """Threading: ``read`` may be called from one thread at a time (the controller's); it
    returns within ``timeout`` seconds (plus a millisecond or so) whatever the focused
    application does, never raises, and never logs the text it read. ``close`` ends
    whatever the reader started; it is idempotent."""

    def read(self, pid: int | None, timeout: float = 0.1) -> CaretContext | None: ...

    def focused(self, timeout: float = 0.1) -> Focus | None:
        """The focused accessible of the active window in any application (Wayland: the
        compositor does not say), on the same terms as ``read``; None when not known."""
        ...

    def close(self) -> None: ...


class NoCaretReader:
    """Knows nothing: joining relies on voicetype's own memory."""

    def read(self, pid: int | None, timeout: float = 0.1) -> CaretContext | None:
        return None

    def focused(self, timeout: float = 0.1) -> Focus | None:
        return None

    def close(self) -> None:
        return None


def caret_reader(env: Mapping[str, str] | None = None) -> CaretReader:
    """The AT-SPI reader on Linux, else ``NoCaretReader``. Returns at once: the reader's
    helper process starts in the background (reads return None until it is ready; it
    runs until ``close``). Never raises: when AT-SPI cannot start, the problem is logged
    once and reading is off."""
    env = os.environ if env is None else env
    if env.get(ENV_CARET, "").lower() == "none" or not sys.platform.startswith("linux"):
        return NoCaretReader()
    from voicetype.context.atspi import AtspiCaretReader

    reader = AtspiCaretReader()
    reader.start()
    return reader
