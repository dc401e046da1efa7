"""``KeymapLease``: our temporary key bindings are cleared once, at their time, never while
a text is being typed with them, and at close at the latest. A fake X connection records
the keymap requests; no display."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from harness.procs import wait_for

from voicetype.insertion.x11_lease import KeymapLease


@dataclass
class FakeDisplay:
    requests: list[tuple[int, int, float]] = field(default_factory=list)  # first, count, at
    closed: bool = False

    def change_keyboard_mapping(self, first: int, rows: list[list[int]]) -> None:
        assert all(row == [0] * 7 for row in rows)
        self.requests.append((first, len(rows), time.monotonic()))

    def sync(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def lease_with(display: FakeDisplay) -> KeymapLease:
    return KeymapLease(":0", connect=lambda name: display)


def test_bindings_are_cleared_once_at_their_time_one_request_per_run() -> None:
    display = FakeDisplay()
    lease = lease_with(display)
    given_back = time.monotonic()
    lease.give_back({93, 183, 184}, 7, given_back + 0.2)
    time.sleep(0.1)
    assert display.requests == []  # keys typed on them may still wait in a window
    assert lease.wait_cleared(2)
    assert [(first, count) for first, count, _ in display.requests] == [(93, 1), (183, 2)]
    assert all(at >= given_back + 0.2 for _, _, at in display.requests)
    assert lease.take() == (frozenset(), given_back + 0.2)
    lease.give_back(set(), 7, 0.0)
    lease.close()
    assert lease.clears == 1 and display.closed


def test_a_run_that_holds_the_lease_keeps_the_bindings_past_their_time() -> None:
    display = FakeDisplay()
    lease = lease_with(display)
    lease.give_back({8}, 7, time.monotonic())
    wait_for(lambda: lease.clears == 1, 2, "the first clear")
    lease.give_back({8, 97}, 7, time.monotonic() + 0.05)
    ours, _ = lease.take()  # a new text starts before the clear: it reuses them
    assert ours == {8, 97}
    time.sleep(0.2)
    assert lease.clears == 1  # not while the text is typed with them
    lease.give_back(set(ours), 7, time.monotonic())
    wait_for(lambda: lease.clears == 2, 2, "the clear after the run")
    lease.close()


def test_close_clears_what_is_left_and_ends_the_thread() -> None:
    display = FakeDisplay()
    lease = lease_with(display)
    lease.give_back({120}, 7, time.monotonic() + 0.1)
    began = time.monotonic()
    lease.close()
    assert 0.09 < time.monotonic() - began < 1.5
    assert [(f, c) for f, c, _ in display.requests] == [(120, 1)] and display.closed
    assert not any(t.name == "x11-keymap-clear" for t in threading.enumerate())


def test_nothing_bound_starts_no_thread_and_no_connection() -> None:
    def no_connection(name: str | None) -> FakeDisplay:
        raise AssertionError("connected for nothing")

    lease = KeymapLease(":0", connect=no_connection)
    lease.take()
    lease.give_back(set(), 7, 0.0)
    lease.close()
    assert lease.clears == 0
