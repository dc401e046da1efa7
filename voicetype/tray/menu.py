"""What the tray shows, whatever the backend: the menu's rows, the titles, the callbacks.

Pure (no desktop imports): every backend builds its menu from ``MENU_ROWS`` and
``SUBMENUS`` and calls the ``TrayActions`` through ``safe_call``/``safe_read``/
``safe_get``, so a failing callback is logged and never reaches the tray's loop.

Submenus (*Recent*, *Microphone*, *Language*) hold ``Row``s that ``submenu_rows`` makes
from the actions' getters each time the menu is opened or refreshed (like the check rows);
a click on a row calls its ``action``, which only enqueues work (``TrayActions``). A
submenu without rows (*Language* with one language) is hidden.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from voicetype.recognition.language import AUTOMATIC
from voicetype.state import State

log = logging.getLogger(__name__)

APP_NAME = "voicetype"

# Menu labels (tests click them by position; see MENU_ROWS).
DICTATE = "Dictate now"
STOP = "Stop dictation"  # the DICTATE row's label and action while listening
CANCEL = "Cancel dictation"  # shown only while listening, right below STOP
TYPE_LAST = "Type last dictation"
ENABLED = "Enabled"
AUTOSTART = "Start at login"
RECENT = "Recent"  # submenu: the last dictations, a click types one
MICROPHONE = "Microphone"  # submenu: the inputs, the one in use checked
LANGUAGE = "Language"  # submenu: the configured languages (hidden with only one)
AUTOMATIC_LABEL = "Automatic"  # the row of ``AUTOMATIC``: identify among the configured
OPEN_CONFIG = "Open configuration"
QUIT = "Quit"
STATUS_ROW = "<status>"  # the disabled first row showing the state, e.g. "Idle"
SEPARATOR = "-"
#: The menu's rows from top to bottom, on every backend that has a menu (with one
#: language configured: ``menu_rows`` gives the rows in each case; on Windows and macOS
#: there is no *Microphone*: its inputs are PulseAudio/PipeWire sources).
MENU_ROWS: tuple[str, ...] = (
    STATUS_ROW,
    SEPARATOR,
    DICTATE,
    TYPE_LAST,
    RECENT,
    MICROPHONE,
    ENABLED,
    AUTOSTART,
    OPEN_CONFIG,
    SEPARATOR,
    QUIT,
)

#: The rows while listening (the DICTATE row reads STOP, CANCEL appears below it).
LISTENING_ROWS: tuple[str, ...] = (
    STATUS_ROW,
    SEPARATOR,
    STOP,
    CANCEL,
    *MENU_ROWS[3:],
)


def menu_rows(*, listening: bool = False, languages: bool = False) -> tuple[str, ...]:
    """The rows shown: while listening (``LISTENING_ROWS``) or not, with the *Language*
    row (below *Microphone*) when more than one language is configured."""
    rows = LISTENING_ROWS if listening else MENU_ROWS
    if not languages:
        return rows
    at = rows.index(MICROPHONE) + 1
    return (*rows[:at], LANGUAGE, *rows[at:])


# Submenu rows.
SYSTEM_DEFAULT = "System default"  # the Microphone row for the desktop's default input
NO_MICROPHONES = "No microphones found"
LOOKING_FOR_MICROPHONES = "Looking for microphones…"  # before the first list arrived
NO_DICTATIONS = "No dictations yet"
#: Recent rows show at most this many characters of a dictation (with "…" when cut).
RECENT_LABEL_MAX = 40

_DETAIL_MAX = 120


def status_text(state: State, detail: str = "") -> str:
    """The menu's status row: the state's label, then the first line of ``detail``."""
    first = detail.strip().splitlines()[0].strip() if detail.strip() else ""
    if len(first) > _DETAIL_MAX:
        first = first[: _DETAIL_MAX - 1] + "…"
    return f"{state.label} — {first}" if first else state.label


def title_text(state: State, detail: str = "") -> str:
    """The icon's title/tooltip, e.g. ``voicetype — Listening…``."""
    return f"{APP_NAME} — {status_text(state, detail)}"


@dataclass(frozen=True)
class Microphones:
    """What the *Microphone* submenu offers: ``inputs`` as (source name, label) pairs, in
    the order sound settings list them (None: not listed yet; empty: none found or no
    sound server), and the source in use (``chosen``; "" = the system default).
    ``offered`` False: no submenu (choosing needs PulseAudio/PipeWire: not on Windows or
    macOS)."""

    inputs: tuple[tuple[str, str], ...] | None
    chosen: str = ""
    offered: bool = True


@dataclass(frozen=True)
class Level:
    """A snapshot of the open microphone while listening: its level (RMS, 0.0–1.0), how
    long it has delivered no sound (s), and its name as the user knows it."""

    level: float
    silent_for: float
    device: str


@dataclass(frozen=True)
class TrayActions:
    """The menu's callbacks. Each runs on the tray's loop thread and must only enqueue work
    or read state: blocking here freezes the tray. Exceptions are logged, not raised."""

    dictate: Callable[[], None]
    set_enabled: Callable[[bool], None]
    is_enabled: Callable[[], bool]
    set_autostart: Callable[[bool], None]
    is_autostart: Callable[[], bool]  # read at each menu opening and refresh
    open_config: Callable[[], None]
    quit: Callable[[], None]
    #: Types the kept text of a dictation that could not be typed into the focused window.
    type_last: Callable[[], None] = lambda: None
    #: Whether a text is kept (the "Type last dictation" row is greyed out otherwise).
    has_kept_text: Callable[[], bool] = lambda: False
    #: While listening the first row stops (types what was heard) and a row cancels.
    stop: Callable[[], None] = lambda: None
    cancel: Callable[[], None] = lambda: None
    is_listening: Callable[[], bool] = lambda: False
    #: The last dictations' texts, newest first (never a password field's: the history
    #: never holds one), for *Recent*; ``type_text`` types one into the focused window
    #: (through the controller, like "Type last dictation").
    recent: Callable[[], Sequence[str]] = lambda: ()
    type_text: Callable[[str], None] = lambda text: None
    #: The inputs for *Microphone* (must answer from a cache: never run pactl here);
    #: ``choose_microphone(name)`` ("" = the system default) applies to the next dictation.
    microphones: Callable[[], Microphones] = lambda: Microphones(None)
    choose_microphone: Callable[[str], None] = lambda name: None
    #: (the configured languages, the one in use) for *Language*; ``choose_language``
    #: switches to one.
    languages: Callable[[], tuple[tuple[str, ...], str]] = lambda: ((), "")
    choose_language: Callable[[str], None] = lambda code: None
    #: The open microphone's level while listening, None without one. Called on the
    #: tray's level thread (``voicetype.tray.level``), never on its loop: it may wait
    #: briefly for the capture.
    level: Callable[[], Level | None] = lambda: None


def first_row(actions: TrayActions) -> tuple[str, Callable[[], None]]:
    """The first action row's label and what a click does now: Stop while listening,
    else Dictate (read at each opening and state change, like the check rows)."""
    if safe_read(actions.is_listening):
        return STOP, actions.stop
    return DICTATE, actions.dictate


def safe_call(action: Callable[[], None]) -> None:
    """Run a menu action; an exception is logged, never raised into the tray's loop."""
    try:
        action()
    except Exception:
        log.exception("tray menu action failed")


def safe_read(getter: Callable[[], bool]) -> bool:
    """Read a menu state callback; an exception is logged and reads as False."""
    try:
        return bool(getter())
    except Exception:
        log.exception("tray menu state callback failed")
        return False


T = TypeVar("T")


def safe_get(getter: Callable[[], T], default: T) -> T:
    """Read a menu content callback; an exception is logged and reads as ``default``."""
    try:
        return getter()
    except Exception:
        log.exception("tray menu content callback failed")
        return default


@dataclass(frozen=True)
class Row:
    """One row of a submenu. ``checked`` None: a plain row; True/False: one of a group of
    radio rows. A row that is not ``enabled`` is greyed out (its ``action`` is never
    called). Rows compare equal when they show the same thing for the same ``key`` (a
    source name, a dictation's whole text), whatever their action."""

    label: str
    key: str = ""
    checked: bool | None = None
    enabled: bool = True
    action: Callable[[], None] = field(default=lambda: None, compare=False, repr=False)


def greyed(label: str) -> Row:
    return Row(label, enabled=False)


def shorten(text: str, limit: int = RECENT_LABEL_MAX) -> str:
    """``text`` on one line (runs of white space, line breaks included, become one space),
    cut to ``limit`` characters with "…" as the last one when it is longer (a space or a
    comma-like mark at the cut is dropped: "characters…", not "characters,…")."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip(" ,;:") + "…"


def recent_rows(actions: TrayActions) -> tuple[Row, ...]:
    """*Recent*: one row per dictation, newest first, shortened; a click types its whole
    text. "No dictations yet" (greyed) when there is none."""
    empty: Sequence[str] = ()
    texts = tuple(t for t in safe_get(actions.recent, empty) if t.strip())
    if not texts:
        return (greyed(NO_DICTATIONS),)
    return tuple(
        Row(shorten(text), key=text, action=_bind(actions.type_text, text)) for text in texts
    )


def microphone_rows(actions: TrayActions) -> tuple[Row, ...]:
    """*Microphone*: "System default", then each input, the one in use checked (the
    default when the chosen one is not listed: that is what a dictation then uses).
    "No microphones found" (greyed) when the list is empty; "Looking for microphones…"
    (greyed) before it arrived; no rows (hidden) where inputs cannot be chosen."""
    mics = safe_get(actions.microphones, Microphones(None))
    if not mics.offered:
        return ()
    if mics.inputs is None:
        return (greyed(LOOKING_FOR_MICROPHONES),)
    if not mics.inputs:
        return (greyed(NO_MICROPHONES),)
    listed = {name for name, _ in mics.inputs}
    chosen = mics.chosen if mics.chosen in listed else ""
    choose = actions.choose_microphone
    rows = [Row(SYSTEM_DEFAULT, key="", checked=not chosen, action=_bind(choose, ""))]
    rows += [
        Row(label, key=name, checked=name == chosen, action=_bind(choose, name))
        for name, label in mics.inputs
    ]
    return tuple(rows)


def language_rows(actions: TrayActions) -> tuple[Row, ...]:
    """*Language*: one radio row per configured language, the one in use checked; no rows
    (the submenu is hidden) with fewer than two."""
    none: tuple[tuple[str, ...], str] = ((), "")
    choices, current = safe_get(actions.languages, none)
    if len(choices) < 2:
        return ()
    choose = actions.choose_language
    return tuple(
        Row(
            AUTOMATIC_LABEL if code == AUTOMATIC else code,
            key=code,
            checked=code == current,
            action=_bind(choose, code),
        )
        for code in choices
    )


#: The submenus, in the menu's order, with the function that makes their rows.
SUBMENUS: tuple[tuple[str, Callable[[TrayActions], tuple[Row, ...]]], ...] = (
    (RECENT, recent_rows),
    (MICROPHONE, microphone_rows),
    (LANGUAGE, language_rows),
)


def submenu_rows(actions: TrayActions) -> dict[str, tuple[Row, ...]]:
    """Each submenu's rows now (read at each opening and refresh, like the check rows)."""
    return {label: make(actions) for label, make in SUBMENUS}


def _bind(action: Callable[[str], None], value: str) -> Callable[[], None]:
    return lambda: action(value)


def toggles(actions: TrayActions) -> dict[str, Callable[[], None]]:
    """What a click on each check row does: set the opposite of the *current* value (read
    from the callback, not from the row, which may be stale)."""
    return {
        ENABLED: lambda: actions.set_enabled(not safe_read(actions.is_enabled)),
        AUTOSTART: lambda: actions.set_autostart(not safe_read(actions.is_autostart)),
    }
