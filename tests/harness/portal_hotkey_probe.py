"""Helpers run as the session user (the real portal refuses root callers) for the
GlobalShortcuts test on KWin.

``python -m harness.portal_hotkey_probe listen HOTKEY``: starts ``PortalHotkeyListener``,
prints ``ready TRIGGER``, then ``press``/``release`` per callback (flushed), until stdin
closes. ``python -m harness.portal_hotkey_probe hold KEYSYM... SECONDS``: presses the
keysyms (hex) in order through the RemoteDesktop portal, holds them, releases them in
reverse order; ``holdcodes KEYCODE... SECONDS`` the same with evdev keycodes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from voicetype.hotkeys import parse_hotkey
from voicetype.hotkeys_portal import PortalHotkeyListener
from voicetype.insertion.portal import PortalInserter


def listen(hotkey: str) -> None:
    def say(word: str) -> None:
        print(word, flush=True)

    listener = PortalHotkeyListener(
        parse_hotkey(hotkey), lambda: say("press"), lambda: say("release"), os.environ
    )
    listener.start()
    say(f"ready {listener.trigger}")
    try:
        sys.stdin.read()
    finally:
        listener.stop()


def hold(keys: list[int], seconds: float, keycodes: bool) -> None:
    inserter = PortalInserter(os.environ, Path(tempfile.mkdtemp()))

    def send(key: int, state: int) -> None:
        if keycodes:
            args: tuple[object, ...] = (inserter._session, {}, key, state)
            inserter._call("NotifyKeyboardKeycode", "oa{sv}iu", args)
        else:
            inserter._key(key, state)

    try:
        inserter._ensure_session()
        for key in keys:
            send(key, 1)
        time.sleep(seconds)
        for key in reversed(keys):
            send(key, 0)
    finally:
        inserter.close()


if __name__ == "__main__":
    if sys.argv[1] == "listen":
        listen(sys.argv[2])
    elif sys.argv[1] == "hold":
        hold([int(k, 16) for k in sys.argv[2:-1]], float(sys.argv[-1]), keycodes=False)
    else:
        hold([int(k) for k in sys.argv[2:-1]], float(sys.argv[-1]), keycodes=True)
