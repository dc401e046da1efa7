"""A real text window for tests: a Tk ``Text`` in its own process whose content a test can read.

The window runs under ``/usr/bin/python3`` (Debian's python3-tk), not the venv, so it is an
ordinary foreign X client, like the editor a user types into. After every change it writes
its whole content (UTF-8, exactly ``Text.get("1.0", "end-1c")``) to a file, atomically and
coalesced: the write happens when Tk's event queue is idle, so a burst of 5,000 typed keys
costs one write, not 5,000. Commands (``clear``, ``focus``, ``dump``) go in on the child's
stdin; each is acknowledged by writing its sequence number to a second file after the
content file is up to date, so ``clear()`` returns only once the window is empty.

Fixtures:
- ``text_window`` (function): a fresh, focused, empty ``TextWindow`` on ``x_display``.
- ``text_window_factory`` (function): ``factory(title="...") -> TextWindow``; every window
  it made is closed at teardown. For tests that need two windows or destroy one.

``TextWindow`` API: ``window_id`` (int, the top-level client window the window manager
manages, i.e. what ``_NET_ACTIVE_WINDOW`` names), ``pid``, ``title``, ``content() -> str``,
``clear()``, ``focus()`` (``xdotool windowactivate --sync`` plus a check that the input
focus is inside the window), ``wait_for_text(expected, timeout=5.0) -> str``, ``close()``
(destroys the window and ends the process), ``alive() -> bool``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.procs import require, wait_for

TK_PYTHON = "/usr/bin/python3"

_APP = r"""
import os, sys, json, tkinter as tk

content_path, ack_path, ready_path, title = sys.argv[1:5]
root = tk.Tk(className="VoicetypeTextwin")
root.title(title)
root.geometry("900x500+40+40")
text = tk.Text(root, undo=False, wrap="char", font=("DejaVu Sans Mono", 11))
text.pack(fill="both", expand=True)
state = {"scheduled": False}

def atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(data)
    os.replace(tmp, path)

def dump():
    state["scheduled"] = False
    atomic_write(content_path, text.get("1.0", "end-1c"))

def on_modified(_event=None):
    if text.edit_modified():
        text.edit_modified(False)
        if not state["scheduled"]:
            state["scheduled"] = True
            root.after_idle(dump)

text.bind("<<Modified>>", on_modified)

def on_stdin(fd, _mask):
    line = os.read(fd, 4096)
    if not line:
        root.destroy()
        return
    for cmd in line.decode().split("\n"):
        if not cmd:
            continue
        name, seq = cmd.split(" ", 1)
        if name == "clear":
            text.delete("1.0", "end")
            text.edit_modified(False)
        elif name == "focus":
            root.focus_force()
            text.focus_set()
        elif name == "quit":
            root.destroy()
            return
        dump()
        atomic_write(ack_path, seq)

root.tk.createfilehandler(sys.stdin.fileno(), tk.READABLE, on_stdin)

def ready():
    text.focus_set()
    dump()
    atomic_write(ready_path, json.dumps({"inner": root.winfo_id(), "pid": os.getpid()}))

root.after(50, ready)
root.mainloop()
"""


class TextWindow:
    """Handle on one Tk text window process. Not thread-safe; use from the test thread."""

    def __init__(self, display: str, workdir: Path, title: str) -> None:
        require(TK_PYTHON, "xdotool")
        workdir.mkdir(parents=True, exist_ok=True)
        self.display = display
        self.title = title
        self._content = workdir / "content.txt"
        self._ack = workdir / "ack"
        ready = workdir / "ready.json"
        for stale in (self._content, self._ack, ready):
            stale.unlink(missing_ok=True)
        script = workdir / "textwin_app.py"
        script.write_text(_APP)
        self._log = open(workdir / "textwin.log", "ab")  # noqa: SIM115 - closed in close()
        env = {**os.environ, "DISPLAY": display, "NO_AT_BRIDGE": "1"}
        self._proc = subprocess.Popen(
            [TK_PYTHON, str(script), str(self._content), str(self._ack), str(ready), title],
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self._seq = 0
        info: dict[str, int] = wait_for(
            lambda: _read_json(ready) or {}, 15, f"text window {title!r} to start"
        )
        self.pid: int = int(info["pid"])
        self.window_id: int = _client_window(display, int(info["inner"]))
        try:
            # generous: a window manager busy with MappingNotify backlogs maps late
            wait_for(self._viewable, 30, f"text window {title!r} to be mapped")
        except TimeoutError as e:
            why = f"{e}; window {self.window_id:#x}, alive={self.alive()}, {self._xwininfo()}"
            self.close()
            log = (workdir / "textwin.log").read_text(errors="replace")
            raise TimeoutError(f"{why}\nlog:\n{log}") from None

    def _xwininfo(self) -> str:
        return subprocess.run(
            ["xwininfo", "-id", str(self.window_id)],
            env={**os.environ, "DISPLAY": self.display},
            capture_output=True,
            text=True,
        ).stdout

    def _viewable(self) -> bool:
        return "IsViewable" in self._xwininfo()

    def alive(self) -> bool:
        return self._proc.poll() is None

    def _command(self, name: str, timeout: float = 5.0) -> None:
        assert self._proc.stdin is not None
        self._seq += 1
        seq = str(self._seq)
        self._proc.stdin.write(f"{name} {seq}\n".encode())
        self._proc.stdin.flush()
        wait_for(lambda: _read_text(self._ack) == seq, timeout, f"text window to {name}")

    def content(self) -> str:
        """The window's text as of Tk's last idle moment (exact, UTF-8 decoded)."""
        return _read_text(self._content) or ""

    def clear(self) -> None:
        self._command("clear")

    def focus(self) -> None:
        """Activate the window through the window manager and put the focus in its Text."""
        env = {**os.environ, "DISPLAY": self.display}
        subprocess.run(
            ["xdotool", "windowactivate", "--sync", str(self.window_id)],
            env=env,
            check=True,
            capture_output=True,
            timeout=10,
        )
        self._command("focus")
        wait_for(lambda: self._has_focus(env), 5, f"input focus in {self.title!r}")

    def _has_focus(self, env: dict[str, str]) -> bool:
        out = subprocess.run(
            ["xdotool", "getactivewindow"], env=env, capture_output=True, text=True
        ).stdout.strip()
        return out == str(self.window_id)

    def wait_for_text(self, expected: str, timeout: float = 5.0) -> str:
        """Wait until the content equals ``expected``; on timeout fail showing both texts."""
        try:
            wait_for(lambda: self.content() == expected, timeout, "the expected text")
        except TimeoutError:
            got = self.content()
            raise AssertionError(
                f"text window content after {timeout:g} s differs from the expected text:\n"
                f"expected {len(expected)} chars: {expected[:300]!r}\n"
                f"got      {len(got)} chars: {got[:300]!r}"
            ) from None
        return expected

    def settle(self, quiet: float = 0.2, timeout: float = 5.0) -> str:
        """Wait until the content has not changed for ``quiet`` seconds; return it."""
        deadline = time.monotonic() + timeout
        last, since = self.content(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.02)
            now = self.content()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return last

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                self._proc.wait(5)
            except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
                self._proc.kill()
                self._proc.wait(5)
        self._log.close()


def _client_window(display: str, inner: int) -> int:
    """Tk's toplevel is an inner window inside Tk's wrapper; the wrapper is the client."""
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        return int(d.create_resource_object("window", inner).query_tree().parent.id)
    finally:
        d.close()


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _read_json(path: Path) -> dict[str, int] | None:
    raw = _read_text(path)
    return json.loads(raw) if raw else None


@pytest.fixture
def text_window_factory(x_display: str, tmp_path: Path) -> Iterator[Callable[..., TextWindow]]:
    made: list[TextWindow] = []

    def factory(title: str = "voicetype test window") -> TextWindow:
        win = TextWindow(x_display, tmp_path / f"textwin{len(made)}", title)
        made.append(win)
        return win

    yield factory
    for win in made:
        win.close()


@pytest.fixture
def text_window(text_window_factory: Callable[..., TextWindow]) -> TextWindow:
    win = text_window_factory()
    win.focus()
    return win
