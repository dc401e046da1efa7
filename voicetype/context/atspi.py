"""``AtspiCaretReader``: the text before and after the caret through AT-SPI (Linux).

libatspi is not thread-safe and a frozen application blocks its calls for the D-Bus
timeout, so it runs in a helper process (``atspi_worker.py``, started with this Python,
which must see PyGObject and ``gir1.2-atspi-2.0``). This side only writes one JSON request
and waits for the matching answer with a deadline: a read costs about a millisecond and
never more than its ``timeout``; a late answer is discarded.

Starting the helper takes ~0.1 s (up to ``START_SECONDS`` on a slow accessibility bus), so
it never happens on a caller's path: ``start`` begins it on a thread of its own
("atspi-start") and returns at once; until the helper is ready a read returns None at once
(the caller falls back to its memory). When the first start fails (the library missing,
no accessibility bus) the problem is logged once and reading stays off; when a helper that
ran dies, a later read starts a new one the same way (at most once every
``RESTART_SECONDS``).
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

from voicetype.context.focus import Focus
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

_Answers = queue.Queue[dict[str, Any] | None]


class AtspiCaretReader:
    """Threading: ``read`` from one thread at a time (see ``CaretReader``); ``start``,
    ``wait_ready`` and ``close`` from any thread. No method blocks for longer than its
    timeout (``close``: the helper's end, ≤ 1 s)."""

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
        self._lock = threading.Lock()  # held only for short steps, never while waiting
        self._proc: subprocess.Popen[bytes] | None = None  # the ready helper
        self._answers: _Answers = queue.Queue()
        self._next_id = 0
        self._started_at = -RESTART_SECONDS  # when the last start began (monotonic)
        self._starting: subprocess.Popen[bytes] | None = None  # a helper not ready yet
        self._start_thread: threading.Thread | None = None
        self._ready = threading.Event()  # set when a start ended, ready or not
        self._ever_ready = False
        self._off = False  # the first start failed: reading stays off
        self.problem: BackendUnavailable | None = None  # why the last start failed
        self._closed = False

    def start(self) -> None:
        """Begin starting the helper in the background and return at once; reads return
        None until it is connected to the accessibility bus (``wait_ready``). Never
        raises: a failure is logged once and kept in ``problem``."""
        with self._lock:
            self._begin_start()

    def wait_ready(self, timeout: float) -> bool:
        """Whether the helper is ready, waiting at most ``timeout`` seconds for a start
        under way (tests, ``voicetype once``)."""
        self._ready.wait(timeout)
        with self._lock:
            return self._proc is not None and self._proc.poll() is None

    def _begin_start(self) -> None:
        """Under the lock: a start on the "atspi-start" thread, unless one is under way."""
        if self._closed or self._off or self._start_thread is not None:
            return
        self._started_at = time.monotonic()
        self._ready.clear()
        thread = threading.Thread(target=self._start, name="atspi-start", daemon=True)
        self._start_thread = thread
        thread.start()

    def _start(self) -> None:
        """The "atspi-start" thread: start the helper, wait (≤ ``START_SECONDS``) for it
        to be connected, then hand it to ``read``."""
        answers: _Answers = queue.Queue()
        problem: BackendUnavailable | None = None
        proc: subprocess.Popen[bytes] | None = None
        try:
            proc = subprocess.Popen(
                self._command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=self._env,
            )
        except OSError as exc:
            problem = BackendUnavailable(f"Cannot start the AT-SPI helper: {exc}", _FIX)
        if proc is not None:
            with self._lock:
                self._starting = proc
                closed = self._closed
            if closed:
                _stop(proc)
                proc = None
        if proc is not None:
            threading.Thread(
                target=self._pump, args=(proc, answers), name="atspi-answers", daemon=True
            ).start()
            try:
                first = answers.get(timeout=START_SECONDS)
            except queue.Empty:
                first = None
            if first is None or not first.get("ready"):
                _stop(proc)  # before reading proc's status: waits for it to end
                detail = (first or {}).get("error") or (
                    "its helper process ended" if proc.poll() is not None else "no answer in 5 s"
                )
                problem = BackendUnavailable(f"AT-SPI is not available: {detail}", _FIX)
                proc = None
        with self._lock:
            self._starting = None
            self._start_thread = None
            closed = self._closed
            if not closed and proc is not None:
                self._proc, self._answers, self._ever_ready = proc, answers, True
            elif not closed and problem is not None:
                self.problem = problem
                self._off = not self._ever_ready
            if closed:
                pass
            elif problem is not None and self._off:
                log.warning("Reading the text before the cursor is off: %s", problem)
            elif problem is not None:
                log.warning("Reading the text before the cursor failed: %s", problem.message)
            else:
                ms = (time.monotonic() - self._started_at) * 1000
                log.debug("AT-SPI helper ready %.0f ms after its start", ms)
            self._ready.set()
        if closed and proc is not None:
            _stop(proc)

    @staticmethod
    def _pump(proc: subprocess.Popen[bytes], answers: _Answers) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                answers.put(json.loads(line))
            except ValueError:
                continue
        answers.put(None)  # the helper ended

    def read(self, pid: int | None, timeout: float = 0.1) -> CaretContext | None:
        answer = self._ask({"pid": pid}, timeout)
        return _context(answer) if answer is not None else None

    def focused(self, timeout: float = 0.1) -> Focus | None:
        """The focused accessible of the active window in any application (see
        ``CaretReader.focused``); None when none is known within ``timeout``."""
        answer = self._ask({"focus": True}, timeout)
        return _focus(answer) if answer is not None else None

    def _ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The helper's answer to ``request`` within ``timeout``, else None."""
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            return None
        try:
            proc, answers = self._proc, self._answers
            if self._closed:
                return None
            if proc is None or proc.poll() is not None:
                self._proc = None  # dead: a new one, in the background, when it is time
                if time.monotonic() - self._started_at >= RESTART_SECONDS:
                    self._begin_start()
                return None
            self._next_id += 1
            number = self._next_id
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps({"id": number, **request}).encode() + b"\n")
                proc.stdin.flush()
            except OSError:
                return None
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                try:
                    answer = answers.get(timeout=left)
                except queue.Empty:
                    return None
                if answer is None:
                    return None  # the helper ended; restarted on a later read
                if answer.get("id") == number:
                    return answer
        finally:
            self._lock.release()

    def close(self) -> None:
        """End the helper (and one still starting); later reads return None at once."""
        with self._lock:
            self._closed = True
            proc, self._proc = self._proc, None
            starting = self._starting
        for p in (proc, starting):
            if p is not None:
                _stop(p)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the helper: closing its stdin ends it (≤ 1 s), else it is killed."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=1.0)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait(timeout=5.0)


def _focus(answer: dict[str, Any]) -> Focus | None:
    if not answer.get("found"):
        return None
    pid, window = answer.get("pid"), answer.get("window")
    return Focus(
        app=str(answer.get("app") or ""),
        pid=pid if isinstance(pid, int) else None,
        role=str(answer.get("role") or ""),
        terminal_role=bool(answer.get("terminal")),
        window=window if isinstance(window, str) else "",
    )


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
