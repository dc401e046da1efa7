"""Telling the user things: the ``Notifier`` interface and the one place that chooses one.

Backends: ``freedesktop`` (org.freedesktop.Notifications over D-Bus with jeepney, Linux),
``tray`` (pystray's own ``notify`` elsewhere), ``log`` (the fallback: log line only).
"""

from __future__ import annotations

import enum
from typing import Protocol


class Urgency(enum.IntEnum):
    LOW = 0
    NORMAL = 1
    CRITICAL = 2


class Notifier(Protocol):
    """Shows a desktop notification.

    Threading: called from the controller thread; must not block for more than ~1 s.
    ``notify`` returns True when a notification service took the message and False when
    none could (the caller then shows it another way: tooltip, log). It never raises.
    Successive notifications replace the previous one from voicetype rather than
    stacking up.
    """

    def notify(self, summary: str, body: str, urgency: Urgency = Urgency.NORMAL) -> bool: ...

    def close(self) -> None: ...
