"""Putting text into the focused window: the ``Inserter`` interface and the one place
that chooses a backend for this platform and ``[typing] method``.

Backends: ``x11`` (XTEST typing with temporary keysym mappings, restored afterwards),
``clipboard`` (paste, restoring the user's clipboard; its owner thread in
``clipboard_owner``), ``windows`` (SendInput with KEYEVENTF_UNICODE), ``macos`` (Quartz via
pynput), and the Wayland ones (``wayland_select``). Each imports its platform packages
lazily, inside the backend module.

Shared pieces: ``template`` (the ``Inserter.insert`` contract written once: sanitize → wait
for modifiers → ensure focus → shape → deliver in chunks with focus checks → restore; the
X11, clipboard, Windows and macOS inserters are its ports), ``x11_session`` (one X
connection: atoms, server time, event wait, window and focus queries) with ``x11_keys``
(XTEST keys, held modifiers, Caps Lock, the Escape grab), ``keymap`` (pure planning of
keys and temporary bindings), ``apps`` (the pure per-application table: terminal?, paste
keys, non-BMP typing, typing rate).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

from voicetype.errors import VoicetypeError

if TYPE_CHECKING:
    from voicetype.config import Config


class InsertionError(VoicetypeError):
    """The text could not be inserted; nothing (or only a known prefix) was typed."""


class TargetGone(InsertionError):
    """The window that had focus at the hotkey press no longer exists; nothing was typed."""


class TypingStopped(InsertionError):
    """The user pressed Escape while the text was being typed: ``typed`` of ``total``
    characters were sent to the window, the rest was not."""

    def __init__(self, typed: int, total: int) -> None:
        super().__init__(f"Typing stopped (Escape) after {typed} of {total} characters")
        self.typed = typed
        self.total = total


class NothingPasted(InsertionError):
    """The paste keys were pressed but nobody fetched the text: certainly nothing was
    inserted, so typing it instead cannot insert it twice."""


#: The keys ``Inserter.press`` presses (X keysym names).
Key = Literal["BackSpace", "Return"]


class Target(Protocol):
    """An opaque handle on the window that had focus at the hotkey press."""


class Inserter(Protocol):
    """Types text exactly into a window.

    Threading: all methods are called from one thread (the controller's dictation
    worker), one call at a time.
    ``focused_target`` is called at the hotkey press and must be fast (< 5 ms).
    ``insert`` first waits (bounded) until the user has released every modifier key,
    gives focus back to ``target`` if it moved, then inserts ``text`` exactly: every
    character, nothing else, never a key combination — shaped for that window: trailing
    line breaks stripped, and in terminals line breaks and tabs become spaces. It leaves the
    keymap and the clipboard as they were. Raises ``TargetGone`` when ``target`` has
    disappeared, ``TypingStopped`` when the user pressed Escape while typing, and
    ``InsertionError`` for other failures; it never types into another window.
    ``press`` presses ``key`` ``count`` times in ``target``, with the same waits, focus
    check and errors as ``insert``: ``"BackSpace"`` (the text pipeline's "scratch that"
    and the period it takes back) or ``"Return"`` (a spoken "new line" at the end of a
    dictation, which ``insert`` would strip; refused in terminals). A backend that cannot
    press keys raises ``InsertionError`` saying so, before pressing anything.
    """

    def focused_target(self) -> Target | None: ...

    def insert(self, text: str, target: Target | None) -> None: ...

    def press(self, key: Key, count: int, target: Target | None) -> None: ...

    def close(self) -> None: ...


def refuse_press(key: Key, count: int, where: str) -> None:
    """``Inserter.press`` of a backend that cannot press keys yet (``where``: "on Windows"):
    raises ``InsertionError`` before pressing anything; a count of 0 asks nothing."""
    if count > 0:
        raise InsertionError(
            f"pressing {key} (“scratch that”, “new line”) is not supported {where} yet;"
            " nothing was changed",
            fix="edit the text by hand (Ctrl+Z undoes a dictation in most applications)",
        )


def sanitize(text: str) -> str:
    """Drop control characters other than newline and tab (they could act as keys)."""
    return "".join(
        ch for ch in text.replace("\r\n", "\n").replace("\r", "\n")
        if ch in "\n\t" or not (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0)
    )  # fmt: skip


def choose_inserter(config: Config) -> Inserter:
    """The inserter for this platform and ``config.typing.method``.

    Raises ``BackendUnavailable`` naming what is missing and how to install it.
    """
    from voicetype.insertion.select import select_inserter

    return select_inserter(config.typing.method)
