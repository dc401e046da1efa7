"""The tray menu's submenus (Recent, Microphone, Language) as a pure model, the live level
(thread and looks), and the microphone list made off the tray's loop — no desktop."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from voicetype.audio.devices import DevicesUnavailable, InputDevice
from voicetype.icons import LEVEL_STEPS, level_step
from voicetype.state import State
from voicetype.tray import Tray
from voicetype.tray.level import LevelWatch, Look, look_of
from voicetype.tray.menu import (
    LANGUAGE,
    LOOKING_FOR_MICROPHONES,
    MENU_ROWS,
    MICROPHONE,
    NO_DICTATIONS,
    NO_MICROPHONES,
    RECENT,
    SYSTEM_DEFAULT,
    Level,
    Microphones,
    Row,
    TrayActions,
    language_rows,
    menu_rows,
    microphone_rows,
    recent_rows,
    shorten,
    submenu_rows,
)
from voicetype.tray.microphones import MicrophoneList, menu_labels


def actions(**overrides: Any) -> TrayActions:
    base: dict[str, Any] = dict(
        dictate=lambda: None,
        set_enabled=lambda on: None,
        is_enabled=lambda: True,
        set_autostart=lambda on: None,
        is_autostart=lambda: False,
        open_config=lambda: None,
        quit=lambda: None,
    )
    return TrayActions(**{**base, **overrides})


def shown(rows: Sequence[Row]) -> list[tuple[str, bool | None, bool]]:
    return [(r.label, r.checked, r.enabled) for r in rows]


# -- Recent ------------------------------------------------------------------------------


def test_recent_is_one_greyed_row_before_any_dictation() -> None:
    assert shown(recent_rows(actions())) == [(NO_DICTATIONS, None, False)]


def test_recent_rows_are_shortened_and_a_click_types_the_whole_text() -> None:
    long = "This dictation is much longer than forty characters, for sure."
    lines = "first line\nsecond   line"
    typed: list[str] = []
    rows = recent_rows(actions(recent=lambda: (long, lines, "  ", "ok"), type_text=typed.append))
    assert [r.label for r in rows] == [
        "This dictation is much longer than fort…",
        "first line second line",
        "ok",
    ]
    assert len(rows[0].label) == 40
    for row in rows:
        row.action()
    assert typed == [long, lines, "ok"]  # the whole text, newest first, blanks left out


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("a" * 40, "a" * 40),  # exactly the limit: not cut
        ("a" * 41, "a" * 39 + "…"),
        ("word " * 7 + "end of it", "word word word word word word word end…"),  # no space before …
        ("ends with space then more" + " " * 20 + "x", "ends with space then more x"),
        ("tab\there", "tab here"),
        (
            "A dictation well over forty characters, typed again",
            "A dictation well over forty characters…",
        ),
    ],
)
def test_shorten(text: str, label: str) -> None:
    assert shorten(text) == label
    assert len(shorten(text)) <= 40


def test_a_failing_history_getter_is_logged_and_reads_as_empty(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> Sequence[str]:
        raise RuntimeError("no history")

    assert shown(recent_rows(actions(recent=broken))) == [(NO_DICTATIONS, None, False)]
    assert "tray menu content callback failed" in caplog.text


# -- Microphone --------------------------------------------------------------------------

INPUTS = (("alsa_input.usb-yeti", "Blue Yeti"), ("vt_second", "Second Mic"))


def test_microphone_rows_offer_the_default_and_each_input_the_chosen_one_checked() -> None:
    chosen: list[str] = []
    mics = actions(
        microphones=lambda: Microphones(INPUTS, "vt_second"), choose_microphone=chosen.append
    )
    rows = microphone_rows(mics)
    assert shown(rows) == [
        (SYSTEM_DEFAULT, False, True),
        ("Blue Yeti", False, True),
        ("Second Mic", True, True),
    ]
    for row in rows:
        row.action()
    assert chosen == ["", "alsa_input.usb-yeti", "vt_second"]


@pytest.mark.parametrize("chosen", ["", "unplugged_mic"])
def test_the_default_is_checked_when_nothing_or_an_absent_input_is_chosen(chosen: str) -> None:
    rows = microphone_rows(actions(microphones=lambda: Microphones(INPUTS, chosen)))
    assert [r.label for r in rows if r.checked] == [SYSTEM_DEFAULT]


def test_microphone_rows_without_inputs_or_before_the_list_arrived() -> None:
    none = actions(microphones=lambda: Microphones(()))
    assert shown(microphone_rows(none)) == [(NO_MICROPHONES, None, False)]
    waiting = actions(microphones=lambda: Microphones(None))
    assert shown(microphone_rows(waiting)) == [(LOOKING_FOR_MICROPHONES, None, False)]


def test_menu_labels_are_what_sound_settings_show_made_unique() -> None:
    devices = [
        InputDevice("a", "USB Mic"),
        InputDevice("b", "USB Mic"),
        InputDevice("c", "Webcam"),
        InputDevice("d", ""),
    ]
    assert menu_labels(devices) == (
        ("a", "USB Mic (a)"),
        ("b", "USB Mic (b)"),
        ("c", "Webcam"),
        ("d", "d"),
    )


# -- Language ----------------------------------------------------------------------------


def test_language_is_hidden_with_one_language_and_switches_among_several() -> None:
    assert language_rows(actions(languages=lambda: (("en-US",), "en-US"))) == ()
    chosen: list[str] = []
    several = actions(
        languages=lambda: (("en-US", "de-DE"), "de-DE"), choose_language=chosen.append
    )
    rows = language_rows(several)
    assert shown(rows) == [("en-US", False, True), ("de-DE", True, True)]
    rows[0].action()
    assert chosen == ["en-US"]
    automatic = actions(
        languages=lambda: (("auto", "en-US", "de-DE"), "auto"), choose_language=chosen.append
    )
    rows = language_rows(automatic)
    assert shown(rows)[0] == ("Automatic", True, True)
    rows[0].action()
    assert chosen[-1] == "auto"


def test_the_menu_rows_with_and_without_the_language_row() -> None:
    assert menu_rows() == MENU_ROWS
    assert RECENT in MENU_ROWS and MICROPHONE in MENU_ROWS and LANGUAGE not in MENU_ROWS
    with_language = menu_rows(languages=True)
    at = with_language.index(MICROPHONE)
    assert with_language[at + 1] == LANGUAGE
    assert with_language[: at + 1] + with_language[at + 2 :] == MENU_ROWS
    assert menu_rows(listening=True, languages=True).count(LANGUAGE) == 1


def test_submenu_rows_read_each_getter_at_each_call() -> None:
    history = ["one"]
    a = actions(recent=lambda: tuple(history))
    assert [r.label for r in submenu_rows(a)[RECENT]] == ["one"]
    history.insert(0, "two")
    assert [r.label for r in submenu_rows(a)[RECENT]] == ["two", "one"]
    assert submenu_rows(a)[LANGUAGE] == ()


def test_rows_compare_by_what_they_show_not_by_their_action() -> None:
    assert Row("x", key="k", action=lambda: None) == Row("x", key="k", action=print)
    assert Row("x", key="k") != Row("x", key="k", checked=True)
    assert Row("same label", key="text one") != Row("same label", key="text two")


# -- the live level ----------------------------------------------------------------------


def test_level_steps_follow_the_loudness() -> None:
    steps = [level_step(x) for x in (0.0, 0.0005, 0.001, 0.006, 0.02, 0.06, 0.5, 1.0)]
    assert steps == [0, 0, 1, 2, 3, 4, 4, 4]
    assert max(steps) == LEVEL_STEPS


def test_look_of_a_reading() -> None:
    assert look_of(None) == (None, "")
    assert look_of(Level(0.1, 0.2, "Blue Yeti")) == (4, "")
    assert look_of(Level(0.0, 2.9, "Blue Yeti")) == (0, "")
    assert look_of(Level(0.0, 3.0, "Blue Yeti")) == (0, "no sound from Blue Yeti")


class RecordingBackend:
    has_menu = True

    def __init__(self) -> None:
        self.shows: list[tuple[State, str, int | None]] = []
        self.changed = threading.Condition()

    def show(self, state: State, detail: str, level: int | None = None) -> None:
        with self.changed:
            self.shows.append((state, detail, level))
            self.changed.notify_all()

    def wait_for(self, wanted: tuple[State, str, int | None], timeout: float = 2.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: wanted in self.shows, timeout), self.shows

    def refresh_menu(self) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.fixture
def recording_tray(monkeypatch: pytest.MonkeyPatch) -> RecordingBackend:
    backend = RecordingBackend()
    monkeypatch.setenv("VOICETYPE_TRAY_BACKEND", "dummy")
    monkeypatch.setattr("voicetype.tray.open_backend", lambda name, actions, size: backend)
    return backend


def test_the_tray_shows_the_level_and_no_sound_only_while_listening(
    recording_tray: RecordingBackend,
) -> None:
    reading = {"value": Level(0.1, 0.0, "Second Mic")}
    reads: list[float] = []

    def level() -> Level | None:
        reads.append(time.monotonic())
        return reading["value"]

    tray = Tray(actions(level=level))
    try:
        assert reads == []  # idle: nothing reads the microphone
        tray.set_state(State.LISTENING)
        recording_tray.wait_for((State.LISTENING, "", 4))
        reading["value"] = Level(0.0, 3.2, "Second Mic")
        recording_tray.wait_for((State.LISTENING, "no sound from Second Mic", 0))
        assert tray.title == "voicetype — Listening… — no sound from Second Mic"
        count, started = len(reads), time.monotonic()
        time.sleep(0.55)
        rate = (len(reads) - count) / (time.monotonic() - started)
        assert rate <= 12, f"{rate:.1f} readings a second"  # ~10 a second at most
        shows = list(recording_tray.shows)
        assert all(a != b for a, b in itertools.pairwise(shows))  # changes only
        tray.set_state(State.RECOGNIZING)
        after = len(reads)
        reading["value"] = Level(0.5, 0.0, "Second Mic")
        time.sleep(0.3)
        assert len(reads) <= after + 1  # paused: at most the reading under way
        assert recording_tray.shows[-1] == (State.RECOGNIZING, "", None)
        assert tray.title == "voicetype — Recognizing…"
        tray.set_state(State.LISTENING)  # the next session starts without the old note
        assert recording_tray.shows[-1] == (State.LISTENING, "", None)
        recording_tray.wait_for((State.LISTENING, "", 4))
    finally:
        tray.stop()


def test_a_level_look_from_a_finished_session_is_dropped(
    recording_tray: RecordingBackend,
) -> None:
    tray = Tray(actions())
    tray.set_state(State.LISTENING)
    tray.set_state(State.IDLE)
    tray._show_level(1, (2, "no sound from X"))  # the level thread was late
    tray.set_state(State.LISTENING)
    tray._show_level(1, (2, "no sound from X"))  # …or from the session before
    assert all(level is None for _s, _d, level in recording_tray.shows)
    tray.stop()


def test_level_watch_shows_only_changes_and_survives_a_failing_reader(
    caplog: pytest.LogCaptureFixture,
) -> None:
    looks: list[tuple[int, Look]] = []
    third = threading.Event()
    readings: list[Level | None] = [None, Level(0.1, 0, "m"), Level(0.1, 0, "m")]

    def read() -> Level | None:
        if not readings:
            raise RuntimeError("capture gone")
        return readings.pop(0)

    def show(session: int, look: Look) -> None:
        looks.append((session, look))
        if len(looks) == 3:
            third.set()

    watch = LevelWatch(read, show, interval=0.01)
    watch.listen(7)
    assert third.wait(2)
    # the same reading twice is shown once; a failing read counts as no reading
    assert looks[:3] == [(7, (None, "")), (7, (4, "")), (7, (None, ""))]
    watch.listen(8)  # still failing: logged once a session, not ten times a second
    wait_until(lambda: caplog.text.count("reading the microphone level failed") == 2)
    time.sleep(0.1)
    watch.stop()
    assert caplog.text.count("reading the microphone level failed") == 2


# -- the microphone list -----------------------------------------------------------------


def test_microphone_list_lists_off_the_caller_and_refreshes_when_stale() -> None:
    now = [0.0]
    calls: list[str] = []
    gate = threading.Event()
    devices = [InputDevice("vt_mic", "vt_mic", True), InputDevice("vt_second", "Second Mic")]

    def list_inputs() -> list[InputDevice]:
        calls.append(threading.current_thread().name)
        assert gate.wait(2)
        return list(devices)

    changed = threading.Event()
    mics = MicrophoneList(list_inputs, max_age=5, clock=lambda: now[0])
    mics.on_change = changed.set
    started = time.monotonic()
    assert mics.devices() is None  # answers at once while pactl runs elsewhere
    assert mics.devices() is None  # one listing at a time
    assert time.monotonic() - started < 0.05
    gate.set()
    assert changed.wait(2) and mics.wait_listed(1)
    assert calls == ["tray-microphones"]
    assert [d.name for d in mics.devices() or ()] == ["vt_mic", "vt_second"]
    assert mics.chosen("second mic") == "vt_second"  # by description, as [audio] device
    assert mics.chosen("") == "" and mics.chosen("gone") == ""
    assert (mics.label(None), mics.label("vt_second"), mics.label("x")) == (
        "vt_mic",
        "Second Mic",
        "x",
    )
    changed.clear()
    now[0] = 4.9
    mics.devices()
    assert len(calls) == 1  # fresh enough
    now[0] = 5.0
    mics.devices()
    wait_until(lambda: len(calls) == 2)
    assert not changed.wait(0.1)  # the same list: no refresh of the menu


def test_microphone_list_without_a_sound_server_is_empty() -> None:
    def no_server() -> list[InputDevice]:
        raise DevicesUnavailable("Cannot reach the sound server", "start PulseAudio")

    mics = MicrophoneList(no_server)
    mics.devices()
    assert mics.wait_listed(2)
    assert mics.devices() == ()
    assert mics.label(None) == "the default microphone"


def wait_until(condition: Any, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_no_microphone_submenu_where_inputs_cannot_be_chosen() -> None:
    hidden = actions(microphones=lambda: Microphones((), offered=False))
    assert microphone_rows(hidden) == ()


def test_microphone_list_once_lists_only_when_never_listed() -> None:
    calls: list[int] = []

    def list_inputs() -> list[InputDevice]:
        calls.append(1)
        return []

    mics = MicrophoneList(list_inputs, max_age=0)
    mics.list_once()
    assert mics.wait_listed(2)
    mics.list_once()  # listed (even though stale): no second listing
    assert calls == [1]
