"""Pasting through the xdg-desktop-portal Clipboard interface (version 1), for a
RemoteDesktop session that asked for it: no wl-clipboard, no process of ours on the
Wayland clipboard.

Contract (the published interface): ``RequestClipboard`` is called for the session
before ``Start`` (the portal refuses it after: "Invalid state"); Start's results say
``clipboard_enabled``. The portal then tells the session each new selection
(``SelectionOwnerChanged``: ``mime_types``, ``session_is_owner``) and each fetch of a
selection the session owns (``SelectionTransfer(session, mime_type, serial)``), which is
answered with ``SelectionWrite(session, serial)`` → a file descriptor, written and
closed, then ``SelectionWriteDone(session, serial, success)``.

A paste (``paste``): the current selection is saved with ``SelectionRead`` — its text
(the first text type offered), else its first type only, like the wl-clipboard path;
nothing when the portal has said it is empty or a read fails — then ``SetSelection``
offers the text under ``TEXT_TYPES``, ``chord`` sends the paste keys, and every
``SelectionTransfer`` is served. A fetch after the chord means the window took the text;
once one came, serving goes on until none came for ``serving.QUIET`` (at most
``serving.LINGER``). Then
the saved selection is offered again and served from then on, by a thread of this
object, until another owner takes the selection (``SelectionOwnerChanged`` with
``session_is_owner`` false) or ``close``. An empty previous selection is given back as
an offer of no types (the interface has no call to clear it). ``paste`` returns whether
a window fetched the text within ``fetch_timeout``.

Threading: the caller passes ``lock``, held by every user of the D-Bus connection; the
serving thread waits for the bus without it and takes it only to handle what came, so
a caller waits for it only while a transfer is being served. Signals that arrive while
another call waits for its reply are kept in a queue (``filter``) and served next.
Errors: ``InsertionError`` when SetSelection fails (nothing was typed).
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from voicetype.insertion import InsertionError
from voicetype.insertion.serving import time_left

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
CLIPBOARD = "org.freedesktop.portal.Clipboard"
#: The types the text is offered under (GTK and Qt ask for the first; X11 clients
#: through XWayland for the UTF8_STRING family).
TEXT_TYPES = ("text/plain;charset=utf-8", "text/plain", "UTF8_STRING", "STRING", "TEXT")
#: The serving thread's longest wait before it looks for a message already read into
#: jeepney's buffer (by another call) rather than still on the socket.
POLL = 0.05
#: Reading a selection (another application writes it) and writing one: bounds.
READ_TIMEOUT = 1.0
WRITE_TIMEOUT = 2.0
READ_AT_MOST = 64 * 1024 * 1024


class PortalClipboard:
    """See the module docstring for the contract."""

    def __init__(self, conn: Any, lock: threading.RLock, call_timeout: float) -> None:
        self.conn = conn
        self.lock = lock
        self.call_timeout = call_timeout
        self.session = ""
        self.enabled = False
        #: What the selection offers when another client owns it (None: not told yet).
        self.foreign_types: list[str] | None = None
        self.owner = False
        #: What this session serves while it owns the selection, by type.
        self.serving: dict[str, bytes] = {}
        self._fetched = 0
        #: The pasted text while a paste is under way (its transfers are counted).
        self._text: bytes | None = None
        self._queue: deque[Any] = deque(maxlen=256)
        self._filter: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- D-Bus ------------------------------------------------------------------------

    def _call(self, method: str, signature: str, body: tuple[Any, ...]) -> Any:
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        addr = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=CLIPBOARD)
        msg = new_method_call(addr, method, signature, body)
        return unwrap_msg(self.conn.send_and_get_reply(msg, timeout=self.call_timeout))

    @staticmethod
    def offered(reply: Callable[[Any], Any]) -> bool:
        """Whether the portal has the Clipboard interface (its ``version`` property);
        ``reply`` sends a message and returns the reply's body or raises."""
        from jeepney import DBusAddress, Properties

        props = Properties(DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=CLIPBOARD))
        try:
            return int(reply(props.get("version"))[0][1]) >= 1
        except Exception:  # any failure means: not offered
            return False

    def request(self, session: str) -> None:
        """Ask for clipboard access for ``session``; call before its ``Start``.
        Failures leave the clipboard disabled (the wl-clipboard path is used)."""
        from jeepney import MatchRule, message_bus
        from jeepney.io.blocking import Proxy

        self.session = session
        if self._filter is None:
            rule = MatchRule(type="signal", interface=CLIPBOARD, path=OBJECT_PATH)
            Proxy(message_bus, self.conn).AddMatch(rule)
            self._filter = self.conn.filter(rule, queue=self._queue)
            self._filter.__enter__()
        try:
            self._call("RequestClipboard", "oa{sv}", (session, {}))
        except Exception:  # a portal without it: the other path
            self.session = ""

    def started(self, results: dict[str, Any]) -> None:
        """Start's results say whether access was given; then serving begins."""
        self.enabled = bool(self.session) and bool(results.get("clipboard_enabled", False))
        self.foreign_types = None
        self.owner = False
        self.serving = {}
        if self.enabled and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._serve, name="portal-clipboard")
            self._thread.daemon = True
            self._thread.start()

    # -- signals ------------------------------------------------------------------------

    def _serve(self) -> None:
        """Between insertions: wait (without the lock) until the bus has something, at
        most ``POLL`` (a message may also wait in jeepney's buffer: then it is handled
        after that), then handle what is there under the lock."""
        while not self._stop.is_set():
            with contextlib.suppress(OSError, ValueError):
                select.select([self.conn.sock], [], [], POLL)
            with self.lock:
                if not self._stop.is_set():
                    self._pump(0)

    def _pump(self, timeout: float) -> int:
        """Handle the queued signals, else wait up to ``timeout`` for one; the number
        of transfers of the text served. Call with ``lock`` held."""
        before = self._fetched
        wait = max(timeout, 0.0)
        while True:  # the first one within ``timeout``, then all that are there already
            if self._queue:  # came in while another call waited for its reply
                self._drain()
                wait = 0.0
            try:
                # It pops the first matching message and returns it.
                msg = self.conn.recv_until_filtered(self._queue, timeout=wait)
            except (TimeoutError, OSError):
                break
            self._handle(msg)
            wait = 0.0
        return self._fetched - before

    def _drain(self) -> None:
        while self._queue:
            self._handle(self._queue.popleft())

    def _handle(self, msg: Any) -> None:
        member = msg.header.fields.get(3)
        if not msg.body or str(msg.body[0]) != self.session:
            return
        if member == "SelectionOwnerChanged":
            options = {k: v[1] for k, v in msg.body[1].items()}
            self.owner = bool(options.get("session_is_owner", False))
            if not self.owner:
                self.foreign_types = [str(t) for t in options.get("mime_types", [])]
                self.serving = {}
        elif member == "SelectionTransfer":
            _session, mime, serial = msg.body
            self._transfer(str(mime), int(serial))

    def _transfer(self, mime: str, serial: int) -> None:
        data = self.serving.get(mime)
        ok = False
        if data is not None:
            try:
                fd = self._call("SelectionWrite", "ou", (self.session, serial))[0]
                ok = _write_all(fd.to_raw_fd(), data)
            except Exception:  # answered with success=false below
                ok = False
        with contextlib.suppress(Exception):
            self._call("SelectionWriteDone", "oub", (self.session, serial, ok))
        if ok and data is not None and self._text is not None and data == self._text:
            self._fetched += 1

    # -- pasting ------------------------------------------------------------------------

    def _sync(self) -> None:
        """A round trip to the portal: a signal it sent before answering (another
        application took the selection just now) is queued once the answer is here (the
        bus keeps one sender's messages in order)."""
        from jeepney import DBusAddress, Properties

        props = Properties(DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=CLIPBOARD))
        with contextlib.suppress(Exception):  # then what was queued already decides
            self.conn.send_and_get_reply(props.get("version"), timeout=self.call_timeout)

    def _save(self) -> dict[str, bytes] | None:
        """The current selection: its text under the text types it offers, else its
        first type; None when empty or unreadable."""
        self._sync()
        self._pump(0)
        if self.owner:
            return dict(self.serving) or None
        types = self.foreign_types
        if types is None:  # not told yet: ask for text
            types = [TEXT_TYPES[0]]
        if not types:
            return None
        text = [t for t in types if t in TEXT_TYPES or t.startswith("text/plain;charset=utf-8")]
        mime = text[0] if text else types[0]
        try:
            fd = self._call("SelectionRead", "os", (self.session, mime))[0]
            data = _read_all(fd.to_raw_fd())
        except Exception:  # nothing readable: nothing to give back
            return None
        if data is None or (self.foreign_types is None and not data):
            return None
        # Text is given back under every text type (the ones it had, and the usual).
        return dict.fromkeys([*text, *TEXT_TYPES] if text else [mime], data)

    def _offer(self, serving: dict[str, bytes]) -> None:
        self._call("SetSelection", "oa{sv}", (self.session, {"mime_types": ("as", list(serving))}))
        self._drain()  # what came before the reply predates this selection
        self.serving = serving
        self.owner = True

    def paste(self, text: str, chord: Callable[[], None], fetch_timeout: float) -> bool:
        """Put ``text`` on the clipboard, run ``chord``, serve until quiet, give the
        previous selection back; whether a window fetched the text. Call with ``lock``
        held."""
        saved = self._save()
        data = text.encode()
        self._text = data
        try:
            try:
                self._offer(dict.fromkeys(TEXT_TYPES, data))
            except Exception as exc:
                raise InsertionError(
                    f"the desktop portal did not take the text for the clipboard ({exc});"
                    " nothing was typed",
                    fix="dictate again; if it persists, restart the desktop session",
                ) from exc
            self._pump(0)  # fetches before the chord (a clipboard manager) don't count
            self._fetched = 0
            chord()
            return self._serve_until_quiet(fetch_timeout)
        finally:
            self._text = None
            with contextlib.suppress(Exception):
                self._offer(saved or {})

    def _serve_until_quiet(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        first: float | None = None
        last = 0.0
        while True:
            left = time_left(time.monotonic(), deadline, first, last)
            if left <= 0 or not self.owner:
                return first is not None
            if self._pump(left):
                last = time.monotonic()
                first = first or last

    def close(self) -> None:
        """Stop serving (the caller must not hold ``lock``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        self.enabled = False
        if self._filter is not None:
            with contextlib.suppress(Exception):
                self._filter.__exit__(None, None, None)
            self._filter = None


def _read_all(fd: int) -> bytes | None:
    """Read ``fd`` to its end within ``READ_TIMEOUT``; None when that took longer."""
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + READ_TIMEOUT
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > READ_AT_MOST:
                return None
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> bool:
    """Write ``data`` to ``fd`` and close it within ``WRITE_TIMEOUT``."""
    deadline = time.monotonic() + WRITE_TIMEOUT
    view = memoryview(data)
    try:
        os.set_blocking(fd, False)
        while view:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                return False
            view = view[os.write(fd, view) :]
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
