"""``voicetype language [CODE]`` through the real control socket and the CLI, into a daemon
with fake parts (no desktop, no SDK): what it prints, what it refuses, what the next
dictation's recognizer is told, what ``status`` and the tooltip say."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.fakes import Lab

from voicetype import cli
from voicetype.app import Daemon, assemble
from voicetype.config import load_config
from voicetype.control import ControlServer, send_command, socket_path

TWO = '[azure]\nkey = "k"\nregion = "westeurope"\nlanguage = ["en-US", "de-DE"]\n'


@pytest.fixture
def running(
    tmp_path: Path, user_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Daemon, Lab, Path]]:
    for name in ("AZURE_AI_SPEECH_KEY", "AZURE_AI_SPEECH_REGION", "AZURE_AI_SPEECH_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", user_env["XDG_RUNTIME_DIR"])
    path = tmp_path / "config.toml"
    path.write_text(TWO, "utf-8")
    path.chmod(0o600)
    lab = Lab()
    daemon, _ = assemble(load_config(path, {}), lab.makers())
    assert daemon.start() == []
    server = ControlServer(
        lambda command, deadline, argument: daemon.command(command, deadline, argument=argument),
        socket_path(),
    )
    server.start()
    try:
        yield daemon, lab, server.path
    finally:
        server.stop()
        daemon.quit()
        daemon.shutdown()


def settle(daemon: Daemon) -> None:
    done = threading.Event()
    daemon.controller.submit_call(done.set)
    assert done.wait(5)


def test_language_lists_then_switches_without_a_restart(
    running: tuple[Daemon, Lab, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    daemon, lab, sock = running
    assert send_command("language", sock) == {
        "ok": True,
        "languages": ["auto", "en-US", "de-DE"],
        "current": "auto",
    }
    assert cli.main(["language"]) == 0
    assert capsys.readouterr().out == "* auto\n  en-US\n  de-DE\n"

    assert cli.main(["language", "de-de"]) == 0
    assert capsys.readouterr().out == "the next dictation uses de-DE\n"
    switch = daemon._parts.language
    assert switch is not None and switch.candidates() == ("de-DE",)  # what the next
    # session offers the service (tests/integration/test_session_request.py: sent alone)
    status = send_command("status", sock)["status"]
    assert status["language"] == "de-DE (chosen; automatic: `voicetype language auto`)"
    settle(daemon)
    state, detail = lab.trays[-1].states[-1]
    assert state.value == "idle"
    assert detail == "Language: de-DE (chosen; automatic: `voicetype language auto`)"
    assert daemon.languages() == (("auto", "en-US", "de-DE"), "de-DE")  # the tray's view

    daemon.choose_language("auto")  # the tray's call
    assert send_command("language", sock)["current"] == "auto"


def test_a_language_not_configured_is_refused_in_plain_words(
    running: tuple[Daemon, Lab, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    daemon, _lab, sock = running
    reply = send_command("language", sock, argument="fr-FR")
    assert reply["ok"] is False
    assert reply["error"] == (
        "fr-FR is not one of the configured languages (en-US, de-DE). Fix: choose one of "
        "en-US, de-DE or auto, or add it to `language` under [azure] in config.toml and "
        "run `voicetype reload`"
    )
    assert cli.main(["language", "fr-FR"]) == 1
    assert capsys.readouterr().err.startswith(
        "voicetype: fr-FR is not one of the configured languages"
    )
    assert daemon.languages()[1] == "auto"  # unchanged


def test_an_oversized_argument_is_refused(running: tuple[Daemon, Lab, Path]) -> None:
    _daemon, _lab, sock = running
    reply = send_command("language", sock, argument="x" * 65)
    assert reply == {"ok": False, "error": "malformed request (argument)"}


def test_a_reload_keeps_the_choice(running: tuple[Daemon, Lab, Path]) -> None:
    daemon, _lab, sock = running
    daemon.choose_language("de-DE")
    assert send_command("reload", sock, timeout=5)["ok"]
    assert send_command("language", sock)["current"] == "de-DE"
