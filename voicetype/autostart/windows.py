"""Autostart on Windows: a value in ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``.

The value runs the GUI entry point (``voicetype-gui.exe``, no console window). The registry
is reached through a small injected interface so the logic is tested off Windows.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, Protocol

from voicetype.errors import VoicetypeError

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
VALUE_NAME = "voicetype"


class RunKey(Protocol):
    """The current user's Run key. Raises OSError on failure."""

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


def _winreg() -> Any:
    """``winreg``, untyped here: typeshed only declares it when checking for Windows."""
    return importlib.import_module("winreg")


class WinregRunKey:
    """``RunKey`` over the real registry (``winreg``, imported lazily)."""

    def get(self, name: str) -> str | None:
        winreg = _winreg()

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                value, _ = winreg.QueryValueEx(key, name)
                return str(value)
        except FileNotFoundError:
            return None

    def set(self, name: str, value: str) -> None:
        winreg = _winreg()

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)

    def delete(self, name: str) -> None:
        winreg = _winreg()

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, name)
        except FileNotFoundError:
            pass


def command_line(argv: Sequence[str]) -> str:
    """Windows command-line quoting (each argument in quotes when it needs them)."""
    import subprocess

    return subprocess.list2cmdline(list(argv))


class WindowsAutostart:
    def __init__(self, command: Sequence[str], run_key: RunKey | None = None) -> None:
        self.command = list(command)
        self.run_key: RunKey = run_key or WinregRunKey()

    @property
    def location(self) -> str:
        return f"HKCU\\{RUN_KEY}"

    def state(self) -> str:
        return "enabled" if self.is_enabled() else "disabled"

    def is_enabled(self) -> bool:
        try:
            return bool(self.run_key.get(VALUE_NAME))
        except OSError:
            return False

    def set_enabled(self, enabled: bool) -> None:
        try:
            if enabled:
                self.run_key.set(VALUE_NAME, command_line(self.command))
            else:
                self.run_key.delete(VALUE_NAME)
        except OSError as exc:
            raise VoicetypeError(
                f"Could not change HKCU\\{RUN_KEY} ({exc})",
                "check that your account may change its own startup programs",
            ) from exc
