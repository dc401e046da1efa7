"""Own audio capture: the microphone, open only while listening, as 16 kHz mono 16-bit PCM.

- ``devices``: the inputs the user sees in the desktop's sound settings (PulseAudio or
  PipeWire sources, through ``pactl -f json``), the default marked, and the choice of one
  by name or description with a fallback to the default that says why.
- ``capture``: ``Capture``, a PortAudio input stream (through ``sounddevice``) opened at the
  press; blocks wait in a small ring until the recognition session attaches its sink, so
  speech that starts right after the press arrives whole.
- ``level``: the level meter (RMS) and the "no sound for 3 s" watch (pure).
- ``unplug``: notices that the microphone in use was disconnected while listening (the
  sound server moves the stream to the default source without a word): ``pactl subscribe``.

Only ``capture`` touches PortAudio, and imports ``sounddevice`` lazily, when a stream opens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

SAMPLE_RATE = 16_000
BYTES_PER_SAMPLE = 2
BYTES_PER_SECOND = SAMPLE_RATE * BYTES_PER_SAMPLE  # mono

Sink = Callable[[bytes], None]


class AudioFeed(Protocol):
    """Where a recognition session's audio comes from (a ``Capture``, or a WAV in tests).

    ``attach(sink)``: from now on ``sink`` gets every block, in order, starting with what
    was buffered before; called once. ``sink`` is called on the feed's own thread and must
    be fast and must not raise. ``close()``: no block reaches the sink after it returns;
    idempotent, any thread, returns within ~100 ms.
    """

    def attach(self, sink: Sink) -> None: ...

    def close(self) -> None: ...
