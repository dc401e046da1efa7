"""The daemon with fake parts (no desktop, no SDK): construction through the composition
root, startup problems, reload, every command of the table, and the tray menu's rows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness.fakes import KEY, FakeTray, Lab, clear_azure_env, config_file, settle
from harness.procs import wait_for

from voicetype import commands, control
from voicetype.app import Daemon, assemble
from voicetype.cli import _build_parser
from voicetype.compose import Relay, build
from voicetype.config import Config, load_config
from voicetype.notify import Urgency
from voicetype.state import State


@pytest.fixture(autouse=True)
def _no_azure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_azure_env(monkeypatch)


@pytest.fixture
def lab() -> Lab:
    return Lab()


def started(lab: Lab, config: Config) -> Daemon:
    daemon, _problems = assemble(config, lab.makers())
    assert daemon.start() == []
    return daemon


@pytest.fixture
def daemon(lab: Lab, tmp_path: Path) -> Iterator[Daemon]:
    """A running daemon with a key, fake parts and its controller thread."""
    d = started(lab, config_file(tmp_path, KEY))
    yield d
    d.quit()
    d.shutdown()


def status(d: Daemon) -> dict[str, object]:
    reply = d.command("status", time.monotonic() + 1)
    result = reply["status"]
    assert isinstance(result, dict)
    return result


# -- construction ------------------------------------------------------------------------


def test_build_returns_problems_as_values_and_tells_nobody(lab: Lab, tmp_path: Path) -> None:
    lab.no_typing, lab.hotkey_taken = True, True
    config = config_file(tmp_path, "")
    parts, problems = build(config, lab.makers(), Relay())
    assert parts.recognizer is None and parts.inserter is None and parts.hotkeys is None
    assert parts.hotkey_status == "Ctrl+Alt+Space is taken by another application"
    assert [p.summary for p in problems] == [
        "Set your Azure Speech key to start dictating",
        "voicetype can't type here",
        "Ctrl+Alt+Space is taken by another application",
    ]
    assert lab.notes.calls == []  # told by the daemon once the icon is up, not by build


def test_build_probes_the_microphone_at_start_only(lab: Lab, tmp_path: Path) -> None:
    from voicetype.recognition import ErrorKind, Failed

    lab.microphone = Failed(ErrorKind.MICROPHONE_UNAVAILABLE, "no device")
    config = config_file(tmp_path, KEY)
    parts, problems = build(config, lab.makers(), Relay())
    assert [p.summary for p in problems] == ["No microphone available"]
    _, again = build(config, lab.makers(), Relay(), previous=parts)
    assert again == []


def test_daemon_tells_startup_problems_once_the_icon_is_up(lab: Lab, tmp_path: Path) -> None:
    lab.no_typing = True
    daemon, problems = assemble(config_file(tmp_path, ""), lab.makers())
    tray = lab.trays[0]
    seen: list[tuple[State, str]] = []

    def script() -> None:
        settle(daemon)
        seen.append(tray.states[-1])
        assert daemon.command("quit", time.monotonic() + 1) == {"message": "voicetype is quitting"}

    tray.script = script
    assert daemon.run(problems) == 0
    assert [(s, u) for s, _b, u in lab.notes.calls] == [
        ("Set your Azure Speech key to start dictating", Urgency.CRITICAL),
        ("voicetype can't type here", Urgency.CRITICAL),
    ]
    state, detail = seen[0]
    assert state is State.ERROR  # no key: dictation cannot work at all
    assert detail == " ".join(p.as_text() for p in problems)


def test_a_hotkey_press_reaches_the_controller(lab: Lab, daemon: Daemon) -> None:
    lab.hotkeys[0].on_press()
    settle(daemon)
    assert lab.inserters[0].typed == ["hello"]
    assert status(daemon)["last dictation"] == "typed"


# -- reload ------------------------------------------------------------------------------


def test_reload_builds_only_what_changed_and_hands_it_over(lab: Lab, daemon: Daemon) -> None:
    old_recognizer, old_inserter, old_hotkeys = lab.recognizers[0], lab.inserters[0], lab.hotkeys[0]
    daemon.config_path.write_text(KEY.replace('"k"', '"k2"'), "utf-8")
    reply = daemon.command("reload", time.monotonic() + 1)
    assert reply == {
        "message": f"Configuration reloaded from {daemon.config_path}",
        "outcome": "reloaded",
    }
    assert len(lab.recognizers) == 2 and lab.recognizers[1].azure.key == "k2"
    assert daemon.controller.parts.recognizer is lab.recognizers[1]
    wait_for(lambda: old_recognizer.closed, 5, "the replaced recognizer closed (worker)")
    assert lab.inserters == [old_inserter] and not old_inserter.closed  # typing unchanged
    assert lab.hotkeys == [old_hotkeys] and not old_hotkeys.stopped
    lab.hotkeys[0].on_press()
    settle(daemon)
    assert lab.recognizers[1].calls == 1 and old_recognizer.calls == 0


def test_reload_waits_for_the_dictation_under_way(lab: Lab, daemon: Daemon) -> None:
    first = lab.recognizers[0]
    first.gate = threading.Event()
    assert daemon.command("dictate", time.monotonic() + 1)["outcome"] == "started"
    assert first.started.wait(5)
    daemon.config_path.write_text(KEY.replace('"k"', '"k2"'), "utf-8")
    reply = daemon.command("reload", time.monotonic() + 0.3)
    assert reply["outcome"] == "queued"
    assert daemon.controller.parts.recognizer is first  # not swapped under the dictation
    first.gate.set()
    settle(daemon)
    assert daemon.controller.parts.recognizer is lab.recognizers[1]
    assert lab.inserters[0].typed == ["hello"]


def test_reload_with_a_broken_file_keeps_every_part(lab: Lab, daemon: Daemon) -> None:
    daemon.config_path.write_text("[azure\n", "utf-8")
    reply = daemon.command("reload", time.monotonic() + 1)
    assert reply["ok"] is False and reply["outcome"] == "not_reloaded"
    assert str(reply["error"]).startswith(
        "Configuration not reloaded: voicetype keeps its previous settings"
    )
    settle(daemon)
    assert (
        lab.notes.calls[-1][0]
        == "Configuration not reloaded: voicetype keeps its previous settings"
    )
    assert len(lab.recognizers) == 1 and daemon.controller.parts.recognizer is lab.recognizers[0]


def test_reload_without_a_typing_backend_says_unavailable(lab: Lab, tmp_path: Path) -> None:
    """Old code: the reload stored ``type(None).__name__``: "typing: NoneType"."""
    d = started(lab, config_file(tmp_path, '[typing]\nmethod = "auto"\n'))
    try:
        assert status(d)["typing"] == "FakeInserter"
        lab.no_typing = True
        d.config_path.write_text('[typing]\nmethod = "type"\n', "utf-8")
        reply = d.command("reload", time.monotonic() + 1)
        assert reply["message"] == (
            f"Configuration reloaded from {d.config_path}: voicetype can't type here: "
            "no X display to type into\n  Fix: run it in your session"
        )
        assert status(d)["typing"] == "unavailable"
        wait_for(lambda: lab.inserters[0].closed, 5, "the replaced inserter closed (worker)")
    finally:
        d.quit()
        d.shutdown()


def test_reload_answers_when_applied_so_status_is_new_at_once(lab: Lab, tmp_path: Path) -> None:
    d = started(lab, config_file(tmp_path, ""))
    try:
        assert d.command("dictate", time.monotonic() + 1)["outcome"] == "not_configured"
        assert status(d)["state"] == "error"
        d.config_path.write_text(KEY, "utf-8")
        reply = d.command("reload", time.monotonic() + 1)
        assert reply["outcome"] == "reloaded", reply
        result = status(d)
        assert result["state"] == "idle"
        assert "reason" not in result
    finally:
        d.quit()
        d.shutdown()


def test_a_hotkey_taken_at_start_is_tried_again_at_reload(lab: Lab, tmp_path: Path) -> None:
    lab.hotkey_taken = True
    d = started(lab, config_file(tmp_path, KEY))
    try:
        assert status(d)["hotkey"] == "Ctrl+Alt+Space is taken by another application"
        lab.hotkey_taken = False
        assert d.command("reload", time.monotonic() + 1)["outcome"] == "reloaded"
        assert status(d)["hotkey"] == "Ctrl+Alt+Space"
        assert lab.hotkeys[-1].started
    finally:
        d.quit()
        d.shutdown()


# -- every command -----------------------------------------------------------------------


def test_status_in_the_error_state_gives_the_reason(lab: Lab, tmp_path: Path) -> None:
    d = started(lab, config_file(tmp_path, ""))
    try:
        reply = d.command("dictate", time.monotonic() + 1)
        assert reply["ok"] is False and reply["outcome"] == "not_configured"
        assert str(reply["error"]).startswith("Set your Azure Speech key to start dictating")
        result = status(d)
        assert result["state"] == "error"
        assert result["reason"] == reply["error"]
        assert result["last dictation"] == "none yet"  # a press without a key is no dictation
    finally:
        d.quit()
        d.shutdown()


def test_status_lists_every_line(daemon: Daemon) -> None:
    result = status(daemon)
    assert list(result) == [
        "state", "enabled", "pid", "version", "tray", "typing", "notifications", "hotkey",
        "language", "config", "log", "last dictation",
    ]  # fmt: skip
    assert result["tray"] == "fake (menu)"
    assert result["notifications"] == "Notes"
    assert result["hotkey"] == "Ctrl+Alt+Space"
    assert result["log"] == "terminal only"


def test_dictate_answers_started_then_busy(lab: Lab, daemon: Daemon) -> None:
    lab.recognizers[0].gate = gate = threading.Event()
    assert daemon.command("dictate", time.monotonic() + 1) == {
        "message": "dictation started",
        "outcome": "started",
    }
    busy = daemon.command("dictate", time.monotonic() + 1)
    assert busy == {
        "ok": False,
        "error": "a dictation is already under way; this press was ignored",
        "outcome": "busy",
    }
    gate.set()
    settle(daemon)
    assert lab.inserters[0].typed == ["hello"]


def test_toggle_twice_at_once_cancels_out(daemon: Daemon) -> None:
    """Old code read the flag and then submitted its opposite: two toggles sent before the
    controller handled the first both said "disabled", and voicetype stayed off."""
    release, both_sent = threading.Event(), threading.Barrier(3)

    def busy() -> None:
        release.wait(5)

    daemon.controller.submit_call(busy)  # the controller is busy until release
    flip = daemon.controller.flip_enabled

    def flip_and_count(answer: Callable[[bool], None] | None = None) -> None:
        flip(answer)
        both_sent.wait(5)

    daemon.controller.flip_enabled = flip_and_count  # type: ignore[method-assign]
    replies: list[dict[str, object]] = []
    threads = [
        threading.Thread(
            target=lambda: replies.append(daemon.command("toggle", time.monotonic() + 2))
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    both_sent.wait(5)  # both toggles are queued behind the busy controller
    release.set()
    for t in threads:
        t.join(5)
    assert sorted(str(r["message"]) for r in replies) == ["disabled", "enabled"]
    assert status(daemon)["enabled"] is True
    assert status(daemon)["state"] == "idle"


def test_dictate_when_disabled_says_so(daemon: Daemon) -> None:
    assert daemon.command("toggle", time.monotonic() + 1) == {
        "message": "disabled",
        "enabled": False,
    }
    reply = daemon.command("dictate", time.monotonic() + 1)
    assert reply["outcome"] == "disabled"
    assert status(daemon)["state"] == "disabled"


def test_quit_stops_the_tray_and_the_controller(lab: Lab, daemon: Daemon) -> None:
    assert daemon.command("quit", time.monotonic() + 1) == {"message": "voicetype is quitting"}
    assert lab.trays[0].stopped.is_set()
    daemon.shutdown()
    assert lab.recognizers[0].closed and lab.inserters[0].closed
    assert lab.hotkeys[0].stopped


# -- the tray menu runs the same commands ------------------------------------------------


def test_menu_rows_run_the_table_commands(lab: Lab, daemon: Daemon) -> None:
    actions = lab.trays[0].actions
    actions.dictate()
    settle(daemon)
    assert lab.inserters[0].typed == ["hello"]
    assert actions.has_kept_text() is False
    actions.set_enabled(False)
    actions.set_enabled(True)  # two clicks before the controller answers: they cancel out
    settle(daemon)
    assert actions.is_enabled() is True
    actions.set_autostart(True)
    settle(daemon)
    assert lab.autostart.enabled and actions.is_autostart()
    assert lab.trays[0].refreshed >= 1
    actions.type_last()
    settle(daemon)
    assert lab.notes.calls[-1][0] == "Nothing to type"


def test_open_configuration_writes_a_starter_file_and_opens_it(lab: Lab, tmp_path: Path) -> None:
    config = load_config(tmp_path / "missing" / "config.toml", {})
    d = started(lab, config)
    try:
        lab.trays[0].actions.open_config()
        settle(d)
        assert lab.opened == [config.path]
        assert config.path.is_file() and config.path.stat().st_mode & 0o077 == 0
        lab.open_fails, lab.notes.delivered = True, False
        lab.trays[0].actions.open_config()
        settle(d)
        settle(d)  # the failure is told through the controller's queue
        assert lab.notes.calls[-1][:2] == (
            f"Could not open {config.path}",
            "open it in a text editor",
        )
        assert lab.trays[0].states[-1][1] == (
            f"Could not open {config.path}: open it in a text editor"
        )  # no notification service: the tooltip says it (old code: nowhere but the log)
    finally:
        d.quit()
        d.shutdown()


def test_one_table_for_the_socket_the_cli_and_the_menu() -> None:
    socket = {c.name for c in commands.COMMANDS if commands.SOCKET in c.offered}
    assert set(control.COMMANDS) == socket == {
        "dictate", "start", "stop", "cancel", "status", "toggle", "quit", "reload", "history",
        "language", "retype",
    }  # fmt: skip
    sub = next(a for a in _build_parser()._actions if a.dest == "command")
    cli = {c.name for c in commands.COMMANDS if commands.CLI in c.offered}
    assert set(sub.choices) == cli  # type: ignore[arg-type]
    for command in commands.COMMANDS:
        assert command.needs_daemon == (commands.SOCKET in command.offered)
        if commands.SOCKET in command.offered or commands.MENU in command.offered:
            assert command.handler is not None, command.name
    assert FakeTray.has_menu
