"""Fault injection around the real daemon: start it, break something, check what the user
sees, prove it still dictates, and make sure the key leaked nowhere.

Fixture ``faults`` (function): a ``FaultLab`` wrapping ``daemon_factory``. At teardown it
greps every artefact of the test for every secret it knows (the fake service's key plus
any ``lab.secrets.add(...)``): each daemon's log files and stdout/stderr, every file under
the test's HOME and runtime dir except the ones meant to hold the key (the config file,
the keyring file), every recorded ``Notify`` call's summary and body, and any text a test
handed to ``lab.artefact(...)`` (doctor output, CLI output). A hit fails the test.

Each test reports its figures with ``lab.record(fault, told_s=…, ready_s=…)``; the
figures are printed at the end of the run and written to
``test-artifacts/faults-report.txt``.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.daemon import RunningDaemon
from harness.dbus_notify import NotificationBus, NotifyCall
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import wait_for
from harness.textwin import TextWindow

HOTKEY = "ctrl+alt+space"
#: Files that legitimately hold the key (by name); every other artefact must not.
KEY_HOLDERS = ("config.toml", "keyring_pass.cfg", "crypted_pass.cfg")
REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "faults-report.txt"


@dataclass
class FaultFigure:
    fault: str
    told_s: float | None  # press -> the notification (or log line) telling the user
    ready_s: float | None  # press -> the daemon logged the outcome and takes presses again
    recovered: bool  # a following dictation typed its text
    notifications: int  # Notify calls checked in the test


FIGURES: list[FaultFigure] = []
LEAK_CHECKS: list[int] = []  # artefacts grepped per test


def press(x_display: str, keys: str = HOTKEY) -> float:
    """Press ``keys`` through XTEST (as a keyboard would); return the monotonic time."""
    at = time.monotonic()
    subprocess.run(
        ["xdotool", "key", "--clearmodifiers", keys],
        env={**os.environ, "DISPLAY": x_display},
        check=True,
        timeout=10,
    )
    return at


@dataclass
class FaultLab:
    factory: Callable[..., RunningDaemon]
    service: FakeSpeechService
    notifications: NotificationBus
    x_display: str
    user_env: dict[str, str]
    secrets: set[str] = field(default_factory=set)
    daemons: list[RunningDaemon] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    extra_dirs: list[Path] = field(default_factory=list)

    def start(self, **kwargs: Any) -> RunningDaemon:
        daemon = self.factory(**kwargs)
        self.daemons.append(daemon)
        return daemon

    def adopt(self, daemon: RunningDaemon) -> RunningDaemon:
        """Grep a daemon the test started by other means, too."""
        self.daemons.append(daemon)
        return daemon

    def artefact(self, name: str, text: str) -> str:
        self.texts.append((name, text))
        return text

    def press(self, keys: str = HOTKEY) -> float:
        return press(self.x_display, keys)

    # -- assertions -----------------------------------------------------------------

    def one_notification(
        self, daemon: RunningDaemon, number: int, outcome: str, timeout: float = 20.0
    ) -> tuple[NotifyCall, float]:
        """Wait for dictation ``number``'s log line (``outcome`` in it), then require exactly
        one Notify call since the last ``clear()``; return it and when it arrived."""
        calls = self.notifications.wait_for(1, timeout)
        told = time.monotonic()
        line = daemon.wait_for_log(f"dictation #{number} ", timeout)
        assert outcome in line, line
        calls = self.notifications.calls
        assert len(calls) == 1, f"expected one notification, got {calls!r}"
        return calls[0], told

    def prove_dictation(
        self,
        daemon: RunningDaemon,
        window: TextWindow,
        number: int,
        text: str = "",
        service: FakeSpeechService | None = None,
    ) -> float:
        """The next dictation (``number``) types ``text``; returns the seconds it took."""
        text = text or f"dictation {number} works"
        (service or self.service).always(Behaviour.say(text, answer_after=0.3, progress_every=0.2))
        window.clear()
        window.focus()
        self.notifications.clear()
        at = self.press()
        window.wait_for_text(text, timeout=20)
        daemon.wait_for_log(f"dictation #{number} (hotkey): typed", 10)
        assert self.notifications.calls == []
        return time.monotonic() - at

    def ready(self, daemon: RunningDaemon) -> str:
        """The state once it is neither listening, recognizing nor typing (bounded)."""
        state = wait_for(
            lambda: (s := daemon.state()) not in ("listening", "recognizing", "typing") and s,
            15,
            "the daemon to finish the dictation",
            0.05,
        )
        return str(state)

    def record(
        self,
        fault: str,
        *,
        told_s: float | None,
        ready_s: float | None,
        recovered: bool,
        notifications: int,
    ) -> None:
        FIGURES.append(FaultFigure(fault, told_s, ready_s, recovered, notifications))

    # -- the leak check ---------------------------------------------------------------

    def leak_check(self) -> int:
        """Assert no secret appears in any artefact; return how many were grepped."""
        secrets = {s for s in self.secrets if s}
        artefacts: list[tuple[str, str]] = list(self.texts)
        for call in self.notifications.calls:
            artefacts.append((f"notification {call.summary!r}", f"{call.summary}\n{call.body}"))
        for daemon in self.daemons:
            artefacts.append((f"daemon {daemon.proc.pid} output", daemon.output()))
        roots = {
            Path(self.user_env["HOME"]),
            Path(self.user_env["XDG_RUNTIME_DIR"]),
            *self.extra_dirs,
        }
        for daemon in self.daemons:
            roots.add(Path(daemon.env["HOME"]))
            roots.add(Path(daemon.env["XDG_STATE_HOME"]))
        for root in roots:
            for path in root.rglob("*"):
                if path.name in KEY_HOLDERS or not path.is_file():
                    continue
                try:
                    artefacts.append((str(path), path.read_bytes().decode("utf-8", "replace")))
                except OSError:
                    continue
        for name, text in artefacts:
            for secret in secrets:
                assert secret not in text, f"the key leaked into {name}"
        return len(artefacts)


@pytest.fixture
def faults(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    notifications: NotificationBus,
    x_display: str,
    user_env: dict[str, str],
) -> Iterator[FaultLab]:
    lab = FaultLab(daemon_factory, speech_service, notifications, x_display, user_env)
    lab.secrets.add(speech_service.key)
    yield lab
    LEAK_CHECKS.append(lab.leak_check())


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def report_lines() -> list[str]:
    if not FIGURES and not LEAK_CHECKS:
        return []
    lines = [
        f"{'fault':<44} {'told (s)':>9} {'ready (s)':>9} {'recovered':>9} {'notes':>5}",
    ]
    for f in FIGURES:
        lines.append(
            f"{f.fault:<44} {_fmt(f.told_s):>9} {_fmt(f.ready_s):>9} "
            f"{'yes' if f.recovered else 'no':>9} {f.notifications:>5}"
        )
    survived = sum(f.recovered for f in FIGURES)
    lines.append(
        f"faults: {len(FIGURES)} tried, {survived} recovered; "
        f"notifications checked: {sum(f.notifications for f in FIGURES)}; "
        f"leak check: {len(LEAK_CHECKS)} tests, {sum(LEAK_CHECKS)} artefacts grepped, 0 hits"
    )
    return lines


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = report_lines()
    extra = RESOURCE_CURVE
    if not lines and not extra:
        return
    terminalreporter.section("fault injection figures")
    for line in [*lines, *extra]:
        terminalreporter.write_line(line)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")


RESOURCE_CURVE: list[str] = []  # filled by the 200-dictation test
