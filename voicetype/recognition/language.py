"""The dictation language chosen at run time: ``LanguageSwitch`` (pure, no SDK).

``[azure] language`` lists the languages a user dictates in. With more than one, the
service identifies which one is spoken ("automatic", the default); ``voicetype language
CODE`` and the tray's Language menu *pin* one of them: the next dictations are recognized
in that language only (no identification, so no identification delay and no wrong guess),
until the user chooses "automatic" again. Nothing is written to the configuration file; a
restart starts automatic again. A reload keeps the choice while the pinned language is
still configured (``LanguageSwitch.carried_over``).

Threading: every method may be called from any thread and returns at once (a lock around
two values). ``choose_language`` (the tray's loop, a control worker) only sets the value;
the recognizer reads ``candidates()`` when it starts the next session (on the controller's
worker), so a switch never touches a dictation under way. ``heard`` is called from the
SDK's threads when a phrase arrives with an identified language.
"""

from __future__ import annotations

import threading

from voicetype.errors import VoicetypeError

#: The choice that lets the service identify among every configured language.
AUTOMATIC = "auto"


class UnknownLanguage(VoicetypeError):
    """A language that is not among ``[azure] language`` was chosen."""


class LanguageSwitch:
    """The configured languages, the pinned one ("" = automatic) and the last identified."""

    def __init__(self, configured: tuple[str, ...], pinned: str = "") -> None:
        if not configured:
            raise ValueError("at least one language is configured")
        self.configured = configured
        self._lock = threading.Lock()
        self._pinned = pinned if pinned in configured and len(configured) > 1 else ""
        self._heard = ""

    # -------------------------------------------------------------- the tray's API

    def languages(self) -> tuple[tuple[str, ...], str]:
        """(choices, current) for a menu: with several languages the choices are
        ``AUTOMATIC`` then the configured codes, and ``current`` is ``AUTOMATIC`` or the
        pinned code; with one language, just that one."""
        if len(self.configured) == 1:
            return self.configured, self.configured[0]
        with self._lock:
            return (AUTOMATIC, *self.configured), self._pinned or AUTOMATIC

    def choose_language(self, code: str) -> None:
        """Pin ``code`` (matched ignoring case) for the next dictations, or
        ``AUTOMATIC``; raises ``UnknownLanguage`` (message and fix) for anything else."""
        wanted = code.strip()
        if wanted.lower() in (AUTOMATIC, "automatic"):
            with self._lock:
                self._pinned = ""
            return
        match = next((c for c in self.configured if c.lower() == wanted.lower()), None)
        if match is None:
            allowed = ", ".join(self.configured)
            also = f" or {AUTOMATIC}" if len(self.configured) > 1 else ""
            raise UnknownLanguage(
                f"{wanted or 'an empty name'} is not one of the configured languages ({allowed})",
                f"choose one of {allowed}{also}, or add it to `language` under [azure] in "
                "config.toml and run `voicetype reload`",
            )
        with self._lock:
            self._pinned = match if len(self.configured) > 1 else ""

    # -------------------------------------------------------------- the recognizer's

    def candidates(self) -> tuple[str, ...]:
        """The languages the next session offers the service: the pinned one, or all."""
        with self._lock:
            return (self._pinned,) if self._pinned else self.configured

    def heard(self, language: str) -> None:
        """The service identified ``language`` in the last phrase."""
        with self._lock:
            self._heard = language

    # -------------------------------------------------------------- reading

    @property
    def pinned(self) -> str:
        with self._lock:
            return self._pinned

    @property
    def last_heard(self) -> str:
        with self._lock:
            return self._heard

    def describe(self) -> str:
        """The language in words for the tooltip and ``status``, e.g. "de-DE (identified;
        automatic among en-US, de-DE)", "de-DE (chosen)", "en-US"."""
        if len(self.configured) == 1:
            return self.configured[0]
        with self._lock:
            pinned, heard = self._pinned, self._heard
        if pinned:
            return f"{pinned} (chosen; automatic: `voicetype language auto`)"
        among = ", ".join(self.configured)
        if heard:
            return f"{heard} (identified; automatic among {among})"
        return f"automatic among {among}"

    def carried_over(self, configured: tuple[str, ...]) -> LanguageSwitch:
        """The switch for a reloaded configuration: this one when the languages did not
        change; else a new one keeping the pinned language if it is still configured."""
        if configured == self.configured:
            return self
        return LanguageSwitch(configured, self.pinned)
