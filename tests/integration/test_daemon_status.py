"""The daemon's ``status`` and ``reload`` answers, with fake collaborators (no desktop)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicetype.app import Daemon
from voicetype.config import load_config
from voicetype.controller import Controller, ControllerSettings
from voicetype.notify import Urgency


class Notes:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def notify(self, summary: str, body: str, urgency: Urgency = Urgency.NORMAL) -> bool:
        self.calls.append((summary, body))
        return True

    def close(self) -> None:
        pass


class UI:
    def show(self, state: object, detail: str = "") -> None:
        pass


@pytest.fixture
def daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    """A Daemon with a running controller and no typing backend (no DISPLAY)."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    for name in ("AZURE_AI_SPEECH_KEY", "AZURE_AI_SPEECH_REGION", "AZURE_AI_SPEECH_HOST"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config.toml"
    path.write_text('[typing]\nmethod = "auto"\n', "utf-8")
    d = Daemon(load_config(path, {}))
    d.notifier = Notes()
    d.controller = Controller(
        recognizer=None,
        inserter=None,
        notifier=d.notifier,
        ui=UI(),
        settings=ControllerSettings(start_sound=False),
        not_configured=d._not_configured_message(),
    )
    d.backends = {"typing": "unavailable"}
    worker = threading.Thread(target=d.controller.run, daemon=True)
    worker.start()
    yield d
    d.controller.request_quit()
    worker.join(5)
    if d.controller.recognizer is not None:
        d.controller.recognizer.close()


def status(d: Daemon) -> dict[str, object]:
    reply = d._control_command("status", time.monotonic() + 1)
    result = reply["status"]
    assert isinstance(result, dict)
    return result


def test_reload_without_a_typing_backend_says_unavailable(daemon: Daemon) -> None:
    """Old code: the reload stored ``type(None).__name__``: "typing: NoneType"."""
    daemon.config.path.write_text('[typing]\nmethod = "type"\n', "utf-8")
    reply = daemon._control_command("reload", time.monotonic() + 1)
    # (no DISPLAY here: the hotkey, retried at every reload while it is missing, says so too)
    assert str(reply["message"]).startswith(
        f"Configuration reloaded from {daemon.config.path}: "
        + (
            "voicetype can't type here: no X display to type into (DISPLAY is not set)"
            "\n  Fix: run voicetype inside your desktop session, or set DISPLAY (e.g. DISPLAY=:0)"
        )
    )
    assert status(daemon)["typing"] == "unavailable"


def test_status_in_the_error_state_gives_the_reason(daemon: Daemon) -> None:
    reply = daemon._control_command("dictate", time.monotonic() + 1)
    assert reply["ok"] is False and reply["outcome"] == "not_configured"
    assert str(reply["error"]).startswith("Set your Azure Speech key to start dictating")
    result = status(daemon)
    assert result["state"] == "error"
    assert result["reason"] == reply["error"]
    assert result["last dictation"] == "none yet"  # a press without a key is no dictation


def test_reload_answers_when_applied_so_status_is_new_at_once(daemon: Daemon) -> None:
    daemon.config.path.write_text('[azure]\nkey = "k"\nregion = "westeurope"\n', "utf-8")
    daemon.config.path.chmod(0o600)
    reply = daemon._control_command("reload", time.monotonic() + 1)
    assert reply["outcome"] == "reloaded", reply
    result = status(daemon)
    assert result["state"] == "idle"
    assert "reason" not in result
