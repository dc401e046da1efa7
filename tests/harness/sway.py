"""A real headless sway session with native Wayland text windows a test can read.

sway refuses to run as root, so it runs as ``nobody`` (uid 65534, ``setpriv``) with its
own 0700 runtime dir in a world-readable temp dir (pytest's tmp dirs are root-only);
``WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman``. Root clients
(the tests, voicetype) reach it with ``Sway.env`` (``XDG_RUNTIME_DIR``,
``WAYLAND_DISPLAY``, ``SWAYSOCK``). Windows are started by sway itself (IPC ``exec``),
so they run as ``nobody`` too and have focus when they appear.

Fixtures:
- ``sway`` (session): the running ``Sway``.
- ``sway_foot`` (function): a focused ``foot`` running ``cat >> FILE`` (``stty -icanon
  -echo``, so every typed byte lands in FILE at once; foot sends Return as ``\\r``, which
  the tty turns into ``\\n``).
- ``sway_gtk`` (function): a focused GTK3 ``TextView`` (``GDK_BACKEND=wayland``, Debian's
  python3-gi) that writes its whole content to FILE whenever it changes (idle-coalesced).

``Sway`` API: ``env``; ``ipc(command)``, ``tree()``, ``window(title)`` (the tree node or
None); ``exec(command)``; ``workdir`` (writable by both users).
``TextTarget`` API: ``title``, ``content()``, ``wait_for_text(expected, timeout)``
(returns the content once equal, else fails showing what arrived), ``clear()``,
``close()``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.procs import Proc, require, wait_for

UID = 65534
SWAY_CONFIG = """\
default_border none
focus_follows_mouse no
{extra}
"""

_GTK_APP = r"""
import os, sys, gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gtk, GLib
path, title = sys.argv[1:3]
win = Gtk.Window(title=title)
win.set_default_size(800, 500)
view = Gtk.TextView()
win.add(view)
buf = view.get_buffer()
state = {"pending": False}
def dump():
    state["pending"] = False
    text = buf.get_text(buf.get_start_iter(), buf.get_end_iter(), True)
    with open(path + ".tmp", "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    return False
def changed(_b):
    if not state["pending"]:
        state["pending"] = True
        GLib.idle_add(dump, priority=GLib.PRIORITY_LOW)
buf.connect("changed", changed)
win.connect("destroy", Gtk.main_quit)
win.show_all()
view.grab_focus()
dump()
Gtk.main()
"""


class Sway:
    def __init__(self, root: Path, extra_config: str = "") -> None:
        require("sway", "setpriv", "foot")
        self.root = root
        self.root.chmod(0o777)
        self.runtime = root / "runtime"
        self.runtime.mkdir()
        os.chown(self.runtime, UID, UID)
        self.runtime.chmod(0o700)
        self.workdir = root / "work"
        self.workdir.mkdir()
        self.workdir.chmod(0o777)
        home = root / "home"
        home.mkdir()
        os.chown(home, UID, UID)
        config = root / "sway.conf"
        self.config = config
        config.write_text(SWAY_CONFIG.format(extra=extra_config))
        config.chmod(0o644)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "WLR_BACKENDS": "headless",
            "WLR_LIBINPUT_NO_DEVICES": "1",
            "WLR_RENDERER": "pixman",
            "LANG": "C.UTF-8",
            "NO_AT_BRIDGE": "1",
        }
        argv = ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups"]
        self.proc = Proc([*argv, "sway", "-c", str(config)], env=env, log=root / "sway.log")
        self.socket = wait_for(self._find_socket, 15, "sway's IPC socket")
        display = wait_for(self._display, 10, "sway's Wayland socket")
        assert display is not None
        self.env: dict[str, str] = {
            "XDG_RUNTIME_DIR": str(self.runtime),
            "WAYLAND_DISPLAY": display,
            "SWAYSOCK": str(self.socket),
        }

    def _find_socket(self) -> Path | None:
        if not self.proc.alive():
            raise RuntimeError(f"sway exited:\n{self.proc.output()[-2000:]}")
        found = list(self.runtime.glob("sway-ipc.*.sock"))
        return found[0] if found else None

    def _display(self) -> str | None:
        for p in self.runtime.glob("wayland-*"):
            if stat.S_ISSOCK(p.stat().st_mode):
                return p.name
        return None

    def ipc(self, *args: str) -> Any:
        out = subprocess.run(
            ["swaymsg", "-s", str(self.socket), "-r", *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return json.loads(out.stdout) if out.stdout.strip() else None

    def tree(self) -> dict[str, Any]:
        tree: dict[str, Any] = self.ipc("-t", "get_tree")
        return tree

    def window(self, title: str) -> dict[str, Any] | None:
        def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
            yield node
            for child in [*node.get("nodes", ()), *node.get("floating_nodes", ())]:
                yield from walk(child)

        return next((n for n in walk(self.tree()) if n.get("name") == title), None)

    def exec(self, command: str) -> None:
        self.ipc("exec " + command)

    def stop(self) -> None:
        self.proc.stop()


class TextTarget:
    def __init__(self, sway: Sway, title: str, path: Path, command: str) -> None:
        self.sway = sway
        self.title = title
        self.path = path
        sway.exec(command)
        node = wait_for(self._focused_node, 20, f"the window {title!r} with focus")
        assert node is not None
        self.con_id = int(node["id"])

    def _focused_node(self) -> dict[str, Any] | None:
        node = self.sway.window(self.title)
        return node if node and node.get("focused") and self.path.exists() else None

    def content(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def wait_for_text(self, expected: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.content() == expected:
                return expected
            time.sleep(0.02)
        got = self.content()
        assert got == expected, f"{self.title}: got {got!r}, expected {expected!r}"
        return got

    def clear(self) -> None:
        self.path.write_text("")

    def close(self) -> None:
        self.sway.ipc(f"[con_id={self.con_id}] kill")
        wait_for(lambda: self.sway.window(self.title) is None, 10, f"{self.title} to close")


@pytest.fixture(scope="session")
def sway() -> Iterator[Sway]:
    if shutil.which("sway") is None:
        pytest.fail("sway is not installed; run scripts/test.sh, which installs it")
    root = Path(tempfile.mkdtemp(prefix="voicetype-sway-"))
    session = Sway(root)
    try:
        yield session
    finally:
        session.stop()
        shutil.rmtree(root, ignore_errors=True)


def _unique(sway: Sway, stem: str) -> tuple[str, Path]:
    name = f"{stem}-{time.monotonic_ns()}"
    return name, sway.workdir / f"{name}.txt"


@pytest.fixture
def sway_foot(sway: Sway) -> Iterator[TextTarget]:
    title, path = _unique(sway, "foot")
    path.touch()
    path.chmod(0o666)
    command = f"foot -T {title} sh -c 'stty -icanon -echo; exec cat >> {path}'"
    target = TextTarget(sway, title, path, command)
    yield target
    target.close()


@pytest.fixture
def sway_gtk(sway: Sway) -> Iterator[TextTarget]:
    title, path = _unique(sway, "gtk")
    script = sway.workdir / "gtk_textview.py"
    script.write_text(_GTK_APP)
    script.chmod(0o644)
    command = f"env GDK_BACKEND=wayland /usr/bin/python3 {script} {path} {title}"
    target = TextTarget(sway, title, path, command)
    yield target
    target.close()
