"""A GTK3 window whose text is read through AT-SPI, and the private accessibility bus it
registers on (moved here from ``test_caret_context`` so the daemon's end-to-end tests
share it).

Fixtures: ``a11y_env`` (module) — the environment for applications and readers: the test
display, a private session bus that starts at-spi-bus-launcher on first use (which puts
``AT_SPI_BUS`` on the root window), accessibility on; ``gtk_window`` (function) — a
``GtkWindow`` on it: a password entry above a text view, driven on stdin (``send(op=
"text", text=…, caret=…)``, ``send(op="password", text=…)``, ``content()``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from harness.procs import Proc, require, wait_for

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-gi, like any GTK application

_GTK_APP = r"""
import json, sys, gi
gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk

window = Gtk.Window(title=sys.argv[1])
window.set_default_size(600, 300)
box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
view = Gtk.TextView()
buffer = view.get_buffer()
secret = Gtk.Entry()
secret.set_visibility(False)
box.pack_start(secret, False, False, 0)
box.pack_start(view, True, True, 0)
window.add(box)
window.connect("destroy", Gtk.main_quit)

def at(offset):
    return buffer.get_iter_at_offset(offset)

def on_line(_channel, _condition):
    line = sys.stdin.readline()
    if not line:
        Gtk.main_quit()
        return False
    cmd = json.loads(line)
    if cmd["op"] == "text":
        buffer.set_text(cmd["text"])
        view.grab_focus()
        buffer.select_range(at(cmd["caret"]), at(cmd.get("end", cmd["caret"])))
    elif cmd["op"] == "password":
        secret.set_text(cmd["text"])
        secret.grab_focus()
    elif cmd["op"] == "dump":
        text = buffer.get_text(buffer.get_start_iter(), buffer.get_end_iter(), True)
        print(json.dumps(text), flush=True)
        return True
    print("ok", flush=True)
    return True

GLib.io_add_watch(
    GLib.IOChannel.unix_new(0),
    GLib.PRIORITY_DEFAULT,
    GLib.IOCondition.IN | GLib.IOCondition.HUP,
    on_line,
)
window.show_all()
print("ready", flush=True)
Gtk.main()
"""


@pytest.fixture(scope="module")
def a11y_env(x_display: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment for applications and the reader: the test display, a private session
    bus (the system's session config, so it starts the accessibility bus on demand), a
    private HOME, and accessibility on (no NO_AT_BRIDGE)."""
    require("dbus-daemon", "xdotool")
    root = tmp_path_factory.mktemp("a11y")
    from harness.userenv import private_user_env

    env = private_user_env(root)
    env.pop("NO_AT_BRIDGE", None)
    # The bus passes DISPLAY to at-spi-bus-launcher, which then also publishes the
    # accessibility bus address on the root window (AT_SPI_BUS), as on a real desktop.
    # Without it Qt 5.15 (as root) asks the session bus instead, and its one attempt to
    # register ("Embed") failed with "Not connected to D-Bus server" in 2–4 of 6 starts.
    env["DISPLAY"] = x_display
    log = root / "bus.log"
    bus = Proc(["dbus-daemon", "--session", "--nofork", "--print-address=1"], env=env, log=log)
    try:
        address = wait_for(
            lambda: log.read_text().strip().splitlines()[0] if log.read_text().strip() else "",
            10,
            "the private session bus",
        )
        env.update(
            DBUS_SESSION_BUS_ADDRESS=address,
            GSK_RENDERER="cairo",  # GTK4 without a GPU
            QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",
            QT_QPA_PLATFORM="xcb",
        )
        yield env
    finally:
        bus.stop()  # its process group holds at-spi-bus-launcher and the a11y bus


class GtkWindow:
    """The GTK3 test window: a password entry above a text view, driven on stdin."""

    def __init__(self, env: dict[str, str], title: str) -> None:
        self.popen = subprocess.Popen(
            [SYSTEM_PYTHON, "-c", _GTK_APP, title],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self._line() == "ready"
        activate(env, self.popen.pid)

    def _line(self) -> str:
        assert self.popen.stdout is not None
        return self.popen.stdout.readline().strip()

    def send(self, **cmd: Any) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(json.dumps(cmd) + "\n")
        self.popen.stdin.flush()
        assert self._line() == "ok"

    def content(self) -> str:
        """The text view's whole text, once GTK has handled every event before the ask."""
        assert self.popen.stdin is not None
        self.popen.stdin.write(json.dumps({"op": "dump"}) + "\n")
        self.popen.stdin.flush()
        text = json.loads(self._line())
        assert isinstance(text, str)
        return text

    def close(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGCONT)
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(5)


def activate(env: dict[str, str], pid: int) -> None:
    def window() -> str:
        out = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--pid", str(pid)],
            env=env,
            capture_output=True,
            text=True,
        ).stdout.split()
        return out[-1] if out else ""

    wid = wait_for(window, 30, f"a visible window of pid {pid}", interval=0.1)
    subprocess.run(["xdotool", "windowactivate", "--sync", wid], env=env, check=True, timeout=10)


@pytest.fixture
def gtk_window(a11y_env: dict[str, str]) -> Iterator[GtkWindow]:
    window = GtkWindow(a11y_env, "caret-context-gtk3")
    try:
        yield window
    finally:
        window.close()
