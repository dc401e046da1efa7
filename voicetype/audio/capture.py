"""``Capture``: the microphone through PortAudio (``sounddevice``), open only while listening.

Why sounddevice: it is the maintained PortAudio binding (CFFI, wheels for Linux, Windows and
macOS; on Linux it uses the system's ``libportaudio2``), records raw 16-bit blocks with a
callback on PortAudio's own thread, and starts in 9–30 ms here (first block, blocksize 160).
PyAudio is the alternative and is barely maintained.

Device choice: PortAudio 19.6 reaches PulseAudio/PipeWire through ALSA's "pulse" PCM, which
opens the server's default source unless the ``PULSE_SOURCE`` environment variable names
another when the stream connects. ``Capture.open`` sets it for that moment under a lock and
puts the previous value back (os.environ is process-wide: nothing else in voicetype reads it).

No first words lost: the stream starts at the press, before the recognition session exists;
blocks wait in a ring (``ring_seconds``, default 3 s, oldest dropped beyond) until
``attach(sink)``, which hands them over in order, then every later block goes straight to the
sink on PortAudio's thread.

A microphone disconnected while listening: the sound server moves the stream to the default
source and PortAudio goes on as if nothing happened (``unplug`` explains), so with
``on_lost`` a ``unplug.SourceWatch`` watches the source in use; when it is removed, no
further block reaches the sink (they would come from another microphone) and
``on_lost(description)`` runs once, on the watch's thread. A stream that ends by itself
(the server died) still calls ``on_stopped``.

Threading: ``open`` on the caller's thread (~10–30 ms); PortAudio calls back on its own thread,
which only measures the level and hands the block on under a lock; ``attach``, ``close``,
``level``, ``silent_for`` from any thread. ``close`` aborts the stream (no more blocks reach
the sink after it returns), stops the watch, and is idempotent; ~5 ms here, well within
100 ms.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from voicetype.audio import BYTES_PER_SECOND, SAMPLE_RATE, Sink
from voicetype.audio.level import SoundWatch, rms
from voicetype.audio.unplug import SourceWatch
from voicetype.errors import VoicetypeError

log = logging.getLogger(__name__)

BLOCK_FRAMES = 160  # 10 ms
DEFAULT_RING_SECONDS = 3.0
_ENV_LOCK = threading.Lock()


class MicrophoneError(VoicetypeError):
    """The microphone cannot be opened (no audio library, no server, no device)."""


def load_portaudio() -> Any:
    """Import ``sounddevice`` (loads libportaudio and enumerates devices: ~50–150 ms, ALSA
    noise on stderr). The daemon calls it once at start so a press does not pay for it.
    Raises ``MicrophoneError`` with the fix when PortAudio is missing."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise MicrophoneError(
            f"Cannot use the microphone: PortAudio is not available ({exc})",
            "install it (Debian/Ubuntu: `sudo apt install libportaudio2`) and "
            "`pip install sounddevice`",
        ) from exc
    return sounddevice


def _portaudio_device(sd: Any) -> str | None:
    """ALSA's "pulse" PCM when PortAudio lists it (PulseAudio or PipeWire), else PortAudio's
    default input."""
    try:
        names = [d["name"] for d in sd.query_devices() if d["max_input_channels"] > 0]
    except Exception:  # PortAudio's own errors come as several types
        return None
    return "pulse" if "pulse" in names else None


def _start_stream(sd: Any, capture: Capture) -> Any:
    stream = sd.RawInputStream(
        samplerate=SAMPLE_RATE,
        channels=1,
        dtype="int16",
        blocksize=BLOCK_FRAMES,
        device=_portaudio_device(sd),
        latency="low",
        callback=capture._callback,
        finished_callback=capture._finished,
    )
    stream.start()
    return stream


def _refresh(sd: Any) -> None:
    """Make PortAudio enumerate the devices again (none of our streams is open: the caller
    is opening the only one). ~50–150 ms; only after an open failed."""
    try:
        sd._terminate()
        sd._initialize()
    except Exception as exc:  # PortAudio's own errors come as several types
        log.debug("re-initializing PortAudio: %s", exc)


class Capture:
    """One open microphone stream; build with ``Capture.open``."""

    def __init__(
        self,
        *,
        ring_seconds: float = DEFAULT_RING_SECONDS,
        on_stopped: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._ring: deque[bytes] = deque()
        self._ring_bytes = 0
        self._ring_max = int(ring_seconds * BYTES_PER_SECOND)
        self._sink: Sink | None = None
        self._closed = False
        self._stream: Any = None
        self._on_stopped = on_stopped
        self._watch_source: SourceWatch | None = None
        self.lost = ""  # the description of the microphone that was disconnected
        self._clock = clock
        self.opened_at = clock()
        self.first_block_at: float | None = None
        self.dropped_bytes = 0
        self.captured_bytes = 0
        self.overflows = 0
        self._watch = SoundWatch(started=self.opened_at)

    @classmethod
    def open(
        cls,
        source: str | None = None,
        *,
        ring_seconds: float = DEFAULT_RING_SECONDS,
        on_stopped: Callable[[str], None] | None = None,
        on_lost: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Capture:
        """Start capturing now from the PulseAudio/PipeWire source named ``source`` (None =
        the default; pick it with ``devices.choose``). ``on_stopped(reason)`` runs on
        PortAudio's thread if the stream ends without ``close`` (the server died);
        ``on_lost(description)`` on the watch's thread if the source is disconnected (see
        the module docstring). Raises ``MicrophoneError`` when the microphone cannot be
        opened."""
        sd = load_portaudio()
        capture = cls(ring_seconds=ring_seconds, on_stopped=on_stopped, clock=clock)
        with _ENV_LOCK:
            previous = os.environ.get("PULSE_SOURCE")
            if source:
                os.environ["PULSE_SOURCE"] = source
            else:
                os.environ.pop("PULSE_SOURCE", None)
            try:
                try:
                    stream = _start_stream(sd, capture)
                except (sd.PortAudioError, ValueError) as exc:
                    # PortAudio lists devices once, when it starts: a sound server that
                    # came up (or back) since is reached only after it looks again
                    log.info("microphone did not open (%s); asking PortAudio again", exc)
                    _refresh(sd)
                    stream = _start_stream(sd, capture)
            except (sd.PortAudioError, ValueError) as exc:
                raise MicrophoneError(
                    f"Cannot open the microphone{f' “{source}”' if source else ''}: {exc}",
                    "check that it is connected and not muted in your sound settings; "
                    "`voicetype devices` lists the inputs",
                ) from exc
            finally:
                if previous is None:
                    os.environ.pop("PULSE_SOURCE", None)
                else:
                    os.environ["PULSE_SOURCE"] = previous
        capture._stream = stream
        log.debug("microphone open (%s) at t=%.6f", source or "default", capture.opened_at)
        if on_lost is not None:
            watched = source or os.environ.get("PULSE_SOURCE") or None
            capture._watch_source = SourceWatch.start(
                watched, functools.partial(capture._lost, on_lost)
            )
        return capture

    # -------------------------------------------------------------- AudioFeed

    def attach(self, sink: Sink) -> None:
        with self._lock:
            if self._sink is not None:
                raise RuntimeError("Capture.attach called twice")
            while self._ring:
                sink(self._ring.popleft())
            self._ring_bytes = 0
            self._sink = sink

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._sink = None
            self._ring.clear()
            stream, self._stream = self._stream, None
            watch, self._watch_source = self._watch_source, None
        if watch is not None:
            watch.stop()
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception as exc:  # a vanished device may fail here too; it is closed
                log.debug("closing the microphone: %s", exc)
        log.debug("microphone closed at t=%.6f", self._clock())

    # -------------------------------------------------------------- level

    @property
    def level(self) -> float:
        """The last block's RMS level, 0.0–1.0 (for the icon's live feedback)."""
        with self._lock:
            return self._watch.level

    def silent_for(self) -> float:
        """Seconds without sound from this microphone (see ``level.SoundWatch``)."""
        with self._lock:
            return self._watch.silent_for(self._clock())

    # -------------------------------------------------------------- PortAudio's thread

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        block = bytes(indata)
        level = rms(block)
        now = self._clock()
        with self._lock:
            if self._closed or self.lost:
                return
            if status and status.input_overflow:
                self.overflows += 1
            if self.first_block_at is None:
                self.first_block_at = now
            self.captured_bytes += len(block)
            self._watch.feed(level, now)
            if self._sink is not None:
                self._sink(block)
                return
            self._ring.append(block)
            self._ring_bytes += len(block)
            while self._ring_bytes > self._ring_max:
                dropped = self._ring.popleft()
                self._ring_bytes -= len(dropped)
                self.dropped_bytes += len(dropped)

    def _lost(self, on_lost: Callable[[str], None], description: str) -> None:
        """The watch's thread: the source in use was removed."""
        with self._lock:
            if self._closed:
                return
            self.lost = description or "in use"
            self._ring.clear()
        on_lost(self.lost)

    def _finished(self) -> None:
        with self._lock:
            unexpected = not self._closed
        if unexpected and self._on_stopped is not None:
            self._on_stopped("the microphone stopped delivering sound (unplugged?)")


def open_microphone(
    source: str | None,
    *,
    ring_seconds: float = DEFAULT_RING_SECONDS,
    on_stopped: Callable[[str], None] | None = None,
    opener: Callable[..., Capture] | None = None,
    on_lost: Callable[[str], None] | None = None,
) -> tuple[Capture, str]:
    """Open ``source`` (a server source name from ``devices.choose``; None = the default);
    if it cannot be opened (unplugged since it was chosen), open the default instead.

    ``on_lost``: see ``Capture.open`` (the source is watched for a disconnection).
    Returns the capture and "" or the reason for a notification ("The microphone … is not
    available; using the default input"). Raises ``MicrophoneError`` when the default
    cannot be opened either. Choosing by description needs the device list (``pactl``,
    ~10–20 ms): do that when the configuration is loaded, not at the press.
    """
    open_ = opener or Capture.open
    if on_lost is not None:
        open_ = functools.partial(open_, on_lost=on_lost)
    if source:
        try:
            return open_(source, ring_seconds=ring_seconds, on_stopped=on_stopped), ""
        except MicrophoneError as exc:
            log.warning("%s; falling back to the default input", exc.message)
            reason = f"The microphone “{source}” is not available; using the default input"
            return open_(None, ring_seconds=ring_seconds, on_stopped=on_stopped), reason
    return open_(None, ring_seconds=ring_seconds, on_stopped=on_stopped), ""
