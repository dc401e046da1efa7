"""Running the real daemon (``python -m voicetype run``) against the headless desktop.

Fixture ``daemon_factory`` (function): ``start(config="", env=None, service=True) ->
RunningDaemon``. The daemon gets the test's private HOME/XDG dirs (``user_env``), the
session's X display, D-Bus bus with the recording notification server, PulseAudio
virtual microphone, and (``service=True``) the test's fake speech service through
``AZURE_AI_SPEECH_HOST``/``_KEY``. It is stopped at teardown (``voicetype quit``, then
signals) and must exit 0 there unless the test already stopped it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.fake_speech import FakeSpeechService
from harness.procs import Proc, wait_for
from harness.tray import DockedIcon, TrayHost

#: ``join_seconds = 0``: tests of other features clear their window between dictations
#: without a key (``TextWindow.clear``), which voicetype's memory cannot see; joining by
#: memory would add a space. Joining is tested in ``tests/desktop/test_text_e2e.py``.
TEST_CONFIG = """
[feedback]
start_sound = false
stop_sound = false

[text]
join_seconds = 0
"""


@dataclass
class RunningDaemon:
    proc: Proc
    env: dict[str, str]
    config_path: Path
    tray: TrayHost
    stopped: bool = field(default=False)

    @property
    def socket(self) -> Path:
        return Path(self.env["XDG_RUNTIME_DIR"]) / "voicetype" / "control.sock"

    @property
    def log_path(self) -> Path:
        return Path(self.env["XDG_STATE_HOME"]) / "voicetype" / "log" / "voicetype.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def output(self) -> str:
        """What the daemon wrote to stdout/stderr."""
        return self.proc.output()

    def command(self, name: str) -> dict[str, Any]:
        from voicetype.control import send_command

        return send_command(name, self.socket)

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run ``voicetype ARGS`` as the user would, in the daemon's environment."""
        return run_voicetype(self.env, *args, timeout=timeout)

    def state(self) -> str:
        return str(self.command("status")["status"]["state"])

    def wait_for_log(self, needle: str, timeout: float = 10.0) -> str:
        def find() -> str | None:
            return next((ln for ln in self.log().splitlines() if needle in ln), None)

        try:
            line = wait_for(find, timeout, f"the daemon's log to say {needle!r}", 0.02)
        except TimeoutError as e:
            raise TimeoutError(
                f"{e}\n--- log:\n{self.log()}\n--- output:\n{self.output()}"
            ) from None
        assert line is not None
        return line

    def count_log(self, needle: str) -> int:
        return sum(needle in ln for ln in self.log().splitlines())

    def icon(self) -> DockedIcon:
        return self.tray.wait_for_icon("voicetype")

    def quit(self, timeout: float = 15.0) -> int:
        """Quit through the control socket; return the exit status."""
        if self.proc.alive():
            self.command("quit")
        code = self.proc.popen.wait(timeout)
        self.stopped = True
        return code


@pytest.fixture
def daemon_factory(
    user_env: dict[str, str],
    x_display: str,
    notifications: Any,
    pulse_audio: Any,
    speech_service: FakeSpeechService,
    tray_host: TrayHost,
    tmp_path: Path,
) -> Iterator[Callable[..., RunningDaemon]]:
    started: list[RunningDaemon] = []

    def start(
        config: str = TEST_CONFIG,
        env: dict[str, str] | None = None,
        service: bool = True,
        wait_ready: bool = True,
    ) -> RunningDaemon:
        full = {
            **user_env,
            "DISPLAY": x_display,
            **notifications.env,
            **pulse_audio.env,
            **(speech_service.env() if service else {}),
            **(env or {}),
        }
        config_path = Path(full["XDG_CONFIG_HOME"]) / "voicetype" / "config.toml"
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(config, encoding="utf-8")
        proc = Proc(
            [sys.executable, "-m", "voicetype", "run", "--verbose"],
            env=full,
            log=tmp_path / f"daemon-{len(started)}.out",
        )
        daemon = RunningDaemon(proc, full, config_path, tray_host)
        started.append(daemon)
        if wait_ready:
            wait_until_ready(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.stopped or not daemon.proc.alive():
            continue
        try:
            code = daemon.quit()
        except Exception:
            daemon.proc.stop()
            raise
        assert code == 0, f"daemon exited {code}:\n{daemon.output()}"


def run_voicetype(
    env: dict[str, str], *args: str, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``voicetype ARGS`` in a subprocess with ``env``, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "voicetype", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for_control(daemon: RunningDaemon, timeout: float = 20.0, child: bool = True) -> None:
    """Until the daemon answers ``status`` on its control socket; fails at once if it
    exited (``child``: ``daemon.proc`` is the daemon itself, not e.g. a launcher)."""
    from voicetype.control import ControlUnavailable

    def ready() -> bool:
        if child and not daemon.proc.alive():
            raise AssertionError(f"the daemon exited early:\n{daemon.output()}")
        try:
            return bool(daemon.command("status")["ok"])
        except ControlUnavailable:
            return False

    try:
        wait_for(ready, timeout, "the daemon's control socket", 0.05)
    except TimeoutError as e:
        raise TimeoutError(f"{e}\n{daemon.output()}") from None


def wait_until_ready(daemon: RunningDaemon, timeout: float = 20.0) -> None:
    """Until the control socket answers and the tray icon is docked."""
    wait_for_control(daemon, timeout)
    daemon.icon()


def dump_status(daemon: RunningDaemon) -> str:
    return json.dumps(daemon.command("status"), indent=1)
