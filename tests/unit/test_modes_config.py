"""``[dictation]``, ``[audio]`` and ``[feedback] stop_sound`` through ``load_config``: pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicetype.config import load_config
from voicetype.errors import ConfigError
from voicetype.modes import Mode, ModeSettings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "none.toml", {})
    assert config.dictation.mode is Mode.AUTO
    assert config.dictation.settings() == ModeSettings()
    assert config.dictation.hold_threshold_ms == 400
    assert config.dictation.idle_stop_seconds == 30
    assert config.dictation.max_session_minutes == 10
    assert config.audio.device == ""
    assert config.feedback.stop_sound is True


def test_values_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[dictation]\nmode = "toggle"\nhold_threshold_ms = 250\nidle_stop_seconds = 12.5\n'
        'max_session_minutes = 2\n[audio]\ndevice = " Built-in Audio Analog Stereo "\n'
        "[feedback]\nstop_sound = false\n",
    )
    config = load_config(path, {})
    assert config.dictation.settings() == ModeSettings(
        mode=Mode.TOGGLE, hold_threshold_ms=250, idle_stop_seconds=12.5, max_session_minutes=2
    )
    assert config.audio.device == "Built-in Audio Analog Stereo"
    assert config.feedback.stop_sound is False


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            '[dictation]\nmode = "tooggle"\n',
            ["line 2: [dictation] mode = 'tooggle' is not allowed", "did you mean `toggle`"],
        ),
        ('[dictation]\nmode = "push"\n', ['"hold" (push-to-talk)']),
        ("[dictation]\nhold_threshold_ms = 50\n", ["line 2", "from 100 to 2000"]),
        ("[dictation]\nhold_threshold_ms = 0.4\n", ["must be a whole number of milliseconds"]),
        ("[dictation]\nidle_stop_seconds = 0\n", ["idle_stop_seconds is 0", "from 5 to 3600"]),
        ("[dictation]\nmax_session_minutes = 1e400\n", ["from 1 to 240"]),
        ("[dictation]\nmax_session_minutes = nan\n", ["from 1 to 240"]),
        ("[dictation]\nmax_session_minutes = true\n", ["must be a number of minutes"]),
        ("[dictation]\nmodes = 1\n", ["unknown key `modes`", "did you mean `mode`"]),
        ("[audio]\ndevice = 3\n", ["[audio] device = 3 has the wrong type"]),
        ('[audio]\ndevice = "a\\u0007b"\n', ["line 2: [audio] device is not a device name"]),
        ("[audio]\ndevices = 'x'\n", ["did you mean `device`"]),
        ('[feedback]\nstop_sound = "yes"\n', ["`stop_sound` must be true or false"]),
        ("[dictaton]\n", ["unknown section [dictaton]", "did you mean `dictation`"]),
    ],
)
def test_bad_values_name_line_key_and_what_is_allowed(
    tmp_path: Path, text: str, needles: list[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), {})
    for needle in needles:
        assert needle in str(info.value)
