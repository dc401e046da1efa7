"""The level meter and the "no sound" watch: pure, time injected.

``rms`` of a block of 16-bit little-endian PCM is 0.0 (digital silence) to 1.0 (full
scale). A microphone that is muted, unplugged or the wrong one delivers digital silence or
only its own faint noise; ``SoundWatch`` reports how long the level stayed below
``threshold`` (default 0.001, -60 dBFS: a quiet room through a real microphone stays above).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

NO_SOUND_THRESHOLD = 0.001  # -60 dBFS
NO_SOUND_SECONDS = 3.0


def rms(block: bytes) -> float:
    """Root mean square of 16-bit LE mono PCM, 0.0 to 1.0 (an odd trailing byte is ignored)."""
    samples = array("h")
    samples.frombytes(block[: len(block) & ~1])
    if not samples:
        return 0.0
    total = math.fsum(s * s for s in samples)
    return min(1.0, math.sqrt(total / len(samples)) / 32768.0)


def dbfs(level: float) -> float:
    """The level in dB relative to full scale (-inf for silence)."""
    return 20 * math.log10(level) if level > 0 else -math.inf


@dataclass
class SoundWatch:
    """Tracks the last level and when sound was last heard. Not thread-safe by itself
    (``Capture`` updates it under its lock)."""

    started: float
    threshold: float = NO_SOUND_THRESHOLD
    level: float = 0.0
    last_sound: float | None = None

    def feed(self, level: float, now: float) -> None:
        self.level = level
        if level >= self.threshold:
            self.last_sound = now

    def silent_for(self, now: float) -> float:
        """Seconds without sound (since the start when there was none yet)."""
        since = self.last_sound if self.last_sound is not None else self.started
        return max(0.0, now - since)

    def no_sound(self, now: float, seconds: float = NO_SOUND_SECONDS) -> bool:
        return self.silent_for(now) >= seconds
