"""The dictation state machine with fake collaborators: no desktop, no SDK."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from harness.fakes import Notes
from harness.procs import wait_for

from voicetype.controller import (
    BUSY_DETAIL,
    KEPT_HINT,
    PARTLY_TYPED_HINT,
    Controller,
    ControllerSettings,
    DictationParts,
    Press,
    PressOutcome,
    State,
)
from voicetype.dictation import Inserted
from voicetype.feedback import Feedback
from voicetype.insertion import InsertionError, Key, TargetGone
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
from voicetype.recognition.messages import Message
from voicetype.text import History, Phrase


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

    def press(self, key: Key, count: int, target: object) -> None:
        self.typed.append((f"<{key} x{count}>", target))

    def close(self) -> None:
        pass


@dataclass
class FakeUI:
    states: list[tuple[State, str]] = field(default_factory=list)

    def show(self, state: State, detail: str = "") -> None:
        self.states.append((state, detail))


@dataclass
class Fakes:
    recognizer: FakeRecognizer | None
    notifier: Notes
    ui: FakeUI


_fakes: dict[int, Fakes] = {}


def build(
    recognizer: FakeRecognizer | None,
    inserter: FakeInserter | None,
    settings: ControllerSettings | None = None,
    ui: FakeUI | None = None,
    notifier: Notes | None = None,
    **kw: Any,
) -> Controller:
    """A controller with fakes (reachable through ``fakes``)."""
    fake = Fakes(recognizer, notifier or Notes(), ui or FakeUI())
    parts = DictationParts(recognizer, inserter, settings or ControllerSettings(start_sound=False))
    controller = Controller(parts, Feedback(fake.notifier), fake.ui, **kw)
    _fakes[id(controller)] = fake
    return controller


def fakes(controller: Controller) -> Fakes:
    return _fakes[id(controller)]


def make(*results: RecognitionResult, **kw: Any) -> tuple[Controller, FakeInserter]:
    inserter = FakeInserter()
    return build(FakeRecognizer(*results), inserter, **kw), inserter


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
    return [s for s, _ in fakes(controller).ui.states]


def notes(controller: Controller) -> list[tuple[str, str, Urgency]]:
    return fakes(controller).notifier.calls


def test_recognized_text_is_typed_into_the_remembered_window() -> None:
    controller, inserter = make(Recognized("Grüße, 世界 😀"))
    controller.press("hotkey")
    drain(controller)
    assert inserter.typed == [("Grüße, 世界 😀", "window-1")]
    assert states(controller) == [State.IDLE, State.LISTENING, State.TYPING, State.IDLE]
    recognizer = fakes(controller).recognizer
    assert recognizer is not None
    # after the text was typed, on the controller's worker
    wait_for(lambda: recognizer.released == 1, 5, "the recognizer released")
    assert notes(controller) == []
    assert controller.last.outcome == "typed"
    assert controller.last.chars == len("Grüße, 世界 😀")


def test_control_characters_are_removed_before_typing() -> None:
    controller, inserter = make(Recognized("a\x1b[Ab\x07\r\nc\td\x7f"))
    controller.press("hotkey")
    drain(controller)
    assert inserter.typed[0][0] == "a[Ab\nc\td"


def test_no_match_is_one_quiet_notification_and_types_nothing() -> None:
    controller, inserter = make(NoMatch(NoMatchReason.INITIAL_SILENCE_TIMEOUT))
    controller.press("hotkey")
    drain(controller)
    assert inserter.typed == []
    assert notes(controller) == [("Didn't catch that", "no speech detected.", Urgency.LOW)]
    assert states(controller)[-1] == State.IDLE


def test_empty_text_counts_as_no_match() -> None:
    controller, inserter = make(Recognized("  "))
    controller.press("hotkey")
    drain(controller)
    assert inserter.typed == []
    assert notes(controller)[0][0] == "Didn't catch that"


def test_failure_notifies_cause_and_fix_and_shows_error() -> None:
    controller, inserter = make(Failed(ErrorKind.AUTHENTICATION, "WebSocket upgrade failed: 401"))
    controller.press("hotkey")
    drain(controller)
    assert inserter.typed == []
    ((summary, body, urgency),) = notes(controller)
    assert urgency == Urgency.NORMAL
    assert summary == "Azure rejected the key (401)"
    assert "AZURE_AI_SPEECH_KEY" in body
    ui = fakes(controller).ui
    assert ui.states[-1][0] == State.ERROR
    assert "401" in ui.states[-1][1]


def test_disabled_ignores_dictation_and_shows_disabled() -> None:
    controller, inserter = make(Recognized("x"))
    controller.flip_enabled()  # off
    controller.press("hotkey")
    drain(controller)
    assert inserter.typed == []
    recognizer = fakes(controller).recognizer
    assert recognizer is not None
    assert recognizer.calls == 0
    assert states(controller)[-1] == State.DISABLED
    controller.flip_enabled()  # on again
    controller.press("hotkey")
    drain(controller)
    assert inserter.typed == [("x", "window-1")]


def test_burst_of_presses_gives_one_dictation_and_no_backlog() -> None:
    controller, inserter = make(Recognized("one"), Recognized("two"))
    recognizer = fakes(controller).recognizer
    assert recognizer is not None
    recognizer.gate = threading.Event()
    worker = threading.Thread(target=controller.run)
    worker.start()
    controller.press("hotkey")
    assert recognizer.started.wait(5)
    for _ in range(50):
        controller.press("hotkey")
    recognizer.gate.set()
    done = threading.Event()
    controller.submit_call(done.set)
    assert done.wait(5)
    assert inserter.typed == [("one", "window-1")]
    assert recognizer.calls == 1
    controller.press("hotkey")  # a press after the dictation works again
    done2 = threading.Event()
    controller.submit_call(done2.set)
    assert done2.wait(5)
    assert [t for t, _ in inserter.typed] == ["one", "two"]
    controller.request_quit()
    worker.join(5)
    assert not worker.is_alive()


def test_quit_cancels_a_running_recognition() -> None:
    controller, inserter = make(Recognized("late"))
    recognizer = fakes(controller).recognizer
    assert recognizer is not None
    recognizer.gate = threading.Event()
    worker = threading.Thread(target=controller.run)
    worker.start()
    controller.press("hotkey")
    assert recognizer.started.wait(5)
    controller.request_quit()
    worker.join(5)
    assert not worker.is_alive()
    assert recognizer.cancelled.is_set()
    assert inserter.typed == []


def test_without_key_dictation_explains_how_to_set_it() -> None:
    controller = build(None, FakeInserter(), ControllerSettings())
    controller.press("hotkey")
    drain(controller)
    ((summary, body, urgency),) = notes(controller)
    assert summary == "No Azure Speech key configured"
    assert "AZURE_AI_SPEECH_KEY" in body
    assert urgency == Urgency.CRITICAL
    assert states(controller)[-1] == State.ERROR


def test_window_gone_keeps_the_text_and_says_so() -> None:
    controller, inserter = make(Recognized("keep me"))
    inserter.error = TargetGone("gone")
    controller.press("hotkey")
    drain(controller)
    assert controller.last_text == "keep me"
    assert notes(controller)[0][0] == "The window closed before the text arrived"
    assert states(controller)[-1] == State.IDLE


def test_insertion_error_that_typed_nothing_keeps_text_and_advises_type_last() -> None:
    controller, inserter = make(Recognized("keep"))
    inserter.error = InsertionError("a modifier key is still held; nothing was typed")
    controller.press("hotkey")
    drain(controller)
    assert controller.last_text == "keep"
    assert notes(controller)[0] == (
        "Could not type the text",
        f"a modifier key is still held; nothing was typed {KEPT_HINT}",
        Urgency.NORMAL,
    )


def test_partial_typing_failure_does_not_advise_typing_it_all_again() -> None:
    """Typing stopped after 3 of 4 characters: "Type last dictation" would type those 3
    twice, so the notification says so instead of advising it."""
    controller, inserter = make(Recognized("keep"))
    inserter.error = InsertionError("the focus left the window while typing: 3 of 4 typed")
    controller.press("hotkey")
    drain(controller)
    assert controller.last_text == "keep"
    ((summary, body, _),) = notes(controller)
    assert summary == "Could not type the text"
    assert KEPT_HINT not in body
    assert body == f"the focus left the window while typing: 3 of 4 typed {PARTLY_TYPED_HINT}"
    assert controller.last.outcome == "typing failed (part may be typed)"


def test_undelivered_notification_falls_back_to_the_tray_detail() -> None:
    controller, _ = make(Failed(ErrorKind.CONNECTION_FAILURE, "refused"))
    notifier = fakes(controller).notifier
    notifier.delivered = False
    controller.press("hotkey")
    drain(controller)
    ui = fakes(controller).ui
    assert ui.states[-1] == (
        State.ERROR,
        "Could not reach the speech service: Check the network connection, "
        "and `region` (or `host`) in config.toml.",
    )


def test_a_crashing_collaborator_does_not_stop_the_loop() -> None:
    controller, inserter = make(Recognized("a"), Recognized("b"))
    inserter.error = RuntimeError("boom")
    controller.press("hotkey")
    drain(controller)
    assert states(controller)[-1] == State.ERROR
    inserter.error = None
    controller.press("hotkey")
    drain(controller)
    assert inserter.typed == [("b", "window-1")]


@pytest.mark.parametrize("include", [False, True])
def test_log_line_has_text_only_when_opted_in(
    include: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    settings = ControllerSettings(start_sound=False, include_text_in_log=include)
    controller, _ = make(Recognized("private words"), settings=settings)
    controller.press("hotkey")
    drain(controller)
    lines = [r.getMessage() for r in caplog.records if "dictation #1" in r.getMessage()]
    assert len(lines) == 1
    assert "typed" in lines[0]
    assert ("private words" in lines[0]) is include


def test_speech_end_shows_recognizing_only_while_listening() -> None:
    controller, _ = make(Recognized("x"))
    recognizer = fakes(controller).recognizer
    assert recognizer is not None
    recognizer.gate = threading.Event()
    controller.speech_ended()  # idle: ignored
    controller.press("hotkey")
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
    controller.press("hotkey")
    drain(controller)
    assert controller.status.kept_text
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
    controller, _ = make(
        Failed(ErrorKind.SERVICE_TIMEOUT, "no answer"),
        microphone_check=lambda: Failed(ErrorKind.MICROPHONE_UNAVAILABLE, "gone"),
    )
    controller.press("hotkey")
    drain(controller)
    assert notes(controller)[0][0] == "No microphone available"
    assert controller.last.outcome == "failed (microphone_unavailable)"


def _gated(controller: Controller) -> tuple[FakeRecognizer, threading.Event]:
    recognizer = fakes(controller).recognizer
    assert recognizer is not None
    recognizer.gate = gate = threading.Event()
    return recognizer, gate


def test_a_press_once_idle_is_shown_is_never_lost() -> None:
    """The UI shows idle only once a press is accepted again: a press made from inside
    ``ui.show(IDLE)`` (the earliest moment anyone can see idle) starts the next dictation.
    Old code: the press was dropped (its time was before ``_busy_until``)."""
    presses: list[Press] = []

    class PressOnIdle(FakeUI):
        def show(self, state: State, detail: str = "") -> None:
            super().show(state, detail)
            if state is State.IDLE and len(inserter.typed) == 1 and not presses:
                presses.append(controller.press("command"))

    controller, inserter = make(Recognized("one"), Recognized("two"), ui=PressOnIdle())
    controller.press("hotkey")
    drain(controller)
    drain(controller)
    assert [t for t, _ in inserter.typed] == ["one", "two"]
    assert presses[0].wait(1) is PressOutcome.STARTED


def test_press_outcomes_tell_what_really_happened() -> None:
    controller, _ = make(Recognized("one"))
    recognizer, gate = _gated(controller)
    worker = threading.Thread(target=controller.run)
    worker.start()
    try:
        first = controller.press("command")
        assert first.wait(2) is PressOutcome.STARTED
        assert recognizer.started.wait(2)
        assert controller.press("command").wait(2) is PressOutcome.BUSY
        assert fakes(controller).ui.states[-1] == (
            State.LISTENING,
            BUSY_DETAIL[State.LISTENING],
        )
        gate.set()
        done = threading.Event()
        controller.submit_call(done.set)
        assert done.wait(5)
        controller.flip_enabled()  # off
        assert controller.press("command").wait(2) is PressOutcome.DISABLED
        controller.flip_enabled()  # on again
        assert controller.press("command").wait(2) is PressOutcome.STARTED
    finally:
        controller.request_quit()
        worker.join(5)
    assert not worker.is_alive()


def test_without_key_a_press_answers_not_configured_and_is_no_dictation() -> None:
    controller = build(None, FakeInserter(), ControllerSettings())
    drain(controller)
    assert controller.press("command").wait(2) is PressOutcome.NOT_CONFIGURED
    drain(controller)
    assert controller.last.outcome == ""  # status: "last dictation: none yet"
    assert controller.status.dictations == 0
    assert controller.status.state is State.ERROR
    assert "AZURE_AI_SPEECH_KEY" in controller.status.detail


def test_a_press_whose_sender_gave_up_is_never_started_late() -> None:
    controller, inserter = make(Recognized("late"))
    blocker = threading.Event()

    def busy_elsewhere() -> None:
        blocker.wait(5)

    controller.submit_call(busy_elsewhere)
    drain_thread = threading.Thread(target=drain, args=(controller,))
    drain_thread.start()
    press = controller.press("command")
    assert press.wait(0.05) is None  # the sender stops waiting
    blocker.set()
    drain_thread.join(5)
    drain(controller)
    recognizer = fakes(controller).recognizer
    assert recognizer is not None
    assert recognizer.calls == 0 and inserter.typed == []
    assert controller.press("command").wait(2) is PressOutcome.STARTED  # not left busy
    drain(controller)
    assert inserter.typed == [("late", "window-1")]


def test_text_over_max_chars_is_refused_whole() -> None:
    text = "x" * 10_001
    controller, inserter = make(Recognized(text))
    controller.press("hotkey")
    drain(controller)
    assert inserter.typed == []
    assert controller.last_text is None
    assert notes(controller) == [
        (
            "The recognized text is too long",
            "The recognized text is 10,001 characters long, over the 10,000 limit; nothing "
            "was typed. To allow longer texts, raise [typing] max_chars in config.toml.",
            Urgency.NORMAL,
        )
    ]
    assert controller.last.outcome == "not typed (too long: 10001 characters, limit 10000)"
    assert states(controller)[-1] == State.IDLE


def test_max_chars_is_a_setting_and_the_limit_itself_is_typed() -> None:
    settings = ControllerSettings(start_sound=False, max_chars=4)
    controller, inserter = make(Recognized("abcd"), Recognized("abcde"), settings=settings)
    controller.press("hotkey")
    drain(controller)
    controller.press("hotkey")
    drain(controller)
    assert inserter.typed == [("abcd", "window-1")]
    assert "5 characters long, over the 4 limit" in notes(controller)[0][1]


@pytest.mark.parametrize("include", [False, True])
def test_text_without_a_typing_backend_is_logged_only_when_opted_in(
    include: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    controller = build(
        FakeRecognizer(Recognized("private words")),
        None,
        ControllerSettings(start_sound=False, include_text_in_log=include),
    )
    controller.press("hotkey")
    drain(controller)
    assert notes(controller)[0][1] == "You said: private words"  # the user still sees it
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert ("private words" in logged) is include, logged


@pytest.mark.parametrize(
    ("result", "error", "message"),
    [
        (NoMatch(NoMatchReason.INITIAL_SILENCE_TIMEOUT), None, "Didn't catch that"),
        (Recognized("x"), TargetGone("gone"), "The window closed before the text arrived"),
        (Recognized("x" * 10_001), None, "The recognized text is too long"),
    ],
)
def test_without_notifications_the_tooltip_keeps_the_last_message(
    result: RecognitionResult, error: Exception | None, message: str
) -> None:
    controller, inserter = make(result)
    notifier = fakes(controller).notifier
    notifier.delivered = False
    inserter.error = error
    controller.press("hotkey")
    drain(controller)
    state, detail = fakes(controller).ui.states[-1]
    assert state is State.IDLE
    assert detail.startswith(message + ":"), detail
    assert controller.status.detail == detail


def test_without_a_typing_backend_or_notifications_the_tooltip_shows_the_text() -> None:
    controller = build(
        FakeRecognizer(Recognized("hello there")), None, notifier=Notes(delivered=False)
    )
    controller.press("hotkey")
    drain(controller)
    assert fakes(controller).ui.states[-1] == (
        State.IDLE,
        "Recognized, but can't type here: You said: hello there",
    )


def test_delivered_messages_leave_the_tooltip_plain() -> None:
    controller, _ = make(NoMatch(NoMatchReason.INITIAL_SILENCE_TIMEOUT))
    controller.press("hotkey")
    drain(controller)
    assert fakes(controller).ui.states[-1] == (State.IDLE, "")


def test_nothing_to_type_without_notifications_goes_to_the_tooltip() -> None:
    controller, _ = make(notifier=Notes(delivered=False))
    controller.submit_type_last("menu")
    drain(controller)
    assert fakes(controller).ui.states[-1] == (
        State.IDLE,
        "Nothing to type: No dictation is kept: the last one was typed.",
    )


def test_a_press_once_the_dictation_is_logged_is_never_lost() -> None:
    """Whoever waits for the dictation's log line (scripts, the soak test) may press at
    once: the session closes before the line is written."""
    controller, inserter = make(Recognized("one"), Recognized("two"))
    presses: list[Press] = []

    class PressOnLogLine(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("dictation #1 ") and not presses:
                presses.append(controller.press("command"))

    handler = PressOnLogLine()
    logger = logging.getLogger("voicetype.sessions")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        controller.press("hotkey")
        drain(controller)
        drain(controller)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert presses[0].wait(1) is PressOutcome.STARTED
    assert [t for t, _ in inserter.typed] == ["one", "two"]


def test_two_flips_queued_behind_a_busy_controller_cancel_out() -> None:
    controller, _ = make()
    release = threading.Event()

    def busy() -> None:
        release.wait(5)

    controller.submit_call(busy)
    drain_thread = threading.Thread(target=drain, args=(controller,))
    drain_thread.start()
    answers: list[bool] = []
    controller.flip_enabled(answers.append)
    controller.flip_enabled(answers.append)
    release.set()
    drain_thread.join(5)
    drain(controller)
    assert answers == [False, True]
    assert controller.status.enabled is True
    assert controller.status.state is State.IDLE


def test_only_the_controller_thread_changes_what_the_user_sees() -> None:
    """Speech end (an SDK thread), presses and flips (other threads) are events: the UI is
    called from one thread only. Old code: "recognizing" was shown from the SDK thread
    and the answer to a press during a dictation from the pressing thread."""
    shown_from: set[int] = set()

    class ThreadUI(FakeUI):
        def show(self, state: State, detail: str = "") -> None:
            shown_from.add(threading.get_ident())
            super().show(state, detail)

    controller, inserter = make(Recognized("x"), ui=ThreadUI())
    recognizer, gate = _gated(controller)
    drain_thread = threading.Thread(target=drain, args=(controller,))
    controller.press("hotkey")
    drain_thread.start()
    assert recognizer.started.wait(5)
    sdk = threading.Thread(target=controller.speech_ended)
    sdk.start()
    sdk.join(5)
    assert controller.press("command").wait(2) is PressOutcome.BUSY
    gate.set()
    drain_thread.join(5)
    drain(controller)
    assert inserter.typed == [("x", "window-1")]
    assert states(controller) == [
        State.IDLE,
        State.LISTENING,
        State.RECOGNIZING,
        State.RECOGNIZING,  # the busy press's answer in the tooltip
        State.TYPING,
        State.IDLE,
    ]
    assert len(shown_from) == 1 and threading.get_ident() not in shown_from


# -- the text stage (issue 13) ----------------------------------------------------------


@dataclass
class FakeTextStep:
    """A text stage that answers with ``inserted`` and records the phrases it got."""

    inserted: Inserted
    phrases: list[tuple[Phrase, ...]] = field(default_factory=list)
    history: History = field(default_factory=History)

    def deliver(
        self,
        inserter: Any,
        phrases: Any,
        target: Any,
        clock: Any,
        refocus: bool = False,
        chain: Any = None,
    ) -> Inserted:
        self.phrases.append(tuple(phrases))
        return self.inserted


def with_stage(stage: FakeTextStep, result: RecognitionResult, **kw: Any) -> Controller:
    settings = ControllerSettings(start_sound=False, include_text_in_log=True)
    fake = Fakes(FakeRecognizer(result), Notes(), FakeUI())
    parts = DictationParts(fake.recognizer, FakeInserter(), settings, text=stage)
    controller = Controller(parts, Feedback(fake.notifier, include_text=True), fake.ui, **kw)
    _fakes[id(controller)] = fake
    return controller


def test_the_text_stage_gets_every_form_and_a_refusal_is_told_once() -> None:
    refusal = Message("Nothing was deleted: you typed since the last dictation", "Use Ctrl+Z.")
    stage = FakeTextStep(Inserted(None, 1.0, typed="", notice=refusal))
    recognized = Recognized("Scratch that.", lexical="scratch that", language="en-US")
    controller = with_stage(stage, recognized)
    controller.press("hotkey")
    drain(controller)
    assert stage.phrases == [
        (Phrase("Scratch that.", "scratch that", "", "", "en-US"),),
    ]
    assert notes(controller) == [(refusal.summary, refusal.body, Urgency.LOW)]
    assert controller.last.outcome == "refused (nothing changed)"


def test_a_password_fields_dictation_is_neither_logged_nor_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stage = FakeTextStep(Inserted(InsertionError("typing failed"), 1.0, private=True))
    controller = with_stage(stage, Recognized("open sesame"))
    with caplog.at_level(logging.DEBUG):
        controller.press("hotkey")
        drain(controller)
    assert "sesame" not in caplog.text  # include_text_in_log is on
    assert controller.status.kept_text is False
    assert controller.last.outcome == "typing failed (password field, not kept)"
    assert "kept" not in notes(controller)[0][1]
