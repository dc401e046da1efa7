"""The control socket and what ``status`` and the tooltip say, against the real daemon:
slow and silent clients, a burst of clients, a request that expired, no key, a reload,
no notification service, an over-long recognition."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import replace

import pytest
from harness.control_load import Load
from harness.daemon import TEST_CONFIG, RunningDaemon
from harness.fake_speech import Behaviour
from harness.faults import FaultLab
from harness.procs import wait_for
from harness.textwin import TextWindow

from voicetype.control import send_command

pytestmark = pytest.mark.desktop


def test_silent_and_trickling_clients_do_not_hold_up_status_or_dictate(
    faults: FaultLab, text_window: TextWindow
) -> None:
    """Old daemon: 8 silent clients made `status`/`dictate` fail for ~16 s, a client
    sending a byte every 1.5 s blocked every command for as long as it liked."""
    daemon = faults.start()
    faults.service.always(Behaviour.say("through the crowd", answer_after=0.3))
    text_window.focus()
    with Load(daemon.socket, idle=8, trickling=1) as load:
        latencies = []
        for _ in range(10):
            at = time.monotonic()
            assert send_command("status", daemon.socket, timeout=2)["ok"] is True
            latencies.append(time.monotonic() - at)
            time.sleep(0.1)
        at = time.monotonic()
        reply = send_command("dictate", daemon.socket, timeout=2)
        dictate_s = time.monotonic() - at
        assert reply["message"] == "dictation started"
        assert text_window.wait_for_text("through the crowd", timeout=20) == "through the crowd"
        daemon.wait_for_log("dictation #1 (command): typed")
        # the server answers the slow ones "too slow" after 1 s: they reconnect
        wait_for(lambda: load.opened > 9, 3, "the slow clients to be closed")
    worst = max(latencies)
    print(f"status under 8 silent + 1 trickling clients: max {worst * 1000:.0f} ms")
    assert worst < 0.5, latencies
    faults.record(
        f"control: 8 silent + 1 trickling (status {worst * 1000:.0f} ms)",
        told_s=None,
        ready_s=dictate_s,
        recovered=True,
        notifications=0,
    )


def test_a_burst_of_a_hundred_clients_all_get_answers(faults: FaultLab) -> None:
    """Old daemon: listen(8), one client at a time: 12+ pending clients got EAGAIN."""
    daemon = faults.start()
    socks = []
    at = time.monotonic()
    try:
        for _ in range(100):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect(str(daemon.socket))  # BlockingIOError here: the backlog overflowed
            s.send(json.dumps({"command": "status", "deadline": time.monotonic() + 5}).encode())
            s.send(b"\n")
            socks.append(s)
        states = []
        for s in socks:
            s.setblocking(True)
            s.settimeout(5)
            states.append(json.loads(s.makefile("rb").readline())["status"]["state"])
    finally:
        for s in socks:
            s.close()
    took = time.monotonic() - at
    assert states == ["idle"] * 100
    faults.record(
        "control: 100 clients at once (100 answered)",
        told_s=None,
        ready_s=took,
        recovered=True,
        notifications=0,
    )


def test_an_expired_dictate_is_never_executed(faults: FaultLab, text_window: TextWindow) -> None:
    """A `dictate` whose client already gave up (it waited in the backlog past its
    deadline) must not type into whatever window has focus later."""
    daemon = faults.start()
    faults.service.always(Behaviour.say("too late", answer_after=0.3))
    text_window.focus()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(daemon.socket))
        request = {"command": "dictate", "deadline": time.monotonic() - 0.5}
        s.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(s.makefile("rb").readline())
    assert reply == {"ok": False, "error": "request expired before voicetype could read it"}
    time.sleep(1.0)
    assert faults.service.turns == []
    assert text_window.content() == ""
    assert "dictation #1" not in daemon.log()
    faults.prove_dictation(daemon, text_window, 1)


def _status(daemon: RunningDaemon) -> dict[str, str]:
    out = daemon.cli("status")
    assert out.returncode == 0, out.stderr
    return {
        line.split(":", 1)[0]: line.split(":", 1)[1] for line in out.stdout.splitlines() if line
    }


def test_no_key_then_key_and_reload(faults: FaultLab, text_window: TextWindow) -> None:
    """`dictate` without a key says how to set one (exit 2, not "dictation started", exit
    0); `status` gives the reason; after the key is set, `reload` answers once it is
    applied and `status` right after shows the new state, not `not configured`."""
    daemon = faults.start(service=False)
    wait_for(lambda: daemon.state() == "error", 10, "the error state", 0.02)
    no_key = daemon.cli("dictate")
    assert no_key.returncode == 2, no_key
    assert no_key.stdout == ""
    assert no_key.stderr.startswith("voicetype: Set your Azure Speech key to start dictating: ")
    assert "then run `voicetype reload`" in no_key.stderr
    status = _status(daemon)
    assert status["state"].strip() == "error"
    assert status["reason"].strip().startswith("Set your Azure Speech key to start dictating")
    lines = daemon.cli("status").stdout.splitlines()
    assert "last dictation: none yet" in lines

    service = faults.service
    daemon.config_path.write_text(
        TEST_CONFIG + f'[azure]\nkey = "{service.key}"\nhost = "{service.url}"\n', "utf-8"
    )
    os.chmod(daemon.config_path, 0o600)
    at = time.monotonic()
    reloaded = daemon.cli("reload")
    assert reloaded.returncode == 0, reloaded
    assert reloaded.stdout.strip() == f"Configuration reloaded from {daemon.config_path}"
    status = _status(daemon)
    took = time.monotonic() - at
    assert status["state"].strip() == "idle"
    assert "reason" not in status
    assert "not configured" not in daemon.cli("status").stdout
    faults.prove_dictation(daemon, text_window, 1)
    faults.record(
        "no key: dictate exit 2; key + reload", told_s=None, ready_s=took, recovered=True,
        notifications=len(faults.notifications.calls),
    )  # fmt: skip


def test_reload_of_a_broken_file_says_so_at_once(faults: FaultLab) -> None:
    daemon = faults.start()
    daemon.config_path.write_text("[typing]\nmax_chars = 0\n", "utf-8")
    reply = daemon.cli("reload")
    assert reply.returncode == 2
    assert reply.stderr.startswith(
        "voicetype: Configuration not reloaded: voicetype keeps its previous settings: "
    )
    assert "`max_chars` is 0" in reply.stderr
    assert daemon.state() == "idle"


def test_without_notifications_the_tooltip_keeps_each_message(
    faults: FaultLab, text_window: TextWindow
) -> None:
    """Old daemon: "no match" (and "window closed", "no typing backend") left the tooltip
    saying only "Idle" when no notification service could show them."""
    daemon = faults.start()
    faults.service.always(replace(Behaviour.status("InitialSilenceTimeout"), trigger="first_audio"))
    with faults.notifications.without_server():
        text_window.focus()
        at = faults.press()
        daemon.wait_for_log("dictation #1 (hotkey): no match")
        daemon.tray.wait_for_title("voicetype — Idle — Didn't catch that: no speech detected.")
        told = time.monotonic() - at
    faults.prove_dictation(daemon, text_window, 2)
    daemon.tray.wait_for_title("voicetype — Idle")  # a good dictation clears it
    faults.record(
        "no notification service: no match in tooltip",
        told_s=told,
        ready_s=None,
        recovered=True,
        notifications=0,
    )


def test_a_recognition_over_max_chars_is_not_typed(
    faults: FaultLab, text_window: TextWindow
) -> None:
    daemon = faults.start(config=TEST_CONFIG + "[typing]\nmax_chars = 40\n")
    faults.service.always(Behaviour.say("x" * 41, answer_after=0.3))
    text_window.focus()
    at = faults.press()
    # The recognizer refuses the answer before it is parsed or kept (the controller's own
    # check behind it never sees it).
    call, told = faults.one_notification(daemon, 1, "failed (text_too_long)")
    assert call.summary == "The speech service sent too much text"
    assert call.body == (
        "the service sent a text longer than 40 characters; nothing was typed. "
        "To allow longer texts, raise [typing] max_chars in config.toml; if an ordinary"
        " dictation gives this, check the speech service (`host` in config.toml)."
    )
    assert text_window.content() == ""
    faults.prove_dictation(daemon, text_window, 2, text="x" * 40)
    faults.record(
        "text over max_chars (not typed)",
        told_s=told - at,
        ready_s=None,
        recovered=True,
        notifications=1,
    )
