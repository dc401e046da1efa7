"""Exceptions that carry a plain-words message and the fix.

Helpers raise these; one boundary (``cli.main`` for commands, ``app`` for the daemon)
turns them into a stderr line with an exit status or a notification. Messages never
contain the Azure key.
"""

from __future__ import annotations


class VoicetypeError(Exception):
    """A problem the user can act on.

    ``message`` says what is wrong, ``fix`` what to do about it (may be empty).
    """

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  Fix: {self.fix}" if self.fix else self.message


class ConfigError(VoicetypeError):
    """The configuration file or environment is invalid (CLI exit status 2)."""


class BackendUnavailable(VoicetypeError):
    """A platform backend (tray, typing, notifications, hotkeys) cannot run here."""
