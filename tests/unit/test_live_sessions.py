"""The recording modes wired into the controller, with a fake listener: no desktop, no SDK.

What the user sees is asserted: the text typed (and into which window), the notifications,
the icon's states, the microphone (the fake's open/closed), Escape grabbed only while
listening.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from harness.fakes import ModesRecognizer, Notes
from harness.procs import wait_for

from voicetype import inbox
from voicetype.controller import Controller, ControllerSettings, DictationParts, PressOutcome
from voicetype.errors import VoicetypeError
from voicetype.feedback import Feedback
from voicetype.listening import MicrophoneLost, OnEvent
from voicetype.modes import Mode, ModeSettings
from voicetype.recognition import ErrorKind, Failed
from voicetype.recognition.events import (
    PhraseRecognized,
    SessionEvent,
    SessionFailed,
    SessionStopped,
    SpeechStarted,
)
from voicetype.state import State


class FakeRunning:
    def __init__(self, listener: FakeListener, on_event: OnEvent) -> None:
        self.listener, self.on_event = listener, on_event
        self.stopped = self.cancelled = False

    def stop(self) -> None:
        self.stopped = True
        self.listener.mic_open = False
        if self.listener.finalize_on_stop:  # the service finalizes, then the session ends
            for text in self.listener.finals_at_stop:
                self.on_event(PhraseRecognized(time.monotonic(), text))
            self.on_event(SessionStopped(time.monotonic(), "end of audio"))

    def cancel(self) -> None:
        self.cancelled = True
        self.listener.mic_open = False

    def say(self, *events: SessionEvent) -> None:
        for event in events:
            self.on_event(event)


@dataclass
class FakeListener:
    sessions: list[FakeRunning] = field(default_factory=list)
    mic_open: bool = False
    fails: str = ""
    finalize_on_stop: bool = True
    finals_at_stop: tuple[str, ...] = ()
    note: str = ""
    started: threading.Event = field(default_factory=threading.Event)

    def start(self, on_event: OnEvent) -> tuple[FakeRunning, str]:
        if self.fails:
            raise VoicetypeError(self.fails, "plug it in")
        self.mic_open = True
        self.sessions.append(FakeRunning(self, on_event))
        self.started.set()
        return self.sessions[-1], self.note

    def close(self) -> None:
        pass

    def mic(self) -> bool:
        return self.mic_open


@dataclass
class Inserter:
    typed: list[tuple[str, object]] = field(default_factory=list)
    window: str = "window-1"

    def focused_target(self) -> object:
        return self.window

    def insert(self, text: str, target: object) -> None:
        self.typed.append((text, target or self.window))

    def press(self, key: str, count: int, target: object) -> None:
        self.typed.append((f"<{key}×{count}>", target or self.window))

    def close(self) -> None:
        pass


@dataclass
class UI:
    states: list[tuple[State, str]] = field(default_factory=list)

    def show(self, state: State, detail: str = "") -> None:
        self.states.append((state, detail))


@dataclass
class Key:
    grabbed: bool = False
    grabs: int = 0

    def grab(self) -> None:
        self.grabbed, self.grabs = True, self.grabs + 1

    def release(self) -> None:
        self.grabbed = False

    def held(self) -> bool:
        return self.grabbed


@dataclass
class FakeClock:
    """The controller's clock, moved by the test only: timings are exact on any machine."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Rig:
    controller: Controller
    listener: FakeListener
    inserter: Inserter
    notes: Notes
    ui: UI
    key: Key
    stop_sounds: list[float]
    clock: Callable[[], float]

    def press(self, edge: str, source: str = "hotkey") -> PressOutcome | None:
        return self.controller.press(source, edge).wait(2)

    def running(self, n: int = 1) -> FakeRunning:
        wait_for(lambda: len(self.listener.sessions) >= n, 2, "the microphone to open")
        return self.listener.sessions[n - 1]

    def typed(self) -> list[str]:
        return [t for t, _ in self.inserter.typed]

    def idle(self) -> None:
        wait_for(lambda: self.controller.status.state is State.IDLE, 3, "idle")


@pytest.fixture
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    mode = getattr(request, "param", Mode.AUTO)
    # tests that need exact timings ask for ``fake_clock`` and get it here
    clock: Callable[[], float] = (
        request.getfixturevalue("fake_clock")
        if "fake_clock" in request.fixturenames
        else time.monotonic
    )
    listener, inserter, notes, ui, key = FakeListener(), Inserter(), Notes(), UI(), Key()
    stop_sounds: list[float] = []
    settings = ControllerSettings(
        start_sound=False,
        modes=ModeSettings(mode=mode, hold_threshold_ms=150, idle_stop_seconds=0.5),
    )
    parts = DictationParts(ModesRecognizer(), inserter, settings, listener=listener)
    controller = Controller(
        parts,
        Feedback(notes),
        ui,
        cancel_key=key,
        stop_cue=lambda: stop_sounds.append(time.monotonic()),
        clock=clock,
    )
    thread = threading.Thread(target=controller.run, daemon=True)
    thread.start()
    yield Rig(controller, listener, inserter, notes, ui, key, stop_sounds, clock)
    controller.request_quit()
    thread.join(5)


def test_tap_types_the_first_phrase_into_the_window_of_the_press(rig: Rig) -> None:
    assert rig.press(inbox.DOWN) is PressOutcome.STARTED
    assert rig.press(inbox.UP) is PressOutcome.STARTED  # a tap: the utterance goes on
    session = rig.running()
    assert rig.key.held() and rig.listener.mic()
    rig.inserter.window = "window-2"  # the user clicks elsewhere while speaking
    session.say(SpeechStarted(time.monotonic()), PhraseRecognized(time.monotonic(), "Hello."))
    rig.idle()
    assert rig.inserter.typed == [("Hello.", "window-1")]
    assert session.cancelled and not rig.listener.mic()  # closed at the end of speech
    assert not rig.key.held() and len(rig.stop_sounds) == 1
    assert rig.controller.last.outcome == "typed"


def test_hold_types_every_phrase_once_at_the_release_joined_with_one_space(rig: Rig) -> None:
    rig.press(inbox.DOWN)
    session = rig.running()
    time.sleep(0.3)  # held past the 150 ms threshold: push-to-talk
    for text in ("Hello world.", "How are you?"):
        session.say(PhraseRecognized(time.monotonic(), text))
    rig.listener.finals_at_stop = ("Goodbye.",)
    time.sleep(0.1)
    assert rig.typed() == []  # nothing while the key is held
    assert rig.press(inbox.UP) is PressOutcome.STOPPED
    rig.idle()
    assert rig.typed() == ["Hello world. How are you? Goodbye."]
    assert session.stopped and not rig.listener.mic() and not rig.key.held()


def test_second_tap_stops_early_and_types_what_was_heard(rig: Rig) -> None:
    rig.press(inbox.TAP, "command")
    session = rig.running()
    rig.listener.finals_at_stop = ("so far",)
    assert rig.press(inbox.TAP, "command") is PressOutcome.STOPPED
    rig.idle()
    assert rig.typed() == ["so far"] and session.stopped


def test_cancel_types_nothing_and_closes_the_microphone_at_once(rig: Rig) -> None:
    rig.press(inbox.DOWN)
    session = rig.running()
    time.sleep(0.3)
    session.say(PhraseRecognized(time.monotonic(), "secret words"))
    began = time.monotonic()
    assert rig.press(inbox.CANCEL, "escape") is PressOutcome.CANCELLED
    assert time.monotonic() - began < 0.1 and session.cancelled and not rig.listener.mic()
    rig.press(inbox.UP)  # the hotkey's release after the cancel means nothing
    rig.idle()
    time.sleep(0.1)
    assert rig.typed() == [] and rig.notes.calls == []
    assert not rig.key.held()
    assert rig.controller.last.outcome == "cancelled"


def test_cancel_when_not_listening_says_so(rig: Rig) -> None:
    assert rig.press(inbox.CANCEL, "command") is PressOutcome.NOT_LISTENING
    assert rig.press(inbox.UP, "command") is PressOutcome.NOT_LISTENING
    assert rig.listener.sessions == [] and rig.key.grabs == 0


def test_cancel_while_the_microphone_is_still_opening_closes_it(rig: Rig) -> None:
    gate, opening = threading.Event(), threading.Event()
    real_start = rig.listener.start

    def slow_start(on_event: OnEvent) -> tuple[FakeRunning, str]:
        opening.set()
        assert gate.wait(2)
        return real_start(on_event)

    rig.listener.start = slow_start  # type: ignore[method-assign]
    rig.press(inbox.TAP, "command")
    assert opening.wait(2)
    assert rig.press(inbox.CANCEL, "command") is PressOutcome.CANCELLED
    gate.set()
    session = rig.running()
    wait_for(lambda: session.cancelled, 2, "the late microphone to close")
    assert not rig.listener.mic() and rig.typed() == []


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.mark.parametrize("source", ["command", "hotkey"])
def test_fifty_taps_in_a_second_give_one_session(
    rig: Rig, fake_clock: FakeClock, source: str
) -> None:
    """Exactly one second of taps, 20 ms apart on the controller's clock, whatever the
    machine's load (the real clock made the service's 5 s finishing bound run out on a
    loaded machine, and a new session start)."""
    rig.listener.finalize_on_stop = False  # the service is slow to finalize
    outcomes = []
    for _ in range(50):
        outcomes.append(rig.press(inbox.TAP, source))
        fake_clock.advance(0.02)
    assert outcomes[0] is PressOutcome.STARTED
    assert outcomes[1] is PressOutcome.STOPPED
    assert outcomes[2:] == [PressOutcome.BUSY] * 48
    assert len(rig.listener.sessions) == 1 and rig.listener.sessions[0].stopped
    assert rig.controller.status.state is State.RECOGNIZING  # finishing; nothing queued


@pytest.mark.parametrize("rig", [Mode.TOGGLE], indirect=True)
def test_toggle_types_each_phrase_live_into_the_window_focused_then(rig: Rig) -> None:
    rig.press(inbox.DOWN)
    rig.press(inbox.UP)
    session = rig.running()
    session.say(PhraseRecognized(time.monotonic(), "One."))
    wait_for(lambda: rig.typed() == ["One."], 2, "the first phrase")
    rig.inserter.window = "window-2"
    session.say(PhraseRecognized(time.monotonic(), "Two."))
    wait_for(lambda: rig.typed() == ["One.", " Two."], 2, "the second phrase")
    assert rig.inserter.typed[1][1] == "window-2"
    rig.press(inbox.DOWN)
    rig.press(inbox.UP)
    rig.idle()
    assert rig.typed() == ["One.", " Two."] and session.stopped
    assert rig.controller.last.outcome == "typed"


@pytest.mark.parametrize("rig", [Mode.TOGGLE], indirect=True)
def test_toggle_stops_by_itself_without_speech_and_says_why(rig: Rig) -> None:
    rig.press(inbox.TAP, "command")
    session = rig.running()
    rig.idle()  # idle_stop_seconds = 0.5 in this rig
    assert session.stopped
    summaries = [c[0] for c in rig.notes.calls]
    assert "Dictation stopped: no speech for 0.5 s" in summaries


def test_failure_while_held_is_told_at_the_release(rig: Rig) -> None:
    rig.press(inbox.DOWN)
    session = rig.running()
    time.sleep(0.3)
    failure = Failed(ErrorKind.CONNECTION_FAILURE, "refused")
    session.say(SessionFailed(time.monotonic(), failure))
    session.say(SessionStopped(time.monotonic(), "failed"))
    time.sleep(0.2)
    assert rig.notes.calls == []  # the user is still talking
    rig.press(inbox.UP)
    wait_for(lambda: rig.controller.status.state is State.ERROR, 2, "the error")
    assert len(rig.notes.calls) == 1 and rig.typed() == []


def test_a_microphone_that_does_not_open_is_one_notification(rig: Rig) -> None:
    rig.listener.fails = "Cannot open the microphone"
    rig.press(inbox.TAP, "command")
    wait_for(lambda: rig.controller.status.state is State.ERROR, 2, "the error")
    assert len(rig.notes.calls) == 1
    assert not rig.key.held()


def test_microphone_fallback_is_told_and_dictation_goes_on(rig: Rig) -> None:
    rig.listener.note = "The microphone “Yeti” is not connected; using “Built-in”"
    rig.press(inbox.TAP, "command")
    session = rig.running()
    session.say(PhraseRecognized(time.monotonic(), "fine"))
    rig.idle()
    assert rig.typed() == ["fine"]
    assert [c[0] for c in rig.notes.calls] == [rig.listener.note]


def test_the_release_of_a_second_tap_does_not_end_the_dictation_early(rig: Rig) -> None:
    """The second tap's release came while the text was on its way: it ended the
    dictation as "no match" before the text was typed."""
    rig.press(inbox.DOWN)
    rig.press(inbox.UP)
    session = rig.running()
    rig.listener.finals_at_stop = ("Stopped early.",)
    rig.press(inbox.DOWN)  # the second tap: stop, the service finalizes
    rig.press(inbox.UP)
    rig.idle()
    assert rig.typed() == ["Stopped early."] and session.stopped
    assert rig.controller.last.outcome == "typed"


def test_text_waits_for_the_hotkeys_release_whose_grab_would_take_the_keys(rig: Rig) -> None:
    """The second tap's key was still down when the text was ready: its grab took the
    first typed keys ("ped early.")."""
    rig.press(inbox.DOWN)
    rig.press(inbox.UP)
    rig.running()
    rig.listener.finals_at_stop = ("Stopped early.",)
    rig.press(inbox.DOWN)  # stop: the text is ready while the key is down
    time.sleep(0.2)
    assert rig.typed() == []
    rig.press(inbox.UP)
    rig.idle()
    assert rig.typed() == ["Stopped early."]


def test_text_is_typed_when_the_release_never_comes(rig: Rig) -> None:
    rig.press(inbox.TAP, "command")
    rig.running()
    rig.listener.finals_at_stop = ("lost release",)
    began = time.monotonic()
    rig.press(inbox.DOWN)  # `voicetype start` as a second tap, and no `stop`
    rig.idle()
    assert rig.typed() == ["lost release"]
    assert 0.9 < time.monotonic() - began < 3


def test_a_mashed_hotkey_makes_one_session_and_no_backlog(rig: Rig) -> None:
    """The service ends each session at once (no speech): old code started a new session
    for every other tap."""
    rig.listener.finals_at_stop = ()
    began = time.monotonic()
    for _ in range(50):
        rig.press(inbox.DOWN)
        rig.press(inbox.UP)
        time.sleep(0.01)
    assert time.monotonic() - began < 1.5
    rig.idle()
    assert len(rig.listener.sessions) == 1 and not rig.listener.mic()
    time.sleep(0.6)
    assert rig.press(inbox.DOWN) is PressOutcome.STARTED  # a press after a pause starts again


def test_a_press_right_after_a_dictation_that_ended_at_once_starts_again(rig: Rig) -> None:
    rig.press(inbox.DOWN)
    session = rig.running()
    rig.press(inbox.UP)
    session.say(SessionStopped(time.monotonic(), "service ended"))  # nothing heard
    rig.idle()
    assert rig.press(inbox.DOWN) is PressOutcome.STARTED
    assert len(rig.running(2).listener.sessions) == 2


def lost(label: str) -> MicrophoneLost:
    failure = Failed(ErrorKind.MICROPHONE_UNAVAILABLE, f"{label} was disconnected")
    return MicrophoneLost(time.monotonic(), failure, label)


def test_microphone_unplugged_while_held_stops_and_types_what_was_heard(rig: Rig) -> None:
    """Old code: a microphone failure while the key is held dropped the phrase being
    finalized and said "No microphone available" only at the release."""
    rig.press(inbox.DOWN)
    session = rig.running()
    time.sleep(0.3)  # push-to-talk
    session.say(PhraseRecognized(time.monotonic(), "Before the unplug."))
    rig.listener.finals_at_stop = ("Half a phrase.",)  # the service finalizes the rest
    session.say(lost("USB Headset"))
    wait_for(lambda: session.stopped, 2, "listening to stop")
    assert not rig.listener.mic() and len(rig.stop_sounds) == 1
    wait_for(lambda: rig.notes.calls, 2, "the notification")
    ((summary, body, _),) = rig.notes.calls
    assert summary == "The microphone “USB Headset” was disconnected"
    assert "default input" in body and "typed" in body
    rig.press(inbox.UP)  # the release means nothing more
    rig.idle()
    assert rig.typed() == ["Before the unplug. Half a phrase."]
    assert rig.controller.last.outcome == "typed" and len(rig.notes.calls) == 1


def test_microphone_unplugged_before_any_speech_types_nothing_and_says_so_once(
    rig: Rig,
) -> None:
    rig.press(inbox.TAP, "command")
    session = rig.running()
    session.say(lost("USB Headset"))
    rig.idle()
    assert session.stopped and rig.typed() == []
    assert [c[0] for c in rig.notes.calls] == ["The microphone “USB Headset” was disconnected"]
    assert rig.press(inbox.TAP, "command") is PressOutcome.STARTED  # the next one works


@pytest.mark.parametrize("rig", [Mode.TOGGLE], indirect=True)
def test_microphone_unplugged_in_hands_free_dictation_keeps_the_live_text(rig: Rig) -> None:
    rig.press(inbox.TAP, "command")
    session = rig.running()
    session.say(PhraseRecognized(time.monotonic(), "One."))
    wait_for(lambda: rig.typed() == ["One."], 2, "the first phrase")
    rig.listener.finals_at_stop = ("Two.",)
    session.say(lost("USB Headset"))
    rig.idle()
    assert rig.typed() == ["One.", " Two."] and session.stopped and not rig.listener.mic()
    assert [c[0] for c in rig.notes.calls] == ["The microphone “USB Headset” was disconnected"]
