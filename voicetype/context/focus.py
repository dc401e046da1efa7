"""Which window has the keyboard focus, as the accessibility bus (AT-SPI) tells it: for
Wayland desktops, whose compositors tell an ordinary client nothing about other windows.

``Focus`` is what the AT-SPI helper reports for the focused accessible of the active
window (``CaretReader.focused``); the rest is pure and table-tested:

- ``is_terminal(focus)``: True unless voicetype knows the window is not a terminal — no
  focus known (foot and kitty have no AT-SPI; an application that did not answer in
  time) counts as a terminal, as does role TERMINAL (VTE terminals, Konsole) or an
  application named like a terminal (``TERMINAL_APP_IDS``, or a name containing "term"
  or "console": erring that way only costs a Return typed as a space).
- ``identity(focus)``: the window's identity for ``DictationMemory`` (an int, as X11
  window ids are): the application's process id and its toplevel's bus name and object
  path, hashed; None when no focus is known (then "scratch that" is refused).
- ``terminal_probe(reader)``: the ``() -> bool | None`` that ``PortalInserter.is_terminal``
  and the virtual keyboard take, bounded by ``PROBE_TIMEOUT``; ``wire`` gives it to an
  inserter that takes one (the daemon's composition root and ``voicetype once``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voicetype.insertion.wayland_vk import TERMINAL_APP_IDS

log = logging.getLogger(__name__)

#: The longest a terminal question may take (seconds); no answer: a terminal.
PROBE_TIMEOUT = 0.1


@dataclass(frozen=True)
class Focus:
    """The focused accessible: its application's name and process id, its role name
    ("text", "terminal", …), whether that role is TERMINAL, and its toplevel window
    (bus name + object path, "" when not known)."""

    app: str
    pid: int | None
    role: str
    terminal_role: bool = False
    window: str = ""


class FocusSource(Protocol):
    def focused(self, timeout: float = PROBE_TIMEOUT) -> Focus | None: ...


def is_terminal(focus: Focus | None) -> bool:
    if focus is None or focus.terminal_role or focus.role.lower() == "terminal":
        return True
    name = focus.app.strip().lower()
    if not name:
        return True  # an application that does not name itself: not known
    dashed = name.replace(" ", "-")
    return (
        name in TERMINAL_APP_IDS
        or dashed in TERMINAL_APP_IDS
        or name.rsplit(".", 1)[-1] in TERMINAL_APP_IDS
        or "term" in name
        or "console" in name
    )


def identity(focus: Focus | None) -> int | None:
    """A stable positive int for the focused window (see the module doc)."""
    if focus is None or focus.pid is None:
        return None
    key = f"{focus.pid}\0{focus.window or focus.app}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=7).digest(), "big") or 1


def terminal_probe(source: FocusSource, timeout: float = PROBE_TIMEOUT) -> Callable[[], bool]:
    """``() -> bool``: whether the window focused now is a terminal (or not known), asked
    of ``source`` within ``timeout``. Never raises. Threading: as ``source.focused``."""

    def probe() -> bool:
        start = time.monotonic()
        try:
            focus = source.focused(timeout)
        except Exception:  # a reader that misbehaves must not stop typing: a terminal
            log.debug("the focus query failed", exc_info=True)
            focus = None
        answer = is_terminal(focus)
        log.debug(
            "focused: %s (%s), terminal: %s (%.1f ms)",
            focus.app if focus else "not known",
            focus.role if focus else "-",
            answer,
            (time.monotonic() - start) * 1000,
        )
        return answer

    return probe


def wire(inserter: object, source: FocusSource) -> None:
    """Give ``inserter`` the terminal probe over ``source`` when it takes one (it has an
    ``is_terminal`` attribute: the portal, the virtual keyboard); others are left alone."""
    if hasattr(inserter, "is_terminal"):
        setattr(inserter, "is_terminal", terminal_probe(source))  # noqa: B010
