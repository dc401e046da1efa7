"""``AtspiCaretReader``: the text before and after the caret through AT-SPI (Linux).

libatspi is not thread-safe and a frozen application blocks its calls for the D-Bus
timeout, so it runs in a helper process (``atspi_worker.py``, started with this Python,
which must see PyGObject and ``gir1.2-atspi-2.0``). This side only writes one JSON request
and waits for the matching answer with a deadline: a read costs about a millisecond and
never more than its ``timeout``; a late answer is discarded. If the helper dies, the next
read starts a new one (at most once every ``RESTART_SECONDS``).
"""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from voicetype.errors import BackendUnavailable
from voicetype.text.model import CaretContext
from voicetype.text.pipeline import CONTEXT_CHARS

log = logging.getLogger(__name__)

START_SECONDS = 5.0
RESTART_SECONDS = 30.0
_FIX = (
    "install the accessibility libraries (Debian/Ubuntu: sudo apt install python3-gi "
    "gir1.2-atspi-2.0 at-spi2-core), or set VOICETYPE_CARET=none"
)


class AtspiCaretReader:
    def __init__(
        self,
        python: str = sys.executable,
        chars: int = CONTEXT_CHARS,
        call_timeout_ms: int = 50,
        enable_accessibility: bool = True,
        env: dict[str, str] | None = None,
        worker: Sequence[str] = (),
    ) -> None:
        """``worker``: another helper command speaking the same protocol (tests)."""
        self._command = list(worker) or [
            python,
            "-m",
            "voicetype.context.atspi_worker",
            str(chars),
            str(call_timeout_ms),
            "1" if enable_accessibility else "0",
        ]
        self._env = env
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next_id = 0
        self._started_at = 0.0
        self._closed = False

    def start(self) -> None:
        """Start the helper and wait (≤ 5 s) until it is connected to the accessibility
        bus. Raises ``BackendUnavailable`` with the fix when it cannot be."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        self._started_at = time.monotonic()
        self._answers = queue.Queue()
        try:
            proc = subprocess.Popen(
                self._command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=self._env,
            )
        except OSError as exc:
            raise BackendUnavailable(f"Cannot start the AT-SPI helper: {exc}", _FIX) from exc
        self._proc = proc
        threading.Thread(
            target=self._pump, args=(proc, self._answers), name="atspi-answers", daemon=True
        ).start()
        try:
            first = self._answers.get(timeout=START_SECONDS)
        except queue.Empty:
            first = None
        if first is None or not first.get("ready"):
            self._stop()  # before reading proc's status: waits for it to end
            detail = (first or {}).get("error") or (
                "its helper process ended" if proc.poll() is not None else "no answer in 5 s"
            )
            raise BackendUnavailable(f"AT-SPI is not available: {detail}", _FIX)

    @staticmethod
    def _pump(proc: subprocess.Popen[bytes], answers: queue.Queue[dict[str, Any] | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                answers.put(json.loads(line))
            except ValueError:
                continue
        answers.put(None)  # the helper ended

    def read(self, pid: int | None, timeout: float = 0.1) -> CaretContext | None:
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            return None
        try:
            proc = self._proc
            if self._closed:
                return None
            if proc is None or proc.poll() is not None:
                if time.monotonic() - self._started_at < RESTART_SECONDS:
                    return None
                try:
                    self._start()
                except BackendUnavailable as exc:
                    log.warning("Reading the text before the cursor failed: %s", exc.message)
                    return None
                proc = self._proc
                assert proc is not None
            self._next_id += 1
            number = self._next_id
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps({"id": number, "pid": pid}).encode() + b"\n")
                proc.stdin.flush()
            except OSError:
                return None
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                try:
                    answer = self._answers.get(timeout=left)
                except queue.Empty:
                    return None
                if answer is None:
                    return None  # the helper ended; restarted on a later read
                if answer.get("id") == number:
                    return _context(answer)
        finally:
            self._lock.release()

    def close(self) -> None:
        """End the helper; later reads return None at once."""
        with self._lock:
            self._closed = True
            self._stop()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=1.0)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(timeout=5.0)


def _context(answer: dict[str, Any]) -> CaretContext | None:
    if not answer.get("found"):
        return None
    if answer.get("password"):
        return CaretContext(is_password=True)
    before, after = answer.get("before"), answer.get("after")
    return CaretContext(
        before=before if isinstance(before, str) else None,
        after=after if isinstance(after, str) else None,
        is_terminal=bool(answer.get("terminal")),
    )
