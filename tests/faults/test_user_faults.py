"""The user does what users do: hammers the hotkey, presses it while text is being typed,
dictates a very long text, dictates 200 times, breaks the config file while voicetype runs,
runs it with an unwritable log directory; and the service returns text that looks like
keys."""

from __future__ import annotations

import difflib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from harness.daemon import TEST_CONFIG, RunningDaemon
from harness.fake_speech import Behaviour
from harness.faults import RESOURCE_CURVE, FaultLab
from harness.procs import wait_for
from harness.textwin import TextWindow

from voicetype.insertion import sanitize

pytestmark = pytest.mark.desktop


def test_fifty_presses_in_one_second_make_one_dictation(
    faults: FaultLab, text_window: TextWindow, x_display: str
) -> None:
    """Issue 12: the second tap stops the dictation; the other 48 find it finishing or are
    a mashed key's presses: one dictation, no backlog."""
    daemon = faults.start()
    faults.service.always(Behaviour.say("just once", answer_after=2.0, progress_every=0.3))
    text_window.focus()
    at = time.monotonic()
    burst = press_burst(x_display, 50, 1.0)
    assert burst < 1.5, burst
    daemon.wait_for_log("dictation #1 (hotkey): ")
    ready = time.monotonic()
    time.sleep(1.0)
    assert daemon.count_log("(hotkey): ") == 1, daemon.log()
    assert len(faults.service.turns) <= 1
    assert daemon.count_log("ignored") >= 10
    assert [c.summary for c in faults.notifications.calls] in ([], ["Didn't catch that"])
    # no backlog: the next press is dictation #2 and nothing else ran in between
    faults.prove_dictation(daemon, text_window, 2)
    faults.record(
        "user: 50 presses in 1 s", told_s=None, ready_s=ready - at, recovered=True, notifications=0
    )


def press_burst(x_display: str, count: int, seconds: float) -> float:
    """Press Ctrl+Alt+Space ``count`` times evenly over ``seconds`` through XTEST (xdotool
    needs ~60 ms a press); return how long it took."""
    from Xlib import XK, X
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    d = xdisplay.Display(x_display)
    try:
        codes = [d.keysym_to_keycode(XK.string_to_keysym(k)) for k in HOTKEY_KEYSYMS]
        start = time.monotonic()
        for i in range(count):
            for code in codes:
                xtest.fake_input(d, X.KeyPress, code)
            for code in reversed(codes):
                xtest.fake_input(d, X.KeyRelease, code)
            d.sync()
            time.sleep(max(0.0, start + (i + 1) * seconds / count - time.monotonic()))
        return time.monotonic() - start
    finally:
        d.close()


HOTKEY_KEYSYMS = ("Control_L", "Alt_L", "space")


def long_text(size: int = 5000) -> str:
    unit = "Voice typing works, café naïve Øre — 東京 ½ § {ctrl+c} <alt>+F4. "
    return (unit * (size // len(unit) + 1))[: size - 1] + "."


def test_five_thousand_character_recognition_typed_exactly(
    faults: FaultLab, text_window: TextWindow
) -> None:
    text = long_text()
    assert len(text) == 5000
    daemon = faults.start()
    faults.service.always(Behaviour.say(text, answer_after=0.3))
    text_window.focus()
    faults.press()
    line = daemon.wait_for_log("dictation #1 (hotkey): typed", 30)
    assert "5000 chars" in line, line
    assert text_window.wait_for_text(text, timeout=60) == text


def test_presses_while_typing_never_add_text_nor_start_a_dictation(
    faults: FaultLab, text_window: TextWindow
) -> None:
    """One dictation, no backlog, recovery. Known limit (docs/faults.md, insertion/x11.py):
    typing pauses while a modifier is held, checked every 4 keys, but a press landing
    inside a group reaches those keys (XTEST cannot type "without modifiers"), and one
    such key can be a shortcut of the target window (Tk: Ctrl+/ selects all, the next key
    replaces it). The damage is measured and reported, not asserted: see docs/faults.md."""
    text = long_text(1700)  # under the SDK's 2047-byte cut
    daemon = faults.start(config=TEST_CONFIG + '[typing]\nmethod = "type"\n')
    faults.service.always(Behaviour.say(text, answer_after=0.3))
    text_window.focus()
    at = faults.press()
    wait_for(lambda: daemon.state() == "typing", 20, "typing to start", 0.002)
    presses = 0
    while daemon.state() == "typing" and presses < 5:
        faults.press()
        presses += 1
    line = daemon.wait_for_log("dictation #1 (hotkey): typed", 30)
    ready = time.monotonic()
    assert f"{len(text)} chars" in line
    typed = text_window.settle(quiet=0.5, timeout=30)
    damage = sum(
        max(i2 - i1, j2 - j1)
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, text, typed).get_opcodes()
        if op != "equal"
    )
    print(f"{presses} presses while typing damaged {damage} of {len(text)} characters")
    assert presses >= 1, "typing finished before a press could land"
    faults.prove_dictation(daemon, text_window, 2)
    # exactly two dictations: the presses while typing started none (counted in the log:
    # a continuous session may open one more service turn of its own when it stops)
    assert daemon.count_log("INFO voicetype.sessions: dictation #") == 2
    faults.record(
        f"user: {presses} presses while typing ({damage} chars hit)",
        told_s=None,
        ready_s=ready - at,
        recovered=True,
        notifications=0,
    )


def _resources(pid: int) -> tuple[int, int, int]:
    """(RSS in KiB, threads, open file descriptors) of ``pid`` from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    rss = int(fields["VmRSS"].split()[0])
    threads = int(fields["Threads"])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, threads, fds


def test_two_hundred_dictations_do_not_grow_threads_fds_or_memory(
    faults: FaultLab, text_window: TextWindow
) -> None:
    # Joining on (issue 13): the dictations are typed one after another into one window,
    # so the memory joins them with one space each: "ok ok … ok".
    daemon = faults.start(config=TEST_CONFIG.replace("join_seconds = 0", "join_seconds = 120"))
    faults.service.always(replace_say("ok"))
    text_window.focus()
    curve: dict[int, tuple[int, int, int]] = {}
    started = time.monotonic()
    for n in range(1, 201):
        daemon.command("dictate")
        daemon.wait_for_log(f"dictation #{n} (command): typed", 20)
        if n in (1, 50, 100, 200):
            wait_for(lambda: daemon.state() == "idle", 10, "idle", 0.01)
            curve[n] = _resources(daemon.proc.pid)
    took = time.monotonic() - started
    assert text_window.wait_for_text(" ".join(["ok"] * 200), timeout=20)
    RESOURCE_CURVE.append(
        f"200 dictations in {took:.0f} s ({took / 200 * 1000:.0f} ms each); "
        "RSS MiB / threads / fds:"
    )
    for n, (rss, threads, fds) in curve.items():
        RESOURCE_CURVE.append(f"  after {n:>3}: {rss / 1024:7.1f} MiB {threads:4d} {fds:4d}")
    print("\n".join(RESOURCE_CURVE))
    rss50, threads50, fds50 = curve[50]
    rss200, threads200, fds200 = curve[200]
    # generous: the SDK's recognizers are torn down in the background (a few threads and
    # fds in flight at any moment); a leak of one per dictation would add 150
    assert threads200 <= threads50 + 10, curve
    assert fds200 <= fds50 + 20, curve
    assert rss200 - rss50 < 40 * 1024, curve  # KiB: generous, leaks grow by far more
    assert faults.notifications.calls == []


def replace_say(text: str) -> Behaviour:
    """Answer at the first audio frame: the shortest dictation the SDK can make."""
    from dataclasses import replace

    return replace(Behaviour.say(text), trigger="first_audio")


def test_config_edited_to_garbage_keeps_the_last_good_config(
    faults: FaultLab, text_window: TextWindow
) -> None:
    daemon = faults.start()
    daemon.config_path.write_text('[feedback]\nstart_sound = false\n[azure\nkey = "', "utf-8")
    reply = daemon.cli("reload")
    assert reply.returncode == 2, reply.stderr  # a configuration error, told at once
    assert "Configuration not reloaded: voicetype keeps its previous settings" in reply.stderr
    (call,) = faults.notifications.wait_for(1, 10)
    assert call.summary == "Configuration not reloaded: voicetype keeps its previous settings"
    assert str(daemon.config_path) in call.body and "line 3" in call.body, call.body
    daemon.wait_for_log("reload: Configuration not reloaded")
    # SIGHUP does the same
    faults.notifications.clear()
    os.kill(daemon.proc.pid, signal.SIGHUP)
    (again,) = faults.notifications.wait_for(1, 10)
    assert again.summary == call.summary
    assert daemon.proc.alive()
    assert daemon.state() == "idle"
    faults.prove_dictation(daemon, text_window, 1)

    # a good file is taken, and says so
    daemon.config_path.write_text(TEST_CONFIG + "[log]\ninclude_text = true\n", "utf-8")
    faults.notifications.clear()
    os.kill(daemon.proc.pid, signal.SIGHUP)
    (good,) = faults.notifications.wait_for(1, 10)
    assert good.summary == f"Configuration reloaded from {daemon.config_path}"
    faults.prove_dictation(daemon, text_window, 2, text="now logged")
    assert "text='now logged'" in daemon.log()
    faults.record(
        "user: config edited to garbage, reloaded",
        told_s=None,
        ready_s=None,
        recovered=True,
        notifications=3,
    )


def test_unwritable_log_directory(faults: FaultLab, text_window: TextWindow) -> None:
    daemon = faults.start(wait_ready=False)
    # the log directory's parent is a file: nothing can be created there (even as root)
    blocker = Path(daemon.env["XDG_STATE_HOME"]) / "voicetype"
    assert not blocker.exists()
    daemon.proc.stop()
    daemon.stopped = True
    blocker.write_text("not a directory\n")
    daemon = faults.start()
    (note,) = faults.notifications.wait_for(1, 20)
    assert note.summary == "Can't write the log file"
    assert "logging to the terminal only" in note.body and str(blocker) in note.body
    faults.service.always(Behaviour.say("no log file needed", answer_after=0.3))
    faults.notifications.clear()
    text_window.focus()
    faults.press()
    assert text_window.wait_for_text("no log file needed", timeout=20)
    wait_for(lambda: "dictation #1 (hotkey): typed" in daemon.output(), 10, "the terminal log line")
    assert faults.notifications.calls == []
    faults.record(
        "user: unwritable log directory", told_s=None, ready_s=None, recovered=True, notifications=1
    )


TRICKY = (
    "ctrl+alt+t <ctrl>+c alt+F4 {ENTER} Return ^C \x1b[31mred\x1b[0m \x03\x04\x01end"
    "\ttab\r\nline two\x08\x7f \x9b2J \u200bzero-width <super>+l"
)


def test_text_that_looks_like_keys_arrives_literally(
    faults: FaultLab, text_window: TextWindow, x_display: str
) -> None:
    daemon: RunningDaemon = faults.start()
    expected = sanitize(TRICKY)
    assert "\x1b" not in expected and "\x01" not in expected and "\n" in expected
    faults.service.always(Behaviour.say(TRICKY, answer_after=0.3))
    text_window.focus()
    faults.press()
    assert text_window.wait_for_text(expected, timeout=20) == expected
    daemon.wait_for_log("dictation #1 (hotkey): typed")
    windows = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", "."],
        env={**os.environ, "DISPLAY": x_display},
        capture_output=True,
        text=True,
    ).stdout.split()
    assert str(text_window.window_id) in windows
    assert faults.notifications.calls == []
    faults.record(
        "text: control chars, escapes, key names",
        told_s=None,
        ready_s=None,
        recovered=True,
        notifications=0,
    )
