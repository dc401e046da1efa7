"""Validation of ``[dictation]`` and ``[audio]`` (and ``[feedback] stop_sound``): pure.

``config.load_config`` checks types with ``SCHEMA`` and calls ``parse_dictation`` /
``parse_audio`` with a getter over the file's values and a function naming where a key is
(file and line); they return frozen settings or raise ``ConfigError`` naming the key, the
value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voicetype.errors import ConfigError
from voicetype.modes import (
    DEFAULT_HOLD_THRESHOLD_MS,
    DEFAULT_IDLE_STOP_SECONDS,
    DEFAULT_MAX_SESSION_MINUTES,
    MODES,
    Mode,
    ModeSettings,
)

HOLD_THRESHOLD_RANGE = (100, 2000)  # ms: below 100 every tap is a hold, above 2 s no one waits
IDLE_STOP_RANGE = (5.0, 3600.0)  # s
MAX_SESSION_RANGE = (1.0, 240.0)  # minutes
MAX_DEVICE_NAME = 512

_Kind = type | tuple[type, ...]
SCHEMA: dict[str, dict[str, tuple[_Kind, str]]] = {
    "dictation": {
        "mode": (str, 'one of "auto", "toggle", "hold", "once"'),
        "hold_threshold_ms": (int, "a whole number of milliseconds from 100 to 2000"),
        "idle_stop_seconds": ((int, float), "a number of seconds from 5 to 3600"),
        "max_session_minutes": ((int, float), "a number of minutes from 1 to 240"),
    },
    "audio": {
        "device": (str, 'a microphone\'s name or description from `voicetype devices`, or ""'),
    },
}
FEEDBACK_SCHEMA: dict[str, tuple[_Kind, str]] = {"stop_sound": (bool, "true or false")}


@dataclass(frozen=True)
class DictationConfig:
    mode: Mode = Mode.AUTO
    hold_threshold_ms: int = DEFAULT_HOLD_THRESHOLD_MS
    idle_stop_seconds: float = DEFAULT_IDLE_STOP_SECONDS
    max_session_minutes: float = DEFAULT_MAX_SESSION_MINUTES

    def settings(self) -> ModeSettings:
        """The mode machine's settings."""
        return ModeSettings(
            mode=self.mode,
            hold_threshold_ms=self.hold_threshold_ms,
            idle_stop_seconds=self.idle_stop_seconds,
            max_session_minutes=self.max_session_minutes,
        )


@dataclass(frozen=True)
class AudioConfig:
    device: str = ""  # "" = the system's default input


Getter = Callable[[str, str, Any], Any]  # (table, key, default) -> value
Origin = Callable[[str, str], str]  # (table, key) -> "FILE, line N"


def parse_dictation(get: Getter, origin: Origin) -> DictationConfig:
    d = DictationConfig()
    mode_text = get("dictation", "mode", d.mode.value)
    if mode_text not in MODES:
        raise ConfigError(
            f"{origin('dictation', 'mode')}: [dictation] mode = {mode_text!r:.60} is not allowed"
            + _did_you_mean(str(mode_text), MODES),
            'use "auto" (tap for one sentence, hold to talk), "toggle" (hands-free until '
            'the next tap), "hold" (push-to-talk) or "once"',
        )
    threshold = get("dictation", "hold_threshold_ms", d.hold_threshold_ms)
    _in_range(origin, "dictation", "hold_threshold_ms", threshold, HOLD_THRESHOLD_RANGE, "ms")
    idle = get("dictation", "idle_stop_seconds", d.idle_stop_seconds)
    _in_range(origin, "dictation", "idle_stop_seconds", idle, IDLE_STOP_RANGE, "seconds")
    longest = get("dictation", "max_session_minutes", d.max_session_minutes)
    _in_range(origin, "dictation", "max_session_minutes", longest, MAX_SESSION_RANGE, "minutes")
    return DictationConfig(
        mode=Mode(mode_text),
        hold_threshold_ms=int(threshold),
        idle_stop_seconds=float(idle),
        max_session_minutes=float(longest),
    )


def parse_audio(get: Getter, origin: Origin) -> AudioConfig:
    device = get("audio", "device", "").strip()
    if len(device) > MAX_DEVICE_NAME or any(ord(c) < 32 for c in device):
        raise ConfigError(
            f"{origin('audio', 'device')}: [audio] device is not a device name",
            'copy a name from `voicetype devices`, or use "" for the default microphone',
        )
    return AudioConfig(device=device)


def _in_range(
    origin: Origin, table: str, key: str, value: Any, bounds: tuple[float, float], unit: str
) -> None:
    low, high = bounds
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not (low <= number <= high):
        raise ConfigError(
            f"{origin(table, key)}: [{table}] {key} is {value!r:.40}",
            f"use a number of {unit} from {low:g} to {high:g}",
        )


def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""
