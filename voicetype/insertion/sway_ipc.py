"""Which window has focus on sway (and i3-compatible IPC), and giving focus back to it.

Wayland tells an ordinary client nothing about other windows; sway answers on its IPC
socket (``SWAYSOCK``, else ``sway-ipc.*.sock`` in ``XDG_RUNTIME_DIR``): ``GET_TREE``
gives the focused container with its ``app_id`` (native Wayland) or X11 class
(XWayland). ``SwayIpc`` is one ``focus_ipc.FocusIpc`` (``find_focus_ipc`` picks it);
``SwayIpc.find`` returns None where there is no such socket.

Protocol: ``i3-ipc`` magic, payload length and message type (native-endian 32-bit),
then a JSON payload. Every call opens its own short connection, bounded by ``timeout``.
Errors: ``OSError`` (socket gone, timeout) and ``ValueError`` (malformed answer) from
``focused`` and ``focus``. Threading: no shared state; callable from any thread.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from voicetype.insertion.focus_ipc import Window

MAGIC = b"i3-ipc"
RUN_COMMAND = 0
GET_TREE = 4


#: A sway window: ``Window.id`` is the container's ``con_id`` (an int).
SwayWindow = Window


class SwayIpc:
    name = "sway"
    check_command = "swaymsg -t get_tree"

    def __init__(self, path: Path, timeout: float = 0.5) -> None:
        self.path = path
        self.timeout = timeout

    @classmethod
    def find(cls, env: Mapping[str, str]) -> SwayIpc | None:
        sock = env.get("SWAYSOCK")
        if sock and Path(sock).exists():
            return cls(Path(sock))
        runtime = env.get("XDG_RUNTIME_DIR")
        if runtime and env.get("WAYLAND_DISPLAY"):
            found = sorted(Path(runtime).glob("sway-ipc.*.sock"))
            if found:
                return cls(found[-1])
        return None

    def call(self, kind: int, payload: str = "") -> Any:
        raw = payload.encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(self.timeout)
            s.connect(str(self.path))
            s.sendall(MAGIC + struct.pack("=II", len(raw), kind) + raw)
            header = _recv_exactly(s, len(MAGIC) + 8)
            if not header.startswith(MAGIC):
                raise ValueError("not an i3/sway IPC answer")
            length, _ = struct.unpack_from("=II", header, len(MAGIC))
            return json.loads(_recv_exactly(s, length))

    def focused(self) -> Window | None:
        """The focused window, or None when focus is on no window (empty workspace)."""
        for node in _walk(self.call(GET_TREE)):
            if node.get("focused") and node.get("type") in ("con", "floating_con"):
                props = node.get("window_properties") or {}
                app_id = node.get("app_id") or props.get("class") or ""
                xwayland = node.get("shell") == "xwayland"
                return Window(int(node["id"]), str(app_id).lower(), xwayland)
        return None

    def exists(self, window: Window) -> bool:
        return any(node.get("id") == window.id for node in _walk(self.call(GET_TREE)))

    def focus(self, window: Window) -> bool:
        """Give focus to the container; True if sway did."""
        answer = self.call(RUN_COMMAND, f"[con_id={int(window.id)}] focus")
        return bool(answer) and all(item.get("success") for item in answer)


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in [*node.get("nodes", ()), *node.get("floating_nodes", ())]:
        yield from _walk(child)


def _recv_exactly(s: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = s.recv(size - len(data))
        if not chunk:
            raise OSError("sway closed its IPC socket")
        data += chunk
    return data
