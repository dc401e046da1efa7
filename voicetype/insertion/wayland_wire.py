"""A minimal Wayland client speaking the wire protocol over the compositor's socket.

Only what the virtual keyboard needs: ``wl_display`` (``sync``, ``get_registry``, the
``error`` and ``delete_id`` events), ``wl_registry`` (``global``, ``bind``), ``wl_callback``
and sending requests with file descriptors (``SCM_RIGHTS``). Written against the published
wire format (32-bit little/native-endian words: object id, then ``size << 16 | opcode``,
then the arguments; strings are length-prefixed, NUL-terminated and padded to 4 bytes).

Why not ``pywayland``: it needs ``libwayland-client`` through cffi and the protocol XML
of ``zwp_virtual_keyboard_v1``, which neither pywayland nor Debian's wayland-protocols
ships (it lives in the wlroots sources); five requests and four events do not justify a
compiled dependency.

Errors: ``WaylandError`` (an ``OSError`` subclass) when the socket cannot be reached, the
compositor closes it or reports a protocol error, or a reply does not come within the
timeout. Threading: one ``Connection`` per thread; nothing is shared.
"""

from __future__ import annotations

import array
import os
import select
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DISPLAY_ID = 1


class WaylandError(OSError):
    """The compositor could not be reached, hung up, or reported a protocol error."""


@dataclass(frozen=True)
class Global:
    name: int
    interface: str
    version: int


def socket_path(env: dict[str, str] | os._Environ[str]) -> Path | None:
    """The compositor socket named by ``WAYLAND_DISPLAY`` (absolute, or relative to
    ``XDG_RUNTIME_DIR``), or None when the session has none."""
    name = env.get("WAYLAND_DISPLAY")
    if not name:
        return None
    if name.startswith("/"):
        return Path(name)
    runtime = env.get("XDG_RUNTIME_DIR")
    return Path(runtime) / name if runtime else None


def encode_string(value: str) -> bytes:
    raw = value.encode() + b"\0"
    return struct.pack("=I", len(raw)) + raw + b"\0" * (-len(raw) % 4)


def decode_string(body: bytes, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("=I", body, offset)
    offset += 4
    raw = body[offset : offset + length]
    return raw.rstrip(b"\0").decode(errors="replace"), offset + length + (-length % 4)


def message(object_id: int, opcode: int, args: bytes = b"") -> bytes:
    size = 8 + len(args)
    return struct.pack("=II", object_id, size << 16 | opcode) + args


def uints(*values: int) -> bytes:
    return struct.pack(f"={len(values)}I", *values)


class Connection:
    """One client connection. ``globals`` holds the registry's announcements after
    ``connect`` (a round trip); ``timeout`` bounds every wait for the compositor."""

    def __init__(self, path: Path, timeout: float = 2.0) -> None:
        self.timeout = timeout
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(str(path))
        except OSError as exc:
            self._sock.close()
            raise WaylandError(
                f"cannot connect to the Wayland compositor at {path}: {exc}"
            ) from exc
        self._next_id = DISPLAY_ID + 1
        self._buffer = b""
        self._pending: set[int] = set()
        self._done: set[int] = set()
        self._registry = 0
        self.globals: list[Global] = []
        #: Events for objects this module does not handle: (object id, opcode, body).
        self.events: list[tuple[int, int, bytes]] = []

    def new_id(self) -> int:
        oid = self._next_id
        self._next_id += 1
        return oid

    def send(self, data: bytes, fds: Sequence[int] = ()) -> None:
        try:
            if fds:
                anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
                sent = self._sock.sendmsg([data], anc)
                if sent < len(data):
                    self._sock.sendall(data[sent:])
            else:
                self._sock.sendall(data)
        except OSError as exc:
            raise WaylandError(f"the Wayland compositor closed the connection: {exc}") from exc

    def connect(self) -> None:
        """Get the registry and wait until every global has been announced."""
        self._registry = self.new_id()
        self.send(message(DISPLAY_ID, 1, uints(self._registry)))
        self.roundtrip()

    def find(self, interface: str) -> Global | None:
        return next((g for g in self.globals if g.interface == interface), None)

    def bind(self, glob: Global, version: int) -> int:
        oid = self.new_id()
        args = uints(glob.name) + encode_string(glob.interface) + uints(min(version, glob.version))
        self.send(message(self._registry, 0, args + uints(oid)))
        return oid

    def roundtrip(self) -> None:
        """Return once the compositor has handled every request sent before; raise
        ``WaylandError`` if it reports an error or does not answer within ``timeout``."""
        callback = self.new_id()
        self._pending.add(callback)
        self.send(message(DISPLAY_ID, 0, uints(callback)))
        deadline = time.monotonic() + self.timeout
        while callback not in self._done:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaylandError(
                    f"the Wayland compositor did not answer within {self.timeout:g} s"
                )
            self._read(left)
        self._done.discard(callback)
        self._pending.discard(callback)

    def close(self) -> None:
        self._sock.close()

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self._sock], [], [], timeout)
        if not ready:
            return
        try:
            chunk = self._sock.recv(65536)
        except OSError as exc:
            raise WaylandError(f"lost the Wayland connection: {exc}") from exc
        if not chunk:
            raise WaylandError("the Wayland compositor closed the connection")
        self._buffer += chunk
        while len(self._buffer) >= 8:
            object_id, word = struct.unpack_from("=II", self._buffer)
            size, opcode = word >> 16, word & 0xFFFF
            if size < 8 or len(self._buffer) < size:
                break
            body, self._buffer = self._buffer[8:size], self._buffer[size:]
            self._dispatch(object_id, opcode, body)

    def _dispatch(self, object_id: int, opcode: int, body: bytes) -> None:
        if object_id == DISPLAY_ID and opcode == 0:  # wl_display.error
            obj, code = struct.unpack_from("=II", body)
            text, _ = decode_string(body, 8)
            raise WaylandError(f"Wayland protocol error on object {obj} (code {code}): {text}")
        if object_id == self._registry and opcode == 0:  # wl_registry.global
            (name,) = struct.unpack_from("=I", body)
            interface, offset = decode_string(body, 4)
            (version,) = struct.unpack_from("=I", body, offset)
            self.globals.append(Global(name, interface, version))
        elif object_id == self._registry and opcode == 1:  # wl_registry.global_remove
            (name,) = struct.unpack_from("=I", body)
            self.globals = [g for g in self.globals if g.name != name]
        elif object_id in self._pending and opcode == 0:  # wl_callback.done
            self._done.add(object_id)
        elif object_id != DISPLAY_ID:
            self.events.append((object_id, opcode, body))
            del self.events[:-64]
