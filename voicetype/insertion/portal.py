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
new one); GNOME 43 and KDE 5.27 (portal version 1) ask at every new session. When Start
took long enough to have shown a dialog, typing waits ``CONSENT_SETTLE`` for focus to
return to the window.

How a text is inserted
----------------------
A text of at most ``TYPE_AT_MOST`` characters, all in ``TYPABLE`` (printable ASCII, tab,
line break: keys on practically every layout), is typed with ``NotifyKeyboardKeysym``,
one press and release per character, at most ``MAX_TYPE_RATE`` characters per second.
Any other text is pasted, whole: GNOME 43's portal silently drops keysyms
that are not on the layout ("No keycode found for keyval"), so typing ``é`` or ``日`` is
not exact there. Pasting: the previous clipboard and primary selection are saved
(``wl-paste``: the text, else the first type offered), the text is put on
both (``wl-copy``, serving until replaced) and Shift+Insert is sent — the chord that
pastes in GTK, Qt, browsers and LibreOffice (clipboard) and in terminals (primary
selection), so the window needs no identification. After ``PASTE_SETTLE`` (no event
tells that the window has fetched the text) both are put back; a clipboard that held
only non-text data is restored with its first type only. Where the compositor offers
clipboard tools no primary selection (KWin 5.27) only the clipboard is used; where
wl-copy needs focus and does not get it (GNOME), it is started again (``_serve``). A
harmless Shift press goes first in each new session (GNOME loses the first key of a new
virtual keyboard).

Modifiers: the portal cannot tell which keys the user holds, and a held Ctrl may apply
to the portal's keys too (not measured); with hold-to-talk the hotkey is released before
the text is inserted, so only keys pressed during insertion can interfere.

Line breaks: the portal does not say which window has focus, so a line break could be a
Return in a terminal. Unless ``is_terminal`` (an injected probe, e.g. AT-SPI roles)
answers False for the focused window, line breaks become spaces (also in pasted text: a
terminal without bracketed paste would run it).

Errors: ``BackendUnavailable`` from ``check`` when there is no session bus or no portal
with RemoteDesktop; ``PortalRefused`` when the user declines; ``InsertionError`` when
Start is not answered in time, a portal call fails or ``wl-copy`` is missing for a
paste. Threading: the controller thread only; the inserter owns one D-Bus connection.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from voicetype.errors import BackendUnavailable
from voicetype.insertion import InsertionError, Key, Target, refuse_press, sanitize

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
REMOTE_DESKTOP = "org.freedesktop.portal.RemoteDesktop"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
DEVICE_KEYBOARD = 1
PERSIST_UNTIL_REVOKED = 2
TOKEN_FILE = "portal-restore-token"
PASTE_SETTLE = 0.5
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
        paste_settle: float = PASTE_SETTLE,
    ) -> None:
        self.env = dict(env)
        self.state_dir = state_dir
        self.consent_timeout = consent_timeout
        self.call_timeout = call_timeout
        self.is_terminal = is_terminal
        self.paste_settle = paste_settle
        self._conn: Any = None
        self._session: str | None = None
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
                self._conn = open_dbus_connection(address)
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
        asked = time.monotonic()
        started = self._request("Start", "osa{sv}", (session, "", {}), self.consent_timeout)
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

    def _close_session(self, session: str) -> None:
        from jeepney import DBusAddress, new_method_call

        addr = DBusAddress(session, bus_name=BUS_NAME, interface=SESSION)
        with contextlib.suppress(Exception):
            self._connection().send_and_get_reply(
                new_method_call(addr, "Close"), timeout=self.call_timeout
            )

    def _key(self, keysym: int, state: int) -> None:
        assert self._session is not None
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
        self._ensure_session()

    def focused_target(self) -> Target | None:
        return None

    def press(self, key: Key, count: int, target: Target | None) -> None:
        """Not implemented through the portal yet: refuses before pressing anything."""
        refuse_press(key, count, "through the RemoteDesktop portal")

    def insert(self, text: str, target: Target | None) -> None:
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

        try:
            self._key(KEYSYM_SHIFT_L, 1)
            self.last_method = "pasted"
            self._key(KEYSYM_INSERT, 1)
            self._key(KEYSYM_INSERT, 0)
            self._key(KEYSYM_SHIFT_L, 0)
            time.sleep(self.paste_settle)  # no event tells that the window fetched the text
        finally:
            for primary, data in saved.items():
                self._restore_clipboard(data, primary)
            for proc in owners:
                if proc.poll() is None:
                    proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(2)

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

    def _serve(self, text: str, primary: bool) -> subprocess.Popen[bytes]:
        """A ``wl-copy --foreground`` serving ``text``, once the selection is seen to
        hold it. Where the compositor has no data-control protocol (GNOME), wl-copy needs
        keyboard focus for a moment and sometimes never gets it (1 in ~8 headless runs):
        it is then started again, up to ``COPY_ATTEMPTS`` times."""
        argv = ["wl-copy", "--foreground", "--type", "text/plain;charset=utf-8"]
        if primary:
            argv.append("--primary")
        for attempt in range(1 if primary else COPY_ATTEMPTS):
            proc = subprocess.Popen(
                argv,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            assert proc.stdin is not None
            proc.stdin.write(text.encode())
            proc.stdin.close()
            if self._offered(text, primary, 0.5 if primary else 1.5):
                self.copy_attempts = attempt + 1
                return proc
            proc.terminate()
            proc.wait(2)
        raise InsertionError(
            "could not put the text on the Wayland clipboard (wl-copy); nothing was typed",
            fix="check that wl-copy works in this session: echo hi | wl-copy && wl-paste",
        )

    def _offered(self, text: str, primary: bool, timeout: float) -> bool:
        argv = ["wl-paste", "--no-newline", "--type", "text/plain;charset=utf-8"]
        if primary:
            argv.append("--primary")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                if self._wl(argv, timeout=1).stdout == text.encode():
                    return True
            time.sleep(0.05)  # polling another process's state; no event to wait for
        return False

    def _restore_clipboard(self, saved: tuple[str, bytes] | None, primary: bool) -> None:
        which = ["--primary"] if primary else []
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            if saved is None:
                self._wl(["wl-copy", *which, "--clear"])
            else:
                mime, data = saved
                self._wl(["wl-copy", *which, "--type", mime], input=data)

    def close(self) -> None:
        if self._session is not None:
            self._close_session(self._session)
            self._session = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
