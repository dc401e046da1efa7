"""The local control channel and the one-instance lock.

A Unix socket ``control.sock`` in the user runtime dir (directory 0700, socket 0600,
peer uid checked with SO_PEERCRED where available) carries one JSON request line and one
JSON reply line per connection. Only the documented commands are accepted; anything
else — malformed, oversized, unknown — gets an error reply and is otherwise ignored.
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
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicetype.errors import VoicetypeError

log = logging.getLogger(__name__)

COMMANDS = ("dictate", "status", "toggle", "quit", "reload")
MAX_REQUEST = 512
IO_TIMEOUT = 2.0


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


Handler = Callable[[str], dict[str, Any]]


class ControlServer:
    """Serves control requests on a thread.

    ``handler(command)`` runs on the server thread for each valid command and must only
    enqueue work or read state (it returns the reply's fields). ``start`` raises
    ``ControlUnavailable`` when the socket cannot be created.
    """

    def __init__(self, handler: Handler, path: Path | None = None) -> None:
        self._handler = handler
        self.path = path or socket_path()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

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
        sock.listen(8)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stopping.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                try:
                    self._one(conn)
                except OSError as exc:
                    log.debug("control connection failed: %s", exc)

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(IO_TIMEOUT)
        uid = _peer_uid(conn)
        if uid is not None and uid != os.getuid():
            log.warning("control request from uid %d refused", uid)
            _send(conn, {"ok": False, "error": "permission denied"})
            return
        data = b""
        while b"\n" not in data and len(data) <= MAX_REQUEST:
            chunk = conn.recv(MAX_REQUEST + 1)
            if not chunk:
                break
            data += chunk
        if len(data) > MAX_REQUEST:
            _send(conn, {"ok": False, "error": "request too large"})
            _discard(conn)
            return
        try:
            request = json.loads(data.decode("utf-8"))
            command = request["command"]
        except (ValueError, KeyError, TypeError):
            _send(conn, {"ok": False, "error": "malformed request"})
            return
        if command not in COMMANDS:
            _send(conn, {"ok": False, "error": f"unknown command (allowed: {', '.join(COMMANDS)})"})
            return
        reply = {"ok": True, **self._handler(command)}
        _send(conn, reply)

    def stop(self) -> None:
        self._stopping.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        self.path.unlink(missing_ok=True)
        if self._thread is not None:
            self._thread.join(timeout=IO_TIMEOUT)


def _discard(conn: socket.socket, limit: int = 65536) -> None:
    """Read (bounded) what the client still sends, so closing doesn't reset the reply."""
    conn.settimeout(0.2)
    received = 0
    with contextlib.suppress(OSError):
        while received < limit and (chunk := conn.recv(4096)):
            received += len(chunk)


def _send(conn: socket.socket, reply: dict[str, Any]) -> None:
    conn.sendall(json.dumps(reply).encode("utf-8") + b"\n")


def send_command(command: str, path: Path | None = None, timeout: float = 5.0) -> dict[str, Any]:
    """Send one command to the running daemon and return its reply.

    Raises ``NotRunning`` when no daemon listens, ``ControlUnavailable`` on other failures.
    """
    path = path or socket_path()
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
        sock.sendall(json.dumps({"command": command}).encode() + b"\n")
        data = b""
        try:
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError as exc:
            raise ControlUnavailable(
                f"The voicetype daemon did not answer within {timeout:g} s", "restart voicetype"
            ) from exc
    try:
        reply: dict[str, Any] = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise ControlUnavailable("The voicetype daemon sent a garbled reply", "restart it") from exc
    return reply
