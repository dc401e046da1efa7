"""``recognition.sdk_gate``: the SDK's objects are dropped only once none of its callbacks
has run for a quiet time (dropping them while one returns aborted the process in CI)."""

from __future__ import annotations

import threading
import time

import pytest

from voicetype.recognition.sdk_gate import CallbackGate

QUIET = 0.1


def test_a_gate_nothing_went_through_settles_after_the_quiet_time() -> None:
    gate = CallbackGate(QUIET)
    start = time.monotonic()
    assert gate.settle(2)
    assert QUIET <= time.monotonic() - start < 1


def test_a_callback_in_flight_holds_the_release_until_it_returned_and_a_quiet_time_passed() -> None:
    gate = CallbackGate(QUIET)
    inside, leave = threading.Event(), threading.Event()
    woken = threading.Event()

    def session_stopped(_evt: object) -> None:
        inside.set()
        woken.set()  # as the real callback wakes the owner, which then wants to release
        leave.wait(5)

    worker = threading.Thread(target=gate.wrap(session_stopped), args=(None,))
    worker.start()
    assert inside.wait(2) and woken.wait(2)
    assert not gate.settle(0.3)  # still in flight: not safe
    leave.set()
    worker.join(2)
    returned = time.monotonic()
    assert gate.settle(2)
    assert time.monotonic() - returned >= QUIET * 0.9


def test_a_callback_that_raises_is_counted_out() -> None:
    gate = CallbackGate(QUIET)

    def broken(_evt: object) -> None:
        raise ValueError("bad event")

    with pytest.raises(ValueError):
        gate.wrap(broken)(None)
    assert gate.settle(2)


def test_the_wrapped_callback_keeps_its_arguments_and_result() -> None:
    gate = CallbackGate(QUIET)
    assert gate.wrap(lambda a, b: a + b)(2, 3) == 5
