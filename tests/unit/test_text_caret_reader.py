"""``AtspiCaretReader``'s side of the helper protocol, against fake helpers (no desktop):
answers matched by id, late answers discarded, every read bounded, the helper started and
restarted off the reader's path, a missing library reported with the fix; and the backend
choice."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.procs import wait_for

from voicetype.context import NoCaretReader, caret_reader
from voicetype.context import atspi as atspi_module
from voicetype.context.atspi import AtspiCaretReader
from voicetype.context.focus import Focus
from voicetype.errors import BackendUnavailable
from voicetype.text import CaretContext

FAKE = r"""
import json, sys, time
mode = sys.argv[1]
if mode == "slow-start":
    time.sleep(float(sys.argv[2]))
if mode == "broken":
    print(json.dumps({"error": "ValueError: Namespace Atspi not available"}), flush=True)
    sys.exit(3)
print(json.dumps({"ready": True}), flush=True)
for n, line in enumerate(sys.stdin):
    request = json.loads(line)
    if request.get("focus"):
        if mode == "frozen":
            time.sleep(0.3)
        answer = {"found": mode != "nofocus", "app": "gedit", "pid": 4242, "role": "text",
                  "terminal": False, "window": ":1.5/org/a11y/atspi/accessible/7"}
        answer["id"] = request["id"]
        print(json.dumps(answer), flush=True)
        continue
    pid = request["pid"]
    if mode == "slow-first" and n == 0:
        time.sleep(0.3)
    if mode == "die":
        sys.exit(1)
    if pid == 1:
        answer = {"found": True, "password": True}
    elif pid == 2:
        answer = {"found": False}
    else:
        answer = {"found": True, "password": False, "terminal": pid == 3,
                  "before": f"before {n}", "after": ""}
    answer["id"] = request["id"]
    print(json.dumps(answer), flush=True)
"""


def fake_reader(tmp_path: Path, mode: str, *args: str) -> AtspiCaretReader:
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE)
    return AtspiCaretReader(worker=[sys.executable, str(script), mode, *args])


def started(reader: AtspiCaretReader) -> AtspiCaretReader:
    reader.start()
    assert reader.wait_ready(10)
    return reader


@pytest.fixture
def normal(tmp_path: Path) -> Iterator[AtspiCaretReader]:
    reader = started(fake_reader(tmp_path, "normal"))
    yield reader
    reader.close()


def test_answers_become_caret_contexts(normal: AtspiCaretReader) -> None:
    assert normal.read(100) == CaretContext(before="before 0", after="")
    assert normal.read(1) == CaretContext(is_password=True)
    assert normal.read(2) is None
    assert normal.read(3) == CaretContext(before="before 3", after="", is_terminal=True)


def test_focus_answers_become_focus_and_are_bounded(tmp_path: Path) -> None:
    """The focused window for Wayland: parsed; nothing focused or no answer in time
    (a frozen application) gives None (treated as a terminal) within the bound."""
    normal = started(fake_reader(tmp_path, "normal"))
    frozen = started(fake_reader(tmp_path, "frozen"))
    nofocus = started(fake_reader(tmp_path, "nofocus"))
    try:
        assert normal.focused(0.1) == Focus(
            "gedit", 4242, "text", False, ":1.5/org/a11y/atspi/accessible/7"
        )
        assert nofocus.focused(0.1) is None
        start = time.monotonic()
        assert frozen.focused(0.1) is None
        assert time.monotonic() - start < 0.2
        assert normal.read(100) == CaretContext(before="before 1", after="")
    finally:
        for reader in (normal, frozen, nofocus):
            reader.close()


def test_a_late_answer_is_discarded_and_the_read_bounded(tmp_path: Path) -> None:
    reader = started(fake_reader(tmp_path, "slow-first"))
    try:
        start = time.monotonic()
        assert reader.read(100, timeout=0.1) is None
        assert time.monotonic() - start < 0.2
        # the first answer arrives late; the second read must get its own
        assert reader.read(100, timeout=1.0) == CaretContext(before="before 1", after="")
    finally:
        reader.close()


def test_a_dead_helper_gives_none_then_is_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = started(fake_reader(tmp_path, "die"))
    try:
        assert reader.read(100, timeout=1.0) is None  # it exited instead of answering
        assert reader.read(100, timeout=1.0) is None  # not restarted before RESTART_SECONDS
        assert not reader.wait_ready(0.2)
        monkeypatch.setattr(atspi_module, "RESTART_SECONDS", 0.0)
        start = time.monotonic()
        assert reader.read(100, timeout=1.0) is None  # a restart begins, in the background
        assert time.monotonic() - start < 0.05
        assert reader.wait_ready(10)  # the new helper is up (and dies at its first read)
    finally:
        reader.close()


def test_missing_library_is_reported_once_with_the_fix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = fake_reader(tmp_path, "broken")
    with caplog.at_level(logging.WARNING):
        reader.start()
        assert not reader.wait_ready(10)
    problem = reader.problem
    assert isinstance(problem, BackendUnavailable)
    assert "Namespace Atspi not available" in problem.message
    assert "gir1.2-atspi-2.0" in problem.fix
    assert "VOICETYPE_CARET=none" in problem.fix
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Reading the text before the cursor is off" in warnings[0]
    monkeypatch.setattr(atspi_module, "RESTART_SECONDS", 0.0)
    assert reader.read(100) is None
    assert not reader.wait_ready(0.3)  # off for good: no second start, no second warning
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    reader.close()


def test_a_slow_start_never_delays_a_read(tmp_path: Path) -> None:
    """The helper takes 1.5 s to connect (up to 5 s on a slow accessibility bus): start
    returns at once, reads meanwhile return None at once (memory decides), then work."""
    reader = fake_reader(tmp_path, "slow-start", "1.5")
    try:
        began = time.monotonic()
        reader.start()
        started_ms = (time.monotonic() - began) * 1000
        before = time.monotonic()
        assert reader.read(100, timeout=0.1) is None
        read_ms = (time.monotonic() - before) * 1000
        assert started_ms < 50 and read_ms < 20, (started_ms, read_ms)
        assert reader.wait_ready(10)
        assert reader.read(100, timeout=1.0) == CaretContext(before="before 0", after="")
        print(f"start returned in {started_ms:.1f} ms; a read while starting {read_ms:.2f} ms")
    finally:
        reader.close()


def test_close_while_starting_ends_the_helper(tmp_path: Path) -> None:
    reader = fake_reader(tmp_path, "slow-start", "30")
    reader.start()
    wait_for(lambda: reader._starting is not None, 5, "the helper process")
    helper = reader._starting
    assert helper is not None
    began = time.monotonic()
    reader.close()
    assert helper.wait(5) is not None and time.monotonic() - began < 3
    assert not reader.wait_ready(5)
    assert reader.read(100) is None


def test_close_is_final_and_idempotent(
    normal: AtspiCaretReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    normal.close()
    normal.close()
    monkeypatch.setattr(atspi_module, "RESTART_SECONDS", 0.0)
    assert normal.read(100, timeout=0.1) is None  # closed: never restarted


def test_reading_can_be_turned_off() -> None:
    reader = caret_reader({"VOICETYPE_CARET": "none"})
    assert isinstance(reader, NoCaretReader)
    assert reader.read(123) is None
