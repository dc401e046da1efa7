"""What the tray shows, whatever the backend: the menu's rows, the titles, the callbacks.

Pure (no desktop imports): every backend builds its menu from ``MENU_ROWS`` and calls the
``TrayActions`` through ``safe_call``/``safe_read``, so a failing callback is logged and
never reaches the tray's loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

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
OPEN_CONFIG = "Open configuration"
QUIT = "Quit"
STATUS_ROW = "<status>"  # the disabled first row showing the state, e.g. "Idle"
SEPARATOR = "-"
#: The menu's rows from top to bottom, on every backend that has a menu.
MENU_ROWS: tuple[str, ...] = (
    STATUS_ROW,
    SEPARATOR,
    DICTATE,
    TYPE_LAST,
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


def toggles(actions: TrayActions) -> dict[str, Callable[[], None]]:
    """What a click on each check row does: set the opposite of the *current* value (read
    from the callback, not from the row, which may be stale)."""
    return {
        ENABLED: lambda: actions.set_enabled(not safe_read(actions.is_enabled)),
        AUTOSTART: lambda: actions.set_autostart(not safe_read(actions.is_autostart)),
    }
