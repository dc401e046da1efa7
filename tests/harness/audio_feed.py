"""``WavFeed``: an ``AudioFeed`` (voicetype.audio) playing PCM from a WAV as a microphone would.

``attach(sink)`` starts a thread that hands ``sink`` 10 ms blocks at ``speed`` × real time
(0 = as fast as possible), then keeps sending silence like an open microphone until
``close()``, which stops the thread (joined, bounded) so no block reaches the sink after it
returns. ``done`` is set once the whole file was sent; ``closed_at`` records ``close()``.
"""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path

from voicetype.audio import BYTES_PER_SECOND, Sink

BLOCK = BYTES_PER_SECOND // 100


def read_pcm(wav: Path) -> bytes:
    with wave.open(str(wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16_000, 1, 2), wav
        return w.readframes(w.getnframes())


class WavFeed:
    def __init__(self, pcm: bytes, *, speed: float = 1.0, trailing_silence: bool = True) -> None:
        self.pcm = pcm
        self.speed = speed
        self.trailing_silence = trailing_silence
        self.done = threading.Event()
        self.closed_at: float | None = None
        self.sent = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sink: Sink | None = None
        self._thread: threading.Thread | None = None

    def attach(self, sink: Sink) -> None:
        with self._lock:
            self._sink = sink
        self._thread = threading.Thread(target=self._run, name="wav-feed", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        with self._lock:  # waits for a block being handed over
            self._sink = None
            if self.closed_at is None:
                self.closed_at = time.monotonic()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(1.0)

    def _run(self) -> None:
        start = time.monotonic()
        silence = bytes(BLOCK)
        i = 0
        while not self._stop.is_set():
            offset = i * BLOCK
            if offset < len(self.pcm):
                block = self.pcm[offset : offset + BLOCK]
            elif self.trailing_silence:
                self.done.set()
                block = silence
            else:
                self.done.set()
                return
            with self._lock:
                if self._sink is None:
                    return
                self._sink(block)
                self.sent += len(block)
            i += 1
            if self.speed:
                due = start + i * BLOCK / BYTES_PER_SECOND / self.speed
                self._stop.wait(max(0.0, due - time.monotonic()))
