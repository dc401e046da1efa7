"""The key watch (``voicetype.context.keywatch``) on a real X server: a key from XTEST
outside voicetype's own span counts as the user's; voicetype's own keys, shortcuts and
modifiers alone do not."""

from __future__ import annotations

import os
import subprocess
import threading

import pytest
from harness.procs import wait_for

from voicetype.context.keywatch import KeyWatch, NoKeyWatch, start_key_watch

pytestmark = pytest.mark.desktop


def xdotool(env: dict[str, str], *keys: str) -> None:
    subprocess.run(["xdotool", "key", *keys], env=env, check=True, timeout=10)


def test_user_keys_count_and_voicetypes_own_and_shortcuts_do_not(
    x_display: str, x_env: dict[str, str]
) -> None:
    seen = threading.Event()
    watch = KeyWatch(seen.set, x_display)
    watch.start()
    try:
        with watch.ours():
            xdotool(x_env, "a", "BackSpace", "shift+b")
        xdotool(x_env, "ctrl+alt+space", "ctrl+z", "Shift_L", "Control_L", "F9")
        # Every event above has been read once the next (counted) key is.
        xdotool(x_env, "x")
        wait_for(lambda: watch.user_keys > 0, timeout=5, what="the user's key")
        assert seen.is_set()
        xdotool(x_env, "Left")
        wait_for(lambda: watch.user_keys == 2, timeout=5, what="the second key")
        assert watch.user_keys == 2  # "x" and Left, nothing else
    finally:
        watch.close()


def test_no_display_means_no_watch() -> None:
    assert isinstance(start_key_watch(lambda: None, {}), NoKeyWatch)


def test_a_display_that_does_not_answer_means_no_watch_and_no_leak() -> None:
    start_key_watch(lambda: None, {"DISPLAY": ":999"})  # imports, logging set up
    before = len(os.listdir("/proc/self/fd"))
    assert isinstance(start_key_watch(lambda: None, {"DISPLAY": ":999"}), NoKeyWatch)
    assert len(os.listdir("/proc/self/fd")) == before
