"""The daemon's states and the ``Status`` snapshot, shared by the controller (which owns
them), the tray, the icons and the control commands.

Pure: no desktop imports.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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


@dataclass(frozen=True)
class Status:
    """A frozen snapshot of the controller's state, published by the controller thread
    after every change; any thread may read it (``Controller.status``) and never sees a
    half-made change. Holds no dictated text."""

    state: State = State.IDLE
    detail: str = ""  # the tooltip's words besides the state (an error's cause and fix…)
    enabled: bool = True
    last_outcome: str = ""  # what the last dictation did; "" before the first
    kept_text: bool = False  # a dictation that could not be typed is kept for "Type last"
    dictations: int = 0
    backends: tuple[tuple[str, str], ...] = ()  # (part, what runs it), for `status`
