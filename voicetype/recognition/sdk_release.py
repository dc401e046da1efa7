"""When a finished single-utterance recognition's Speech SDK objects may be dropped.

``Run`` is what the SDK's callbacks record of one recognition (under its ``cond``), and
``release_when_idle`` destroys the recognition's SDK objects once the SDK's own threads are done
with them (see its docstring for why it matters: dropping them too early aborts the whole
process). No SDK import: the objects are used only through the few methods named here, so
tests drive this with fakes (tests/unit/test_azure_release.py); ``azure`` runs it on the
real SDK.

Threading: ``Run``'s methods are the SDK's callbacks (any thread); ``release_when_idle`` runs on the
caller's thread and may leave the last of its work to a helper (``azure-release``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from voicetype.recognition.sdk_gate import CallbackGate, keep_forever

log = logging.getLogger("voicetype.recognition.azure")  # one logger for the SDK glue

# How long one waits for the SDK after asking it to stop, or for its connection's end.
STOP_GRACE_SECONDS = 2.0


@dataclass
class Run:
    """One running recognition; the SDK's callbacks only touch this under ``cond``."""

    cond: threading.Condition
    last_activity: float
    result: Any = None
    error: BaseException | None = None
    done: bool = False
    cancelled: bool = False
    stopped: bool = False  # the SDK reported session_stopped
    disconnected: bool = False  # ... and its connection's ``disconnected``
    hypothesis: str = ""  # the last hypothesis within the text cap
    hypothesis_too_long: bool = False
    gate: CallbackGate = field(default_factory=CallbackGate)  # every SDK callback wrapped

    def touch(self, _evt: object = None) -> None:
        with self.cond:
            self.last_activity = time.monotonic()
            self.cond.notify_all()

    def disconnect(self, _evt: object = None) -> None:
        with self.cond:
            self.disconnected = True
            self.cond.notify_all()

    def stop(self, _evt: object = None) -> None:
        log.debug("SDK session stopped at t=%.6f", time.monotonic())
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    def hypothesize(self, text: str | None) -> None:
        with self.cond:
            self.last_activity = time.monotonic()
            if text is None:
                self.hypothesis_too_long = True
            elif text:
                self.hypothesis, self.hypothesis_too_long = text, False
            self.cond.notify_all()


# How long a finished recognition's session may take to report its end by itself.
_STOPPED_GRACE_SECONDS = 0.5


def release_when_idle(box: list[Any], run: Run) -> None:
    """Destroy a finished recognition's SDK objects (``box``: ``[recognizer, connection]``,
    the only references to them) once the SDK's own threads are done with them; returns
    when they are gone, or after ~``STOP_GRACE_SECONDS`` with a helper still at it.

    The SDK aborts the whole process (``Fatal Python error: Aborted`` in
    ``_Handle.__del__``, seen in CI right after a long recognition) when its objects are
    destroyed while it still works on them. So: ``session_stopped`` is awaited; when it
    does not come by itself within ``_STOPPED_GRACE_SECONDS`` of the result — the SDK
    sometimes never reports it (its session stays in "processing audio leftovers" after
    the service's ``turn.end``: 1 in ~25-60 recognitions here) — a helper thread asks the
    SDK to stop and awaits that (1-2 ms then), then the connection is closed, its
    ``disconnected`` awaited and the callbacks taken off, and no callback may have run
    for a quiet time (``_quiesce``, ``sdk_gate``). A session that never ends, or a
    callback that never returns, keeps the objects for the life of the process."""
    with run.cond:
        stopped = run.cond.wait_for(lambda: run.stopped, _STOPPED_GRACE_SECONDS)
    if stopped:
        _drop(box, run)
        return
    log.debug("the SDK did not report the session's end; stopping it")
    helper = threading.Thread(
        target=_stop_then_drop, args=(box, run), name="azure-release", daemon=True
    )
    helper.start()
    helper.join(STOP_GRACE_SECONDS + 2 * _STOPPED_GRACE_SECONDS + 1)
    if helper.is_alive():
        log.info("the Speech SDK did not stop in time; releasing it in the background")


def _stop_then_drop(box: list[Any], run: Run) -> None:
    """On a helper thread: the SDK's stop may block (up to ~10 s, see session.py)."""
    try:
        box[0].stop_continuous_recognition_async().get()
    except RuntimeError as exc:  # it ended meanwhile
        log.debug("stopping a recognition that did not report its end: %s", exc)
    with run.cond:
        stopped = run.cond.wait_for(lambda: run.stopped, STOP_GRACE_SECONDS)
    if not stopped:
        keep_forever(box, "the Speech SDK never ended a recognition")
        return
    _drop(box, run)


def _drop(box: list[Any], run: Run) -> None:
    if not _quiesce(run, box):
        return  # kept forever
    box.clear()  # the SDK tears down here
    log.debug("SDK recognizer released at t=%.6f", time.monotonic())


def _quiesce(run: Run, box: list[Any]) -> bool:
    """After ``session_stopped``: close the connection and wait (≤ ``STOP_GRACE_SECONDS``)
    for its ``disconnected``, so that no SDK thread still works on the websocket when the
    objects go; take every callback off; then wait until no callback has run for a quiet
    time (``CallbackGate.settle_or_keep``). False when a callback was still running after
    the grace: the objects are then kept forever."""
    recognizer, connection = box
    with run.cond:
        disconnected = run.disconnected
    if not disconnected:
        try:
            connection.close()
        except RuntimeError as exc:  # already closed
            log.debug("closing the SDK connection: %s", exc)
        with run.cond:
            if not run.cond.wait_for(lambda: run.disconnected, STOP_GRACE_SECONDS):
                log.debug("the SDK connection did not report its end")
    for signal in (
        recognizer.session_started,
        recognizer.session_stopped,
        recognizer.speech_start_detected,
        recognizer.speech_end_detected,
        recognizer.recognizing,
        connection.connected,
        connection.disconnected,
    ):
        signal.disconnect_all()
    del recognizer, connection  # ``box`` holds them (kept, or cleared by the caller)
    return run.gate.settle_or_keep(box, STOP_GRACE_SECONDS)
