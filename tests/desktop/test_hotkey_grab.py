"""The hotkey is grabbed on X11: applications never see it, the daemon always does.

Two layers on the session's real Xvfb + openbox:
- the listener alone (``X11HotkeyListener``), keys pressed with xdotool or XTEST: press
  and release pairs, auto-repeat, lock modifiers, keymap changes, a grab held by someone
  else, and the latency from injection to callback (printed and written to
  ``test-artifacts/hotkey-latency.txt``, not asserted);
- the real daemon (``daemon_factory``): the key pressed in a focused Tk window and in
  xterm running ``cat``, a grab held by another process at start, reload to another key.
"""

from __future__ import annotations

import os
import queue
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from harness.daemon import RunningDaemon
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import wait_for

from voicetype.hotkeys import Hotkey, HotkeyTaken, parse_hotkey
from voicetype.hotkeys_x11 import X11HotkeyListener, probe_grab

pytestmark = pytest.mark.desktop

DEFAULT = parse_hotkey("<ctrl>+<alt>+<space>")
TAKEN_TEXT = "Ctrl+Alt+Space is taken by another application: choose another in [hotkey] dictate"
NO_MATCH = replace(Behaviour.status("InitialSilenceTimeout"), trigger="first_audio")


def xdotool(x_display: str, *args: str) -> None:
    subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": x_display},
        check=True,
        capture_output=True,
        timeout=10,
    )


class Recorder:
    """A listener with its callbacks recorded in a queue, as ("press"|"release", time)."""

    def __init__(self, x_display: str, hotkey: Hotkey = DEFAULT, use_xkb: bool = True) -> None:
        self.events: queue.Queue[tuple[str, float]] = queue.Queue()
        self.listener = X11HotkeyListener(
            hotkey,
            on_press=lambda: self.events.put(("press", time.perf_counter())),
            on_release=lambda: self.events.put(("release", time.perf_counter())),
            display_name=x_display,
            use_xkb=use_xkb,
        )

    def next(self, timeout: float = 5.0) -> tuple[str, float]:
        return self.events.get(timeout=timeout)

    def kinds(self, count: int, timeout: float = 10.0) -> list[str]:
        return [self.next(timeout)[0] for _ in range(count)]

    def quiet(self, seconds: float = 0.3) -> list[str]:
        """What arrives (if anything) within ``seconds``: for asserting 'nothing more'."""
        try:
            return [self.next(seconds)[0]]
        except queue.Empty:
            return []


@pytest.fixture
def recorder(x_display: str) -> Iterator[Callable[..., Recorder]]:
    made: list[Recorder] = []

    def make(hotkey: Hotkey = DEFAULT, use_xkb: bool = True) -> Recorder:
        rec = Recorder(x_display, hotkey, use_xkb)
        rec.listener.start()
        made.append(rec)
        return rec

    yield make
    for rec in made:
        rec.listener.stop()


# ------------------------------------------------------------------ the listener alone


def test_thirty_presses_give_thirty_press_release_pairs(
    recorder: Callable[..., Recorder], x_display: str
) -> None:
    rec = recorder()
    for _ in range(30):
        xdotool(x_display, "key", "--clearmodifiers", "ctrl+alt+space")
    assert rec.kinds(60) == ["press", "release"] * 30
    assert rec.quiet() == []


@pytest.mark.parametrize("use_xkb", [True, False], ids=["xkb-detectable", "paired-by-time"])
def test_a_long_hold_with_auto_repeat_is_one_press_and_one_release(
    recorder: Callable[..., Recorder], x_display: str, use_xkb: bool
) -> None:
    rec = recorder(use_xkb=use_xkb)
    assert rec.listener.detectable_repeat is use_xkb  # Xvfb has XKB
    xdotool(x_display, "keydown", "ctrl+alt+space")
    kind, down_at = rec.next()
    time.sleep(1.5)  # the user holds the key: the server auto-repeats meanwhile
    xdotool(x_display, "keyup", "ctrl+alt+space")
    kind2, up_at = rec.next()
    assert (kind, kind2) == ("press", "release")
    assert up_at - down_at > 1.4
    assert rec.quiet(0.5) == []
    # Xvfb repeats 25/s after 660 ms: ~20 repeats arrived and were dropped
    assert rec.listener.dropped_repeats > 10, "no auto-repeat: the test proves nothing"


@pytest.mark.parametrize("lock", ["Caps_Lock", "Num_Lock"])
def test_the_hotkey_fires_with_a_lock_on(
    recorder: Callable[..., Recorder], x_display: str, lock: str
) -> None:
    rec = recorder()
    xdotool(x_display, "key", lock)
    try:
        assert _modifier_state(x_display) & _lock_bit(x_display, lock), f"{lock} is not on"
        for _ in range(3):
            xdotool(x_display, "key", "ctrl+alt+space")
        assert rec.kinds(6) == ["press", "release"] * 3
    finally:
        xdotool(x_display, "key", lock)
    assert not _modifier_state(x_display) & _lock_bit(x_display, lock)


def _modifier_state(x_display: str) -> int:
    from Xlib import display as xdisplay

    d = xdisplay.Display(x_display)
    try:
        return int(d.screen().root.query_pointer().mask)
    finally:
        d.close()


def _lock_bit(x_display: str, lock: str) -> int:
    from Xlib import XK
    from Xlib import display as xdisplay

    d = xdisplay.Display(x_display)
    try:
        code = d.keysym_to_keycode(XK.string_to_keysym(lock))
        for index, codes in enumerate(d.get_modifier_mapping()):
            if code in codes:
                return 1 << index
    finally:
        d.close()
    raise AssertionError(f"{lock} is on no modifier")


def test_injection_to_callback_latency(
    recorder: Callable[..., Recorder], x_display: str, artifacts: Path
) -> None:
    from Xlib import XK, X
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    rec = recorder()
    d = xdisplay.Display(x_display)
    codes = [d.keysym_to_keycode(XK.string_to_keysym(k)) for k in ("Control_L", "Alt_L")]
    space = d.keysym_to_keycode(XK.string_to_keysym("space"))
    latencies = []
    try:
        for _ in range(30):
            for code in codes:
                xtest.fake_input(d, X.KeyPress, code)
            d.sync()
            sent = time.perf_counter()
            xtest.fake_input(d, X.KeyPress, space)
            d.flush()
            kind, at = rec.next()
            latencies.append((at - sent) * 1000)
            xtest.fake_input(d, X.KeyRelease, space)
            for code in reversed(codes):
                xtest.fake_input(d, X.KeyRelease, code)
            d.sync()
            assert (kind, rec.next()[0]) == ("press", "release")
    finally:
        d.close()
    median = statistics.median(latencies)
    line = (
        f"hotkey injection → press callback: median {median:.2f} ms "
        f"(min {min(latencies):.2f}, max {max(latencies):.2f}), n=30"
    )
    print(line)
    (artifacts / "hotkey-latency.txt").write_text(line + "\n", encoding="utf-8")


def test_a_keymap_change_moves_the_grab_with_the_key(
    recorder: Callable[..., Recorder], x_display: str
) -> None:
    """Space bound to a second keycode (MappingNotify): the listener grabs that keycode
    too, and lets it go when the binding goes."""
    from Xlib import XK, X
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    rec = recorder()
    d = xdisplay.Display(x_display)
    spare = _unbound_keycode(d)
    (old,) = d.get_keyboard_mapping(spare, 1)
    try:
        assert not _grabbed(x_display, spare)
        d.change_keyboard_mapping(spare, [[XK.string_to_keysym("space")] * len(old)])
        d.sync()
        wait_for(lambda: _grabbed(x_display, spare), 5, "the grab of the new keycode")
        ctrl, alt = (d.keysym_to_keycode(XK.string_to_keysym(k)) for k in ("Control_L", "Alt_L"))
        for code in (ctrl, alt, spare):
            xtest.fake_input(d, X.KeyPress, code)
        for code in (spare, alt, ctrl):
            xtest.fake_input(d, X.KeyRelease, code)
        d.sync()
        assert rec.kinds(2) == ["press", "release"]
    finally:
        d.change_keyboard_mapping(spare, [list(old)])
        d.sync()
        d.close()
    wait_for(lambda: not _grabbed(x_display, spare), 5, "the spare keycode to be ungrabbed")
    xdotool(x_display, "key", "ctrl+alt+space")
    assert rec.kinds(2) == ["press", "release"]


def _unbound_keycode(d: Any) -> int:
    first, last = d.display.info.min_keycode, d.display.info.max_keycode
    rows = d.get_keyboard_mapping(first, last - first + 1)
    for offset in range(len(rows) - 1, -1, -1):
        if not any(rows[offset]):
            return int(first + offset)
    raise AssertionError("no unbound keycode")


def _grabbed(x_display: str, keycode: int) -> bool:
    """True when another client holds ``keycode`` with Ctrl+Alt (our grab fails)."""
    from Xlib import X, error
    from Xlib import display as xdisplay

    from voicetype.hotkeys_x11 import CONTROL, MOD1

    d = xdisplay.Display(x_display)
    try:  # closing the connection ends a grab this probe got
        catch = error.CatchError(error.BadAccess)
        d.screen().root.grab_key(
            keycode, CONTROL | MOD1, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catch
        )
        d.sync()
        return catch.get_error() is not None
    finally:
        d.close()


def test_a_grab_held_by_another_client_is_taken_and_stop_gives_the_key_back(
    recorder: Callable[..., Recorder], x_display: str
) -> None:
    holder = Recorder(x_display)
    holder.listener.start()
    try:
        second = Recorder(x_display)
        with pytest.raises(HotkeyTaken) as info:
            second.listener.start()
        assert f"{info.value.message}: {info.value.fix}" == TAKEN_TEXT
        with pytest.raises(HotkeyTaken):
            probe_grab(DEFAULT, x_display)
        xdotool(x_display, "key", "ctrl+alt+space")
        assert holder.kinds(2) == ["press", "release"]  # the failed start took nothing
    finally:
        holder.listener.stop()
    probe_grab(DEFAULT, x_display)  # free again: stop ungrabbed
    rec = recorder()
    xdotool(x_display, "key", "ctrl+alt+space")
    assert rec.kinds(2) == ["press", "release"]
    assert holder.quiet(0.2) == []


# ------------------------------------------------------------------ the real daemon

_KEYLOG_APP = r"""
import sys, tkinter as tk
log_path, title = sys.argv[1:3]
root = tk.Tk(className="VoicetypeKeylog")
root.title(title)
root.geometry("600x300+60+60")
text = tk.Text(root)
text.pack(fill="both", expand=True)
log = open(log_path, "a", buffering=1, encoding="utf-8")
def record(kind):
    return lambda e: log.write(f"{kind} {e.keysym} {e.state}\n")
root.bind_all("<KeyPress>", record("press"))
root.bind_all("<KeyRelease>", record("release"))
root.after(50, lambda: (text.focus_set(), log.write("ready\n")))
root.mainloop()
"""


@pytest.fixture
def key_log_window(x_display: str, tmp_path: Path) -> Iterator[Path]:
    """A focused Tk window that logs every key event it receives; yields the log path."""
    script, log = tmp_path / "keylog.py", tmp_path / "keys.log"
    script.write_text(_KEYLOG_APP)
    title = f"keylog {tmp_path.name}"
    env = {**os.environ, "DISPLAY": x_display, "NO_AT_BRIDGE": "1"}
    proc = subprocess.Popen(
        ["/usr/bin/python3", str(script), str(log), title],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: log.exists() and "ready" in log.read_text(), 15, "the key-log window")
        _activate(x_display, title)
        yield log
    finally:
        proc.terminate()
        proc.wait(5)


def _activate(x_display: str, title: str) -> None:
    env = {**os.environ, "DISPLAY": x_display}
    wid = subprocess.run(
        ["xdotool", "search", "--sync", "--name", f"^{title}$"],
        env=env,
        capture_output=True,
        text=True,
        timeout=15,
        check=True,
    ).stdout.split()[0]
    xdotool(x_display, "windowactivate", "--sync", wid)

    def focused() -> bool:
        got = subprocess.run(
            ["xdotool", "getactivewindow"], env=env, capture_output=True, text=True
        ).stdout.strip()
        return got == wid

    wait_for(focused, 5, f"focus in {title!r}")


def _no_match_dictation(
    daemon: RunningDaemon, speech_service: FakeSpeechService, x_display: str
) -> None:
    speech_service.always(NO_MATCH)
    xdotool(x_display, "key", "--clearmodifiers", "ctrl+alt+space")
    daemon.wait_for_log("dictation #1 (hotkey): no match (initial_silence_timeout)", 20)


def test_a_focused_tk_window_receives_no_key_event_for_the_hotkey(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    key_log_window: Path,
    x_display: str,
) -> None:
    daemon = daemon_factory()
    _no_match_dictation(daemon, speech_service, x_display)
    # the window did have the keyboard: a plain key reaches it
    xdotool(x_display, "key", "x")
    wait_for(lambda: "release x" in key_log_window.read_text(), 5, "the x key in the window")
    events = key_log_window.read_text().splitlines()
    assert events[0] == "ready" and events[-2:] == ["press x 0", "release x 0"]
    # the space of Ctrl+Alt+Space never arrived; only the modifiers' own events (which
    # no grab can take and no application acts on alone): their presses, and their
    # releases where they came after the space's (xdotool releases them before it)
    keys = {line.split()[1] for line in events[1:-2]}
    assert keys == {"Control_L", "Alt_L"}, events


@pytest.fixture
def xterm_cat(x_display: str, tmp_path: Path) -> Iterator[Path]:
    """A focused xterm whose terminal input (raw, no echo) goes to a file; yields it."""
    out = tmp_path / "xterm-input.bin"
    title = f"xterm-cat {tmp_path.name}"
    proc = subprocess.Popen(
        ["xterm", "-T", title, "-e", "sh", "-c", f"stty raw -echo; exec cat > {out}"],
        env={**os.environ, "DISPLAY": x_display},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(out.exists, 15, "xterm to run cat")
        _activate(x_display, title)
        yield out
    finally:
        proc.terminate()
        proc.wait(5)


def test_xterm_running_cat_receives_nothing_for_the_hotkey(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    xterm_cat: Path,
    x_display: str,
) -> None:
    daemon = daemon_factory()
    _no_match_dictation(daemon, speech_service, x_display)
    assert xterm_cat.read_bytes() == b""
    xdotool(x_display, "type", "ok")  # the terminal had the keyboard all along
    wait_for(lambda: xterm_cat.read_bytes() == b"ok", 5, "'ok' in the terminal")


_HOLDER = """
import sys
from Xlib import X, XK, display
d = display.Display(sys.argv[1])
space = d.keysym_to_keycode(XK.string_to_keysym("space"))
for locks in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask):
    mask = X.ControlMask | X.Mod1Mask | locks
    d.screen().root.grab_key(space, mask, False, X.GrabModeAsync, X.GrabModeAsync)
d.sync()
print("held", flush=True)
sys.stdin.read()
"""


def _hold_grab_in_subprocess(x_display: str) -> subprocess.Popen[str]:
    """Another program grabs Ctrl+Alt+Space (with the lock variants, as desktops do)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, x_display],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_hotkey_held_by_another_program_is_said_at_start_and_in_doctor(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    notifications: Any,
    x_display: str,
    text_window_factory: Callable[..., Any],
) -> None:
    holder = _hold_grab_in_subprocess(x_display)
    try:
        daemon = daemon_factory()
        (call,) = notifications.wait_for(1, timeout=15)
        where = f"({daemon.config_path}), then run `voicetype reload`"
        assert (call.summary, call.body) == (
            "Ctrl+Alt+Space is taken by another application",
            f"choose another in [hotkey] dictate {where}",
        )
        # the tooltip shows the start of the same text (it cuts long details)
        daemon.tray.wait_for_icon("voicetype — Idle — Ctrl+Alt+Space is taken by another")
        status = daemon.cli("status")
        assert status.returncode == 0, status.stderr
        assert "Ctrl+Alt+Space is taken by another application" in status.stdout
        doctor = daemon.cli("doctor", timeout=60)
        assert (
            "✗ hotkey: Ctrl+Alt+Space is taken by another application\n"
            f"    fix: choose another in [hotkey] dictate {where}\n"
        ) in doctor.stdout
        assert doctor.returncode == 1
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
    # the other program let go: reload takes the key, and the key dictates
    notifications.clear()
    assert daemon.cli("reload").returncode == 0
    daemon.wait_for_log("hotkey Ctrl+Alt+Space is live")
    speech_service.always(Behaviour.say("mine now", answer_after=0.6, progress_every=0.3))
    window = text_window_factory()
    window.focus()
    xdotool(x_display, "key", "--clearmodifiers", "ctrl+alt+space")
    assert window.wait_for_text("mine now", timeout=20) == "mine now"
    doctor = daemon.cli("doctor", timeout=60)
    assert "✓ hotkey: Ctrl+Alt+Space, held by the running voicetype" in doctor.stdout


def test_reload_to_another_hotkey_gives_the_old_one_back(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    x_display: str,
    text_window_factory: Callable[..., Any],
) -> None:
    daemon = daemon_factory()
    with pytest.raises(HotkeyTaken):
        probe_grab(DEFAULT, x_display)
    daemon.config_path.write_text(
        daemon.config_path.read_text() + '\n[hotkey]\ndictate = "<ctrl>+<alt>+k"\n'
    )
    assert daemon.cli("reload").returncode == 0
    daemon.wait_for_log("hotkey Ctrl+Alt+K is live")
    probe_grab(DEFAULT, x_display)  # the old key is free for applications again
    speech_service.always(Behaviour.say("new key", answer_after=0.6, progress_every=0.3))
    window = text_window_factory()
    window.focus()
    xdotool(x_display, "key", "--clearmodifiers", "ctrl+alt+k")
    assert window.wait_for_text("new key", timeout=20) == "new key"
    daemon.wait_for_log("dictation #1 (hotkey): typed")


def test_doctor_without_a_daemon_probes_the_hotkey(
    user_env: dict[str, str], x_display: str
) -> None:
    from harness.daemon import run_voicetype

    env = {**user_env, "DISPLAY": x_display}
    free = run_voicetype(env, "doctor", timeout=60)
    assert "✓ hotkey: Ctrl+Alt+Space is free: voicetype can grab it\n" in free.stdout
    holder = _hold_grab_in_subprocess(x_display)
    try:
        taken = run_voicetype(env, "doctor", timeout=60)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
    config = Path(user_env["XDG_CONFIG_HOME"]) / "voicetype" / "config.toml"
    assert (
        "✗ hotkey: Ctrl+Alt+Space is taken by another application\n"
        f"    fix: choose another in [hotkey] dictate ({config}), then run `voicetype reload`\n"
    ) in taken.stdout
    assert taken.returncode == 1
