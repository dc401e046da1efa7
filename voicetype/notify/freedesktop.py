"""Desktop notifications through ``org.freedesktop.Notifications`` on the session bus.

Uses jeepney's blocking I/O (pure Python, no GLib). The connection opens at the first
``notify`` and is reused; when a call fails on a broken connection it reconnects once.
The bus address comes only from ``DBUS_SESSION_BUS_ADDRESS`` (no autolaunch).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from jeepney import (
    AuthenticationError,
    DBusAddress,
    HeaderFields,
    MessageType,
    new_method_call,
)
from jeepney.io.blocking import open_dbus_connection

from voicetype.errors import BackendUnavailable
from voicetype.notify import Urgency

log = logging.getLogger(__name__)

APP_NAME = "voicetype"
DESKTOP_ENTRY = "voicetype"
_SERVICE = DBusAddress(
    "/org/freedesktop/Notifications",
    bus_name="org.freedesktop.Notifications",
    interface="org.freedesktop.Notifications",
)
#: How long a notification stays, by urgency (ms; 0 = until the user dismisses it).
EXPIRE_MS = {Urgency.LOW: 4_000, Urgency.NORMAL: 10_000, Urgency.CRITICAL: 0}
#: D-Bus errors meaning "no notification service on this bus".
NO_SERVICE_ERRORS = frozenset(
    {
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    }
)

#: What to do when no notification can be shown (``server_information`` raises with it).
NO_SERVICE_FIX = (
    "start your desktop's notification service (most desktops have one; e.g. dunst), "
    "otherwise messages appear in the tray tooltip and the log"
)


def _escape_markup(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _default_icon() -> str:
    """A file:// URI of the shipped app icon, or "" (no icon) when it is missing."""
    try:
        from voicetype.resources import asset_path

        return asset_path("icons/voicetype.png").as_uri()
    except FileNotFoundError:
        return ""


class _ReplyError(Exception):
    def __init__(self, name: str, body: Any) -> None:
        super().__init__(f"{name}: {body}")
        self.name = name


class FreedesktopNotifier:
    """A ``Notifier`` for Linux/BSD desktops.

    ``notify`` sends ``Notify`` with app name "voicetype", the app icon, an urgency hint and
    ``replaces_id`` of our previous notification (so they replace each other), and returns
    True once the server answered. It returns False, never raises, when there is no bus,
    no notification service (``ServiceUnknown``), or no answer within ``timeout`` seconds
    (default 1 s, covering connect, authentication and the call; jeepney's ``Hello`` after
    authentication is the one step without a time limit). Thread-safe: calls are
    serialised by a lock; meant for the controller thread.
    """

    def __init__(
        self,
        *,
        app_name: str = APP_NAME,
        icon: str | None = None,
        timeout: float = 1.0,
        env: Mapping[str, str] | None = None,
        connect: Callable[..., Any] = open_dbus_connection,
    ) -> None:
        self._app_name = app_name
        self._icon = icon
        self._timeout = timeout
        self._env = os.environ if env is None else env
        self._connect = connect
        self._lock = threading.Lock()
        self._conn: Any = None
        self._capabilities: frozenset[str] | None = None
        self._last_id = 0
        self._warned: set[str] = set()

    @property
    def last_id(self) -> int:
        """The server's id of our latest notification (0 before the first)."""
        return self._last_id

    def notify(self, summary: str, body: str, urgency: Urgency = Urgency.NORMAL) -> bool:
        deadline = time.monotonic() + self._timeout
        with self._lock:
            for attempt in (1, 2):
                try:
                    return self._notify(summary, body, urgency, deadline)
                except _ReplyError as e:
                    kind = "no-service" if e.name in NO_SERVICE_ERRORS else "error"
                    self._fail(kind, f"the notification service refused: {e}")
                    return False
                except TimeoutError:
                    self._drop()
                    self._fail("timeout", f"no answer from D-Bus within {self._timeout:g} s")
                    return False
                except (OSError, AuthenticationError, ValueError, RuntimeError) as e:
                    # broken or refused connection (the bus restarted, a stale socket…);
                    # jeepney raises RuntimeError for transports it lacks (tcp:)
                    self._drop()
                    if attempt == 2 or time.monotonic() >= deadline:
                        self._fail("bus", f"cannot reach the D-Bus session bus: {e!r}")
                        return False
                    log.debug("D-Bus connection failed (%r); reconnecting once", e)
        return False  # not reached

    def server_information(self) -> str:
        """The service's "name version (vendor)", asked over the connection ``notify`` uses
        (same bus address, same ``timeout``), showing nothing.

        Raises ``BackendUnavailable`` with ``NO_SERVICE_FIX`` where ``notify`` would return
        False: no bus address, the bus unreachable, no service on it, no answer in time.
        """
        deadline = time.monotonic() + self._timeout
        with self._lock:
            try:
                conn = self._connection(deadline)
                if conn is None:
                    raise BackendUnavailable(
                        "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)",
                        NO_SERVICE_FIX,
                    )
                call = new_method_call(_SERVICE, "GetServerInformation")
                name, vendor, version = (str(x) for x in self._call(conn, call, deadline)[:3])
            except _ReplyError as e:
                if e.name in NO_SERVICE_ERRORS:
                    raise BackendUnavailable(
                        "no notification service on the session bus", NO_SERVICE_FIX
                    ) from e
                raise BackendUnavailable(
                    f"the notification service refused: {e}", NO_SERVICE_FIX
                ) from e
            except TimeoutError as e:
                self._drop()
                raise BackendUnavailable(
                    f"no answer from D-Bus within {self._timeout:g} s", NO_SERVICE_FIX
                ) from e
            except (OSError, AuthenticationError, ValueError, RuntimeError) as e:
                self._drop()
                raise BackendUnavailable(
                    f"cannot reach the D-Bus session bus: {e!r}", NO_SERVICE_FIX
                ) from e
        return f"{name} {version} ({vendor})"

    def close(self) -> None:
        """Close the D-Bus connection (shown notifications stay). Any thread; idempotent;
        a later ``notify`` reconnects."""
        with self._lock:
            self._drop()

    # ---------------------------------------------------------------------------------

    def _notify(self, summary: str, body: str, urgency: Urgency, deadline: float) -> bool:
        conn = self._connection(deadline)
        if conn is None:
            self._fail("no-bus", "DBUS_SESSION_BUS_ADDRESS is not set; no desktop session bus")
            return False
        if self._capabilities is None:
            reply = self._call(conn, new_method_call(_SERVICE, "GetCapabilities"), deadline)
            self._capabilities = frozenset(reply[0])
        if "body-markup" in self._capabilities:
            body = _escape_markup(body)
        hints = {"urgency": ("y", int(urgency)), "desktop-entry": ("s", DESKTOP_ENTRY)}
        message = new_method_call(
            _SERVICE,
            "Notify",
            "susssasa{sv}i",
            (
                self._app_name,
                self._last_id,
                _default_icon() if self._icon is None else self._icon,
                summary,
                body,
                [],
                hints,
                EXPIRE_MS[Urgency(urgency)],
            ),
        )
        (self._last_id,) = self._call(conn, message, deadline)
        self._warned.clear()
        return True

    def _connection(self, deadline: float) -> Any:
        if self._conn is None:
            address = self._env.get("DBUS_SESSION_BUS_ADDRESS", "")
            if not address:
                return None
            left = max(0.05, deadline - time.monotonic())
            self._conn = self._connect(address, auth_timeout=left)
            self._capabilities = None
        return self._conn

    @staticmethod
    def _call(conn: Any, message: Any, deadline: float) -> Any:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        reply = conn.send_and_get_reply(message, timeout=left)
        if reply.header.message_type == MessageType.error:
            raise _ReplyError(str(reply.header.fields.get(HeaderFields.error_name)), reply.body)
        return reply.body

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None
            self._capabilities = None

    def _fail(self, kind: str, message: str) -> None:
        # the caller shows the message another way; say why once per kind of failure
        if kind in self._warned:
            log.debug("notification not shown: %s", message)
        else:
            self._warned.add(kind)
            log.warning("notification not shown: %s", message)
