"""Issue 13 end to end: the real daemon, the fake speech service, real windows. Text that
reads as if typed: dictations join, "scratch that" takes one back, a continuation read
through AT-SPI is lower-cased, terminals get no line break, a key the user typed stops
joining, a password field is neither read nor kept.

The GTK3 window and its private accessibility bus are the caret-context tests' own
(``harness.a11y``): the daemon finds that bus through the ``AT_SPI_BUS`` property
at-spi-bus-launcher puts on the display's root window, as on a real desktop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from harness.a11y import GtkWindow
from harness.apps import RealApp
from harness.daemon import RunningDaemon
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import wait_for

pytestmark = pytest.mark.desktop

CONFIG = """
[feedback]
start_sound = false

[log]
include_text = true
"""


@pytest.fixture
def gtk(a11y_env: dict[str, str]) -> Iterator[GtkWindow]:
    window = GtkWindow(a11y_env, "text-e2e-gtk3")
    try:
        yield window
    finally:
        window.close()


class Dictations:
    """Dictates through the control socket (no key is pressed), one at a time."""

    def __init__(self, daemon: RunningDaemon, service: FakeSpeechService) -> None:
        self.daemon, self.service, self.count = daemon, service, 0

    def say(self, text: str, outcome: str = "typed") -> str:
        self.count += 1
        self.service.always(Behaviour.say(text, answer_after=0.6, progress_every=0.3))
        assert self.daemon.command("dictate")["ok"]
        line = self.daemon.wait_for_log(f"dictation #{self.count} (", timeout=20)
        wait_for(lambda: self.daemon.state() == "idle", 10, "idle")
        assert f": {outcome}" in line, line
        return line


def test_gtk3_dictations_join_scratch_that_and_continue_mid_sentence(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    gtk: GtkWindow,
) -> None:
    daemon = daemon_factory(CONFIG)
    gtk.send(op="text", text="", caret=0)
    talk = Dictations(daemon, speech_service)
    talk.say("Hello world.")
    wait_for(lambda: gtk.content() == "Hello world.", 5, "the first dictation")
    talk.say("How are you?")
    wait_for(lambda: gtk.content() == "Hello world. How are you?", 5, "the joined text")
    talk.say("Scratch that.")
    wait_for(lambda: gtk.content() == "Hello world.", 5, "the second dictation taken back")

    # Text voicetype never typed: only AT-SPI can tell this is mid-sentence.
    gtk.send(op="text", text="I went to the", caret=13)
    talk.say("Store.")
    wait_for(lambda: gtk.content() == "I went to the store.", 5, "the continuation")
    talk.say("New paragraph.")  # at the end of a dictation: two Return presses
    talk.say("Next.")
    wait_for(lambda: gtk.content() == "I went to the store.\n\nNext.", 5, "the paragraph")

    newest = daemon.cli("history", "-n", "1")
    assert newest.returncode == 0, newest.stderr
    assert newest.stdout.splitlines()[0].endswith("  Next.")
    assert len(newest.stdout.splitlines()) == 1
    history = daemon.cli("history")
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    # newest first; a dictation taken back stays in the history (it can be typed again)
    assert [ln.split("  ", 1)[1] for ln in lines] == [
        "Next.",
        "store.",
        "How are you?",
        "Hello world.",
    ]


def test_gtk3_password_field_is_not_read_kept_or_logged(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    gtk: GtkWindow,
) -> None:
    daemon = daemon_factory(CONFIG)  # include_text = true: even then, nothing is logged
    gtk.send(op="password", text="")
    talk = Dictations(daemon, speech_service)
    talk.say("Open sesame.")
    daemon.wait_for_log("typed into a password field")
    assert "sesame" not in daemon.log()
    history = daemon.cli("history")
    assert history.returncode == 0 and "sesame" not in history.stdout
    assert "No dictations" in history.stdout


def xdotool_type(display: str, text: str) -> None:
    subprocess.run(
        ["xdotool", "type", "--delay", "20", text],
        env={**os.environ, "DISPLAY": display},
        check=True,
        timeout=10,
    )


def test_xterm_joins_by_memory_new_line_is_a_space_and_a_user_key_resets(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    app_launcher: Callable[[str], RealApp],
    notifications: Any,
    x_display: str,
) -> None:
    xterm = app_launcher("xterm")  # not on the accessibility bus: memory only
    try:
        xterm.focus()
        daemon = daemon_factory(CONFIG)
        talk = Dictations(daemon, speech_service)
        talk.say("Hello world.")
        talk.say("New line.")
        talk.say("How are you?")
        assert xterm.read_back("Hello world. How are you?") == "Hello world. How are you?"
        xdotool_type(x_display, "ok")  # the user types: the memory no longer holds
        xterm.read_back("Hello world. How are you?ok")
        talk.say("Scratch that.", outcome="refused")  # a key was typed since: nothing erased
        wait_for(lambda: notes(notifications), 5, "the refusal")
        assert notes(notifications) == [
            "Nothing was deleted: you typed since the last dictation "
            "Delete it by hand (Ctrl+Z undoes it in most applications)."
        ]
        talk.say("Fine.")
        assert xterm.read_back("Hello world. How are you?okFine.") == (
            "Hello world. How are you?okFine."
        )
    finally:
        xterm.shutdown()


def notes(notifications: Any) -> list[str]:
    return [f"{c.summary} {c.body}" for c in notifications.calls]


def test_a_frozen_application_delays_typing_by_at_most_the_bound_then_memory_joins(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    gtk: GtkWindow,
) -> None:
    """AT-SPI calls into a stopped application block (15 s by default): the read gives
    up after 0.1 s and voicetype's memory decides the joining."""
    daemon = daemon_factory(CONFIG)
    gtk.send(op="text", text="", caret=0)
    talk = Dictations(daemon, speech_service)
    talk.say("Hello world.")
    wait_for(lambda: gtk.content() == "Hello world.", 5, "the first dictation")
    os.killpg(gtk.popen.pid, signal.SIGSTOP)
    try:
        talk.say("How are you?")
        line = daemon.wait_for_log("caret context: not read")
    finally:
        os.killpg(gtk.popen.pid, signal.SIGCONT)
    ms = float(line.split("not read (")[1].split(" ms")[0])
    assert ms <= 130, line
    wait_for(lambda: gtk.content() == "Hello world. How are you?", 5, "the joined text")


def test_retype_types_the_last_dictation_again_joined_to_the_text(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    gtk: GtkWindow,
) -> None:
    daemon = daemon_factory(CONFIG)
    gtk.send(op="text", text="", caret=0)
    nothing = daemon.cli("retype")
    assert (nothing.returncode, nothing.stderr.strip()) == (
        1,
        "voicetype: there is no dictation to type again",
    )
    Dictations(daemon, speech_service).say("Hello world.")
    wait_for(lambda: gtk.content() == "Hello world.", 5, "the dictation")
    again = daemon.cli("retype")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "typing the last dictation into the focused window"
    wait_for(lambda: gtk.content() == "Hello world. Hello world.", 5, "typed again, joined")
    daemon.wait_for_log("type last dictation (command): typed")


def test_once_types_a_continuation_read_through_atspi_like_the_daemon(
    user_env: dict[str, str],
    x_display: str,
    speech_service: FakeSpeechService,
    speech_wavs: Any,
    gtk: GtkWindow,
) -> None:
    """``voicetype once`` reads the caret context as the daemon does (its helper starts
    while the words are recognized): mid-sentence, the service's capital is undone."""
    gtk.send(op="text", text="I went to the", caret=13)
    speech_service.always(Behaviour.say("Store.", delay=1.0))
    done = subprocess.run(
        [sys.executable, "-m", "voicetype", "once", "--file", str(speech_wavs.phrase)],
        env={**user_env, "DISPLAY": x_display, **speech_service.env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    wait_for(lambda: gtk.content() == "I went to the store.", 5, "the continuation")
