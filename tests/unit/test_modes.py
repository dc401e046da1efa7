"""The recording-mode state machine (voicetype.modes): pure, table-driven."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from voicetype.modes import (
    ALREADY_DOWN,
    FINISHING,
    NOT_LISTENING,
    Action,
    Cancel,
    CancelSession,
    CloseSession,
    Dictate,
    Event,
    GrabCancelKey,
    Ignore,
    Mode,
    ModeMachine,
    ModeSettings,
    NoSpeech,
    Notify,
    Phase,
    Phrase,
    Press,
    Release,
    ReleaseCancelKey,
    SessionEnded,
    SessionFailed,
    Speech,
    StartSession,
    StopAndFlush,
    Tick,
    TypeAll,
    TypePhrase,
    join_phrases,
)

START = [StartSession(), GrabCancelKey()]
END = ReleaseCancelKey()


@dataclass(frozen=True)
class Case:
    name: str
    mode: Mode
    steps: tuple[tuple[Event, Sequence[object]], ...]
    phase: Phase = Phase.IDLE  # where the machine ends


def run(mode: Mode, steps: tuple[tuple[Event, Sequence[object]], ...]) -> ModeMachine:
    m = ModeMachine(ModeSettings(mode=mode))
    for i, (event, expected) in enumerate(steps):
        got = m.feed(event)
        assert got == list(expected), f"step {i} {event}: {got} != {expected}"
    return m


CASES = [
    # ---------------------------------------------------------------- auto
    Case(
        "auto tap: one utterance ends with the first final phrase",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Release(0.1), []),
            (Tick(0.4), []),
            (Speech(0.5), []),
            (Phrase(2.0, "Hello world."), [CloseSession(), TypeAll("Hello world."), END]),
            (Phrase(2.1, "late"), []),
            (SessionEnded(2.2), []),
        ),
    ),
    Case(
        "auto tap-tap: the second press stops now and types what was recognized",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Release(0.1), []),
            (Speech(0.3), []),
            (Press(0.9), [StopAndFlush("second tap")]),
            (Release(1.0), []),
            (Phrase(1.2, "Half a sentence"), []),
            (SessionEnded(1.3), [TypeAll("Half a sentence"), END]),
        ),
    ),
    Case(
        "auto: released before the threshold after speech started is still a tap",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Speech(0.05), []),
            (Release(0.3), []),
            (Tick(0.4), []),
            (Phrase(1.5, "Quick one."), [CloseSession(), TypeAll("Quick one."), END]),
        ),
    ),
    Case(
        "auto: the utterance ended while the key was still down (below the threshold)",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Phrase(0.3, "Yes."), []),
            (Release(0.35), [CloseSession(), TypeAll("Yes."), END]),
        ),
    ),
    Case(
        "auto hold: push-to-talk through pauses, all phrases typed once after release",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Tick(0.4), []),
            (Phrase(3.0, "One."), []),
            (Phrase(8.0, "Two."), []),
            (Tick(20.0), []),  # no 15/20 s limit in a hold
            (Phrase(40.0, "Three. "), []),
            (Release(60.0), [StopAndFlush("released")]),
            (Phrase(60.5, "Four."), []),
            (SessionEnded(60.6), [TypeAll("One. Two. Three. Four."), END]),
        ),
    ),
    Case(
        "auto hold decided by timestamps when the tick came late",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Release(0.5), [StopAndFlush("released")]),
            (SessionEnded(0.7), [NoSpeech(), END]),
        ),
    ),
    Case(
        "auto tap with no speech: the service's no-match ends it",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Release(0.1), []),
            (Phrase(5.0, ""), [CloseSession(), NoSpeech(), END]),
        ),
    ),
    Case(
        "auto tap listens at most tap_max_seconds",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Release(0.1), []),
            (Tick(19.9), []),
            (Tick(20.0), [StopAndFlush("still listening after 20 s")]),
            (SessionEnded(20.5), [NoSpeech(), END]),
        ),
    ),
    Case(
        "auto: a press while finishing is ignored, never a second session",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Release(0.1), []),
            (Press(0.2), [StopAndFlush("second tap")]),
            (Release(0.3), []),
            (Press(0.4), [Ignore(FINISHING)]),
            (Release(0.45), []),
            (SessionEnded(0.5), [NoSpeech(), END]),
            (Press(0.6), START),
        ),
        Phase.PRESSED,
    ),
    Case(
        "hold failing while the key is down: mic closed now, the notification at release",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Tick(0.4), []),
            (Phrase(2.0, "Kept."), []),
            (SessionFailed(2.5, "Cannot reach the speech service"), [CloseSession()]),
            (Release(9.0), [TypeAll("Kept."), Notify("Cannot reach the speech service"), END]),
        ),
    ),
    Case(
        "failure during a tap: what was heard is typed, one notification",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Release(0.1), []),
            (SessionFailed(3.0, "The connection dropped"), [Notify("The connection dropped"), END]),
        ),
    ),
    # ---------------------------------------------------------------- toggle
    Case(
        "toggle: phrases typed live with one space between, a press stops",
        Mode.TOGGLE,
        (
            (Press(0.0), START),
            (Release(0.1), []),
            (Phrase(2.0, "Hello world."), [TypePhrase("Hello world.")]),
            (Phrase(4.0, "How are you?"), [TypePhrase(" How are you?")]),
            (Phrase(4.5, ""), []),
            (Press(6.0), [StopAndFlush("stopped")]),
            (Release(6.1), []),
            (Phrase(6.3, "Bye."), [TypePhrase(" Bye.")]),
            (SessionEnded(6.4), [END]),
        ),
    ),
    Case(
        "toggle stops after idle_stop_seconds without speech, saying why",
        Mode.TOGGLE,
        (
            (Press(0.0), START),
            (Release(0.1), []),
            (Speech(10.0), []),
            (Tick(39.9), []),
            (
                Tick(40.0),
                [Notify("Dictation stopped: no speech for 30 s"), StopAndFlush("idle")],
            ),
            (SessionEnded(40.5), [NoSpeech(), END]),
        ),
    ),
    Case(
        "toggle stops after max_session_minutes even while speaking",
        Mode.TOGGLE,
        (
            (Press(0.0), START),
            (Speech(590.0), []),
            (Phrase(599.0, "Still talking."), [TypePhrase("Still talking.")]),
            (
                Tick(600.0),
                [
                    Notify("Dictation stopped after 10 minutes, the longest session"),
                    StopAndFlush("max session"),
                ],
            ),
            (SessionEnded(600.2), [END]),
        ),
    ),
    Case(
        "toggle: network drops mid-session, typed phrases stay, one notification",
        Mode.TOGGLE,
        (
            (Press(0.0), START),
            (Phrase(2.0, "Typed."), [TypePhrase("Typed.")]),
            (SessionFailed(3.0, "The connection dropped"), [Notify("The connection dropped"), END]),
            (SessionFailed(3.1, "again"), []),
        ),
    ),
    # ---------------------------------------------------------------- hold / once
    Case(
        "hold: press opens, release stops and types",
        Mode.HOLD,
        (
            (Press(0.0), START),
            (Phrase(1.0, "A"), []),
            (Release(0.2), [StopAndFlush("released")]),
            (Phrase(0.4, "b"), []),
            (SessionEnded(0.5), [TypeAll("A b"), END]),
        ),
    ),
    Case(
        "once: one utterance, a second press stops early",
        Mode.ONCE,
        (
            (Press(0.0), START),
            (Tick(5.0), []),  # a long press is no hold in once mode
            (Release(5.0), []),
            (Press(6.0), [StopAndFlush("second tap")]),
            (Release(6.1), []),
            (SessionEnded(6.2), [NoSpeech(), END]),
        ),
    ),
    # ---------------------------------------------------------------- cancel
    Case(
        "cancel while holding: nothing typed, the release means nothing",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Tick(0.4), []),
            (Phrase(2.0, "Secret."), []),
            (Cancel(2.5), [CancelSession(), END]),
            (Release(3.0), []),
            (Phrase(3.1, "late"), []),
            (SessionEnded(3.2), []),
        ),
    ),
    Case(
        "cancel while finishing: nothing typed",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Release(0.1), []),
            (Press(1.0), [StopAndFlush("second tap")]),
            (Cancel(1.05), [CancelSession(), END]),
            (Release(1.1), []),
            (Phrase(1.2, "dropped"), []),
        ),
    ),
    Case(
        "Escape when not listening is not ours",
        Mode.AUTO,
        ((Cancel(0.0), [Ignore(NOT_LISTENING)]),),
    ),
    Case(
        "cancel in toggle mode keeps what was typed, types nothing more",
        Mode.TOGGLE,
        (
            (Press(0.0), START),
            (Phrase(1.0, "One."), [TypePhrase("One.")]),
            (Cancel(1.5), [CancelSession(), END]),
        ),
    ),
    # ---------------------------------------------------------------- commands
    Case(
        "dictate is a tap, a second dictate stops",
        Mode.AUTO,
        (
            (Dictate(0.0), START),
            (Tick(0.4), []),
            (Dictate(2.0), [StopAndFlush("stopped")]),
            (Dictate(2.1), [Ignore(FINISHING)]),
            (Phrase(2.2, "Done."), []),
            (SessionEnded(2.3), [TypeAll("Done."), END]),
        ),
    ),
    Case(
        "dictate in hold mode is one utterance",
        Mode.HOLD,
        (
            (Dictate(0.0), START),
            (Phrase(1.0, "Short."), [CloseSession(), TypeAll("Short."), END]),
        ),
    ),
    Case(
        "dictate in toggle mode toggles",
        Mode.TOGGLE,
        (
            (Dictate(0.0), START),
            (Phrase(1.0, "Live."), [TypePhrase("Live.")]),
            (Dictate(2.0), [StopAndFlush("stopped")]),
            (SessionEnded(2.1), [END]),
        ),
    ),
    Case(
        "start/stop from the CLI are press and release (sway bindsym --release)",
        Mode.AUTO,
        (
            (Press(0.0), START),
            (Press(0.1), [Ignore(ALREADY_DOWN)]),  # hotkey and `start` both
            (Tick(0.4), []),
            (Release(5.0), [StopAndFlush("released")]),
            (Release(5.1), [Ignore("the key was not down")]),
            (SessionEnded(5.5), [NoSpeech(), END]),
        ),
    ),
    Case(
        "stop when idle does nothing",
        Mode.TOGGLE,
        ((Release(0.0), [Ignore("the key was not down")]),),
    ),
    Case(
        "recognizer events with no session are dropped",
        Mode.AUTO,
        (
            (Phrase(0.0, "stray"), []),
            (SessionEnded(0.1), []),
            (SessionFailed(0.2, "x"), []),
            (Speech(0.3), []),
            (Tick(0.4), []),
        ),
    ),
    Case(
        "finishing is bounded: no SessionEnded → what was heard is typed",
        Mode.HOLD,
        (
            (Press(0.0), START),
            (Phrase(1.0, "Heard."), []),
            (Release(2.0), [StopAndFlush("released")]),
            (Tick(6.9), []),
            (Tick(7.0), [CloseSession(), TypeAll("Heard."), END]),
            (SessionEnded(9.0), []),
        ),
    ),
    Case(
        "the service ends the session while the key is held: reported at release",
        Mode.HOLD,
        (
            (Press(0.0), START),
            (SessionEnded(1.0), [CloseSession()]),
            (Release(2.0), [Notify("the speech service ended the session"), END]),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_mode_table(case: Case) -> None:
    machine = run(case.mode, case.steps)
    assert machine.phase is case.phase


def test_fifty_taps_in_a_second_give_one_session_and_no_backlog() -> None:
    m = ModeMachine(ModeSettings(mode=Mode.AUTO))
    actions: list[Action] = []
    for i in range(50):
        actions += m.feed(Press(i * 0.02))
        actions += m.feed(Release(i * 0.02 + 0.01))
    assert actions.count(StartSession()) == 1
    assert [a for a in actions if isinstance(a, StopAndFlush)] == [StopAndFlush("second tap")]
    assert m.phase is Phase.FINISHING
    assert m.feed(SessionEnded(1.05)) == [NoSpeech(), END]
    assert not m.in_session
    assert m.feed(Tick(5.0)) == []  # nothing queued behind it
    assert m.next_deadline() is None


@pytest.mark.parametrize(
    ("mode", "phase", "deadline"),
    [
        (Mode.AUTO, Phase.PRESSED, 10.4),
        (Mode.HOLD, Phase.HOLD, 610.0),
        (Mode.TOGGLE, Phase.TOGGLE, 40.0),
        (Mode.ONCE, Phase.TAP, 30.0),
    ],
)
def test_next_deadline_after_a_press(mode: Mode, phase: Phase, deadline: float) -> None:
    m = ModeMachine(ModeSettings(mode=mode))
    m.feed(Press(10.0))
    assert m.phase is phase
    assert m.listening
    assert m.next_deadline() == pytest.approx(deadline)


def test_toggle_idle_deadline_moves_with_speech() -> None:
    m = ModeMachine(ModeSettings(mode=Mode.TOGGLE, idle_stop_seconds=5))
    m.feed(Press(0.0))
    m.feed(Speech(3.0))
    assert m.next_deadline() == 8.0
    m.feed(Phrase(4.0, "x"))
    assert m.next_deadline() == 9.0


def test_custom_hold_threshold() -> None:
    m = ModeMachine(ModeSettings(mode=Mode.AUTO, hold_threshold_ms=1000))
    m.feed(Press(0.0))
    assert m.feed(Release(0.9)) == []
    assert m.phase is Phase.TAP


@pytest.mark.parametrize(
    ("phrases", "joined"),
    [
        (["Hello world.", "How are you?"], "Hello world. How are you?"),
        (["world.", " How"], "world. How"),
        (["a ", "", "  ", "b"], "a b"),
        ([], ""),
        (["你好。", "世界"], "你好。 世界"),
    ],
)
def test_join_phrases(phrases: list[str], joined: str) -> None:
    assert join_phrases(phrases) == joined
