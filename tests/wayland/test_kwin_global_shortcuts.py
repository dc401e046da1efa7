"""The GlobalShortcuts hotkey on a real headless KDE (KWin 5.27 + xdg-desktop-portal-kde):
the listener registers Ctrl+Alt+Space, a key held through the RemoteDesktop portal gives
one press and one release (hold-to-talk), and the window with focus gets nothing."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from harness.procs import wait_for
from harness.wl_desktop import SETPRIV, KWin

pytestmark = pytest.mark.desktop

TESTS_DIR = Path(__file__).resolve().parent.parent
PYTHON = str(TESTS_DIR.parent / ".venv" / "bin" / "python")
PROBE = [PYTHON, "-m", "harness.portal_hotkey_probe"]
CTRL, ALT, SPACE = "29", "56", "57"  # evdev keycodes (Ctrl+Alt+Fn switches VTs)


def test_held_shortcut_gives_press_then_release(kwin: KWin) -> None:
    env = {**kwin.client_env, "PYTHONPATH": str(TESTS_DIR)}
    window = kwin.gtk_window()
    listener = subprocess.Popen(
        [*SETPRIV, *PROBE, "listen", "<ctrl>+<alt>+<space>"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert listener.stdout is not None
        for line in listener.stdout:
            lines.append(line.strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(lambda: lines, 20, "the listener to register its shortcut")
        assert lines[0] == "ready Ctrl+Alt+Space", lines
        for round_ in (1, 2):
            held = subprocess.run(
                [*SETPRIV, *PROBE, "holdcodes", CTRL, ALT, SPACE, "0.5"],
                env=env,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert held.returncode == 0, held.stderr[-2000:]
            wait_for(lambda r=round_: len(lines) >= 1 + 2 * r, 5, f"press/release {round_}")  # type: ignore[misc]
        assert lines[1:] == ["press", "release", "press", "release"]
        assert window.content() == ""
    finally:
        assert listener.stdin is not None
        listener.stdin.close()
        try:
            listener.wait(10)
        finally:
            if listener.poll() is None:
                listener.kill()
            window.close()
