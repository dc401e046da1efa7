"""Which window has focus on Hyprland, and giving focus back to it, through Hyprland's
request socket (the one ``hyprctl`` speaks).

Socket: ``$XDG_RUNTIME_DIR/hypr/$HYPRLAND_INSTANCE_SIGNATURE/.socket.sock`` (Hyprland
0.40 and later), ``/tmp/hypr/$HYPRLAND_INSTANCE_SIGNATURE/.socket.sock`` before.
Protocol (Hyprland wiki, "IPC"; hyprctl): one request per connection — the plain command
string, flags before a slash (``j/`` for JSON) — and Hyprland writes the answer and
closes the socket. ``j/activewindow`` answers the focused window as a JSON object
(``address`` "0x…", ``class``, ``initialClass``, ``title``, ``pid``, ``xwayland``, …) or
``{}`` when no window has focus; ``j/clients`` a JSON list of such objects;
``dispatch focuswindow address:0x…`` answers ``ok`` or an error text. A command it does
not know answers ``unknown request``.

Hyprland serves its socket synchronously on its main thread (the wiki: an unclosed
connection freezes it until its own timeout), so each call is one short connection,
closed at once, and bounded as a whole by ``timeout`` (``TIMEOUT``): a Hyprland that
does not answer in time makes the window "not known" (a terminal, no memory) within
0.1 s, as a compositor without IPC is.

Errors: ``OSError`` (socket gone, timeout, connection closed early) and ``ValueError``
(an answer that is not the JSON or the ``ok`` the interface promises) from ``focused``,
``exists`` and ``focus``. Threading: no shared state; callable from any thread.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voicetype.insertion.focus_ipc import Window

#: The bound of one request (connect, send, the whole answer), seconds: below the 0.1 s
#: a focus question may take (``context.focus.PROBE_TIMEOUT``), with room for the rest.
TIMEOUT = 0.08
#: The largest answer read (``j/clients`` with many windows stays far below).
MAX_ANSWER = 4 * 1024 * 1024


class HyprlandIpc:
    name = "Hyprland"
    check_command = "hyprctl activewindow"

    def __init__(self, path: Path, timeout: float = TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout

    @classmethod
    def find(cls, env: Mapping[str, str]) -> HyprlandIpc | None:
        """The request socket of the Hyprland instance ``env`` names, or None (no
        ``HYPRLAND_INSTANCE_SIGNATURE``, or no socket file in either place)."""
        signature = env.get("HYPRLAND_INSTANCE_SIGNATURE", "").strip()
        if not signature or "/" in signature:
            return None
        bases = [Path(env["XDG_RUNTIME_DIR"]) / "hypr"] if env.get("XDG_RUNTIME_DIR") else []
        for base in [*bases, Path("/tmp/hypr")]:
            path = base / signature / ".socket.sock"
            if path.exists():
                return cls(path)
        return None

    def request(self, command: str) -> str:
        """Send ``command``, return Hyprland's whole answer (read until it closes)."""
        deadline = time.monotonic() + self.timeout
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(self.timeout)
            s.connect(str(self.path))
            s.sendall(command.encode())
            chunks: list[bytes] = []
            size = 0
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"Hyprland did not answer {command!r} in time")
                s.settimeout(left)
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_ANSWER:
                    raise ValueError(f"Hyprland's answer to {command!r} is too long")
        return b"".join(chunks).decode("utf-8", "replace")

    def json(self, command: str) -> Any:
        answer = self.request(f"j/{command}")
        try:
            return json.loads(answer)
        except json.JSONDecodeError:
            raise ValueError(f"Hyprland answered {command!r} with {answer[:80]!r}") from None

    def focused(self) -> Window | None:
        """The focused window, or None when no window has focus (``{}``)."""
        data = self.json("activewindow")
        if not isinstance(data, dict):
            raise ValueError(f"Hyprland's activewindow is not an object: {data!r:.80}")
        if not data:
            return None
        return _window(data)

    def exists(self, window: Window) -> bool:
        clients = self.json("clients")
        if not isinstance(clients, list):
            raise ValueError(f"Hyprland's clients is not a list: {clients!r:.80}")
        return any(isinstance(c, dict) and c.get("address") == window.id for c in clients)

    def focus(self, window: Window) -> bool:
        """Give focus to the window (``dispatch focuswindow address:…``); True on ``ok``."""
        return self.request(f"dispatch focuswindow address:{window.id}").strip() == "ok"


def _window(data: dict[str, Any]) -> Window:
    address = data.get("address")
    if not isinstance(address, str) or not address.startswith("0x"):
        raise ValueError(f"Hyprland's window has no address: {data!r:.80}")
    app_id = data.get("class") or data.get("initialClass") or ""
    return Window(address, str(app_id).lower(), bool(data.get("xwayland")))
