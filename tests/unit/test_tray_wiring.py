"""The tray's submenus and live level wired to the daemon (fake parts, no desktop):
Recent types through the controller, Microphone switches the input for the next
dictation without touching the configuration file, the level reads the listener."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.fakes import KEY, Lab, clear_azure_env, config_file, settle
from harness.procs import wait_for

from voicetype.app import Daemon, assemble
from voicetype.audio.devices import InputDevice
from voicetype.text.model import Outcome
from voicetype.tray import Level, Microphones

DEVICES = [InputDevice("vt_mic", "vt_mic", True), InputDevice("vt_second", "Second Mic")]


@pytest.fixture(autouse=True)
def _no_azure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_azure_env(monkeypatch)


class FakeListener:
    """Stands for ``MicListener``: which input it opens, and its level reading."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.reading: tuple[float, float, str | None] | None = None

    def level(self) -> tuple[float, float, str | None] | None:
        return self.reading

    def start(self, on_event: Any) -> Any:
        raise AssertionError("no dictation in these tests")

    def close(self) -> None:
        pass


def fake_listener(d: Daemon) -> FakeListener:
    listener = d.controller.parts.listener
    assert isinstance(listener, FakeListener)
    return listener


def device(d: Daemon) -> str:
    """The input the next dictation opens."""
    return fake_listener(d).device


@pytest.fixture
def lab() -> Lab:
    lab = Lab()
    lab.input_devices = list(DEVICES)
    return lab


@pytest.fixture
def daemon(lab: Lab, tmp_path: Path) -> Iterator[Daemon]:
    makers = dataclasses.replace(
        lab.makers(), listener=lambda c, _language: FakeListener(c.audio.device)
    )
    d, _problems = assemble(config_file(tmp_path, KEY), makers)
    assert d.start() == []
    yield d
    d.quit()
    d.shutdown()


def test_choosing_a_microphone_applies_to_the_next_dictation_and_survives_a_reload(
    lab: Lab, daemon: Daemon
) -> None:
    actions = lab.trays[0].actions
    file_text = daemon.config_path.read_text()
    wait_for(lambda: actions.microphones().inputs is not None, 5, "the microphones listed")
    assert actions.microphones() == Microphones(
        (("vt_mic", "vt_mic"), ("vt_second", "Second Mic")), ""
    )
    refreshed = lab.trays[0].refreshed
    actions.choose_microphone("vt_second")
    wait_for(lambda: device(daemon) == "vt_second", 5, "switched")
    wait_for(lambda: lab.trays[0].refreshed > refreshed, 5, "the menu refreshed")
    assert actions.microphones().chosen == "vt_second"
    assert daemon.config_path.read_text() == file_text  # for this run only: file untouched
    assert daemon.command("reload", time.monotonic() + 2)["outcome"] == "reloaded"
    assert device(daemon) == "vt_second"  # the choice stays
    actions.choose_microphone("")
    wait_for(lambda: device(daemon) == "", 5, "the default again")
    actions.choose_microphone("vt_second")
    wait_for(lambda: device(daemon) == "vt_second", 5, "switched")
    daemon.config_path.write_text(KEY + '[audio]\ndevice = "vt_mic"\n')
    assert daemon.command("reload", time.monotonic() + 2)["outcome"] == "reloaded"
    assert device(daemon) == "vt_mic"  # the file changed: it wins
    assert actions.microphones().chosen == "vt_mic"


def test_the_level_names_the_microphone_the_user_knows(lab: Lab, daemon: Daemon) -> None:
    actions = lab.trays[0].actions
    wait_for(lambda: actions.microphones().inputs is not None, 5, "the microphones listed")
    listener = fake_listener(daemon)
    assert actions.level() is None  # no microphone open
    listener.reading = (0.0, 3.5, "vt_second")
    assert actions.level() == Level(0.0, 3.5, "Second Mic")
    listener.reading = (0.2, 0.0, None)  # the default input
    assert actions.level() == Level(0.2, 0.0, "vt_mic")


def test_recent_lists_the_history_and_a_click_types_through_the_controller(
    lab: Lab, tmp_path: Path
) -> None:
    d, _problems = assemble(config_file(tmp_path, KEY), lab.makers())
    assert d.start() == []
    try:
        actions = lab.trays[0].actions
        assert actions.recent() == ()
        lab.hotkeys[0].on_press()
        settle(d)
        typed = list(lab.inserters[0].typed)
        assert typed and actions.recent() == tuple(reversed(typed))
        actions.type_text("an earlier dictation")  # the tray loop only enqueues
        settle(d)
        assert lab.inserters[0].typed[len(typed) :] == ["an earlier dictation"]
        assert actions.languages() == (("en-US",), "en-US")  # one language: no submenu
        # what the text stage puts in the history: never a password field's text
        history = d.controller.parts.text.history  # type: ignore[union-attr]
        history.add_outcome(Outcome("hunter2", private=True), time.time())
        history.add_outcome(Outcome("scratch", scratch=True), time.time())
        history.add_outcome(Outcome("Visible."), time.time())
        assert actions.recent()[0] == "Visible." and "hunter2" not in actions.recent()
    finally:
        d.quit()
        d.shutdown()


def test_the_listener_reads_the_level_of_the_open_microphone_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from voicetype.listening import MicListener

    class FakeCapture:
        level = 0.25
        closed = False

        def silent_for(self) -> float:
            return 1.5

        def attach(self, sink: Any) -> None:
            pass

        def close(self) -> None:
            self.closed = True

    capture = FakeCapture()
    monkeypatch.setattr(
        "voicetype.audio.capture.open_microphone",
        lambda source, on_stopped, on_lost: (capture, ""),
    )
    feeds: list[Any] = []

    class Recognizer:
        def start(self, feed: Any, on_event: Any) -> Any:
            feeds.append(feed)
            return object()

    listener = MicListener(Recognizer(), "")  # type: ignore[arg-type]
    assert listener.level() is None  # nothing opened yet
    listener.start(lambda event: None)
    assert listener.level() == (0.25, 1.5, None)
    feeds[0].close()  # the session closes its feed: the microphone is closed
    assert capture.closed and listener.level() is None
