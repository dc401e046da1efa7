"""The application entry named by voicetype's app id, which xdg-desktop-portal 1.20.1 and
newer need before ``Registry.Register`` accepts a host app: the README's install step
writes it, and GLib (what the portal uses to look it up) finds it with a runnable
Exec."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from voicetype.hotkeys_portal import APP_ID

pytestmark = pytest.mark.desktop

REPO = Path(__file__).resolve().parents[2]
LOOKUP = """
import sys
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio
try:
    print(Gio.DesktopAppInfo.new(sys.argv[1]).get_commandline())
except TypeError:  # PyGObject: "constructor returned NULL" (no such entry)
    print("NOT FOUND")
"""


def glib_lookup(data_home: Path) -> str:
    env = {"XDG_DATA_HOME": str(data_home), "XDG_DATA_DIRS": str(data_home / "none"),
           "PATH": "/usr/bin:/bin", "HOME": str(data_home)}  # fmt: skip
    found = subprocess.run(["/usr/bin/python3", "-c", LOOKUP, f"{APP_ID}.desktop"], env=env,
                           capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
    return found.stdout.strip()


def test_the_install_step_writes_the_entry_the_portal_looks_up(tmp_path: Path) -> None:
    assert (REPO / "assets" / f"{APP_ID}.desktop").is_file()
    data = tmp_path / "data"
    assert glib_lookup(data) == "NOT FOUND"
    command = tmp_path / "my bin" / "voicetype"
    command.parent.mkdir()
    command.write_text("#!/bin/sh\n")
    command.chmod(0o755)
    subprocess.run(
        [str(REPO / "scripts" / "install-desktop-entry.sh"), str(command)],
        env={"XDG_DATA_HOME": str(data), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True,
        timeout=30,
    )
    assert glib_lookup(data) == f'"{command}" run'
    assert "install-desktop-entry.sh" in (REPO / "scripts" / "install.sh").read_text()
