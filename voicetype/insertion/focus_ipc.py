"""Which window has focus, as the compositor's own IPC tells it, and giving focus back.

Wayland tells an ordinary client nothing about other windows; some compositors answer on
an IPC socket of their own: sway (and i3-compatible ones) in ``sway_ipc``, Hyprland in
``hyprland_ipc``. Both sit behind ``FocusIpc``; ``find_focus_ipc`` is the one place that
picks one for an environment (None: the compositor names no window — river, labwc,
Wayfire, or a socket that is not there — and callers treat the window as unknown).

The virtual-keyboard inserter (``wayland_vk``) uses it for the terminal rule (a line
break is never Return in a terminal), to give focus back to the dictated window before
typing, to say the window has closed (``TargetGone``), and as the window's identity for
the text memory (``Window.id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Window:
    """A window as the compositor names it: ``id`` is its identity there (sway's
    ``con_id``, an int; Hyprland's ``address``, a string such as ``"0x55d0c1a2b3c0"``),
    ``app_id`` the Wayland app_id or X11 class, lower-cased, and ``xwayland`` whether it
    runs through XWayland."""

    id: int | str
    app_id: str
    xwayland: bool


class FocusIpc(Protocol):
    """One compositor's IPC. Every call opens its own short connection, bounded by the
    implementation's timeout. Errors: ``OSError`` (socket gone, timeout) and
    ``ValueError`` (an answer that is not what the published interface says) from
    ``focused``, ``exists`` and ``focus``. Threading: no shared state; any thread."""

    #: The compositor's name for messages ("sway", "Hyprland").
    name: str
    #: What the user can run to check the IPC works (the fix of an error message).
    check_command: str

    def focused(self) -> Window | None:
        """The focused window, or None when focus is on no window."""
        ...

    def exists(self, window: Window) -> bool:
        """Whether the window is still open."""
        ...

    def focus(self, window: Window) -> bool:
        """Give focus to the window; True if the compositor did."""
        ...


def find_focus_ipc(env: Mapping[str, str]) -> FocusIpc | None:
    """The focus IPC of the compositor this environment names, or None. Hyprland first
    (``HYPRLAND_INSTANCE_SIGNATURE``), then sway (``SWAYSOCK`` or a ``sway-ipc.*.sock``
    in ``XDG_RUNTIME_DIR``). Only looks for the socket file; never connects."""
    from voicetype.insertion.hyprland_ipc import HyprlandIpc
    from voicetype.insertion.sway_ipc import SwayIpc

    hyprland = HyprlandIpc.find(env)
    if hyprland is not None:
        return hyprland
    return SwayIpc.find(env)
