"""Typing into native Wayland windows on GNOME and KDE through the xdg-desktop-portal
RemoteDesktop interface (D-Bus, jeepney), with the clipboard for what keys can't type.

The session
-----------
``CreateSession`` → ``SelectDevices`` (keyboard; ``persist_mode`` 2 and the stored
``restore_token`` where the portal is version 2 or newer) → ``Start``. Start may show the
desktop's consent dialog; it is bounded by ``consent_timeout`` (the dialog is closed and
``InsertionError`` raised when nobody answers). A refusal raises ``PortalRefused`` and
nothing is typed. The restore token ``Start`` returns replaces the stored one (a token
is valid once), in ``<state dir>/portal-restore-token``, mode 0600. The session is started
by ``prepare`` (call it at daemon start, so a dialog appears then) or the first
``insert``, and kept until ``close`` (if the portal closes it, the next insert starts a
new one). Where the portal has the Clipboard interface (its ``version`` property, asked
once), ``RequestClipboard`` is called for each session (a restored one too) between
SelectDevices and Start (the portal accepts it only before Start). GNOME 43 and
KDE 5.27 (portal version 1) ask at every new session. When Start
took long enough to have shown a dialog, typing waits ``CONSENT_SETTLE`` for focus to
return to the window.

How a text is inserted
----------------------
A text of at most ``TYPE_AT_MOST`` characters, all in ``TYPABLE`` (printable ASCII, tab,
line break: keys on practically every layout), is typed with ``NotifyKeyboardKeysym``,
one press and release per character, at most ``MAX_TYPE_RATE`` characters per second.
Any other text is pasted, whole: GNOME 43's portal silently drops keysyms
that are not on the layout ("No keycode found for keyval"), so typing ``é`` or ``日`` is
not exact there. Where Start said ``clipboard_enabled``, the paste goes through the
Clipboard portal (``voicetype.insertion.portal_clipboard``: no wl-clipboard; each fetch
is a ``SelectionTransfer``; the previous clipboard is served back by voicetype's session
while it owns the selection, so it is lost when the session closes, e.g. at daemon
exit). Otherwise (GNOME 43, KDE 5.27; or the user left the clipboard out), the
wl-clipboard path: the previous clipboard and primary selection are saved
(``wl-paste``: the text, else the first type offered), the text is put on both
(``wl-copy``; its first process exits once the compositor accepted the selection) and
Shift+Insert is sent — the chord that pastes in GTK, Qt, browsers and LibreOffice
(clipboard) and in terminals (primary selection), so the window needs no
identification. Then voicetype waits for the window to fetch the text: wl-copy runs
``cat`` for every fetch, and a ``cat`` of voicetype's own first on its PATH reports each
one on a pipe (fetches before the chord, e.g. GNOME's clipboard manager copying every new
selection, don't count). Once one came, the text is served until none came for
``serving.QUIET`` (some applications fetch twice), then both selections are put back; a
clipboard that held only non-text data is restored with its first type only. When no
window fetches within ``fetch_timeout``, ``NothingPasted`` says so ("nothing was pasted":
the text is kept for Type last dictation) and the selections are put back; a window that
would fetch even later gets the old clipboard — the bound is generous (5 s) for that
reason. Where the compositor offers clipboard tools no primary selection (KWin 5.27) only
the clipboard is used; where wl-copy needs focus (GNOME: no data-control protocol) it is
started again when it does not get it (``_serve``), and the next key (the chord, and
the first one after the selections are put back) waits ``FOCUS_SETTLE`` for the focus to
come back to the window (no event tells). A harmless
Shift press goes first in each new session (GNOME loses the first key of a new virtual
keyboard).

Modifiers: the portal cannot tell which keys the user holds, and a held Ctrl may apply
to the portal's keys too (not measured); with hold-to-talk the hotkey is released before
the text is inserted, so only keys pressed during insertion can interfere.

Line breaks: the portal does not say which window has focus, so a line break could be a
Return in a terminal. Unless ``is_terminal`` (an injected probe: the daemon wires
AT-SPI's focused accessible, ``voicetype.context.focus.terminal_probe``, bounded to
0.1 s; not known is a terminal) answers False for the focused window, line breaks become
spaces (also in pasted text: a terminal without bracketed paste would run it), and
``press`` refuses Return; BackSpace ("scratch that") is pressed anywhere.

Errors: ``BackendUnavailable`` from ``check`` when there is no session bus or no portal
with RemoteDesktop; ``PortalRefused`` when the user declines; ``InsertionError`` when
Start is not answered in time, a portal call fails or ``wl-copy`` is missing for a
paste. Threading: the controller thread calls the inserter; it owns one D-Bus
connection, shared (under a lock taken by ``insert``, ``press``, ``prepare``, ``close``)
with the Clipboard portal's thread that serves the restored clipboard between insertions
(it holds it only while it serves a transfer).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from voicetype.errors import BackendUnavailable
from voicetype.insertion import InsertionError, Key, NothingPasted, Target, sanitize
from voicetype.insertion.portal_clipboard import PortalClipboard
from voicetype.insertion.serving import time_left

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
REMOTE_DESKTOP = "org.freedesktop.portal.RemoteDesktop"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
DEVICE_KEYBOARD = 1
PERSIST_UNTIL_REVOKED = 2
TOKEN_FILE = "portal-restore-token"
#: How long a window may take to fetch a pasted text; then nothing was pasted.
FETCH_TIMEOUT = 5.0
#: How long wl-copy may take to get the selection (GNOME: it needs focus first).
SELECTION_TIMEOUT = 1.5
#: Where wl-copy takes the selection through a focused surface of its own (no
#: data-control protocol), the wait before the paste chord for the focus to come back.
FOCUS_SETTLE = 0.15
DATA_CONTROL = frozenset({"zwlr_data_control_manager_v1", "ext_data_control_manager_v1"})
#: The variable naming the pipe that wl-copy's ``cat`` reports fetches on.
FETCH_FD_VARIABLE = "VOICETYPE_FETCH_FD"
#: Longer texts are pasted; typed ones go at most MAX_TYPE_RATE chars/s. Faster key
#: floods made GTK3 windows on KWin 5.27 exit ("Error 11 (Resource temporarily
#: unavailable) dispatching to Wayland display": its requests outran the compositor).
TYPE_AT_MOST = 200
MAX_TYPE_RATE = 300.0
COPY_ATTEMPTS = 3
#: A Start slower than this showed a dialog; then wait CONSENT_SETTLE before typing.
DIALOG_SHOWN_AFTER = 0.3
CONSENT_SETTLE = 0.5
KEYSYM_SHIFT_L = 0xFFE1
KEYSYM_INSERT = 0xFF63
KEYSYM_RETURN = 0xFF0D
KEYSYM_BACKSPACE = 0xFF08
KEYSYM_TAB = 0xFF09
TYPABLE = frozenset(chr(c) for c in range(0x20, 0x7F)) | {"\n", "\t"}


class PortalRefused(InsertionError):
    """The user declined the desktop's remote-control request; nothing was typed."""


class SessionLost(InsertionError):
    """A key was refused before any text key went out (the session is gone)."""


def keysym_for(ch: str) -> int:
    if ch == "\n":
        return KEYSYM_RETURN
    if ch == "\t":
        return KEYSYM_TAB
    cp = ord(ch)
    return cp if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF else 0x01000000 + cp


def request_path(unique_name: str, token: str) -> str:
    """The object path of the portal's Request for ``token`` (spec: sender without the
    leading ':' and with '.' as '_')."""
    sender = unique_name.lstrip(":").replace(".", "_")
    return f"{OBJECT_PATH}/request/{sender}/{token}"


class PortalInserter:
    """See the module docstring for the contract."""

    def __init__(
        self,
        env: Mapping[str, str],
        state_dir: Path,
        consent_timeout: float = 60.0,
        call_timeout: float = 5.0,
        is_terminal: Callable[[], bool | None] | None = None,
        fetch_timeout: float = FETCH_TIMEOUT,
    ) -> None:
        self.env = dict(env)
        self.state_dir = state_dir
        self.consent_timeout = consent_timeout
        self.call_timeout = call_timeout
        self.is_terminal = is_terminal
        self.fetch_timeout = fetch_timeout
        self._reporter_dir: Path | None = None
        self._needs_focus: bool | None = None
        self._keys_after = 0.0  # no key before this time.monotonic() (see _focus_moved)
        self._conn: Any = None
        self._session: str | None = None
        #: Held by every user of the D-Bus connection (the clipboard's serving thread too).
        self._lock = threading.RLock()
        #: The Clipboard portal where the desktop offers it (asked once), else None.
        self._clipboard: PortalClipboard | None = None
        self._clipboard_asked = False
        self.version = 0
        #: How many wl-copy starts the last paste needed (see ``_serve``).
        self.copy_attempts = 0
        #: False once putting text on the primary selection failed (KWin 5.27).
        self.primary = True
        #: What the last ``insert`` did: "typed" or "pasted" (for status lines and tests).
        self.last_method = ""

    # -- portal plumbing -------------------------------------------------------------

    def _connection(self) -> Any:
        if self._conn is None:
            from jeepney.io.blocking import open_dbus_connection

            address = self.env.get("DBUS_SESSION_BUS_ADDRESS")
            if not address:
                raise BackendUnavailable(
                    "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no portal",
                    fix="run voicetype inside your desktop session",
                )
            try:
                self._conn = open_dbus_connection(address, enable_fds=True)
            except OSError as exc:
                raise BackendUnavailable(
                    f"cannot reach the D-Bus session bus: {exc}",
                    fix="run voicetype inside your desktop session",
                ) from exc
        return self._conn

    def _reply(self, msg: Any) -> Any:
        """The body of the reply to ``msg``; ``DBusErrorResponse`` for an error reply."""
        from jeepney.wrappers import unwrap_msg

        reply = self._connection().send_and_get_reply(msg, timeout=self.call_timeout)
        return unwrap_msg(reply)

    def _call(self, method: str, signature: str, body: tuple[Any, ...]) -> Any:
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import DBusErrorResponse

        portal = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=REMOTE_DESKTOP)
        msg = new_method_call(portal, method, signature, body)
        try:
            return self._reply(msg)
        except (DBusErrorResponse, TimeoutError, OSError) as exc:
            raise InsertionError(
                f"the desktop portal's RemoteDesktop.{method} failed: {exc}",
                fix="check that xdg-desktop-portal and your desktop's backend"
                " (xdg-desktop-portal-gnome or -kde) are running",
            ) from exc

    def check(self) -> None:
        """Raise ``BackendUnavailable`` unless a portal with RemoteDesktop and a keyboard
        device answers on the session bus; sets ``version``."""
        from jeepney import DBusAddress, Properties
        from jeepney.wrappers import DBusErrorResponse

        props = Properties(DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=REMOTE_DESKTOP))
        try:
            version = self._reply(props.get("version"))[0][1]
            types = self._reply(props.get("AvailableDeviceTypes"))[0][1]
        except (DBusErrorResponse, TimeoutError, OSError) as exc:
            raise BackendUnavailable(
                f"the desktop portal has no RemoteDesktop interface here ({exc})",
                fix="install xdg-desktop-portal with your desktop's backend"
                " (xdg-desktop-portal-gnome on GNOME, xdg-desktop-portal-kde on KDE)",
            ) from exc
        if not int(types) & DEVICE_KEYBOARD:
            raise BackendUnavailable(
                "the desktop portal offers no keyboard for remote control",
                fix="update xdg-desktop-portal and your desktop's portal backend",
            )
        self.version = int(version)

    def _request(
        self, method: str, signature: str, args: tuple[Any, ...], timeout: float
    ) -> dict[str, Any]:
        """Call a portal method that answers through a Request object; return the
        results of its ``Response`` (code 0), raise ``PortalRefused`` (1) or
        ``InsertionError`` (2, or no answer within ``timeout``: the request is closed)."""
        from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
        from jeepney.io.blocking import Proxy

        conn = self._connection()
        token = "voicetype_" + secrets.token_hex(6)
        path = request_path(conn.unique_name, token)
        rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=path)
        Proxy(message_bus, conn).AddMatch(rule)
        options = args[-1]
        options["handle_token"] = ("s", token)
        try:
            with conn.filter(rule, bufsize=4) as queue:
                self._call(method, signature, args)
                try:
                    signal = conn.recv_until_filtered(queue, timeout=timeout)
                except TimeoutError:
                    req = DBusAddress(path, bus_name=BUS_NAME, interface=REQUEST)
                    with contextlib.suppress(Exception):
                        conn.send(new_method_call(req, "Close"))
                    raise InsertionError(
                        f"the desktop did not answer voicetype's remote-control request"
                        f" ({method}) within {timeout:g} s; nothing was typed",
                        fix="dictate again and answer the desktop's permission dialog",
                    ) from None
        finally:
            with contextlib.suppress(Exception):
                Proxy(message_bus, conn).RemoveMatch(rule)
        code, results = signal.body
        if code == 1:
            raise PortalRefused(
                "you declined voicetype's request to type into your windows; nothing was"
                " typed (the text is kept)",
                fix="dictate again and allow remote control (keyboard) in the dialog",
            )
        if code != 0:
            raise InsertionError(
                f"the desktop portal refused {method}; nothing was typed",
                fix="check the desktop portal's log (journalctl --user -u xdg-desktop-portal)",
            )
        return {k: v[1] for k, v in results.items()}

    @property
    def token_path(self) -> Path:
        return self.state_dir / TOKEN_FILE

    def _read_token(self) -> str | None:
        try:
            return self.token_path.read_text().strip() or None
        except OSError:
            return None

    def _write_token(self, token: str) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.token_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.token_path)

    def _ensure_session(self) -> str:
        if self._session is not None:
            return self._session
        if not self.version:
            self.check()
        created = self._request(
            "CreateSession",
            "a{sv}",
            ({"session_handle_token": ("s", "voicetype_" + secrets.token_hex(4))},),
            self.call_timeout,
        )
        session = str(created["session_handle"])
        select: dict[str, Any] = {"types": ("u", DEVICE_KEYBOARD)}
        if self.version >= 2:
            select["persist_mode"] = ("u", PERSIST_UNTIL_REVOKED)
            token = self._read_token()
            if token:
                select["restore_token"] = ("s", token)
        self._request("SelectDevices", "oa{sv}", (session, select), self.call_timeout)
        clipboard = self._portal_clipboard()
        if clipboard is not None:
            clipboard.request(session)  # the portal accepts it only before Start
        asked = time.monotonic()
        started = self._request("Start", "osa{sv}", (session, "", {}), self.consent_timeout)
        if clipboard is not None:
            clipboard.started(started)
        if time.monotonic() - asked > DIALOG_SHOWN_AFTER:
            # A consent dialog was answered and focus is on its way back to the window (no
            # event tells when). A precaution: in one headless GNOME 43 run the first two
            # characters after the dialog were lost (not isolated further).
            time.sleep(CONSENT_SETTLE)
        if not int(started.get("devices", 0)) & DEVICE_KEYBOARD:
            self._close_session(session)
            raise PortalRefused(
                "the desktop allowed remote control without a keyboard; nothing was typed",
                fix="dictate again and allow the keyboard in the dialog",
            )
        if started.get("restore_token"):
            self._write_token(str(started["restore_token"]))
        self._session = session
        self._key(KEYSYM_SHIFT_L, 1)  # GNOME drops the first key of a new virtual keyboard
        self._key(KEYSYM_SHIFT_L, 0)
        return session

    def _portal_clipboard(self) -> PortalClipboard | None:
        """The Clipboard portal, where the desktop offers it (asked once)."""
        if not self._clipboard_asked:
            self._clipboard_asked = True
            if PortalClipboard.offered(self._reply):
                self._clipboard = PortalClipboard(self._connection(), self._lock, self.call_timeout)
        return self._clipboard

    def _close_session(self, session: str) -> None:
        from jeepney import DBusAddress, new_method_call

        addr = DBusAddress(session, bus_name=BUS_NAME, interface=SESSION)
        with contextlib.suppress(Exception):
            self._connection().send_and_get_reply(
                new_method_call(addr, "Close"), timeout=self.call_timeout
            )

    def _key(self, keysym: int, state: int) -> None:
        assert self._session is not None
        wait = self._keys_after - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # see _focus_moved
        try:
            self._call("NotifyKeyboardKeysym", "oa{sv}iu", (self._session, {}, keysym, state))
        except InsertionError as exc:
            if self.last_method:
                raise
            raise SessionLost(exc.message, exc.fix) from exc

    # -- Inserter ----------------------------------------------------------------------

    def prepare(self) -> None:
        """Start the portal session now, so that a consent dialog appears at a moment of
        the caller's choosing (e.g. daemon start) rather than at the first dictation.
        Raises like ``insert`` (``PortalRefused``, ``InsertionError``)."""
        with self._lock:
            self._ensure_session()

    def focused_target(self) -> Target | None:
        return None

    def press(self, key: Key, count: int, target: Target | None) -> None:
        """Press ``key`` ``count`` times through the portal (its keysym is on every
        layout). Return only where ``is_terminal`` answers False: the portal does not say
        which window has focus, and a Return in a terminal runs the command line."""
        with self._lock:
            self._locked_press(key, count)

    def _locked_press(self, key: Key, count: int) -> None:
        if count <= 0:
            return
        if key == "Return" and (self.is_terminal() if self.is_terminal else None) is not False:
            raise InsertionError(
                "a line break is pressed only where voicetype knows the window is not a"
                " terminal, and the desktop portal does not say which window has focus;"
                " nothing typed",
                fix="press Enter yourself",
            )
        keysym = KEYSYM_BACKSPACE if key == "BackSpace" else KEYSYM_RETURN
        fresh = self._session is None
        self._ensure_session()
        try:
            self._press(keysym, count)
        except SessionLost:
            if fresh:
                raise
            self._session = None  # the portal closed the kept session: start one, once
            self._ensure_session()
            self._press(keysym, count)

    def _press(self, keysym: int, count: int) -> None:
        self.last_method = ""
        start = time.monotonic()
        for i in range(count):
            self._key(keysym, 1)
            self.last_method = "pressed"
            self._key(keysym, 0)
            ahead = (i + 1) / MAX_TYPE_RATE - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)  # the same rate limit as typing

    def insert(self, text: str, target: Target | None) -> None:
        with self._lock:
            self._locked_insert(text)

    def _locked_insert(self, text: str) -> None:
        terminal = self.is_terminal() if self.is_terminal else None
        text = sanitize(text)
        if terminal is not False:
            text = text.replace("\n", " ")
        if not text:
            return
        fresh = self._session is None
        self._ensure_session()
        try:
            self._insert(text)
        except SessionLost:
            if fresh:
                raise
            # The portal closed the kept session (desktop restarted, permission revoked)
            # before the first key went out: start a new one, once.
            self._session = None
            self._ensure_session()
            self._insert(text)

    def _insert(self, text: str) -> None:
        self.last_method = ""
        if len(text) <= TYPE_AT_MOST and all(ch in TYPABLE for ch in text):
            self._type(text)
        else:
            self._paste(text)

    def _type(self, text: str) -> None:
        start = time.monotonic()
        for i, ch in enumerate(text):
            keysym = keysym_for(ch)
            self._key(keysym, 1)
            if i == 0:
                self.last_method = "typed"
            self._key(keysym, 0)
            ahead = (i + 1) / MAX_TYPE_RATE - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)  # a rate limit: the window's progress cannot be observed

    def _paste(self, text: str) -> None:
        if self._clipboard is not None and self._clipboard.enabled:
            self._paste_through_portal(self._clipboard, text)
            return
        if shutil.which("wl-copy") is None or shutil.which("wl-paste") is None:
            raise InsertionError(
                "pasting this text needs wl-clipboard (wl-copy, wl-paste); nothing was typed",
                fix="install wl-clipboard (e.g. sudo apt install wl-clipboard)",
            )
        saved = {p: self._save_clipboard(p) for p in ((False, True) if self.primary else (False,))}
        owners = [self._serve(text, primary=False)]
        if self.primary:
            try:
                owners.append(self._serve(text, primary=True))
            except InsertionError:
                self.primary = False  # this compositor has no primary selection for us
                saved.pop(True, None)
        fetched = False
        try:
            self._focus_moved()
            self._key(KEYSYM_SHIFT_L, 1)
            self.last_method = "pasted"
            self._key(KEYSYM_INSERT, 1)
            self._key(KEYSYM_INSERT, 0)
            self._key(KEYSYM_SHIFT_L, 0)
            fetched = _serve_until_quiet(owners, self.fetch_timeout)
        finally:
            for owner in owners:
                owner.end()
            for primary, data in saved.items():
                self._restore_clipboard(data, primary)
            self._focus_moved()
        if not fetched:
            raise NothingPasted(
                f"the window did not take the pasted text within {self.fetch_timeout:g} s;"
                " nothing was pasted (the text is kept)",
                fix="click into the window and choose Type last dictation in the tray menu",
            )

    def _paste_through_portal(self, clipboard: PortalClipboard, text: str) -> None:
        def chord() -> None:
            self._key(KEYSYM_SHIFT_L, 1)
            self.last_method = "pasted"
            self._key(KEYSYM_INSERT, 1)
            self._key(KEYSYM_INSERT, 0)
            self._key(KEYSYM_SHIFT_L, 0)

        if not clipboard.paste(text, chord, self.fetch_timeout):
            raise NothingPasted(
                f"the window did not take the pasted text within {self.fetch_timeout:g} s;"
                " nothing was pasted (the text is kept)",
                fix="click into the window and choose Type last dictation in the tray menu",
            )

    def _wl(
        self, argv: list[str], timeout: float = 3.0, **kwargs: Any
    ) -> subprocess.CompletedProcess[bytes]:
        """Run wl-paste (output captured) or wl-copy (output discarded: it forks a child
        that serves the clipboard and would hold a captured pipe open)."""
        out = subprocess.DEVNULL if argv[0] == "wl-copy" else subprocess.PIPE
        return subprocess.run(
            argv, env=self.env, stdout=out, stderr=subprocess.DEVNULL, timeout=timeout,
            check=False, **kwargs,
        )  # fmt: skip

    def _save_clipboard(self, primary: bool) -> tuple[str, bytes] | None:
        """The selection's text (wl-paste's "text" choice), else its first type; None
        when it is empty. ``--list-types`` is asked only when there is no text: it hung
        for 3 s on KWin 5.27."""
        which = ["--primary"] if primary else []
        try:
            got = self._wl(["wl-paste", *which, "--no-newline", "--type", "text"], timeout=1)
            if got.returncode == 0:
                return "text/plain;charset=utf-8", got.stdout
            listed = self._wl(["wl-paste", *which, "--list-types"], timeout=1).stdout
            if not listed.strip():
                return None
            types = [
                t
                for t in listed.decode(errors="replace").split()
                if t.isprintable() and t.isascii() and "/" in t
            ]
            # KWin 5.27 lists unreadable type names: take what wl-paste picks, as text.
            mime = types[0] if types else "text/plain;charset=utf-8"
            argv = ["wl-paste", *which, "--no-newline", *(["--type", mime] if types else [])]
            data = self._wl(argv, timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return (mime, data.stdout) if data.returncode == 0 else None

    def _focus_moved(self) -> None:
        """wl-copy just took a selection; where it does so from a surface of its own
        that gets the focus for a moment (GNOME), the next key waits until
        ``FOCUS_SETTLE`` after now for the compositor to give the focus back to the window
        (nothing tells when: a Shift+Insert sent at once was lost in 2 of 2 GNOME corpus
        runs, and the first keys typed right after a paste in one run, see docs/faults.md)."""
        if self._clipboard_needs_focus():
            self._keys_after = time.monotonic() + FOCUS_SETTLE

    def _clipboard_needs_focus(self) -> bool:
        """Whether wl-copy needs keyboard focus to take the selection here: the
        compositor offers no data-control protocol (GNOME). Asked once."""
        if self._needs_focus is None:
            from voicetype.insertion.wayland_wire import Connection, WaylandError, socket_path

            path = socket_path(self.env)
            self._needs_focus = False
            if path is not None:
                try:
                    conn = Connection(path, self.call_timeout)
                    try:
                        conn.connect()
                        names = {g.interface for g in conn.globals}
                    finally:
                        conn.close()
                    self._needs_focus = not names & DATA_CONTROL
                except WaylandError:
                    pass
        return self._needs_focus

    def _fetch_reporter(self) -> str:
        """A private directory (0700, made once, removed by ``close``) holding ``cat``,
        a shell script that writes one byte to the pipe named by ``FETCH_FD_VARIABLE``
        (through ``/dev/fd``: a shell redirects only fds 0–9 itself), then runs the real
        ``cat``: wl-copy (wl-clipboard 2.x, text from stdin) runs ``cat`` to store the
        text (before it takes the selection) and to write it to each window that
        fetches it."""
        if self._reporter_dir is None:
            real = shutil.which("cat", path=self.env.get("PATH", os.defpath)) or "/bin/cat"
            directory = Path(tempfile.mkdtemp(prefix="voicetype-fetch-"))
            script = directory / "cat"
            report = f'printf . >>"/dev/fd/${FETCH_FD_VARIABLE}" 2>/dev/null'
            script.write_text(f'#!/bin/sh\n{report}\nexec {real} "$@"\n')
            script.chmod(0o700)
            self._reporter_dir = directory
        return str(self._reporter_dir)

    def _serve(self, text: str, primary: bool) -> _Owner:
        """A ``wl-copy`` serving ``text``, once it has taken the selection: wl-copy forks
        its server only after the compositor accepted the selection, so its first
        process exiting (0) says so. Each fetch is reported on the owner's pipe (see
        ``_fetch_reporter``); fetches made before the paste chord (GNOME's clipboard
        manager copies every new selection at once) are taken off first. Where the
        compositor has no data-control protocol (GNOME), wl-copy needs keyboard focus for
        a moment and sometimes never gets it (1 in ~8 headless runs): it is then started
        again, up to ``COPY_ATTEMPTS`` times."""
        argv = ["wl-copy", "--type", "text/plain;charset=utf-8"]
        if primary:
            argv.append("--primary")
        for attempt in range(1 if primary else COPY_ATTEMPTS):
            done, held = os.pipe()  # the server holds ``held`` open until it exits
            env = {
                **self.env,
                "PATH": f"{self._fetch_reporter()}:{self.env.get('PATH', os.defpath)}",
                FETCH_FD_VARIABLE: str(held),
            }
            try:
                proc = subprocess.Popen(
                    argv,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    pass_fds=(held,),
                    start_new_session=True,  # its server stays in the group: ``_Owner.end``
                )
            except OSError as exc:
                os.close(done)
                raise InsertionError(
                    f"could not start wl-copy: {exc}; nothing was typed",
                    fix="check that wl-clipboard is installed",
                ) from exc
            finally:
                os.close(held)
            owner = _Owner(proc, done)
            assert proc.stdin is not None
            try:
                proc.stdin.write(text.encode())
            except BrokenPipeError:
                pass  # wl-copy failed at once: its exit status says so
            finally:
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.close()
            try:
                code = proc.wait(0.5 if primary else SELECTION_TIMEOUT)
            except subprocess.TimeoutExpired:
                code = None
            # done() also takes the fetches made so far: a clipboard manager's copy
            # (GNOME's, made as the selection changes hands) is no paste.
            if code == 0 and not owner.done():
                self.copy_attempts = attempt + 1
                return owner
            owner.end()
        raise InsertionError(
            "could not put the text on the Wayland clipboard (wl-copy); nothing was typed",
            fix="check that wl-copy works in this session: echo hi | wl-copy && wl-paste",
        )

    def _restore_clipboard(self, saved: tuple[str, bytes] | None, primary: bool) -> None:
        which = ["--primary"] if primary else []
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            if saved is None:
                self._wl(["wl-copy", *which, "--clear"])
            else:
                mime, data = saved
                self._wl(["wl-copy", *which, "--type", mime], input=data)

    def close(self) -> None:
        if self._clipboard is not None:
            self._clipboard.close()  # its thread stops serving the restored clipboard
            self._clipboard = None
            self._clipboard_asked = False
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._reporter_dir is not None:
            shutil.rmtree(self._reporter_dir, ignore_errors=True)
            self._reporter_dir = None
        if self._session is not None:
            self._close_session(self._session)
            self._session = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _Owner:
    """One ``wl-copy`` (``proc``, which exits once it holds the selection) and the read
    end of a pipe that its server holds until it exits (after another program took the
    selection, or ``end``), with one byte written to it per fetch."""

    def __init__(self, proc: subprocess.Popen[bytes], pipe: int) -> None:
        self.proc = proc
        self.pipe = pipe
        self.fetches = 0

    def done(self) -> bool:
        """Whether the server has exited (takes the fetches reported before)."""
        self.take_fetches()
        return self.pipe < 0

    def take_fetches(self) -> int:
        """Read the fetches reported so far (never blocks); how many there were."""
        got = 0
        while self.pipe >= 0 and select.select([self.pipe], [], [], 0)[0]:
            data = os.read(self.pipe, 4096)
            if not data:  # the server exited
                os.close(self.pipe)
                self.pipe = -1
                break
            got += len(data)
        self.fetches += got
        return got

    def end(self) -> None:
        """Stop serving now (idempotent): the server is still in the process group
        wl-copy started, so the group is signalled while the server has not exited."""
        if not self.done():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGTERM)
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2)
        if self.pipe >= 0:
            os.close(self.pipe)
            self.pipe = -1


def _serve_until_quiet(owners: list[_Owner], timeout: float) -> bool:
    """After the paste chord: whether a window fetched the text within ``timeout``; once
    one did, serve on until no fetch came for ``serving.QUIET`` (some applications fetch twice),
    at most ``serving.LINGER``."""
    deadline = time.monotonic() + timeout
    first: float | None = None
    last = 0.0
    while True:
        left = time_left(time.monotonic(), deadline, first, last)
        live = [o.pipe for o in owners if o.pipe >= 0]
        if left <= 0 or not live:
            return first is not None
        ready, _, _ = select.select(live, [], [], left)
        for owner in owners:
            if owner.pipe in ready and owner.take_fetches():
                last = time.monotonic()
                first = first or last
