"""Opening a file with the desktop's default application."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from voicetype.errors import VoicetypeError


def open_with_default_app(path: Path) -> None:
    """Open ``path`` in the user's default editor/viewer; returns without waiting for it.

    Raises ``VoicetypeError`` naming the path when no opener can be started.
    """
    try:
        if sys.platform == "win32":
            os.startfile(path)  # type: ignore[attr-defined]
            return
        opener = "open" if sys.platform == "darwin" else "xdg-open"
        subprocess.Popen(
            [opener, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise VoicetypeError(
            f"Could not open {path} ({exc.strerror or exc})",
            f"open {path} in a text editor yourself"
            + ("; install xdg-utils for `xdg-open`" if sys.platform.startswith("linux") else ""),
        ) from exc
