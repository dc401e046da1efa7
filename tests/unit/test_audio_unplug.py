"""``audio.unplug``: the disconnection of the microphone in use is noticed from the sound
server's events (``pactl subscribe``), once, and only for that source. Fake ``pactl``
child and look-ups; no sound server."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping

from harness.procs import wait_for

from voicetype.audio.devices import DevicesUnavailable
from voicetype.audio.unplug import SourceWatch, find_source, parse_event

SOURCES = json.dumps(
    [
        {"index": 1, "name": "alsa_input.pci", "description": "Built-in Audio"},
        {"index": 7, "name": "alsa_input.usb", "description": "USB Headset"},
    ]
)


class FakeChild:
    """``pactl subscribe``: the test writes its lines; ``kill`` ends its output."""

    def __init__(self) -> None:
        read, self._write = os.pipe()
        self.stdout = os.fdopen(read, "r")
        self.killed = False
        self._lock = threading.Lock()

    def say(self, line: str) -> None:
        """A line of output; a killed ``pactl`` says nothing more (the watch kills it
        as soon as it has seen what it waited for, maybe before the test's next line)."""
        with self._lock:
            if not self.killed:
                os.write(self._write, (line + "\n").encode())

    def kill(self) -> None:
        with self._lock:
            if not self.killed:
                self.killed = True
                os.close(self._write)

    def wait(self, timeout: float | None = None) -> int:
        return 0


def pactl(default: str = "alsa_input.pci", fails: bool = False):  # type: ignore[no-untyped-def]
    def run(args: list[str], env: Mapping[str, str]) -> str:
        if fails:
            raise DevicesUnavailable("Cannot reach the sound server", "start it")
        return default + "\n" if args == ["get-default-source"] else SOURCES

    return run


def test_parse_event_and_find_source() -> None:
    assert parse_event("Event 'remove' on source #7\n") == ("remove", "source", 7)
    assert parse_event("Event 'change' on source-output #12") == ("change", "source-output", 12)
    assert parse_event("Got SIGINT, exiting.") is None
    assert find_source(SOURCES, "alsa_input.usb") == (7, "USB Headset")
    assert find_source(SOURCES, "gone") is None
    assert find_source("not json", "alsa_input.usb") is None


def test_the_removal_of_the_source_in_use_is_told_once_other_events_are_not() -> None:
    child, gone = FakeChild(), list[str]()
    told = threading.Event()

    def on_gone(description: str) -> None:
        gone.append(description)
        told.set()

    watch = SourceWatch.start("alsa_input.usb", on_gone, run=pactl(), spawn=lambda: child)
    wait_for(lambda: watch.watching == (7, "USB Headset"), 2, "the look-up")
    child.say("Event 'change' on source #7")
    child.say("Event 'remove' on source-output #7")
    child.say("Event 'remove' on source #1")  # another microphone
    child.say("Event 'remove' on source #7")
    child.say("Event 'remove' on source #7")
    assert told.wait(2)
    watch.thread.join(2)
    assert gone == ["USB Headset"] and child.killed and not watch.thread.is_alive()


def test_the_default_source_is_watched_when_none_is_named() -> None:
    child = FakeChild()
    watch = SourceWatch.start(None, lambda d: None, run=pactl(), spawn=lambda: child)
    wait_for(lambda: watch.watching == (1, "Built-in Audio"), 2, "the default's look-up")
    watch.stop()
    watch.thread.join(2)
    assert child.killed and not watch.thread.is_alive()


def test_stop_ends_the_watch_and_nothing_is_told_after_it() -> None:
    child, gone = FakeChild(), list[str]()
    watch = SourceWatch.start("alsa_input.usb", gone.append, run=pactl(), spawn=lambda: child)
    wait_for(lambda: watch.watching is not None, 2, "the look-up")
    watch.stop()
    watch.thread.join(2)
    assert not watch.thread.is_alive() and gone == []


def test_a_source_gone_before_the_look_up_is_told_and_no_server_is_no_watch() -> None:
    child, gone = FakeChild(), list[str]()
    watch = SourceWatch.start("usb_gone", gone.append, run=pactl(), spawn=lambda: child)
    watch.thread.join(2)
    assert gone == ["usb_gone"] and child.killed
    child2, gone2 = FakeChild(), list[str]()
    watch = SourceWatch.start("x", gone2.append, run=pactl(fails=True), spawn=lambda: child2)
    watch.thread.join(2)
    assert gone2 == [] and child2.killed


def test_no_pactl_is_no_watch() -> None:
    def missing() -> FakeChild:
        raise FileNotFoundError("pactl")

    gone: list[str] = []
    watch = SourceWatch.start("x", gone.append, run=pactl(), spawn=missing)
    watch.thread.join(2)
    assert gone == [] and not watch.thread.is_alive()
