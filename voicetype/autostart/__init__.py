"""Starting voicetype at login: the ``Autostart`` interface and the one place choosing one.

One module per platform: ``xdg`` (Desktop Entry in ``$XDG_CONFIG_HOME/autostart``),
``windows`` (HKCU Run key), ``macos`` (LaunchAgent plist).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Protocol


class Autostart(Protocol):
    """Turns starting at login on and off.

    Threading: any thread; calls touch only small files or registry values.
    ``is_enabled`` reflects the real state (including entries the user disabled by hand);
    ``state`` says which: ``"enabled"``, ``"disabled"`` or ``"disabled-by-user"``.
    ``location`` names where the setting lives, for messages. ``set_enabled`` raises
    ``VoicetypeError`` with the cause and fix on failure.
    """

    @property
    def location(self) -> str: ...

    def state(self) -> str: ...

    def is_enabled(self) -> bool: ...

    def set_enabled(self, enabled: bool) -> None: ...


def launch_command(gui: bool = False) -> list[str]:
    """The command that starts the installed voicetype with the running interpreter's install.

    The console script beside ``sys.executable`` when present (``voicetype-gui`` on Windows,
    which has no console window), else ``python -m voicetype`` with that interpreter.
    """
    bindir = Path(sys.executable).parent
    if sys.platform == "win32":
        names = ["voicetype-gui.exe", "voicetype.exe"] if gui else ["voicetype.exe"]
    else:
        names = ["voicetype"]
    for name in names:
        script = bindir / name
        if script.is_file():
            return [str(script)]
    return [sys.executable, "-m", "voicetype"]


def select_autostart() -> Autostart:
    if sys.platform == "win32":
        from voicetype.autostart.windows import WindowsAutostart

        return WindowsAutostart(launch_command(gui=True))
    if sys.platform == "darwin":
        from voicetype.autostart.macos import MacAutostart

        return MacAutostart(launch_command())
    from voicetype.autostart.xdg import XdgAutostart

    return XdgAutostart(launch_command())
