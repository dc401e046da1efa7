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

The Clipboard interface (version 1, published ``org.freedesktop.portal.Clipboard``) is
offered when ``clipboard_version`` is 1 (default 0: Debian 12's portals lack it).
``RequestClipboard`` is refused after the session's Start ("Invalid state"); Start then
says ``clipboard_enabled`` (unless ``clipboard_grant`` is False: the user left the
clipboard out of the dialog). The fake plays the other applications: ``copy(types)``
makes one of them own the selection (``SelectionOwnerChanged`` to the session);
``SelectionRead`` hands its data through a pipe. The focused "app" pastes on the Insert
press of the chord: it sends ``SelectionTransfer`` ``app_fetches`` times (0: never),
``app_fetch_delay`` s after the chord, reads what the session writes through
``SelectionWrite``'s fd and records it in ``pasted``; ``read_clipboard(mime)`` is another
app pasting now (the session's answer, or the other owner's data).

Fixture ``fake_portal`` (function): a ``FakePortal`` on its own bus; ``env`` holds
``DBUS_SESSION_BUS_ADDRESS``. ``press(shortcut_id)``/``release(shortcut_id)`` emit
GlobalShortcuts ``Activated``/``Deactivated`` for the last session.
"""

from __future__ import annotations

import itertools
import os
import select
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
CLIPBOARD = "org.freedesktop.portal.Clipboard"
KEYSYM_INSERT = 0xFF63


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
        self.clipboard_version = 0
        self.clipboard_grant = True
        self.app_fetches = 1
        self.app_fetch_delay = 0.0
        self.pasted: list[bytes] = []
        #: The selection: its owner (a session handle, or "" for another app), types, and
        #: the other app's data by type.
        self.owner = ""
        self.selection_types: list[str] = []
        self.foreign: dict[str, bytes] = {}
        self._clip_requested: set[str] = set()
        self._clip_enabled: set[str] = set()
        self._started: set[str] = set()
        self._serials = itertools.count(1)
        #: serial -> (where the written data goes, set once read to its end)
        self._transfers: dict[int, tuple[list[bytes], threading.Event]] = {}
        self._send_lock = threading.Lock()
        self._close_after_send: list[int] = []
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
        self._send(new_signal(emitter, member, "osta{sv}", body))

    def _send(self, msg: Any) -> None:
        with self._send_lock:
            self._conn.send(msg)

    # -- the Clipboard interface: the other applications' side --------------------------

    def copy(self, types: dict[str, bytes]) -> None:
        """Another application takes the selection with ``types`` (empty: it clears it)."""
        self.foreign = dict(types)
        self._own("", list(types))

    def _own(self, owner: str, types: list[str]) -> None:
        self.owner = owner
        self.selection_types = types
        self._announce(owner, types)

    def _announce(self, owner: str, types: list[str]) -> None:
        for signal in self._owner_changed(owner, types):
            self._send(signal)

    def _owner_changed(self, owner: str, types: list[str]) -> list[Any]:
        emitter = DBusAddress(PATH, interface=CLIPBOARD)
        out = []
        for session in self._clip_enabled:
            options = {"mime_types": ("as", types), "session_is_owner": ("b", session == owner)}
            out.append(new_signal(emitter, "SelectionOwnerChanged", "oa{sv}", (session, options)))
        return out

    def read_clipboard(self, mime: str = "text/plain;charset=utf-8", timeout: float = 5) -> bytes:
        """What an application pasting ``mime`` now gets (b"" when nobody offers it)."""
        if not self.owner:
            return self.foreign.get(mime, b"")
        if mime not in self.selection_types:
            return b""
        return self._fetch(mime, timeout)

    def _fetch(self, mime: str, timeout: float) -> bytes:
        """Ask the owning session for ``mime`` (SelectionTransfer) and wait for the data
        it writes (b"" when it answers nothing within ``timeout``)."""
        serial = next(self._serials)
        got: list[bytes] = []
        done = threading.Event()
        self._transfers[serial] = (got, done)
        emitter = DBusAddress(PATH, interface=CLIPBOARD)
        self._send(new_signal(emitter, "SelectionTransfer", "osu", (self.owner, mime, serial)))
        done.wait(timeout)
        return b"".join(got)

    def _app_pastes(self) -> None:
        """The focused app's answer to the paste chord (in a thread of its own)."""
        for _ in range(self.app_fetches):
            if self.app_fetch_delay:
                time.sleep(self.app_fetch_delay)  # the scripted lateness
            self.pasted.append(self.read_clipboard())

    def _serve(self) -> None:
        try:
            conn = open_dbus_connection(self.bus_address, enable_fds=True)
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
                        self._send(out)
                    for fd in self._close_after_send:
                        os.close(fd)  # the peer has its copy now
                    self._close_after_send.clear()
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
            if iface == CLIPBOARD and prop == "version" and self.clipboard_version:
                return [new_method_return(msg, "v", (("u", self.clipboard_version),))]
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
        if interface == CLIPBOARD and self.clipboard_version:
            return self._clipboard(msg, str(member), body)
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
            self._started.add(str(body[0]))
            if str(body[0]) in self._clip_requested and self.clipboard_grant:
                self._clip_enabled.add(str(body[0]))
                results["clipboard_enabled"] = ("b", True)
            if self.version >= 2:
                results["restore_token"] = ("s", f"token-{next(self._tokens)}")
                results["persist_mode"] = ("u", 2)
            return self._respond(msg, sender, options, 0, results)
        if member == "NotifyKeyboardKeysym":
            if self.on_key is not None:
                self.on_key(body[2], body[3])
            if (body[2], body[3]) == (KEYSYM_INSERT, 1) and self.owner in self._clip_enabled:
                threading.Thread(target=self._app_pastes, daemon=True).start()
            return [new_method_return(msg)]
        return [new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,))]

    def _clipboard(self, msg: Any, member: str, body: tuple[Any, ...]) -> list[Any]:
        session = str(body[0])

        def error(text: str) -> list[Any]:
            return [new_error(msg, "org.freedesktop.DBus.Error.Failed", "s", (text,))]

        if member == "RequestClipboard":
            if session in self._started or session in self._clip_requested:
                return error("Invalid state")
            self._clip_requested.add(session)
            return [new_method_return(msg)]
        if session not in self._clip_enabled:
            return error("Clipboard not enabled")
        if member == "SetSelection":
            types = [str(t) for t in unwrap(body[1]).get("mime_types", [])]
            self.owner, self.selection_types = session, types
            return [new_method_return(msg), *self._owner_changed(session, types)]
        if member == "SelectionWrite":
            transfer = self._transfers.pop(int(body[1]), None)
            if transfer is None:
                return error("Invalid serial")
            read_end, write_end = os.pipe()
            threading.Thread(target=_drain, args=(read_end, *transfer), daemon=True).start()
            self._close_after_send.append(write_end)
            return [new_method_return(msg, "h", (write_end,))]
        if member == "SelectionWriteDone":
            transfer = self._transfers.pop(int(body[1]), None)
            if transfer is not None:
                transfer[1].set()  # answered without data
            return [new_method_return(msg)]
        if member == "SelectionRead":
            mime = str(body[1])
            if self.owner or mime not in self.foreign:
                return error("Invalid mime type")  # a session reads only others' data
            read_end, write_end = os.pipe()
            data = self.foreign[mime]
            threading.Thread(target=_feed, args=(write_end, data), daemon=True).start()
            self._close_after_send.append(read_end)
            return [new_method_return(msg, "h", (read_end,))]
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


def _drain(fd: int, got: list[bytes], done: threading.Event) -> None:
    """Read what the session writes to its end of the pipe, to the end (bounded)."""
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], 0.1)[0]:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            got.append(chunk)
    finally:
        os.close(fd)
        done.set()


def _feed(fd: int, data: bytes) -> None:
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError:
        pass


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
