"""Which Wayland desktop this is, and the one function that picks the typing path there.

==================================  ======================================================
session (``detect_session``)        ``select_wayland_inserter``
==================================  ======================================================
sway, Hyprland, river, labwc,       ``VirtualKeyboardInserter`` (zwp_virtual_keyboard_v1,
Wayfire, other/unknown Wayland      own keymap per text); ``BackendUnavailable`` when the
                                    compositor lacks the protocol
GNOME, KDE Plasma                   ``PortalInserter`` (xdg-desktop-portal RemoteDesktop:
                                    keysyms of the layout, clipboard + paste for the rest)
X11 session / no Wayland            ``BackendUnavailable`` (the X11 backends apply)
==================================  ======================================================

``wtype`` is not a fallback: it drives the same protocol, so where the virtual keyboard
is missing it fails too (and it is ~20 times slower where it works).

``detect_session`` is pure (environment in, ``Session`` out) and table-tested; the
desktop comes from ``XDG_CURRENT_DESKTOP`` (colon-separated, e.g. ``ubuntu:GNOME``), then
from compositor-specific variables (``SWAYSOCK``, ``HYPRLAND_INSTANCE_SIGNATURE``,
``KDE_FULL_SESSION``). On sway and Hyprland the virtual keyboard learns the focused
window from the compositor's IPC (``focus_ipc.find_focus_ipc``, the one place that picks
it); elsewhere from AT-SPI. ``VOICETYPE_WAYLAND_BACKEND`` (``vk`` | ``portal``) overrides the
choice. ``describe`` gives the one-line text for ``status`` and ``doctor``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from voicetype.errors import BackendUnavailable
from voicetype.insertion import Inserter

WLROOTS = ("sway", "hyprland", "river", "labwc", "wayfire", "niri", "wlroots")
BACKENDS = ("vk", "portal")
#: Desktops whose compositor names the focused window over its own IPC (``focus_ipc``).
FOCUS_IPC_DESKTOPS = ("sway", "hyprland")


@dataclass(frozen=True)
class Session:
    """``kind`` is "wayland", "x11" or "none"; ``desktop`` one of "gnome", "kde",
    ``WLROOTS`` or "unknown"; ``xwayland`` is True when X11 apps can be reached too
    (``DISPLAY`` set in a Wayland session)."""

    kind: str
    desktop: str
    xwayland: bool = False

    @property
    def backend(self) -> str | None:
        """The Wayland typing path this session uses: "vk", "portal" or None."""
        if self.kind != "wayland":
            return None
        return "portal" if self.desktop in ("gnome", "kde") else "vk"


def detect_session(env: Mapping[str, str]) -> Session:
    wayland = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"
    display = bool(env.get("DISPLAY"))
    if not wayland:
        return Session("x11" if display else "none", _desktop(env) if display else "unknown")
    return Session("wayland", _desktop(env), xwayland=display)


def _desktop(env: Mapping[str, str]) -> str:
    names = [n.strip().lower() for n in env.get("XDG_CURRENT_DESKTOP", "").split(":")]
    for name in names:
        if name in ("gnome", "gnome-classic", "gnome-flashback", "ubuntu", "pop", "unity"):
            return "gnome"
        if name in ("kde", "plasma"):
            return "kde"
        if name in WLROOTS:
            return name
    if env.get("SWAYSOCK"):
        return "sway"
    if env.get("HYPRLAND_INSTANCE_SIGNATURE"):
        return "hyprland"
    if env.get("KDE_FULL_SESSION"):
        return "kde"
    if "gnome" in env.get("DESKTOP_SESSION", "").lower():
        return "gnome"
    return "unknown"


def state_dir(env: Mapping[str, str]) -> Path:
    """voicetype's state directory (``$XDG_STATE_HOME/voicetype``), where the portal's
    restore token is kept."""
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")) / ".local" / "state")
    return Path(base).expanduser() / "voicetype"


def select_wayland_inserter(env: Mapping[str, str] | None = None) -> Inserter:
    """The inserter for this Wayland session (see the module docstring); checked, not
    just constructed: the virtual keyboard's protocol is looked up on the compositor, the
    portal's interface on the session bus. Raises ``BackendUnavailable`` with the fix."""
    env = dict(os.environ if env is None else env)
    session = detect_session(env)
    override = env.get("VOICETYPE_WAYLAND_BACKEND", "").strip().lower()
    if override and override not in BACKENDS:
        raise BackendUnavailable(
            f"VOICETYPE_WAYLAND_BACKEND={override!r} is not a Wayland typing backend",
            fix=f"use one of {', '.join(BACKENDS)}, or unset it",
        )
    if session.kind != "wayland":
        raise BackendUnavailable(
            "this is not a Wayland session (WAYLAND_DISPLAY is not set)",
            fix="run voicetype inside your Wayland session",
        )
    backend = override or session.backend
    if backend == "portal":
        from voicetype.insertion.portal import PortalInserter

        portal = PortalInserter(env, state_dir(env))
        portal.check()
        return portal
    from voicetype.insertion.wayland_vk import VirtualKeyboardInserter

    vk = VirtualKeyboardInserter(env)
    vk.check()
    return vk


def describe(session: Session) -> str:
    """One line for ``status`` and ``doctor``: the typing path this session gets."""
    if session.kind != "wayland":
        return "X11 typing (not a Wayland session)" if session.kind == "x11" else "no display"
    name = {"gnome": "GNOME", "kde": "KDE Plasma", "unknown": "an unknown compositor"}.get(
        session.desktop, session.desktop.capitalize()
    )
    if session.backend == "portal":
        return (
            f"Wayland ({name}): typing through the RemoteDesktop portal (asks once for"
            " permission); characters outside the keyboard layout are pasted; line breaks"
            " are typed as spaces in terminals and in windows the accessibility bus"
            " (AT-SPI) does not name"
        )
    where = (
        "in terminals"
        if session.desktop in FOCUS_IPC_DESKTOPS
        else "in terminals and in windows the accessibility bus (AT-SPI) does not name"
    )
    return (
        f"Wayland ({name}): typing through a virtual keyboard with its own keymap"
        f" (every character exact); line breaks are typed as spaces {where}"
    )
