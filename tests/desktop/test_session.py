"""Living in the session: autostart entries launched for real, one instance, control
commands from the shell, and ``voicetype doctor``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness.daemon import RunningDaemon, run_voicetype, wait_for_control, wait_until_ready
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import Proc, wait_for
from harness.textwin import TextWindow

from voicetype.doctor import mask_key

pytestmark = pytest.mark.desktop


def test_autostart_entry_is_valid_and_starts_the_daemon(
    daemon_factory: Callable[..., RunningDaemon], tmp_path: Path
) -> None:
    daemon = daemon_factory(wait_ready=False)  # only for its environment: stop it at once
    wait_until_ready(daemon)
    assert daemon.quit() == 0
    env = daemon.env
    enabled = run_voicetype(env, "autostart", "enable")
    assert enabled.returncode == 0, enabled.stderr
    entry = Path(env["XDG_CONFIG_HOME"]) / "autostart" / "voicetype.desktop"
    assert f"start at login: enabled ({entry})" in enabled.stdout
    validate = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert validate.returncode == 0 and validate.stdout == "", validate.stdout
    assert run_voicetype(env, "autostart", "status").stdout.startswith("start at login: enabled")

    # launch it the way a session does
    dex = subprocess.run(
        ["dex", "-a", "-s", str(entry.parent)],
        env=env,
        timeout=20,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # the daemon inherits these: no pipes to wait on
        stderr=subprocess.DEVNULL,
    )
    assert dex.returncode == 0
    launched = RunningDaemon(Proc(["true"]), env, daemon.config_path, daemon.tray)
    try:
        wait_for_control(launched, child=False)
        status = launched.command("status")["status"]
        assert status["state"] == "idle"
        assert status["config"] == str(daemon.config_path)
        launched.icon()
    finally:
        wait_for_control(launched, child=False)  # never leave it running for later tests
        launched.command("quit")
        wait_for(lambda: not launched.socket.exists(), 15, "the autostarted daemon to quit")

    disabled = run_voicetype(env, "autostart", "disable")
    assert disabled.returncode == 0
    assert not entry.exists()
    assert run_voicetype(env, "autostart", "status").stdout.startswith("start at login: disabled")


def test_two_concurrent_starts_give_one_daemon(
    daemon_factory: Callable[..., RunningDaemon], tmp_path: Path
) -> None:
    first = daemon_factory(wait_ready=False)
    second = Proc(
        [sys.executable, "-m", "voicetype", "run"], env=first.env, log=tmp_path / "second.out"
    )
    try:
        wait_for(lambda: not first.proc.alive() or not second.alive(), 30, "one start to give up")
        loser, winner = (first.proc, second) if not first.proc.alive() else (second, first.proc)
        assert loser.popen.wait(5) == 0
        assert "voicetype is already running" in loser.output()
        assert winner.alive()
        survivor = RunningDaemon(winner, first.env, first.config_path, first.tray)
        wait_until_ready(survivor)
        docked = [i for i in first.tray.icons() if i.name.startswith("voicetype")]
        assert len(docked) == 1
        assert survivor.quit() == 0
    finally:
        first.stopped = True
        second.stop()
        first.proc.stop()


def test_start_after_kill_9_works(daemon_factory: Callable[..., RunningDaemon]) -> None:
    first = daemon_factory()
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.popen.wait(10)
    first.stopped = True
    wait_for(
        lambda: not [i for i in first.tray.icons() if i.name.startswith("voicetype")],
        10,
        "the killed daemon's icon to go",
    )
    second = daemon_factory(config=first.config_path.read_text())
    assert second.state() == "idle"


def test_control_commands_from_the_shell(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    text_window: TextWindow,
) -> None:
    daemon = daemon_factory()
    speech_service.always(
        Behaviour.say("typed by a shortcut", answer_after=0.6, progress_every=0.3)
    )
    status = daemon.cli("status")
    assert status.returncode == 0
    assert "state:" in status.stdout and "idle" in status.stdout
    assert f"config:        {daemon.config_path}" in status.stdout
    assert "tray:          appindicator (menu)" in status.stdout
    assert "typing:" in status.stdout and "notifications:" in status.stdout

    text_window.focus()
    dictate = daemon.cli("dictate")
    assert (dictate.returncode, dictate.stdout.strip()) == (0, "dictation started")
    assert text_window.wait_for_text("typed by a shortcut", timeout=20) == "typed by a shortcut"

    off = daemon.cli("toggle")
    assert off.stdout.strip() == "disabled"
    refused = daemon.cli("dictate")
    assert refused.returncode == 1
    assert "voicetype is turned off" in refused.stderr
    assert daemon.cli("toggle").stdout.strip() == "enabled"

    assert daemon.cli("quit").stdout.strip() == "voicetype is quitting"
    assert daemon.proc.popen.wait(15) == 0
    daemon.stopped = True
    gone = daemon.cli("status")
    assert gone.returncode == 1
    assert "voicetype is not running" in gone.stderr


def test_socket_is_private(daemon_factory: Callable[..., RunningDaemon]) -> None:
    daemon = daemon_factory()
    assert daemon.socket.stat().st_mode & 0o777 == 0o600
    assert daemon.socket.parent.stat().st_mode & 0o777 == 0o700


def _doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_voicetype(env, "doctor", timeout=60)


@pytest.fixture
def doctor_env(
    user_env: dict[str, str],
    x_display: str,
    notifications: Any,
    pulse_audio: Any,
    speech_service: FakeSpeechService,
) -> dict[str, str]:
    """A good setup: desktop, bus with notifications, microphone, a service that answers."""
    speech_service.always(Behaviour.status("InitialSilenceTimeout"))
    return {
        **user_env,
        "DISPLAY": x_display,
        **notifications.env,
        **pulse_audio.env,
        **speech_service.env(),
    }


def test_doctor_good_setup(
    doctor_env: dict[str, str], x_display: str, speech_service: FakeSpeechService
) -> None:
    env = doctor_env
    out = _doctor(env)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    masked = mask_key(speech_service.key)
    assert lines[1] == (
        f"✓ Azure key and region: key {masked} (from environment), host {speech_service.url}, en-US"
    )
    assert speech_service.key not in out.stdout + out.stderr
    assert f"✓ speech service: {speech_service.url} answered and accepted the key" in lines
    assert "✓ microphone: the default microphone opens" in lines
    assert f"✓ desktop session: X11 on {x_display}" in lines
    assert "✓ tray icon: tray backend appindicator, with menu" in lines
    assert any(ln.startswith("✓ notifications: ") for ln in lines)
    assert lines[-1] == "All checks passed."


@pytest.mark.parametrize("fault", ["missing key", "unreachable", "no microphone", "wayland"])
def test_doctor_reports_each_problem_with_its_fix(
    fault: str, doctor_env: dict[str, str], speech_service: FakeSpeechService
) -> None:
    env = doctor_env
    expected: tuple[str, str]
    if fault == "missing key":
        del env["AZURE_AI_SPEECH_KEY"]
        expected = (
            "✗ Azure key and region: No Azure Speech key is configured",
            "AZURE_AI_SPEECH_KEY",
        )
    elif fault == "unreachable":
        from harness.procs import free_port

        env["AZURE_AI_SPEECH_HOST"] = f"ws://127.0.0.1:{free_port()}"
        expected = ("✗ speech service: ws://127.0.0.1:", "Check the network connection")
    elif fault == "no microphone":
        env["PULSE_SERVER"] = "unix:/nonexistent/native"
        expected = ("✗ microphone: No microphone available", "default input")
    else:
        env["WAYLAND_DISPLAY"] = "wayland-0"
        expected = ("✗ desktop session: Wayland", "run voicetype inside the Wayland session")
    out = _doctor(env)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    index = next(i for i, ln in enumerate(lines) if ln.startswith(expected[0]))
    assert lines[index + 1].startswith("    fix: ") and expected[1] in lines[index + 1]
    assert speech_service.key not in out.stdout + out.stderr
    assert lines[-1].endswith("checks failed.")
