"""The global hotkey on Wayland through the xdg-desktop-portal GlobalShortcuts interface
(KDE Plasma, GNOME 48+, Hyprland), with press *and* release, so hold-to-talk works.

``start``:
1. ``org.freedesktop.host.portal.Registry.Register(app_id)``: xdg-desktop-portal 1.19.3+
   names host (non-Flatpak) apps this way; older portals lack the interface (ignored).
   From 1.20.1 on it fails ("App info not found") unless ``io.github.voicetype.desktop``
   is installed (``assets/``, written by ``scripts/install-desktop-entry.sh``, part of
   ``scripts/install.sh``); that error is ignored too, the portal then names the app by
   its systemd unit, or not at all.
2. ``CreateSession`` with a fixed ``session_handle_token`` ("voicetype": desktops key the
   user's binding by it, so it survives restarts) and the ``shortcuts`` option (KDE 5.27
   binds only what CreateSession names; its BindShortcuts binds nothing).
3. ``BindShortcuts`` (the desktop may ask the user to confirm or change the key; bounded
   by ``consent_timeout``; a refusal is reported, an error ignored since step 2 may have
   bound it already).
4. A thread receives ``Activated``/``Deactivated`` for the session and calls
   ``on_press``/``on_release`` (once per press: a repeated ``Activated`` while held is
   dropped).

``start`` does all of it before returning, which may take up to ``consent_timeout`` (the
desktop's dialog); ``start_in_background`` does steps 1–3 on the listener's thread and
then listens there, reporting the outcome once through its ``settled`` callback, so that
the daemon starts at once (``voicetype.compose``).

Errors: ``BackendUnavailable`` (with the ``voicetype shortcut`` fix) when there is no
session bus or the portal has no GlobalShortcuts, or the user declined. Threading: the
callbacks (``on_press``/``on_release``/``settled``) run on the listener's thread and must
only enqueue; ``start``/``start_in_background``/``stop`` from one thread at a time;
``stop`` is idempotent, ends a binding still waiting for the desktop (its connection is
shut down), never calls ``settled`` afterwards, and returns within ~1 s.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

from voicetype.errors import BackendUnavailable
from voicetype.hotkeys import Hotkey
from voicetype.shortcut import keysym

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REGISTRY = "org.freedesktop.host.portal.Registry"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
APP_ID = "io.github.voicetype"
SHORTCUT_ID = "dictate"
SESSION_TOKEN = "voicetype"
_TRIGGER_MODS = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "cmd": "LOGO", "alt_gr": "ALT"}
_FIX = "bind a key to `voicetype dictate` in your desktop's settings: run `voicetype shortcut`"


def preferred_trigger(hotkey: Hotkey) -> str:
    """The hotkey in the XDG shortcuts notation the portal takes (``CTRL+ALT+space``)."""
    return "+".join([*(_TRIGGER_MODS[m] for m in hotkey.modifiers), keysym(hotkey)])


class PortalHotkeyListener:
    """See the module docstring for the contract."""

    def __init__(
        self,
        hotkey: Hotkey,
        on_press: Callable[[], None],
        on_release: Callable[[], None],
        env: Mapping[str, str],
        app_id: str = APP_ID,
        call_timeout: float = 5.0,
        consent_timeout: float = 60.0,
    ) -> None:
        self.hotkey = hotkey
        self.on_press = on_press
        self.on_release = on_release
        self.env = dict(env)
        self.app_id = app_id
        self.call_timeout = call_timeout
        self.consent_timeout = consent_timeout
        self.session = ""
        #: The trigger the desktop reports after binding (for status), else ours.
        self.trigger = preferred_trigger(hotkey)
        self._conn: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._held = False
        self._bound = False
        self._close_lock = threading.Lock()

    def _reply(self, msg: Any, timeout: float | None = None) -> Any:
        from jeepney.wrappers import unwrap_msg

        reply = self._conn.send_and_get_reply(msg, timeout=timeout or self.call_timeout)
        return unwrap_msg(reply)

    def _method(self, interface: str, member: str, signature: str, body: tuple[Any, ...]) -> Any:
        from jeepney import DBusAddress, new_method_call

        addr = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=interface)
        return self._reply(new_method_call(addr, member, signature, body))

    def _request(
        self, member: str, signature: str, args: tuple[Any, ...], timeout: float
    ) -> tuple[int, dict[str, Any]]:
        from jeepney import MatchRule, message_bus
        from jeepney.io.blocking import Proxy

        token = "voicetype_" + secrets.token_hex(6)
        sender = self._conn.unique_name.lstrip(":").replace(".", "_")
        path = f"{OBJECT_PATH}/request/{sender}/{token}"
        rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=path)
        Proxy(message_bus, self._conn).AddMatch(rule)
        args[-1]["handle_token"] = ("s", token)
        try:
            with self._conn.filter(rule, bufsize=4) as queue:
                self._method(GLOBAL_SHORTCUTS, member, signature, args)
                signal = self._conn.recv_until_filtered(queue, timeout=timeout)
        finally:
            with contextlib.suppress(Exception):
                Proxy(message_bus, self._conn).RemoveMatch(rule)
        code, results = signal.body
        return int(code), {k: v[1] for k, v in results.items()}

    def start(self) -> None:
        self._stop.clear()
        try:
            self._bind()
        except BackendUnavailable:
            self.stop()
            raise
        self._thread = threading.Thread(target=self._listen, name="portal-hotkey", daemon=True)
        self._thread.start()

    def start_in_background(self, settled: Callable[[BackendUnavailable | None], None]) -> None:
        """Bind on the listener's thread, then listen there; ``settled(None)`` once the
        shortcut is bound, ``settled(error)`` when it cannot be (the listener is then
        closed). Returns at once."""
        self._stop.clear()

        def run() -> None:
            try:
                self._bind()
            except BackendUnavailable as exc:
                self._close()
                if not self._stop.is_set():
                    settled(exc)
                return
            if self._stop.is_set():
                return
            settled(None)
            self._listen()

        self._thread = threading.Thread(target=run, name="portal-hotkey", daemon=True)
        self._thread.start()

    def _bind(self) -> None:
        """Steps 1–3 of the module docstring; raises ``BackendUnavailable`` and leaves
        the connection for ``_close``."""
        from jeepney import DBusAddress, MatchRule, Properties, message_bus
        from jeepney.io.blocking import Proxy, open_dbus_connection
        from jeepney.wrappers import DBusErrorResponse

        address = self.env.get("DBUS_SESSION_BUS_ADDRESS")
        if not address:
            raise BackendUnavailable("no D-Bus session bus for the shortcuts portal", _FIX)
        try:
            self._conn = open_dbus_connection(address)
        except OSError as exc:
            raise BackendUnavailable(f"cannot reach the D-Bus session bus: {exc}", _FIX) from exc
        try:
            with contextlib.suppress(DBusErrorResponse):  # portals before 1.21 have none
                self._method(REGISTRY, "Register", "sa{sv}", (self.app_id, {}))
            props = Properties(
                DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=GLOBAL_SHORTCUTS)
            )
            try:
                self._reply(props.get("version"))
            except DBusErrorResponse as exc:
                raise BackendUnavailable(
                    "this desktop has no global-shortcuts portal (GlobalShortcuts)", _FIX
                ) from exc
            shortcut = (
                SHORTCUT_ID,
                {
                    "description": ("s", "Dictate (voicetype)"),
                    "preferred_trigger": ("s", preferred_trigger(self.hotkey)),
                },
            )
            options = {
                "session_handle_token": ("s", SESSION_TOKEN),
                "shortcuts": ("a(sa{sv})", [shortcut]),
            }
            code, results = self._request("CreateSession", "a{sv}", (options,), self.call_timeout)
            if code != 0:
                raise BackendUnavailable("the shortcuts portal refused a session", _FIX)
            self.session = str(results["session_handle"])
            code, results = self._request(
                "BindShortcuts",
                "oa(sa{sv})sa{sv}",
                (self.session, [shortcut], "", {}),
                self.consent_timeout,
            )
            if code == 1:
                raise BackendUnavailable("you declined voicetype's global shortcut", _FIX)
            for sid, props_ in results.get("shortcuts", []):
                if sid == SHORTCUT_ID and "trigger_description" in props_:
                    self.trigger = str(props_["trigger_description"][1])
            for member in ("Activated", "Deactivated"):
                rule = MatchRule(
                    type="signal", interface=GLOBAL_SHORTCUTS, member=member, path=OBJECT_PATH
                )
                Proxy(message_bus, self._conn).AddMatch(rule)
        except TimeoutError as exc:
            raise BackendUnavailable(
                "the desktop did not answer voicetype's request for a global shortcut", _FIX
            ) from exc
        except (DBusErrorResponse, OSError) as exc:
            raise BackendUnavailable(f"the shortcuts portal failed: {exc}", _FIX) from exc
        self._bound = True

    def _listen(self) -> None:
        from jeepney import MessageType

        conn = self._conn
        while not self._stop.is_set():
            try:
                msg = conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except OSError:
                return  # connection closed by stop()
            fields = msg.header.fields
            if msg.header.message_type != MessageType.signal or fields.get(2) != GLOBAL_SHORTCUTS:
                continue
            session, sid = msg.body[0], msg.body[1]
            if str(session) != self.session or sid != SHORTCUT_ID:
                continue
            if fields.get(3) == "Activated" and not self._held:
                self._held = True
                self.on_press()
            elif fields.get(3) == "Deactivated" and self._held:
                self._held = False
                self.on_release()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            if not self._bound:
                conn = self._conn  # wake a binding that waits for the desktop
                if conn is not None:
                    with contextlib.suppress(OSError):
                        conn.sock.shutdown(socket.SHUT_RDWR)
            thread.join(1.0)
        self._close()

    def _close(self) -> None:
        """Close the portal session (when bound) and the connection; idempotent."""
        with self._close_lock:
            conn, self._conn = self._conn, None
            session, self.session = self.session, ""
            self._bound = False
            if conn is None:
                return
            if session:
                from jeepney import DBusAddress, new_method_call

                addr = DBusAddress(session, bus_name=BUS_NAME, interface=SESSION)
                with contextlib.suppress(Exception):
                    conn.send_and_get_reply(new_method_call(addr, "Close"), timeout=1.0)
            conn.close()


#: Desktops whose compositor binds keys itself; the portal is not asked there.
COMPOSITOR_BINDINGS = ("sway", "river", "labwc", "wayfire", "niri", "wlroots")


def select_wayland_hotkeys(
    hotkey: Hotkey,
    on_press: Callable[[], None],
    on_release: Callable[[], None],
    desktop: str,
    env: Mapping[str, str],
) -> PortalHotkeyListener:
    """The hotkey listener for a Wayland ``desktop`` (``wayland_select.detect_session``):
    the GlobalShortcuts portal (KDE, GNOME, Hyprland, unknown desktops), not started.
    Raises ``BackendUnavailable`` whose fix is ``voicetype shortcut`` where the
    compositor's own binding is the way (sway and other wlroots compositors without the
    portal); ``start`` raises the same where the portal turns out to be missing."""
    if desktop in COMPOSITOR_BINDINGS:
        raise BackendUnavailable(
            f"{desktop} has no global-shortcuts portal: the hotkey is a {desktop} key binding",
            _FIX,
        )
    return PortalHotkeyListener(hotkey, on_press, on_release, env)


def describe_hotkey(desktop: str, listener: PortalHotkeyListener | None) -> str:
    """One line for ``status`` and ``doctor``: how the hotkey reaches voicetype."""
    if listener is not None and listener.session:
        return f"hotkey: {listener.trigger} through the desktop's GlobalShortcuts portal"
    return "hotkey: a desktop key binding running `voicetype dictate` (see `voicetype shortcut`)"
