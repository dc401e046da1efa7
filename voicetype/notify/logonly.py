"""The fallback ``Notifier``: a log line, nothing on screen."""

from __future__ import annotations

import logging

from voicetype.notify import Urgency

log = logging.getLogger(__name__)

_LEVELS = {Urgency.LOW: logging.INFO, Urgency.NORMAL: logging.WARNING}


class LogNotifier:
    """Logs each message (INFO for low urgency, WARNING otherwise, ERROR for critical) and
    returns False, so the caller also shows it another way (tray title). Any thread."""

    def notify(self, summary: str, body: str, urgency: Urgency = Urgency.NORMAL) -> bool:
        log.log(_LEVELS.get(urgency, logging.ERROR), "%s: %s", summary, body)
        return False

    def close(self) -> None:
        pass
