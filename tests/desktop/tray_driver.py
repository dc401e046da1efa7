"""Runs a real ``voicetype.tray.Tray`` in its own process for the desktop tests.

Each backend under test gets its own process (GTK initialises once per process, and
``VOICETYPE_TRAY_BACKEND`` is read when ``Tray`` is built).
Protocol: JSON lines. Commands on stdin::

    {"cmd": "state", "state": "listening", "detail": ""}
    {"cmd": "set", "name": "autostart" | "enabled", "value": true}   # change the fake's
                                                                    # value, no refresh
    {"cmd": "set", "name": "recent", "value": ["newest text", …]}   # the submenus' content
    {"cmd": "set", "name": "microphones", "value": [["vt_mic", "Label"], …] | null}
    {"cmd": "set", "name": "chosen" | "language", "value": "…"}
    {"cmd": "set", "name": "languages", "value": ["en-US", "de-DE"]}
    {"cmd": "set", "name": "level", "value": [rms, silent_for, "device"] | null}  # read
                                                          # by the level thread while listening
    {"cmd": "refresh"}
    {"cmd": "block"}     # GTK backends: hold the GTK loop in an idle callback (≤ 20 s)
    {"cmd": "unblock"}   # let it go
    {"cmd": "stop"}

Events on stdout: ``{"event": "ready", "backend": …, "has_menu": …}``,
``{"event": "action", "name": "dictate" | "set_enabled" | "type_text" |
"choose_microphone" | "choose_language" | …, "value": …}``,
``{"event": "read", "name": "is_enabled" | "is_autostart", "value": …}``,
``{"event": "ack", "cmd": …}`` after each command (a ``state`` command first reports
``{"event": "timed", "cmd": "state", "seconds": …}``: how long ``set_state`` took),
``{"event": "stopped"}`` at the end.
EOF on stdin stops the tray.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

from voicetype.state import State
from voicetype.tray import Level, Microphones, Tray, TrayActions

_out_lock = threading.Lock()


def emit(**event: Any) -> None:
    with _out_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def main() -> int:
    values: dict[str, Any] = {
        "enabled": True,
        "autostart": False,
        "recent": [],
        "microphones": None,
        "chosen": "",
        "languages": ["en-US"],
        "language": "en-US",
        "level": None,
    }
    holder: dict[str, Tray] = {}

    def action(name: str, value: Any = None) -> None:
        emit(event="action", name=name, value=value)

    def set_value(key: str, name: str) -> Any:
        def setter(value: bool) -> None:
            values[key] = value
            action(name, value)

        return setter

    def getter(key: str, name: str) -> Any:
        def read() -> bool:
            emit(event="read", name=name, value=values[key])
            return values[key]

        return read

    def microphones() -> Microphones:
        inputs = values["microphones"]
        listed = None if inputs is None else tuple((n, label) for n, label in inputs)
        return Microphones(listed, values["chosen"])

    def quit_() -> None:
        action("quit")
        holder["tray"].stop()

    actions = TrayActions(
        dictate=lambda: action("dictate"),
        set_enabled=set_value("enabled", "set_enabled"),
        is_enabled=getter("enabled", "is_enabled"),
        set_autostart=set_value("autostart", "set_autostart"),
        is_autostart=getter("autostart", "is_autostart"),
        open_config=lambda: action("open_config"),
        quit=quit_,
        recent=lambda: tuple(values["recent"]),
        type_text=lambda text: action("type_text", text),
        microphones=microphones,
        choose_microphone=lambda name: action("choose_microphone", name),
        languages=lambda: (tuple(values["languages"]), values["language"]),
        choose_language=lambda code: action("choose_language", code),
        level=lambda: Level(*values["level"]) if values["level"] else None,
    )
    tray = Tray(actions)
    holder["tray"] = tray

    gates: list[threading.Event] = []

    def block_loop() -> None:
        from gi.repository import GLib

        gate, entered = threading.Event(), threading.Event()
        gates.append(gate)

        def hold() -> bool:
            entered.set()
            gate.wait(20)
            return False

        GLib.idle_add(hold)
        if not entered.wait(5):
            raise RuntimeError("the GTK loop did not run the blocking callback")

    def commands() -> None:
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            kind = cmd["cmd"]
            if kind == "state":
                started = time.perf_counter()
                tray.set_state(State(cmd["state"]), cmd.get("detail", ""))
                emit(event="timed", cmd=kind, seconds=time.perf_counter() - started)
            elif kind == "block":
                block_loop()
            elif kind == "unblock":
                gates.pop().set()
            elif kind == "set":
                values[cmd["name"]] = cmd["value"]
            elif kind == "refresh":
                tray.refresh_menu()
            elif kind == "stop":
                emit(event="ack", cmd=kind)
                for gate in gates:
                    gate.set()
                tray.stop()
                return
            emit(event="ack", cmd=kind)
        tray.stop()

    def ready() -> None:
        emit(
            event="ready",
            backend=tray.backend,
            has_menu=tray.has_menu,
            title=tray.title,
            gdk_gl=os.environ.get("GDK_GL"),
        )
        threading.Thread(target=commands, name="driver-commands", daemon=True).start()

    tray.run(ready)
    emit(event="stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
