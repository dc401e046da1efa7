"""The one policy for telling the user something.

Every message goes to a desktop notification when a notification service takes it, else
to the tray tooltip (the controller shows ``Feedback.note`` there), and always to the log
— marked "(no notification service)" when it was not shown. Dictated text reaches the
log only when the user asked for it (``[log] include_text``): a message that carries it
names it (``dictated=``), and the log gets the summary without it.

Threading: the controller thread only (the controller owns the tooltip it feeds); other
threads tell the user through ``Controller.tell``.
"""

from __future__ import annotations

import logging

from voicetype.notify import Notifier, Urgency
from voicetype.recognition.messages import Message

log = logging.getLogger(__name__)

#: Written in the log instead of dictated text when ``include_text`` is off.
TEXT_NOT_LOGGED = "(text not logged)"


class Feedback:
    """Tells the user (see the module doc); ``include_text`` follows ``[log] include_text``
    and is set by the controller when it applies new settings."""

    def __init__(self, notifier: Notifier, include_text: bool = False) -> None:
        self.notifier = notifier
        self.include_text = include_text
        #: The last message no notification service showed ("" when none since
        #: ``clear_note``): the tooltip's fallback.
        self.note = ""

    def tell(self, message: Message, urgency: Urgency, *, dictated: str | None = None) -> bool:
        """Notify, else keep the message as ``note``; log it either way (LOW at INFO, the
        rest at WARNING). ``dictated``: the dictated text the message's body holds, kept
        out of the log unless ``include_text``. Returns whether a notification was shown.
        Never raises for the notifier (its contract), blocks at most ~1 s."""
        delivered = self.notifier.notify(message.summary, message.body, urgency)
        level = logging.INFO if urgency == Urgency.LOW else logging.WARNING
        text = message.as_text()
        if dictated is not None and not self.include_text:
            text = f"{message.summary} {TEXT_NOT_LOGGED}"
        log.log(level, "%s%s", text, "" if delivered else " (no notification service)")
        if not delivered:
            self.note = message.as_text()
        return delivered

    def clear_note(self) -> None:
        """A new dictation starts: the tooltip no longer needs the last message."""
        self.note = ""

    def loggable(self, dictated: str | None) -> str:
        """What a log line may say about ``dictated``: `` text='…'`` with
        ``include_text``, else nothing."""
        if dictated is None or not self.include_text:
            return ""
        return f" text={dictated!r}"
