"""The values the text pipeline takes and gives: pure data, no behaviour beyond helpers.

Everything here is immutable and safe to share between threads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phrase:
    """One recognized phrase, in the forms the service gives (empty when it gave none).

    ``display`` has the service's punctuation and capitals; ``lexical`` is the words as
    heard (lower case, no punctuation); ``itn``/``masked_itn`` have numbers normalized.
    ``language`` is the BCP-47 code the service recognized ("" when not known: the
    pipeline uses ``TextSettings.language``). ``shaped``: text the pipeline gave before
    (a dictation typed again): only joined to the text before the caret (space,
    capitals), never a spoken command, spoken punctuation or a replacement again.
    """

    display: str
    lexical: str = ""
    itn: str = ""
    masked_itn: str = ""
    language: str = ""
    shaped: bool = False


@dataclass(frozen=True)
class CaretContext:
    """What is known about the place the text goes to.

    ``before``: the text before the caret (only its tail matters; a few dozen characters
    are plenty), "" when the caret is at the start of the field, None when unknown.
    ``after``: the text after the caret on the same terms. ``is_password``: the focused
    widget is a password field — nothing about its text is read or kept.
    ``is_terminal``: the window is a terminal (a line break would run a command).
    """

    before: str | None = None
    after: str | None = None
    is_password: bool = False
    is_terminal: bool = False

    @property
    def at_field_start(self) -> bool:
        return self.before == ""


UNKNOWN = CaretContext()


@dataclass(frozen=True)
class Typed:
    """One dictation voicetype typed: ``text`` exactly as inserted into ``window`` at
    ``at`` (a monotonic time in seconds), after erasing ``erased`` (the characters it
    removed first, e.g. the period of the dictation it continued). ``window`` None: the
    window is not known (Wayland, where neither the compositor nor AT-SPI names it); only
    a hands-free session's own chain holds those."""

    window: int | None
    text: str
    at: float
    erased: str = ""


@dataclass(frozen=True)
class Previous:
    """The memory of the last dictation, as the pipeline sees it.

    ``typed`` is None when voicetype remembers nothing; ``keys_since`` is True when the
    user pressed any key after it was typed (then it is no guide to the caret any more).
    ``unread`` is True when voicetype typed into this window last but can neither read its
    text nor watch the user's keys (Wayland without AT-SPI text): ``typed`` is then None,
    and a "scratch that" is refused saying why.
    """

    typed: Typed | None = None
    keys_since: bool = False
    unread: bool = False


NOTHING_BEFORE = Previous()


@dataclass(frozen=True)
class Notice:
    """Why the pipeline refused to act, in plain words, with what to do instead."""

    message: str
    fix: str = ""

    def as_text(self) -> str:
        return f"{self.message} {self.fix}".strip()


@dataclass(frozen=True)
class Outcome:
    """What to do in the focused window, in this order: erase ``backspaces`` characters
    (user-perceived characters, see ``graphemes.count``; they are exactly ``erase``),
    then insert ``text``. Both may be empty.

    ``notice`` is set when something was refused (e.g. "scratch that" with nothing safe
    to remove): tell the user once. ``scratch`` is True when this undoes the previous
    dictation (``DictationMemory.commit`` then forgets it). ``private`` is True for a
    password field: the text must not be remembered, logged or put in the history.
    """

    text: str = ""
    backspaces: int = 0
    erase: str = ""
    notice: Notice | None = None
    scratch: bool = False
    private: bool = False
    language: str = ""

    @property
    def does_something(self) -> bool:
        return bool(self.text or self.backspaces)
