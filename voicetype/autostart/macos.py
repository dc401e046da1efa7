"""Autostart on macOS: a LaunchAgent plist in ``~/Library/LaunchAgents``."""

from __future__ import annotations

import plistlib
from collections.abc import Sequence
from pathlib import Path

from voicetype.errors import VoicetypeError

LABEL = "io.github.voicetype"


class MacAutostart:
    def __init__(self, command: Sequence[str], home: Path | None = None) -> None:
        self.command = list(command)
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{LABEL}.plist"

    def plist(self) -> dict[str, object]:
        return {
            "Label": LABEL,
            "ProgramArguments": self.command,
            "RunAtLoad": True,
            "KeepAlive": False,
            "ProcessType": "Interactive",
        }

    @property
    def location(self) -> str:
        return str(self.path)

    def state(self) -> str:
        return "enabled" if self.is_enabled() else "disabled"

    def is_enabled(self) -> bool:
        try:
            with self.path.open("rb") as f:
                data = plistlib.load(f)
        except (OSError, plistlib.InvalidFileException, ValueError):
            return False
        return bool(data.get("RunAtLoad")) and not data.get("Disabled", False)

    def set_enabled(self, enabled: bool) -> None:
        try:
            if enabled:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("wb") as f:
                    plistlib.dump(self.plist(), f)
            else:
                self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise VoicetypeError(
                f"Could not change {self.path} ({exc.strerror})",
                f"check that {self.path.parent} is writable by you",
            ) from exc
