"""The local control channel and the one-instance lock.

A Unix socket ``control.sock`` in the user runtime dir (directory 0700, socket 0600,
peer uid checked with SO_PEERCRED where available) carries one JSON request line
(``{"command": …, "deadline": …}``, plus ``"argument"`` for a command that takes one) and
one JSON reply line per connection; see ``ControlServer`` for the time limits. Only the
documented commands are accepted; anything else — malformed, oversized, unknown — gets an
error reply and is otherwise ignored.
Nothing received is ever typed or executed.

The lock ``instance.lock`` (``fcntl.flock``) makes the daemon single-instance per user:
the kernel drops it when the holder dies, so a ``kill -9``'d daemon never blocks the
next start. Windows has no implementation yet (``ControlUnavailable``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicetype.commands import socket_commands
from voicetype.errors import VoicetypeError

log = logging.getLogger(__name__)

COMMANDS = socket_commands()  # the command table's socket commands: nothing else is run
MAX_REQUEST = 512


class ControlUnavailable(VoicetypeError):
    """The control channel cannot work here, or no daemon is listening."""


class NotRunning(ControlUnavailable):
    pass


def runtime_dir() -> Path:
    """The per-user runtime directory for voicetype, created 0700 and checked; raises
    ``voicetype.runtime.RuntimeDirError`` (a ``VoicetypeError``) when it is unsafe or
    unusable (see ``voicetype.runtime``)."""
    from voicetype.runtime import runtime_dir as checked_runtime_dir

    return checked_runtime_dir()


def socket_path() -> Path:
    from voicetype.runtime import SOCKET_NAME

    return runtime_dir() / SOCKET_NAME


class InstanceLock:
    """Held by the running daemon for its whole life; released by the kernel on death."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or runtime_dir() / "instance.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        """True when this process now holds the lock; False when another one does.

        Without ``fcntl`` (Windows) there is no lock yet and this returns True.
        """
        try:
            import fcntl
        except ImportError:
            return True

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _peer_uid(conn: socket.socket) -> int | None:
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


#: ``handler(command, deadline, argument)``: runs on a control worker thread; may wait, but
#: must return by ``deadline`` (``time.monotonic()``); returns the reply's fields.
#: ``argument``: the command's one argument ("" when none; e.g. ``language de-DE``).
Handler = Callable[[str, float, str], dict[str, Any]]
#: The longest argument accepted (a language code, say).
MAX_ARGUMENT = 64

#: From accepting a connection to having its whole request line: slow or silent clients
#: are answered "too slow" and closed after this, whatever they trickle.
REQUEST_DEADLINE = 1.0
#: The longest a handler may take when the client states no deadline of its own.
HANDLER_DEADLINE = 1.0
#: Kept for sending the reply: a request with less time than this left is not executed.
REPLY_MARGIN = 0.05
MAX_CLIENTS = 32  # connections read at once; more wait in the listen backlog
BACKLOG = 128  # a burst of 100 clients fits
WORKERS = 4  # requests handled at once


class _Reading:
    """A connection whose request line is still arriving."""

    def __init__(self, conn: socket.socket, deadline: float) -> None:
        self.conn = conn
        self.deadline = deadline
        self.data = b""


class ControlServer:
    """Serves control requests: one thread reads every connection at once (selectors), a
    few worker threads run the handler and send the replies.

    Each request must arrive whole within ``REQUEST_DEADLINE`` of its connection being
    accepted; at most ``MAX_CLIENTS`` are read at once (the rest wait in a ``BACKLOG``
    deep listen queue), so idle or trickling clients cannot hold up the others. A client
    states its deadline (``time.monotonic()``, i.e. CLOCK_MONOTONIC, the same in every
    process of the machine); a request that arrives (or waits for a worker) past it is
    answered "expired" and never executed. ``start`` raises ``ControlUnavailable`` when
    the socket cannot be created.
    """

    def __init__(self, handler: Handler, path: Path | None = None) -> None:
        self._handler = handler
        self.path = path or socket_path()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        # (connection, its request line, or the error to answer it with); None: stop
        self._jobs: queue.SimpleQueue[tuple[socket.socket, bytes | str] | None] = (
            queue.SimpleQueue()
        )
        self._stopping = threading.Event()
        self._wake: tuple[socket.socket, socket.socket] | None = None  # wakes the reader

    def start(self) -> None:
        if not hasattr(socket, "AF_UNIX"):
            raise ControlUnavailable(
                "Control commands are not available on this system yet",
                "use the tray menu or the hotkey",
            )
        self.path.unlink(missing_ok=True)  # the instance lock guarantees it is stale
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            sock.bind(str(self.path))
        except OSError as exc:
            sock.close()
            raise ControlUnavailable(
                f"Cannot create the control socket {self.path} ({exc.strerror})",
                "`voicetype dictate/status/toggle/quit` will not work; check the runtime dir",
            ) from exc
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        sock.listen(BACKLOG)
        sock.setblocking(False)
        self._sock = sock
        self._wake = socket.socketpair()
        self._wake[0].setblocking(False)
        self._workers = [
            threading.Thread(target=self._work, name=f"control-{i}", daemon=True)
            for i in range(WORKERS)
        ]
        for worker in self._workers:
            worker.start()
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self._thread.start()

    # -- the reading thread -------------------------------------------------------------

    def _serve(self) -> None:
        sock, wake = self._sock, self._wake
        assert sock is not None and wake is not None
        sel = selectors.DefaultSelector()
        sel.register(wake[0], selectors.EVENT_READ)
        sel.register(sock, selectors.EVENT_READ)
        reading: dict[int, _Reading] = {}
        listening = True
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                soonest = min((r.deadline for r in reading.values()), default=None)
                timeout = None if soonest is None else max(0.0, soonest - now)
                for key, _ in sel.select(timeout):
                    if key.fileobj is wake[0]:
                        return
                    if key.fileobj is sock:
                        self._accept(sock, sel, reading)
                    else:
                        self._read(reading[key.fd], sel, reading)
                now = time.monotonic()
                for fd in [fd for fd, r in reading.items() if r.deadline <= now]:
                    late = reading.pop(fd)
                    sel.unregister(late.conn)
                    self._jobs.put((late.conn, f"request incomplete after {REQUEST_DEADLINE:g} s"))
                full = len(reading) >= MAX_CLIENTS
                if listening and full:
                    sel.unregister(sock)
                elif not listening and not full:
                    sel.register(sock, selectors.EVENT_READ)
                listening = not full
        finally:
            for r in reading.values():
                r.conn.close()
            sel.close()

    def _accept(
        self, sock: socket.socket, sel: selectors.BaseSelector, reading: dict[int, _Reading]
    ) -> None:
        while len(reading) < MAX_CLIENTS:
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("control accept failed: %s", exc)
                return
            uid = _peer_uid(conn)
            if uid is not None and uid != os.getuid():
                log.warning("control request from uid %d refused", uid)
                self._jobs.put((conn, "permission denied"))
                continue
            conn.setblocking(False)
            entry = _Reading(conn, time.monotonic() + REQUEST_DEADLINE)
            reading[conn.fileno()] = entry
            sel.register(conn, selectors.EVENT_READ)

    def _read(
        self, entry: _Reading, sel: selectors.BaseSelector, reading: dict[int, _Reading]
    ) -> None:
        try:
            chunk = entry.conn.recv(MAX_REQUEST + 1 - len(entry.data))
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.debug("control connection failed: %s", exc)
            chunk = None
        if chunk:
            entry.data += chunk
            if b"\n" not in entry.data and len(entry.data) <= MAX_REQUEST:
                return
        del reading[entry.conn.fileno()]
        sel.unregister(entry.conn)
        if chunk is None:
            entry.conn.close()
        else:
            self._jobs.put((entry.conn, entry.data))

    # -- the workers --------------------------------------------------------------------

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            conn, data = job
            with conn:
                try:
                    conn.setblocking(True)
                    conn.settimeout(REQUEST_DEADLINE)
                    self._one(conn, data)
                except OSError as exc:
                    log.debug("control connection failed: %s", exc)
                except Exception:  # a worker must survive a failing handler
                    log.exception("control request failed")

    def _one(self, conn: socket.socket, data: bytes | str) -> None:
        if isinstance(data, str):
            _send(conn, {"ok": False, "error": data})
            return
        if len(data) > MAX_REQUEST:
            _send(conn, {"ok": False, "error": "request too large"})
            _discard(conn)
            return
        try:
            request = json.loads(data.decode("utf-8"))
            command = request["command"]
            deadline = request.get("deadline", time.monotonic() + HANDLER_DEADLINE)
            argument = request.get("argument", "")
        except (ValueError, KeyError, TypeError, AttributeError):
            _send(conn, {"ok": False, "error": "malformed request"})
            return
        if not isinstance(argument, str) or len(argument) > MAX_ARGUMENT:
            _send(conn, {"ok": False, "error": "malformed request (argument)"})
            return
        if command not in COMMANDS:
            _send(conn, {"ok": False, "error": f"unknown command (allowed: {', '.join(COMMANDS)})"})
            return
        if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
            _send(conn, {"ok": False, "error": "malformed request (deadline)"})
            return
        now = time.monotonic()
        deadline = min(float(deadline), now + HANDLER_DEADLINE) - REPLY_MARGIN
        if not deadline > now:  # also NaN
            log.info("control request %r expired before it was read; not executed", command)
            _send(conn, {"ok": False, "error": "request expired before voicetype could read it"})
            return
        reply = {"ok": True, **self._handler(command, deadline, argument)}
        _send(conn, reply)

    def stop(self) -> None:
        self._stopping.set()
        if self._wake is not None:
            with contextlib.suppress(OSError):
                self._wake[1].send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        for _ in self._workers:
            self._jobs.put(None)
        for worker in self._workers:
            worker.join(timeout=HANDLER_DEADLINE + REQUEST_DEADLINE)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._wake is not None:
            for end in self._wake:
                end.close()
            self._wake = None
        self.path.unlink(missing_ok=True)


def _discard(conn: socket.socket, limit: int = 65536) -> None:
    """Read (bounded) what the client still sends, so closing doesn't reset the reply."""
    conn.settimeout(0.2)
    received = 0
    with contextlib.suppress(OSError):
        while received < limit and (chunk := conn.recv(4096)):
            received += len(chunk)


def _send(conn: socket.socket, reply: dict[str, Any]) -> None:
    conn.sendall(json.dumps(reply).encode("utf-8") + b"\n")


def send_command(
    command: str, path: Path | None = None, timeout: float = 3.0, argument: str = ""
) -> dict[str, Any]:
    """Send one command (with its ``argument``, if any) to the running daemon and return its
    reply, all within ``timeout`` seconds; the daemon is told that deadline and never
    executes the command after it.

    Raises ``NotRunning`` when no daemon listens, ``ControlUnavailable`` on other failures.
    """
    path = path or socket_path()
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    with sock:
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise NotRunning(
                "voicetype is not running", "start it with `voicetype` (or from the menu)"
            ) from exc
        except OSError as exc:
            raise ControlUnavailable(
                f"Cannot reach the voicetype daemon at {path} ({exc.strerror})",
                "restart voicetype",
            ) from exc
        data = b""
        try:
            request: dict[str, object] = {"command": command, "deadline": deadline}
            if argument:
                request["argument"] = argument
            sock.sendall(json.dumps(request).encode() + b"\n")
            while not data.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError as exc:
            raise ControlUnavailable(
                f"The voicetype daemon did not answer within {timeout:g} s; "
                "the command was not carried out",
                "try again; if it keeps happening, restart voicetype",
            ) from exc
        except OSError as exc:
            raise ControlUnavailable(
                f"The connection to the voicetype daemon failed ({exc.strerror or exc})",
                "restart voicetype",
            ) from exc
    try:
        reply: dict[str, Any] = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise ControlUnavailable("The voicetype daemon sent a garbled reply", "restart it") from exc
    return reply
