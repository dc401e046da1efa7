"""The one place that picks the tray backend (pure: no GTK import, no display needed).

``VOICETYPE_TRAY_BACKEND`` if set, else ``PYSTRAY_BACKEND`` if set (kept from the days the
tray was pystray only), else Windows → ``win32``, macOS → ``darwin``, elsewhere
``appindicator`` when PyGObject with Gtk 3 and (Ayatana)AppIndicator3 is importable,
``gtk`` with PyGObject and Gtk 3 only, else ``xorg``.

Why AppIndicator first: it speaks StatusNotifierItem to the tray of KDE, GNOME with the
AppIndicator extension, Xfce, Cinnamon, waybar… (also on Wayland), and libayatana falls
back to an XEmbed icon when no StatusNotifier host runs; observed under Xvfb with
``trayer``: it docks (also when the tray starts after the icon), the docked window's name
is our title, a left click opens the menu. ``gtk`` (GtkStatusIcon, deprecated, XEmbed
only) also docks and opens the menu on a right click (a left click runs "Dictate now"),
but shows nothing where only StatusNotifier hosts exist. ``xorg`` (no PyGObject) is
voicetype's own XEmbed icon: no menu, a left click runs "Dictate now".
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

from voicetype.errors import ConfigError

BACKENDS = ("appindicator", "gtk", "xorg", "win32", "darwin", "dummy")
ENV_OVERRIDE = "VOICETYPE_TRAY_BACKEND"

MENU_FIX = (
    "Install PyGObject: `sudo apt install python3-gi gir1.2-ayatanaappindicator3-0.1` and "
    "create voicetype's virtualenv with `python3 -m venv --system-site-packages`; or, inside "
    'the virtualenv, `pip install "PyGObject<3.51"` after `sudo apt install '
    "libgirepository1.0-dev libcairo2-dev pkg-config gir1.2-gtk-3.0 "
    "gir1.2-ayatanaappindicator3-0.1`. Then restart voicetype."
)


def menu_fix_hint() -> str:
    """How to get the tray menu (``MENU_FIX``), for the one-time message when
    ``Tray.has_menu`` is False."""
    return MENU_FIX


def _gi_namespace_available(namespace: str, version: str) -> bool:
    try:
        import gi

        gi.require_version(namespace, version)
    except (ImportError, ValueError):
        return False
    return True


def _linux_candidates() -> list[str]:
    if not _gi_namespace_available("Gtk", "3.0"):
        return ["xorg"]
    if _gi_namespace_available("AppIndicator3", "0.1") or _gi_namespace_available(
        "AyatanaAppIndicator3", "0.1"
    ):
        return ["appindicator"]
    return ["gtk"]


def choose_tray_backend(
    env: Mapping[str, str],
    platform: str = sys.platform,
    probe: Callable[[], list[str]] = _linux_candidates,
) -> str:
    """The tray backend's name (one of ``BACKENDS``) for this environment and platform.

    Raises ``ConfigError`` for an unknown ``VOICETYPE_TRAY_BACKEND``/``PYSTRAY_BACKEND``.
    ``probe`` only checks that typelibs exist (``gi.require_version``); it imports no
    GTK and needs no display.
    """
    for variable in (ENV_OVERRIDE, "PYSTRAY_BACKEND"):
        requested = env.get(variable, "").strip().lower()
        if requested:
            if requested not in BACKENDS:
                raise ConfigError(
                    f"{variable}={requested!r} is not a tray backend",
                    f"use one of {', '.join(BACKENDS)}, or unset {variable}",
                )
            return requested
    if platform in ("win32", "darwin"):
        return platform
    return probe()[0]
