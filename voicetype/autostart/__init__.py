"""Starting voicetype at login: the ``Autostart`` interface and the one place choosing one.

Per-platform implementations (XDG autostart entry, Windows Run key, macOS LaunchAgent)
arrive with the session-integration work; until then ``Unavailable`` reports so.
"""

from __future__ import annotations

from typing import Protocol

from voicetype.errors import VoicetypeError


class Autostart(Protocol):
    """Turns starting at login on and off.

    Threading: any thread; calls touch only small files or registry values.
    ``is_enabled`` reflects the real state (including entries the user disabled by hand).
    ``set_enabled`` raises ``VoicetypeError`` with the cause and fix on failure.
    """

    def is_enabled(self) -> bool: ...

    def set_enabled(self, enabled: bool) -> None: ...


class Unavailable:
    def is_enabled(self) -> bool:
        return False

    def set_enabled(self, enabled: bool) -> None:
        raise VoicetypeError(
            "Start at login is not available yet on this system",
            "add `voicetype` to your desktop's startup applications yourself",
        )


def select_autostart() -> Autostart:
    return Unavailable()
