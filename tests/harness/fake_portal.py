"""A fake xdg-desktop-portal on a private D-Bus session bus, following the published
interfaces (RemoteDesktop version 2 with restore tokens, GlobalShortcuts version 1,
``org.freedesktop.host.portal.Registry``), for what Debian 12's real portals lack.

Requests answer the spec's way: the method returns the Request object path
(``/org/freedesktop/portal/desktop/request/SENDER/TOKEN``), then ``Response(u, a{sv})`` is
emitted on it. Every call is recorded, in order, as ``PortalCall(interface, member,
body)``.

Knobs (set before the call): ``version`` (RemoteDesktop), ``start`` ("grant" | "deny" |
"silent": never answers), ``shortcuts_version`` (0: no GlobalShortcuts interface),
``registry`` (False: no Registry interface), ``bind`` ("grant" | "deny" | "hold":
BindShortcuts answers only when the test calls ``answer_bind(code)``, as a desktop
showing its dialog), ``on_key`` (called in the server thread with
``(keysym, state)`` for every NotifyKeyboardKeysym, e.g. to read the clipboard at the
paste chord).

Fixture ``fake_portal`` (function): a ``FakePortal`` on its own bus; ``env`` holds
``DBUS_SESSION_BUS_ADDRESS``. ``press(shortcut_id)``/``release(shortcut_id)`` emit
GlobalShortcuts ``Activated``/``Deactivated`` for the last session.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

from harness.dbus_notify import _CONFIG, _bus_ready
from harness.procs import Proc, require, wait_for

NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
RD = "org.freedesktop.portal.RemoteDesktop"
GS = "org.freedesktop.portal.GlobalShortcuts"
REGISTRY = "org.freedesktop.host.portal.Registry"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
PROPS = "org.freedesktop.DBus.Properties"


@dataclass(frozen=True)
class PortalCall:
    interface: str
    member: str
    body: tuple[Any, ...]
    path: str = PATH


def unwrap(options: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    return {k: v[1] for k, v in options.items()}


class FakePortal:
    def __init__(self, bus_address: str) -> None:
        self.bus_address = bus_address
        self.env = {"DBUS_SESSION_BUS_ADDRESS": bus_address}
        self.version = 2
        self.start = "grant"
        self.shortcuts_version = 1
        self.registry = True
        self.on_key: Callable[[int, int], None] | None = None
        self._calls: list[PortalCall] = []
        self._lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: Exception | None = None
        self._conn: Any = None
        self.gs_session = ""
        self.bind = "grant"
        self._held_bind: tuple[str, dict[str, Any]] | None = None
        self._thread = threading.Thread(target=self._serve, name="fake-portal", daemon=True)
        self._thread.start()
        if not self._ready.wait(5) or self._error is not None:
            raise RuntimeError(f"fake portal failed to start: {self._error!r}")

    @property
    def calls(self) -> list[PortalCall]:
        with self._lock:
            return list(self._calls)

    def members(self) -> list[str]:
        return [c.member for c in self.calls]

    def keys(self) -> list[tuple[int, int]]:
        return [(c.body[2], c.body[3]) for c in self.calls if c.member == "NotifyKeyboardKeysym"]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def press(self, shortcut_id: str) -> None:
        self._emit_shortcut("Activated", shortcut_id)

    def release(self, shortcut_id: str) -> None:
        self._emit_shortcut("Deactivated", shortcut_id)

    def answer_bind(self, code: int = 0) -> None:
        """Answer the BindShortcuts request held by ``bind = "hold"`` (0 granted, 1 the
        user declined)."""
        deadline = time.monotonic() + 10
        while self._held_bind is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._held_bind is None:
            raise AssertionError("no BindShortcuts request was held")
        handle, results = self._held_bind
        self._held_bind = None
        emitter = DBusAddress(handle, interface=REQUEST)
        self._conn.send(
            new_signal(emitter, "Response", "ua{sv}", (code, results if code == 0 else {}))
        )

    def _emit_shortcut(self, member: str, shortcut_id: str) -> None:
        emitter = DBusAddress(PATH, interface=GS)
        body: tuple[Any, ...] = (self.gs_session, shortcut_id, 0, {})
        self._conn.send(new_signal(emitter, member, "osta{sv}", body))

    def _serve(self) -> None:
        try:
            conn = open_dbus_connection(self.bus_address)
            self._conn = conn
            reply = conn.send_and_get_reply(message_bus.RequestName(NAME, 4), timeout=5)
            if reply.body[0] != 1:
                raise RuntimeError(f"could not own {NAME}: {reply.body}")
        except Exception as exc:  # reported to the test by __init__
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                try:
                    msg = conn.receive(timeout=0.05)
                except TimeoutError:
                    continue
                if msg.header.message_type == MessageType.method_call:
                    for out in self._answer(msg):
                        conn.send(out)
        finally:
            conn.close()

    def _record(self, interface: str, member: str, body: tuple[Any, ...], path: str) -> None:
        with self._lock:
            self._calls.append(PortalCall(interface, member, body, path))

    def _answer(self, msg: Any) -> list[Any]:
        fields = msg.header.fields
        path, interface, member = str(fields.get(1)), fields.get(2), fields.get(3)
        sender = str(fields.get(7, ""))
        body = tuple(msg.body)
        self._record(str(interface), str(member), body, path)
        if interface == PROPS and member == "Get":
            iface, prop = body
            if iface == RD and prop == "version":
                return [new_method_return(msg, "v", (("u", self.version),))]
            if iface == RD and prop == "AvailableDeviceTypes":
                return [new_method_return(msg, "v", (("u", 7),))]
            if iface == GS and prop == "version" and self.shortcuts_version:
                return [new_method_return(msg, "v", (("u", self.shortcuts_version),))]
            return [new_error(msg, "org.freedesktop.DBus.Error.UnknownProperty", "s", (prop,))]
        if interface == REGISTRY and member == "Register" and self.registry:
            return [new_method_return(msg)]
        if interface in (REQUEST, SESSION) and member == "Close":
            return [new_method_return(msg)]
        if interface == RD:
            return self._remote_desktop(msg, member, body, sender)
        if interface == GS and self.shortcuts_version:
            return self._global_shortcuts(msg, member, body, sender)
        return [new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (str(member),))]

    def _respond(
        self, msg: Any, sender: str, options: dict[str, Any], code: int, results: dict[str, Any]
    ) -> list[Any]:
        token = options.get("handle_token", ("s", "t"))[1]
        handle = f"{PATH}/request/{sender.lstrip(':').replace('.', '_')}/{token}"
        out = [new_method_return(msg, "o", (handle,))]
        if code >= 0:
            emitter = DBusAddress(handle, interface=REQUEST)
            out.append(new_signal(emitter, "Response", "ua{sv}", (code, results)))
        return out

    def _session_handle(self, sender: str, options: dict[str, Any]) -> str:
        token = options.get("session_handle_token", ("s", "s"))[1]
        return f"{PATH}/session/{sender.lstrip(':').replace('.', '_')}/{token}"

    def _remote_desktop(
        self, msg: Any, member: str, body: tuple[Any, ...], sender: str
    ) -> list[Any]:
        if member == "CreateSession":
            (options,) = body
            handle = self._session_handle(sender, options)
            return self._respond(msg, sender, options, 0, {"session_handle": ("s", handle)})
        if member == "SelectDevices":
            return self._respond(msg, sender, body[1], 0, {})
        if member == "Start":
            options = body[2]
            if self.start == "deny":
                return self._respond(msg, sender, options, 1, {})
            if self.start == "silent":
                return self._respond(msg, sender, options, -1, {})
            results: dict[str, Any] = {"devices": ("u", 1)}
            if self.version >= 2:
                results["restore_token"] = ("s", f"token-{next(self._tokens)}")
                results["persist_mode"] = ("u", 2)
            return self._respond(msg, sender, options, 0, results)
        if member == "NotifyKeyboardKeysym":
            if self.on_key is not None:
                self.on_key(body[2], body[3])
            return [new_method_return(msg)]
        return [new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,))]

    def _global_shortcuts(
        self, msg: Any, member: str, body: tuple[Any, ...], sender: str
    ) -> list[Any]:
        if member == "CreateSession":
            (options,) = body
            self.gs_session = self._session_handle(sender, options)
            return self._respond(
                msg, sender, options, 0, {"session_handle": ("s", self.gs_session)}
            )
        if member == "BindShortcuts":
            _session, shortcuts, _parent, options = body
            bound = [(sid, {**props, "trigger_description": ("s", "Ctrl+Alt+Space")})
                     for sid, props in shortcuts]  # fmt: skip
            results = {"shortcuts": ("a(sa{sv})", bound)}
            if self.bind == "hold":
                out = self._respond(msg, sender, options, -1, {})
                self._held_bind = (str(out[0].body[0]), results)
                return out
            code = 1 if self.bind == "deny" else 0
            return self._respond(msg, sender, options, code, results if code == 0 else {})
        if member == "ListShortcuts":
            return self._respond(msg, sender, body[1], 0, {"shortcuts": ("a(sa{sv})", [])})
        return [new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,))]


@pytest.fixture
def fake_portal(tmp_path: Path) -> Iterator[FakePortal]:
    require("dbus-daemon")
    socket_path = tmp_path / "portal-bus"
    config = tmp_path / "portal-bus.conf"
    config.write_text(_CONFIG.format(socket=socket_path))
    daemon = Proc(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"],
        env={k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"},
        log=tmp_path / "portal-bus.log",
    )
    address = f"unix:path={socket_path}"
    try:
        wait_for(lambda: _bus_ready(address), 10, "the fake portal's private bus", 0.02)
        portal = FakePortal(address)
        yield portal
        portal.stop()
    finally:
        daemon.stop()
