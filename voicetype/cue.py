"""The start sound: a short chime when the microphone opens, so users know to speak.

Playback never blocks the controller: a player process is started and left to finish.
Missing players are not an error (the icon already shows "listening").
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable

from voicetype.resources import asset_path

log = logging.getLogger(__name__)

_PLAYERS = (("paplay",), ("pw-play",), ("aplay", "-q"))


def make_player(name: str = "start.wav") -> Callable[[], None]:
    """A callable that starts playing the named shipped sound and returns at once."""
    path = str(asset_path(name))
    if sys.platform == "win32":

        def play_windows() -> None:
            import winsound

            winsound.PlaySound(path, winsound.SND_FILENAME | winsound.SND_ASYNC)

        return play_windows
    argv: list[str] | None = None
    if sys.platform == "darwin":
        argv = ["afplay", path]
    else:
        for player in _PLAYERS:
            if shutil.which(player[0]):
                argv = [*player, path]
                break
    if argv is None:
        log.info("no sound player found (paplay, pw-play, aplay); the start sound is off")
        return lambda: None
    command = argv
    children: list[subprocess.Popen[bytes]] = []

    def play() -> None:
        children[:] = [c for c in children if c.poll() is None]  # reap finished players
        children.append(
            subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    return play
