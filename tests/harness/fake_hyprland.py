"""A fake Hyprland request socket that follows Hyprland's published IPC (wiki "IPC",
``hyprctl``), for testing focus detection where Hyprland cannot run (not in Debian 12).

Interface served, as Hyprland does: a Unix socket at
``$XDG_RUNTIME_DIR/hypr/$HYPRLAND_INSTANCE_SIGNATURE/.socket.sock`` (``legacy=True``:
``/tmp/hypr/$SIG/.socket.sock``, Hyprland before 0.40); one request per connection —
the plain command string, flags before a slash (``j/`` = JSON) — answered, then the
socket closed. ``j/activewindow``: the focused window as hyprctl prints it (an indented
JSON object) or ``{}`` when no window has focus (plain ``activewindow``: ``Invalid``);
``j/clients``: a JSON list of them; ``dispatch focuswindow address:0x…``: ``ok``, or
``No such window found`` for an unknown address (``old_dispatch=True``: ``ok`` anyway,
as Hyprland before dispatchers returned errors); any other command: ``unknown request``.

``FakeHyprland`` keeps its own windows (``add``, ``close``, ``active``); ``SwayBacked``
answers from a real sway session instead (the tree's windows, sway's focus; focuswindow
focuses the container in sway), so a test types for real through sway's virtual keyboard
and only the focus answer comes from the fake. ``hang = True``: requests are read and
never answered (the connection stays open until ``stop``). ``requests`` records every
request in order. Threading: one server thread; ``stop`` ends it and removes the socket.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

from harness.sway import Sway
from voicetype.insertion.sway_ipc import GET_TREE, RUN_COMMAND, SwayIpc


def window_json(address: str, cls: str, title: str, pid: int, xwayland: bool) -> dict[str, Any]:
    """A window object with the fields ``hyprctl clients -j`` prints (Hyprland 0.4x)."""
    return {
        "address": address,
        "mapped": True,
        "hidden": False,
        "at": [0, 0],
        "size": [1280, 800],
        "workspace": {"id": 1, "name": "1"},
        "floating": False,
        "pseudo": False,
        "monitor": 0,
        "class": cls,
        "title": title,
        "initialClass": cls,
        "initialTitle": title,
        "pid": pid,
        "xwayland": xwayland,
        "pinned": False,
        "fullscreen": 0,
        "fullscreenClient": 0,
        "grouped": [],
        "tags": [],
        "swallowing": "0x0",
        "focusHistoryID": 0,
    }


class FakeHyprland:
    def __init__(self, runtime_dir: Path, legacy: bool = False, old_dispatch: bool = False):
        self.signature = (
            f"{uuid.uuid4().hex[:12]}_1700000000_1"  # short: socket paths have 107 bytes
        )
        base = Path("/tmp/hypr") if legacy else runtime_dir / "hypr"
        self.dir = base / self.signature
        self.dir.mkdir(parents=True)
        self.path = self.dir / ".socket.sock"
        self.env = {
            "HYPRLAND_INSTANCE_SIGNATURE": self.signature,
            "XDG_RUNTIME_DIR": str(runtime_dir),
        }
        self.old_dispatch = old_dispatch
        self.hang = False
        self.requests: list[str] = []
        self.windows: dict[str, dict[str, Any]] = {}
        self.active: str | None = None
        self._held: list[socket.socket] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(16)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def add(self, cls: str, title: str = "", xwayland: bool = False) -> str:
        """A new window (focused, as a new Hyprland window is); its address."""
        address = f"0x{0x55D0C1A20000 + 0x1C0 * len(self.windows):x}"
        self.windows[address] = window_json(
            address, cls, title or cls, 1000 + len(self.windows), xwayland
        )
        self.active = address
        return address

    def close(self, address: str) -> None:
        del self.windows[address]
        if self.active == address:
            self.active = None

    # what Hyprland answers; SwayBacked overrides these three
    def clients(self) -> list[dict[str, Any]]:
        return list(self.windows.values())

    def active_window(self) -> dict[str, Any] | None:
        return self.windows.get(self.active) if self.active else None

    def focus_window(self, address: str) -> bool:
        if address not in self.windows:
            return False
        self.active = address
        return True

    def answer(self, request: str) -> str:
        flags, _, command = (
            request.partition("/") if "/" in request.split(" ", 1)[0] else ("", "", request)
        )
        as_json = "j" in flags
        name, _, arg = command.strip().partition(" ")
        if name == "activewindow":
            window = self.active_window()
            if window is None:
                return "{}" if as_json else "Invalid"
            return (
                json.dumps(window, indent=4)
                if as_json
                else f"Window {window['address'][2:]} -> {window['title']}:\n"
            )
        if name == "clients":
            return (
                json.dumps(self.clients(), indent=4)
                if as_json
                else "".join(
                    f"Window {w['address'][2:]} -> {w['title']}:\n" for w in self.clients()
                )
            )
        if name == "dispatch":
            dispatcher, _, value = arg.partition(" ")
            if dispatcher != "focuswindow":
                return "Invalid dispatcher"
            address = value.removeprefix("address:")
            return (
                "ok" if self.focus_window(address) or self.old_dispatch else "No such window found"
            )
        return "unknown request"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # stopped
            request = conn.recv(8192).decode()
            self.requests.append(request)
            if self.hang:
                self._held.append(conn)
                continue
            with conn:
                conn.sendall(self.answer(request).encode())

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # wakes the accept() of the server thread
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class SwayBacked(FakeHyprland):
    """Answers from a real sway: every toplevel of the tree is a Hyprland window whose
    address is made from its ``con_id``; focus is sway's."""

    def __init__(self, sway: Sway) -> None:
        # sway's IPC in-process (not swaymsg): answers in ~1 ms, as Hyprland would
        self.sway = SwayIpc(Path(sway.env["SWAYSOCK"]), timeout=2.0)
        super().__init__(Path(sway.env["XDG_RUNTIME_DIR"]))

    @staticmethod
    def address(con_id: int) -> str:
        return f"0x{0x55D0C1A20000 + con_id:x}"

    def _nodes(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []

        def walk(node: dict[str, Any]) -> None:
            if node.get("type") in ("con", "floating_con") and node.get("pid"):
                out.append(node)
            for child in [*node.get("nodes", ()), *node.get("floating_nodes", ())]:
                walk(child)

        walk(self.sway.call(GET_TREE))
        return out

    def _json(self, node: dict[str, Any]) -> dict[str, Any]:
        props = node.get("window_properties") or {}
        cls = node.get("app_id") or props.get("class") or ""
        xwayland = node.get("shell") == "xwayland"
        return window_json(
            self.address(int(node["id"])), cls, node.get("name") or "", int(node["pid"]), xwayland
        )

    def clients(self) -> list[dict[str, Any]]:
        return [self._json(n) for n in self._nodes()]

    def active_window(self) -> dict[str, Any] | None:
        focused = [n for n in self._nodes() if n.get("focused")]
        return self._json(focused[0]) if focused else None

    def focus_window(self, address: str) -> bool:
        for node in self._nodes():
            if self.address(int(node["id"])) == address:
                answer = self.sway.call(RUN_COMMAND, f"[con_id={int(node['id'])}] focus")
                return bool(answer) and all(item.get("success") for item in answer)
        return False
