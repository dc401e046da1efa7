"""The one place that chooses how voicetype shows notifications.

Order: ``VOICETYPE_NOTIFIER`` (``freedesktop`` | ``tray`` | ``log``) if set; else on Linux
and the BSDs the freedesktop service over D-Bus; on Windows and macOS pystray's own
``Icon.notify`` through the tray; else (no tray there) log only. A chosen notifier that
finds no service at run time returns False from ``notify``; the caller then shows the
message in the tray title and the log. ``probe_notifications`` asks the chosen notifier
whether it could show one now, without showing one (for ``voicetype doctor``).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from voicetype.errors import ConfigError
from voicetype.notify import Notifier, Urgency
from voicetype.notify.logonly import LogNotifier

if TYPE_CHECKING:
    from voicetype.tray import Tray

log = logging.getLogger(__name__)

NOTIFIERS = ("freedesktop", "tray", "log")
ENV_OVERRIDE = "VOICETYPE_NOTIFIER"


class TrayNotifier:
    """Notifications through pystray (Windows balloons, macOS notifications). pystray shows
    one at a time, so a new one replaces the last. Urgency is not expressible there."""

    def __init__(self, tray: Tray) -> None:
        self._tray = tray

    def notify(self, summary: str, body: str, urgency: Urgency = Urgency.NORMAL) -> bool:
        try:
            return self._tray.notify(summary, body)
        except Exception:  # the Notifier contract: never raise
            log.exception("tray notification failed")
            return False

    def close(self) -> None:
        pass


def select_notifier(
    tray: Tray | None,
    *,
    platform: str = sys.platform,
    env: Mapping[str, str] | None = None,
) -> Notifier:
    """Return the notifier for this platform; see the module docstring for the order.

    Raises ``ConfigError`` for an unknown ``VOICETYPE_NOTIFIER``. Imports jeepney only when
    the freedesktop notifier is chosen.
    """
    env = os.environ if env is None else env
    requested = _choose(platform, env, has_tray=tray is not None)
    if requested == "freedesktop":
        from voicetype.notify.freedesktop import FreedesktopNotifier

        return FreedesktopNotifier(env=env)
    if requested == "tray":
        if tray is None:
            log.warning(
                "%s=tray but there is no tray icon; notifications go to the log", ENV_OVERRIDE
            )
            return LogNotifier()
        return TrayNotifier(tray)
    return LogNotifier()


def probe_notifications(
    *, platform: str = sys.platform, env: Mapping[str, str] | None = None, timeout: float = 2.0
) -> str:
    """What ``select_notifier`` chooses here (with the daemon's tray) and whether it could
    show a notification now, asked without showing one: a description for ``doctor``.

    Blocks up to ``timeout`` seconds (the freedesktop notifier asks the service for its
    name). Raises ``ConfigError`` for an unknown ``VOICETYPE_NOTIFIER`` and
    ``BackendUnavailable`` (with the fix) when notifications would not be shown.
    """
    env = os.environ if env is None else env
    requested = _choose(platform, env, has_tray=True)
    if requested == "freedesktop":
        from voicetype.notify.freedesktop import FreedesktopNotifier

        notifier = FreedesktopNotifier(env=env, timeout=timeout)
        try:
            return notifier.server_information()
        finally:
            notifier.close()
    if requested == "tray":
        return "through the tray icon"
    return f"the tray tooltip and the log only ({ENV_OVERRIDE}=log)"


def _choose(platform: str, env: Mapping[str, str], *, has_tray: bool) -> str:
    requested = env.get(ENV_OVERRIDE, "").strip().lower()
    if requested and requested not in NOTIFIERS:
        raise ConfigError(
            f"{ENV_OVERRIDE}={requested!r} is not a notifier",
            f"use one of {', '.join(NOTIFIERS)}, or unset {ENV_OVERRIDE}",
        )
    if requested:
        return requested
    if platform in ("win32", "darwin"):
        return "tray" if has_tray else "log"
    return "freedesktop"
