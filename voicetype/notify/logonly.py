"""The fallback ``Notifier``: a log line, nothing on screen."""

from __future__ import annotations

import logging

from voicetype.notify import Urgency

log = logging.getLogger(__name__)

_LEVELS = {Urgency.LOW: logging.INFO, Urgency.NORMAL: logging.WARNING}


class LogNotifier:
    """Logs that a message could not be shown (its summary only: the caller logs the whole
    message under its own privacy rule, and a body may hold dictated text) and returns
    False, so the caller also shows it another way (tray title). Any thread."""

    def notify(self, summary: str, body: str, urgency: Urgency = Urgency.NORMAL) -> bool:
        log.log(_LEVELS.get(urgency, logging.ERROR), "not shown (no notification service): %s",
                summary)  # fmt: skip
        return False

    def close(self) -> None:
        pass
