"""The daemon end to end on the headless desktop: hotkey → microphone → fake service → text.

Everything is real except the Azure cloud: Xvfb + openbox, trayer, a private D-Bus bus
with a recording notification server, PulseAudio's virtual microphone, a Tk text window,
and the Speech SDK talking to the fake speech service. Keys are pressed with xdotool
(XTEST), as a user's keyboard would.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from harness.daemon import RunningDaemon
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.textwin import TextWindow

pytestmark = pytest.mark.desktop

HOTKEY = "ctrl+alt+space"
UNICODE = "Crème brûlée für 12 €, straße — 東京で寿司を食べた 😀👍🏽 👩‍💻 🇯🇵 «ça va?»"
MULTILINE = "Dear Ana,\nthe meeting moved to 3 pm.\n\tRegards,\nBo"


def press(x_display: str, keys: str = HOTKEY) -> None:
    subprocess.run(
        ["xdotool", "key", "--clearmodifiers", keys],
        env={**os.environ, "DISPLAY": x_display},
        check=True,
        timeout=10,
    )


def keymap(x_display: str) -> str:
    return subprocess.run(
        ["xkbcomp", "-xkb", x_display, "-"], capture_output=True, text=True, check=True, timeout=10
    ).stdout


def answer(text: str) -> Behaviour:
    """The fake answers once 0.6 s of microphone audio arrived, with hypotheses before."""
    return Behaviour.say(text, answer_after=0.6, progress_every=0.3)


@pytest.mark.parametrize("text", ["Hello world, this is voicetype.", UNICODE, MULTILINE])
def test_hotkey_types_the_recognized_text_exactly(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    text_window: TextWindow,
    notifications: Any,
    x_display: str,
    text: str,
) -> None:
    daemon = daemon_factory()
    speech_service.always(answer(text))
    before = keymap(x_display)
    text_window.focus()
    press(x_display)
    assert text_window.wait_for_text(text, timeout=20) == text
    daemon.wait_for_log("dictation #1 (hotkey): typed")
    assert keymap(x_display) == before
    assert notifications.calls == []
    (connection,) = speech_service.connections
    assert connection.header("Ocp-Apim-Subscription-Key") == speech_service.key
    assert daemon.state() == "idle"
