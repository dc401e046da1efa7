"""The daemon end to end on the headless desktop: hotkey → microphone → fake service → text.

Everything is real except the Azure cloud: Xvfb + openbox, trayer, a private D-Bus bus
with a recording notification server, PulseAudio's virtual microphone, a Tk text window,
and the Speech SDK talking to the fake speech service. Keys are pressed with xdotool
(XTEST), as a user's keyboard would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from harness.daemon import RunningDaemon
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import wait_for
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
    # the temporary key bindings are cleared ~0.15–0.5 s after the last key (x11_lease)
    wait_for(lambda: keymap(x_display) == before, 3, "the keymap restored")
    assert notifications.calls == []
    (connection,) = speech_service.connections
    assert connection.header("Ocp-Apim-Subscription-Key") == speech_service.key
    assert daemon.state() == "idle"


def test_text_lands_in_the_window_that_had_focus_at_the_press(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    text_window_factory: Callable[..., TextWindow],
    pulse_audio: Any,
    x_display: str,
) -> None:
    daemon_factory()
    speech_service.always(Behaviour.say("stay here", answer_after=1.5, progress_every=0.3))
    first = text_window_factory(title="first window")
    second = text_window_factory(title="second window")
    first.focus()
    press(x_display)
    pulse_audio.wait_for_capture(10)  # listening: the user now clicks elsewhere
    second.focus()
    assert first.wait_for_text("stay here", timeout=20) == "stay here"
    assert second.content() == ""


def test_no_match_is_one_quiet_notification_and_types_nothing(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    text_window: TextWindow,
    notifications: Any,
    x_display: str,
) -> None:
    daemon = daemon_factory()
    speech_service.always(replace(Behaviour.status("InitialSilenceTimeout"), trigger="first_audio"))
    text_window.focus()
    press(x_display)
    (call,) = notifications.wait_for(1, timeout=20)
    daemon.wait_for_log("dictation #1 (hotkey): no match (initial_silence_timeout)")
    assert (call.app_name, call.summary, call.body) == (
        "voicetype",
        "Didn't catch that",
        "no speech detected.",
    )
    assert call.urgency == 0
    assert len(notifications.calls) == 1
    assert text_window.content() == ""
    assert daemon.state() == "idle"


def test_rejected_key_is_one_notification_with_the_fix(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    text_window: TextWindow,
    notifications: Any,
    x_display: str,
) -> None:
    daemon = daemon_factory()
    speech_service.always(Behaviour.http(401))
    text_window.focus()
    press(x_display)
    (call,) = notifications.wait_for(1, timeout=20)
    daemon.wait_for_log("dictation #1 (hotkey): failed (authentication)")
    assert call.summary == "Azure rejected the key (401)"
    assert "AZURE_AI_SPEECH_KEY" in call.body and "`key` and `region`" in call.body
    assert len(notifications.calls) == 1
    assert text_window.content() == ""
    assert daemon.state() == "error"
    daemon.tray.wait_for_icon("voicetype — Error — Azure rejected the key (401): The key is")
    assert speech_service.key not in daemon.log() + daemon.output()


def test_menu_enabled_dictate_now_and_quit(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    text_window: TextWindow,
    x_display: str,
    artifacts: Path,
) -> None:
    daemon = daemon_factory()
    tray = daemon.tray
    speech_service.always(answer("from the menu"))

    tray.click_icon(daemon.icon())
    menu = tray.wait_for_menu()
    tray.screenshot(artifacts / "daemon-menu-open.png")
    tray.click_menu_item(menu, "Enabled")
    tray.wait_for_menu_closed()
    daemon.wait_for_log("enabled: False")
    tray.wait_for_title("voicetype — Disabled")
    text_window.focus()
    press(x_display)
    daemon.wait_for_log("dictation ignored: voicetype is disabled (hotkey)")
    assert speech_service.connections == []
    assert text_window.content() == ""

    tray.click_icon(daemon.icon())
    tray.click_menu_item(tray.wait_for_menu(), "Enabled")
    daemon.wait_for_log("enabled: True")
    tray.wait_for_title("voicetype — Idle")

    tray.click_icon(daemon.icon())
    tray.click_menu_item(tray.wait_for_menu(), "Dictate now")
    assert text_window.wait_for_text("from the menu", timeout=20) == "from the menu"
    daemon.wait_for_log("dictation #1 (menu): typed")

    tray.click_icon(daemon.icon())
    tray.click_menu_item(tray.wait_for_menu(), "Quit")
    assert daemon.proc.popen.wait(15) == 0
    daemon.stopped = True
    assert "voicetype stopped" in daemon.log()


def test_open_configuration_writes_the_starter_file_and_opens_it(
    daemon_factory: Callable[..., RunningDaemon], tmp_path: Path
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    opened = tmp_path / "opened.txt"
    fake = bindir / "xdg-open"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {opened}.tmp && mv {opened}.tmp {opened}\n')
    fake.chmod(0o755)
    daemon = daemon_factory(env={"PATH": f"{bindir}:{os.environ['PATH']}"})
    daemon.config_path.unlink()  # first run: no configuration file yet
    tray = daemon.tray
    tray.click_icon(daemon.icon())
    tray.click_menu_item(tray.wait_for_menu(), "Open configuration")
    wait_for(opened.exists, 10, "xdg-open to be called")
    assert opened.read_text().strip() == str(daemon.config_path)
    assert daemon.config_path.stat().st_mode & 0o777 == 0o600
    assert "[azure]" in daemon.config_path.read_text()


def test_first_run_without_a_key_explains_how_to_set_it(
    daemon_factory: Callable[..., RunningDaemon],
    text_window: TextWindow,
    notifications: Any,
    x_display: str,
) -> None:
    daemon = daemon_factory(service=False)
    (call,) = notifications.wait_for(1, timeout=20)
    assert call.summary == "Set your Azure Speech key to start dictating"
    assert str(daemon.config_path) in call.body
    assert "AZURE_AI_SPEECH_KEY" in call.body
    daemon.tray.wait_for_icon("voicetype — Error — Set your Azure Speech key to start dictating")
    assert daemon.state() == "error"
    text_window.focus()
    press(x_display)
    calls = notifications.wait_for(2, timeout=20)
    assert calls[1].summary == call.summary
    assert text_window.content() == ""


def test_once_without_print_types_into_the_focused_window(
    user_env: dict[str, str],
    x_display: str,
    speech_service: FakeSpeechService,
    speech_wavs: Any,
    text_window: TextWindow,
) -> None:
    speech_service.always(Behaviour.say(UNICODE))
    text_window.focus()
    env = {**user_env, "DISPLAY": x_display, **speech_service.env()}
    done = subprocess.run(
        [sys.executable, "-m", "voicetype", "once", "--file", str(speech_wavs.phrase)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert text_window.wait_for_text(UNICODE, timeout=10) == UNICODE
