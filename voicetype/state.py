"""The daemon's states, shared by the controller (which owns them), the tray and the icons.

Pure: no desktop imports.
"""

from __future__ import annotations

import enum


class State(enum.Enum):
    IDLE = "idle"
    LISTENING = "listening"
    RECOGNIZING = "recognizing"
    TYPING = "typing"
    DISABLED = "disabled"
    ERROR = "error"

    @property
    def label(self) -> str:
        """The state in words, as shown in the tooltip and the menu's status row."""
        return _LABELS[self]


_LABELS = {
    State.IDLE: "Idle",
    State.LISTENING: "Listening…",
    State.RECOGNIZING: "Recognizing…",
    State.TYPING: "Typing…",
    State.DISABLED: "Disabled",
    State.ERROR: "Error",
}
