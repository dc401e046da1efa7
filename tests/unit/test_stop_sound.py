"""``[feedback] stop_sound``: the shipped stop sound is short and unlike the start sound."""

from __future__ import annotations

import wave
from array import array
from itertools import pairwise

from voicetype.resources import asset_path


def samples(name: str) -> tuple[array[int], int]:
    with wave.open(str(asset_path(name))) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        data = array("h")
        data.frombytes(w.readframes(w.getnframes()))
        return data, w.getframerate()


def crossings_per_second(data: array[int], rate: int) -> float:
    flips = sum(1 for a, b in pairwise(data) if (a < 0) != (b < 0))
    return flips / (len(data) / rate)


def test_stop_sound_is_short_and_lower_than_the_start_sound() -> None:
    stop, stop_rate = samples("stop.wav")
    start, start_rate = samples("start.wav")
    assert 0.05 < len(stop) / stop_rate < 0.3
    assert max(abs(s) for s in stop) < 0.5 * 32768  # no louder than a notification chime
    # a falling two-tone (784 → 523 Hz) against the start chime's higher pitch
    assert crossings_per_second(stop, stop_rate) < 0.8 * crossings_per_second(start, start_rate)
