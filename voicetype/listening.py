"""Listening for the recording modes: the microphone and a continuous recognition session
for one dictation, behind a handle the controller can stop or cancel at any moment.

- ``Listener`` (protocol): opens the microphone and starts recognizing; ``MicListener`` is
  the real one (own capture through ``voicetype.audio`` → ``ContinuousRecognizer``).
- ``Live``: the controller's handle on one dictation's listening. It exists before the
  worker has opened anything, so a stop or a cancel made while the microphone is still
  opening is kept and carried out the moment it is open (never a microphone left open).
- ``open_live``: the worker's job (remember the focused window, play the start sound, open).
- ``MicrophoneLost``: the microphone in use was disconnected while listening (a
  ``SessionFailed`` kind, so whatever does not know it treats it as a failure; the
  controller stops listening and types what was heard).

Pure apart from ``MicListener.start`` (which imports the audio and SDK modules lazily).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from voicetype.errors import VoicetypeError
from voicetype.recognition import ErrorKind, Failed
from voicetype.recognition.events import SessionEvent, SessionFailed

if TYPE_CHECKING:
    from voicetype.audio.capture import Capture
    from voicetype.insertion import Inserter, Target
    from voicetype.recognition.session import ContinuousRecognizer

log = logging.getLogger(__name__)

OnEvent = Callable[[SessionEvent], None]

#: What a disconnection notification says besides "The microphone … was disconnected".
LOST_FIX = (
    "Dictation stopped; what was heard before is typed. Until the microphone is connected "
    "again, dictation uses the default input (`voicetype devices` lists the inputs)."
)


@dataclass(frozen=True)
class MicrophoneLost(SessionFailed):
    """The microphone ``label`` (its description in the sound settings) was disconnected
    while listening."""

    label: str = ""


class Running(Protocol):
    """A running listening session (``ContinuousSession``). ``stop`` ends the audio and lets
    the service finalize (a ``SessionStopped`` follows, bounded); ``cancel`` closes the
    microphone and drops everything. Both any thread, idempotent, return in milliseconds."""

    def stop(self) -> None: ...

    def cancel(self) -> None: ...


class Listener(Protocol):
    """Opens the microphone and starts a continuous recognition session.

    ``start(on_event)`` runs on the controller's worker thread, one call at a time; it
    returns the running session and "" or a note for the user (the chosen microphone is
    missing: the default is used), or raises ``VoicetypeError`` when no microphone opens.
    ``on_event`` runs on other threads (SDK, PortAudio) and must only enqueue.
    ``close`` frees what the listener holds (a reload replaced it).
    """

    def start(self, on_event: OnEvent) -> tuple[Running, str]: ...

    def close(self) -> None: ...


class MicListener:
    """Own capture (``[audio] device``, falling back to the default with a note) feeding a
    ``ContinuousRecognizer``. Threading as ``Listener``."""

    def __init__(self, recognizer: ContinuousRecognizer, device: str = "") -> None:
        self._recognizer = recognizer
        self._device = device
        self._metered: _Metered | None = None  # the last microphone opened, for ``level``
        # the configured microphone was disconnected while listening and the user was
        # told so: the default input is used without a note until it is back
        self._told_gone = False

    def level(self) -> tuple[float, float, str | None] | None:
        """(RMS level 0–1, seconds without sound, source name or None for the default) of
        the microphone open now; None when none is. Any thread, but it may wait for the
        capture's lock, which PortAudio's thread holds while handing a block on: never
        call it on a UI loop (the tray reads it on its level thread)."""
        metered = self._metered
        if metered is None or metered.closed:
            return None
        return metered.capture.level, metered.capture.silent_for(), metered.source

    def start(self, on_event: OnEvent) -> tuple[Running, str]:
        from voicetype.audio.capture import open_microphone
        from voicetype.audio.devices import DevicesUnavailable, choose, list_devices

        note = ""
        source: str | None = None
        if self._device:
            try:
                choice = choose(list_devices(), self._device)
            except DevicesUnavailable as exc:
                log.warning("cannot list the microphones: %s", exc.message)
                choice_name, note = self._device, ""
            else:
                choice_name, note = choice.name or "", choice.fallback
                if choice.name is not None:
                    self._told_gone = False  # it is back
                elif self._told_gone:
                    log.info("%s (told when it was disconnected)", note)
                    note = ""
            source = choice_name or None

        def stopped(reason: str) -> None:  # PortAudio's thread: the server went away
            failure = Failed(ErrorKind.MICROPHONE_UNAVAILABLE, reason)
            on_event(SessionFailed(time.monotonic(), failure))

        def lost(label: str) -> None:  # the watch's thread: the microphone was unplugged
            self._told_gone = bool(self._device)
            failure = Failed(ErrorKind.MICROPHONE_UNAVAILABLE, f"{label} was disconnected")
            on_event(MicrophoneLost(time.monotonic(), failure, label))

        capture, fallback = open_microphone(source, on_stopped=stopped, on_lost=lost)
        metered = _Metered(capture, None if fallback else source)
        self._metered = metered
        return self._recognizer.start(metered, on_event), note or fallback

    def close(self) -> None:
        """Nothing is held between sessions (the microphone is open only while listening)."""


class _Metered:
    """The capture as the session's ``AudioFeed``, knowing whether it was closed."""

    def __init__(self, capture: Capture, source: str | None) -> None:
        self.capture, self.source, self.closed = capture, source, False

    def attach(self, sink: Callable[[bytes], None]) -> None:
        self.capture.attach(sink)

    def close(self) -> None:
        self.closed = True
        self.capture.close()


class Live:
    """The controller's handle on one dictation's listening; ``stop``/``cancel`` from the
    controller thread, ``attach`` from the worker. A request made before ``attach`` is
    carried out by ``attach``. ``cancelled`` once ``cancel`` was asked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Running | None = None
        self._asked: str = ""  # "", "stop", "cancel"

    @property
    def cancelled(self) -> bool:
        with self._lock:
            return self._asked == "cancel"

    def attach(self, running: Running) -> None:
        with self._lock:
            self._running, asked = running, self._asked
        if asked == "cancel":
            running.cancel()
        elif asked == "stop":
            running.stop()

    def stop(self) -> None:
        with self._lock:
            if self._asked:
                return
            self._asked, running = "stop", self._running
        if running is not None:
            running.stop()

    def cancel(self) -> None:
        with self._lock:
            if self._asked == "cancel":
                return
            self._asked, running = "cancel", self._running
        if running is not None:
            running.cancel()


@dataclass(frozen=True)
class Opened:
    """What ``open_live`` found: the window focused at the press, a note for the user
    (microphone fallback), or the failure that kept the microphone closed."""

    target: Target | None
    note: str = ""
    failure: Failed | None = None
    at: float = 0.0


def open_live(
    live: Live,
    listener: Listener,
    inserter: Inserter | None,
    cue: Callable[[], None] | None,
    on_event: OnEvent,
    clock: Callable[[], float],
) -> Opened:
    """Worker thread: remember the focused window, play the start sound (``cue``), open the
    microphone and start recognizing; a cancel asked meanwhile closes it at once."""
    if live.cancelled:
        return Opened(None, at=clock())
    target = inserter.focused_target() if inserter is not None else None
    if cue is not None:
        try:
            cue()
        except Exception:
            log.debug("start sound failed", exc_info=True)
    try:
        running, note = listener.start(on_event)
    except VoicetypeError as exc:
        log.warning("the microphone did not open: %s", exc.message)
        return Opened(target, failure=Failed(ErrorKind.MICROPHONE_UNAVAILABLE, exc.message))
    live.attach(running)
    return Opened(target, note, at=clock())
