"""Presses at the edges of a dictation, against the real daemon and the fake service: a
press made the moment voicetype shows idle always starts a dictation, a press during one
is answered, and ``voicetype dictate`` says what really happened."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from harness.daemon import TEST_CONFIG
from harness.fake_speech import Behaviour
from harness.faults import FaultLab
from harness.procs import wait_for
from harness.textwin import TextWindow

pytestmark = pytest.mark.desktop


def first_audio_say(text: str) -> Behaviour:
    """Answer at the first audio frame: the shortest dictation the SDK can make."""
    return replace(Behaviour.say(text), trigger="first_audio")


def test_a_hundred_dictates_sent_the_moment_status_says_idle_make_a_hundred_dictations(
    faults: FaultLab, text_window: TextWindow
) -> None:
    """Old code: idle was shown before the press window closed; 10 of 100 such presses
    were dropped while each reply still said "dictation started"."""
    # Joining on (issue 13): one window, one dictation after another: "ok ok … ok".
    daemon = faults.start(config=TEST_CONFIG.replace("join_seconds = 0", "join_seconds = 120"))
    faults.service.always(first_audio_say("ok"))
    text_window.focus()
    started = time.monotonic()
    waits: list[float] = []
    for n in range(1, 101):
        at = time.monotonic()
        wait_for(lambda: daemon.state() == "idle", 15, f"idle before press {n}", 0.001)
        waits.append(time.monotonic() - at)
        reply = daemon.command("dictate")
        assert reply == {"ok": True, "message": "dictation started", "outcome": "started"}, n
        # the reply comes once the dictation is under way: status no longer says idle
        assert daemon.state() != "idle", n
    daemon.wait_for_log("dictation #100 (command): typed", 20)
    took = time.monotonic() - started
    joined = " ".join(["ok"] * 100)
    assert text_window.wait_for_text(joined, timeout=20) == joined
    assert daemon.count_log("(command): typed") == 100
    assert daemon.count_log("press during a dictation ignored") == 0
    assert faults.notifications.calls == []
    print(f"100 presses at idle: 100 dictations in {took:.1f} s")
    faults.record(
        "press: 100 dictates at idle (100 kept)",
        told_s=None,
        ready_s=took / 100,
        recovered=True,
        notifications=0,
    )


def test_a_second_dictate_while_listening_stops_early_and_types_once(
    faults: FaultLab, text_window: TextWindow
) -> None:
    """Issue 12: a second tap while listening ends listening now and types what was
    recognized so far (old code: it was ignored, and the user could not stop)."""
    daemon = faults.start()
    faults.service.always(Behaviour.say("only once", answer_after=1.5, progress_every=0.3))
    text_window.focus()
    assert daemon.cli("dictate").stdout.strip() == "dictation started"
    wait_for(lambda: daemon.state() == "listening", 10, "listening", 0.01)
    at = time.monotonic()
    again = daemon.cli("dictate")
    assert (again.returncode, again.stdout.strip()) == (0, "listening stopped; the text follows")
    told = time.monotonic() - at
    assert text_window.wait_for_text("only once", timeout=20) == "only once"
    daemon.wait_for_log("dictation #1 (command): typed")
    assert len(faults.service.turns) == 1
    # the next press after the dictation is a dictation again
    faults.prove_dictation(daemon, text_window, 2)
    faults.record(
        "press: second dictate while listening (stops)",
        told_s=told,
        ready_s=None,
        recovered=True,
        notifications=0,
    )


def test_dictate_when_turned_off_says_so(faults: FaultLab, text_window: TextWindow) -> None:
    daemon = faults.start()
    assert daemon.cli("toggle").stdout.strip() == "disabled"
    off = daemon.cli("dictate")
    assert off.returncode == 1
    assert off.stderr.startswith("voicetype: voicetype is turned off"), off.stderr
    assert daemon.cli("toggle").stdout.strip() == "enabled"
    faults.prove_dictation(daemon, text_window, 1)
    assert len(faults.service.turns) == 1
