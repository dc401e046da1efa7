"""A private D-Bus session bus with a notification server that records every ``Notify``.

Fixtures:
- ``dbus_session`` (session): a ``NotificationBus``: ``dbus-daemon`` with its own config
  (unix socket in a temp dir, EXTERNAL auth, allow-all policy, no service directories, so
  nothing is ever auto-started) plus the recording server (a jeepney thread in the pytest
  process) owning ``org.freedesktop.Notifications``.
- ``notifications`` (function): the same object, with the recorded calls cleared and the
  server running (restarted if an earlier test stopped it).

``NotificationBus`` API, for tests that run the daemon as a subprocess:
- ``bus_address``: e.g. ``unix:path=/tmp/…/bus``; ``env``: ``{"DBUS_SESSION_BUS_ADDRESS": …}``
  to merge into a child's environment.
- ``calls``: a snapshot list of ``NotifyCall`` (thread-safe); ``clear()``;
  ``wait_for(count, timeout)`` returns the calls once at least ``count`` arrived, else
  raises TimeoutError naming what did arrive.
- ``closed``: ids passed to ``CloseNotification``.
- ``stop_server()`` / ``start_server()``: with the server stopped, ``Notify`` gets
  ``org.freedesktop.DBus.Error.ServiceUnknown`` (the bus stays up); ``without_server()``
  is a context manager doing both.
- ``capabilities``: what ``GetCapabilities`` answers (set before a call; default
  ``["body", "persistence"]``, i.e. no ``body-markup``, so bodies arrive verbatim).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jeepney import (
    DBusAddress,
    MessageType,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

from harness.procs import Proc, require, wait_for

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass(frozen=True)
class NotifyCall:
    """One ``Notify`` as received; ``hints`` holds plain values (urgency as an int)."""

    app_name: str
    replaces_id: int
    app_icon: str
    summary: str
    body: str
    actions: list[str]
    hints: dict[str, Any]
    expire_timeout: int
    id: int  # what the server answered
    sender: str

    @property
    def urgency(self) -> int | None:
        value = self.hints.get("urgency")
        return int(value) if value is not None else None


class RecordingServer:
    """``org.freedesktop.Notifications`` on a jeepney connection, served by a thread."""

    def __init__(self, bus_address: str, owner: NotificationBus) -> None:
        self._bus_address = bus_address
        self._owner = owner
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="notify-server", daemon=True)

    def start(self, timeout: float = 5.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"notification server did not own {NAME} in {timeout} s")
        if self._error is not None:
            raise RuntimeError(f"notification server failed: {self._error!r}")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("notification server thread did not stop")

    def _serve(self) -> None:
        try:
            conn = open_dbus_connection(self._bus_address)
        except BaseException as e:
            self._error = e
            self._ready.set()
            return
        try:
            reply = conn.send_and_get_reply(message_bus.RequestName(NAME, 4), timeout=5)
            if reply.body[0] != 1:  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
                raise RuntimeError(f"could not own {NAME}: reply {reply.body}")
            self._ready.set()
            while not self._stop.is_set():
                try:
                    msg = conn.receive(timeout=0.05)
                except TimeoutError:
                    continue
                if msg.header.message_type == MessageType.method_call:
                    conn.send(self._answer(msg))
        except BaseException as e:
            self._error = e
            self._ready.set()
        finally:
            conn.close()

    def _answer(self, msg: Any) -> Any:
        fields = msg.header.fields
        member = fields.get(3)  # HeaderFields.member
        interface = fields.get(2)
        path = fields.get(1)
        if path != PATH or interface not in (INTERFACE, None):
            return new_error(msg, "org.freedesktop.DBus.Error.UnknownObject", "s", (str(path),))
        owner = self._owner
        if member == "Notify":
            app_name, replaces_id, icon, summary, body, actions, hints, timeout = msg.body
            nid = replaces_id or next(owner._ids)
            call = NotifyCall(
                app_name=app_name,
                replaces_id=replaces_id,
                app_icon=icon,
                summary=summary,
                body=body,
                actions=list(actions),
                hints={k: v[1] for k, v in hints.items()},
                expire_timeout=timeout,
                id=nid,
                sender=str(fields.get(7, "")),
            )
            owner._record(call)
            return new_method_return(msg, "u", (nid,))
        if member == "GetCapabilities":
            return new_method_return(msg, "as", (list(owner.capabilities),))
        if member == "GetServerInformation":
            return new_method_return(msg, "ssss", ("voicetype-tests", "voicetype", "1", "1.2"))
        if member == "CloseNotification":
            (nid,) = msg.body
            owner._record_close(nid)
            return new_method_return(msg)
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (str(member),))


class NotificationBus:
    def __init__(self, bus_address: str) -> None:
        self.bus_address = bus_address
        self.env = {"DBUS_SESSION_BUS_ADDRESS": bus_address}
        self.capabilities: list[str] = ["body", "persistence"]
        self._lock = threading.Condition()
        self._calls: list[NotifyCall] = []
        self._closed: list[int] = []
        self._ids = itertools.count(1)
        self._server: RecordingServer | None = None

    # recording
    def _record(self, call: NotifyCall) -> None:
        with self._lock:
            self._calls.append(call)
            self._lock.notify_all()

    def _record_close(self, nid: int) -> None:
        with self._lock:
            self._closed.append(nid)

    @property
    def calls(self) -> list[NotifyCall]:
        with self._lock:
            return list(self._calls)

    @property
    def closed(self) -> list[int]:
        with self._lock:
            return list(self._closed)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._closed.clear()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[NotifyCall]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._calls) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"expected {count} Notify call(s) within {timeout:g} s, got "
                        f"{len(self._calls)}: {self._calls!r}"
                    )
                self._lock.wait(left)
            return list(self._calls)

    # server control
    @property
    def server_running(self) -> bool:
        return self._server is not None

    def start_server(self) -> None:
        if self._server is None:
            server = RecordingServer(self.bus_address, self)
            server.start()
            self._server = server

    def stop_server(self) -> None:
        """Stop the server and wait until the bus no longer knows the name (bounded)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
            wait_for(lambda: not self.name_has_owner(), 5, f"{NAME} to be released")

    @contextlib.contextmanager
    def without_server(self) -> Iterator[None]:
        was_running = self.server_running
        self.stop_server()
        try:
            yield
        finally:
            if was_running:
                self.start_server()

    def name_has_owner(self, name: str = NAME) -> bool:
        conn = open_dbus_connection(self.bus_address)
        try:
            reply = conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=5)
            return bool(reply.body[0])
        finally:
            conn.close()

    def emit_closed(self, nid: int, reason: int = 2) -> None:
        """Send ``NotificationClosed`` as a server would when the user dismisses one."""
        conn = open_dbus_connection(self.bus_address)
        try:
            emitter = DBusAddress(PATH, interface=INTERFACE)
            conn.send(new_signal(emitter, "NotificationClosed", "uu", (nid, reason)))
        finally:
            conn.close()


def _bus_ready(address: str) -> bool:
    try:
        conn = open_dbus_connection(address)
    except OSError:
        return False
    conn.close()
    return True


@pytest.fixture(scope="session")
def dbus_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotificationBus]:
    require("dbus-daemon")
    root = Path(tmp_path_factory.mktemp("dbus"))
    socket_path = root / "bus"
    config = root / "session.conf"
    config.write_text(_CONFIG.format(socket=socket_path))
    daemon = Proc(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"],
        env={k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"},
        log=root / "dbus-daemon.log",
    )
    address = f"unix:path={socket_path}"
    try:
        wait_for(lambda: _bus_ready(address), 10, "the private D-Bus session bus", 0.02)
        bus = NotificationBus(address)
        bus.start_server()
        yield bus
        bus.stop_server()
    finally:
        daemon.stop()


@pytest.fixture
def notifications(dbus_session: NotificationBus) -> Iterator[NotificationBus]:
    dbus_session.start_server()
    dbus_session.capabilities = ["body", "persistence"]
    dbus_session.clear()
    yield dbus_session
    dbus_session.start_server()
