"""The dictation state machine with fake collaborators: no desktop, no SDK."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from voicetype.controller import KEPT_HINT, Controller, ControllerSettings, State
from voicetype.insertion import InsertionError, TargetGone
from voicetype.notify import Urgency
from voicetype.recognition import (
    AudioInput,
    ErrorKind,
    Failed,
    NoMatch,
    NoMatchReason,
    RecognitionResult,
    Recognized,
)


class FakeRecognizer:
    def __init__(self, *results: RecognitionResult) -> None:
        self.results = list(results)
        self.calls = 0
        self.cancelled = threading.Event()
        self.gate: threading.Event | None = None  # when set, recognize waits on it
        self.started = threading.Event()
        self.released = 0

    def recognize_once(self, audio: AudioInput) -> RecognitionResult:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(5)
        return self.results.pop(0) if self.results else Recognized("again")

    def release(self) -> None:
        self.released += 1

    def cancel(self) -> None:
        self.cancelled.set()
        if self.gate is not None:
            self.gate.set()

    def close(self) -> None:
        pass


@dataclass
class FakeInserter:
    typed: list[tuple[str, object]] = field(default_factory=list)
    error: Exception | None = None

    def focused_target(self) -> object:
        return "window-1"

    def insert(self, text: str, target: object) -> None:
        if self.error:
            raise self.error
        self.typed.append((text, target))

    def close(self) -> None:
        pass


@dataclass
class FakeNotifier:
    delivered: bool = True
    calls: list[tuple[str, str, Urgency]] = field(default_factory=list)

    def notify(self, summary: str, body: str, urgency: Urgency = Urgency.NORMAL) -> bool:
        self.calls.append((summary, body, urgency))
        return self.delivered

    def close(self) -> None:
        pass


@dataclass
class FakeUI:
    states: list[tuple[State, str]] = field(default_factory=list)

    def show(self, state: State, detail: str = "") -> None:
        self.states.append((state, detail))


def make(*results: RecognitionResult, **kw: object) -> tuple[Controller, FakeInserter]:
    inserter = FakeInserter()
    controller = Controller(
        recognizer=FakeRecognizer(*results),
        inserter=inserter,
        notifier=FakeNotifier(),
        ui=FakeUI(),
        settings=ControllerSettings(start_sound=False),
        **kw,  # type: ignore[arg-type]
    )
    return controller, inserter


_workers: dict[int, tuple[Controller, threading.Thread]] = {}


def drain(controller: Controller) -> None:
    """Run the controller (on its own thread, started once) until queued events are done."""
    if id(controller) not in _workers:
        worker = threading.Thread(target=controller.run, daemon=True)
        _workers[id(controller)] = (controller, worker)
        worker.start()
    done = threading.Event()
    controller.submit_call(done.set)
    assert done.wait(5), "controller did not process its queue"


@pytest.fixture(autouse=True)
def _stop_workers() -> Iterator[None]:
    yield
    for controller, worker in _workers.values():
        controller.request_quit()
        worker.join(5)
        assert not worker.is_alive()
    _workers.clear()


def states(controller: Controller) -> list[State]:
    ui = controller.ui
    assert isinstance(ui, FakeUI)
    return [s for s, _ in ui.states]


def notes(controller: Controller) -> list[tuple[str, str, Urgency]]:
    notifier = controller.notifier
    assert isinstance(notifier, FakeNotifier)
    return notifier.calls


def test_recognized_text_is_typed_into_the_remembered_window() -> None:
    controller, inserter = make(Recognized("Grüße, 世界 😀"))
    controller.submit_dictate()
    drain(controller)
    assert inserter.typed == [("Grüße, 世界 😀", "window-1")]
    assert states(controller) == [State.IDLE, State.LISTENING, State.TYPING, State.IDLE]
    recognizer = controller.recognizer
    assert isinstance(recognizer, FakeRecognizer)
    assert recognizer.released == 1  # after the text was typed
    assert notes(controller) == []
    assert controller.last.outcome == "typed"
    assert controller.last.chars == len("Grüße, 世界 😀")


def test_control_characters_are_removed_before_typing() -> None:
    controller, inserter = make(Recognized("a\x1b[Ab\x07\r\nc\td\x7f"))
    controller.submit_dictate()
    drain(controller)
    assert inserter.typed[0][0] == "a[Ab\nc\td"


def test_no_match_is_one_quiet_notification_and_types_nothing() -> None:
    controller, inserter = make(NoMatch(NoMatchReason.INITIAL_SILENCE_TIMEOUT))
    controller.submit_dictate()
    drain(controller)
    assert inserter.typed == []
    assert notes(controller) == [("Didn't catch that", "no speech detected.", Urgency.LOW)]
    assert states(controller)[-1] == State.IDLE


def test_empty_text_counts_as_no_match() -> None:
    controller, inserter = make(Recognized("  "))
    controller.submit_dictate()
    drain(controller)
    assert inserter.typed == []
    assert notes(controller)[0][0] == "Didn't catch that"


def test_failure_notifies_cause_and_fix_and_shows_error() -> None:
    controller, inserter = make(Failed(ErrorKind.AUTHENTICATION, "WebSocket upgrade failed: 401"))
    controller.submit_dictate()
    drain(controller)
    assert inserter.typed == []
    ((summary, body, urgency),) = notes(controller)
    assert urgency == Urgency.NORMAL
    assert summary == "Azure rejected the key (401)"
    assert "AZURE_AI_SPEECH_KEY" in body
    ui = controller.ui
    assert isinstance(ui, FakeUI)
    assert ui.states[-1][0] == State.ERROR
    assert "401" in ui.states[-1][1]


def test_disabled_ignores_dictation_and_shows_disabled() -> None:
    controller, inserter = make(Recognized("x"))
    controller.submit_enabled(False)
    controller.submit_dictate()
    drain(controller)
    assert inserter.typed == []
    recognizer = controller.recognizer
    assert isinstance(recognizer, FakeRecognizer)
    assert recognizer.calls == 0
    assert states(controller)[-1] == State.DISABLED
    controller.submit_enabled(True)
    controller.submit_dictate()
    drain(controller)
    assert inserter.typed == [("x", "window-1")]


def test_burst_of_presses_gives_one_dictation_and_no_backlog() -> None:
    controller, inserter = make(Recognized("one"), Recognized("two"))
    recognizer = controller.recognizer
    assert isinstance(recognizer, FakeRecognizer)
    recognizer.gate = threading.Event()
    worker = threading.Thread(target=controller.run)
    worker.start()
    controller.submit_dictate()
    assert recognizer.started.wait(5)
    for _ in range(50):
        controller.submit_dictate()
    recognizer.gate.set()
    done = threading.Event()
    controller.submit_call(done.set)
    assert done.wait(5)
    assert inserter.typed == [("one", "window-1")]
    assert recognizer.calls == 1
    controller.submit_dictate()  # a press after the dictation works again
    done2 = threading.Event()
    controller.submit_call(done2.set)
    assert done2.wait(5)
    assert [t for t, _ in inserter.typed] == ["one", "two"]
    controller.request_quit()
    worker.join(5)
    assert not worker.is_alive()


def test_quit_cancels_a_running_recognition() -> None:
    controller, inserter = make(Recognized("late"))
    recognizer = controller.recognizer
    assert isinstance(recognizer, FakeRecognizer)
    recognizer.gate = threading.Event()
    worker = threading.Thread(target=controller.run)
    worker.start()
    controller.submit_dictate()
    assert recognizer.started.wait(5)
    controller.request_quit()
    worker.join(5)
    assert not worker.is_alive()
    assert recognizer.cancelled.is_set()
    assert inserter.typed == []


def test_without_key_dictation_explains_how_to_set_it() -> None:
    controller = Controller(
        recognizer=None, inserter=FakeInserter(), notifier=FakeNotifier(), ui=FakeUI()
    )
    controller.submit_dictate()
    drain(controller)
    ((summary, body, urgency),) = notes(controller)
    assert summary == "No Azure Speech key configured"
    assert "AZURE_AI_SPEECH_KEY" in body
    assert urgency == Urgency.CRITICAL
    assert states(controller)[-1] == State.ERROR


def test_window_gone_keeps_the_text_and_says_so() -> None:
    controller, inserter = make(Recognized("keep me"))
    inserter.error = TargetGone("gone")
    controller.submit_dictate()
    drain(controller)
    assert controller.last_text == "keep me"
    assert notes(controller)[0][0] == "The window closed before the text arrived"
    assert states(controller)[-1] == State.IDLE


def test_insertion_error_keeps_text_and_reports() -> None:
    controller, inserter = make(Recognized("keep"))
    inserter.error = InsertionError("Focus moved to another window after 3 characters")
    controller.submit_dictate()
    drain(controller)
    assert controller.last_text == "keep"
    assert notes(controller)[0] == (
        "Could not type the text",
        f"Focus moved to another window after 3 characters {KEPT_HINT}",
        Urgency.NORMAL,
    )


def test_undelivered_notification_falls_back_to_the_tray_detail() -> None:
    controller, _ = make(Failed(ErrorKind.CONNECTION_FAILURE, "refused"))
    notifier = controller.notifier
    assert isinstance(notifier, FakeNotifier)
    notifier.delivered = False
    controller.submit_dictate()
    drain(controller)
    ui = controller.ui
    assert isinstance(ui, FakeUI)
    assert ui.states[-1] == (
        State.ERROR,
        "Could not reach the speech service: Check the network connection, "
        "and `region` (or `host`) in config.toml.",
    )


def test_a_crashing_collaborator_does_not_stop_the_loop() -> None:
    controller, inserter = make(Recognized("a"), Recognized("b"))
    inserter.error = RuntimeError("boom")
    controller.submit_dictate()
    drain(controller)
    assert states(controller)[-1] == State.ERROR
    inserter.error = None
    controller.submit_dictate()
    drain(controller)
    assert inserter.typed == [("b", "window-1")]


@pytest.mark.parametrize("include", [False, True])
def test_log_line_has_text_only_when_opted_in(
    include: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    controller, _ = make(Recognized("private words"))
    controller.settings = ControllerSettings(start_sound=False, include_text_in_log=include)
    controller.submit_dictate()
    drain(controller)
    lines = [r.getMessage() for r in caplog.records if "dictation #1" in r.getMessage()]
    assert len(lines) == 1
    assert "typed" in lines[0]
    assert ("private words" in lines[0]) is include


def test_speech_end_shows_recognizing_only_while_listening() -> None:
    controller, _ = make(Recognized("x"))
    recognizer = controller.recognizer
    assert isinstance(recognizer, FakeRecognizer)
    recognizer.gate = threading.Event()
    controller.speech_ended()  # idle: ignored
    controller.submit_dictate()
    drain_thread = threading.Thread(target=drain, args=(controller,))
    drain_thread.start()
    assert recognizer.started.wait(5)
    controller.speech_ended()
    recognizer.gate.set()
    drain_thread.join(5)
    controller.speech_ended()  # after typing: ignored
    assert states(controller) == [
        State.IDLE,
        State.LISTENING,
        State.RECOGNIZING,
        State.TYPING,
        State.IDLE,
    ]


def test_type_last_types_the_kept_text_once_into_the_focused_window() -> None:
    controller, inserter = make(Recognized("keep me"))
    inserter.error = TargetGone("gone")
    controller.submit_dictate()
    drain(controller)
    assert controller.has_kept_text
    inserter.error = None
    controller.submit_type_last("menu")
    drain(controller)
    assert inserter.typed == [("keep me", "window-1")]
    assert controller.last_text is None
    controller.submit_type_last("menu")
    drain(controller)
    assert inserter.typed == [("keep me", "window-1")]
    assert notes(controller)[-1][0] == "Nothing to type"


def test_a_timeout_while_the_microphone_is_gone_blames_the_microphone() -> None:
    controller, _ = make(Failed(ErrorKind.SERVICE_TIMEOUT, "no answer"))
    controller.microphone_check = lambda: Failed(ErrorKind.MICROPHONE_UNAVAILABLE, "gone")
    controller.submit_dictate()
    drain(controller)
    assert notes(controller)[0][0] == "No microphone available"
    assert controller.last.outcome == "failed (microphone_unavailable)"
