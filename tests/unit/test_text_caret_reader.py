"""``AtspiCaretReader``'s side of the helper protocol, against fake helpers (no desktop):
answers matched by id, late answers discarded, every read bounded, a dead helper
restarted, a missing library reported with the fix; and the backend choice."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicetype.context import NoCaretReader, caret_reader
from voicetype.context import atspi as atspi_module
from voicetype.context.atspi import AtspiCaretReader
from voicetype.errors import BackendUnavailable
from voicetype.text import CaretContext

FAKE = r"""
import json, sys, time
mode = sys.argv[1]
if mode == "broken":
    print(json.dumps({"error": "ValueError: Namespace Atspi not available"}), flush=True)
    sys.exit(3)
print(json.dumps({"ready": True}), flush=True)
for n, line in enumerate(sys.stdin):
    request = json.loads(line)
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


def fake_reader(tmp_path: Path, mode: str) -> AtspiCaretReader:
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE)
    return AtspiCaretReader(worker=[sys.executable, str(script), mode])


@pytest.fixture
def normal(tmp_path: Path) -> Iterator[AtspiCaretReader]:
    reader = fake_reader(tmp_path, "normal")
    reader.start()
    yield reader
    reader.close()


def test_answers_become_caret_contexts(normal: AtspiCaretReader) -> None:
    assert normal.read(100) == CaretContext(before="before 0", after="")
    assert normal.read(1) == CaretContext(is_password=True)
    assert normal.read(2) is None
    assert normal.read(3) == CaretContext(before="before 3", after="", is_terminal=True)


def test_a_late_answer_is_discarded_and_the_read_bounded(tmp_path: Path) -> None:
    reader = fake_reader(tmp_path, "slow-first")
    reader.start()
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
    reader = fake_reader(tmp_path, "die")
    reader.start()
    try:
        assert reader.read(100, timeout=1.0) is None  # it exited instead of answering
        monkeypatch.setattr(atspi_module, "RESTART_SECONDS", 0.0)
        start = time.monotonic()
        assert reader.read(100, timeout=1.0) is None  # restarted, and it dies again
        assert time.monotonic() - start < 1.5
    finally:
        reader.close()


def test_missing_library_is_reported_with_the_fix(tmp_path: Path) -> None:
    reader = fake_reader(tmp_path, "broken")
    with pytest.raises(BackendUnavailable) as caught:
        reader.start()
    assert "Namespace Atspi not available" in caught.value.message
    assert "gir1.2-atspi-2.0" in caught.value.fix
    assert "VOICETYPE_CARET=none" in caught.value.fix


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
