"""The Wayland backend choice against a real sway: the virtual keyboard, checked on the
compositor; a bad override and a non-Wayland session are refused with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness.sway import Sway

from voicetype.errors import BackendUnavailable
from voicetype.insertion.wayland_select import describe, detect_session, select_wayland_inserter
from voicetype.insertion.wayland_vk import VirtualKeyboardInserter

pytestmark = pytest.mark.desktop


def test_sway_gets_the_virtual_keyboard(sway: Sway, user_env: dict[str, str]) -> None:
    env = {**user_env, **sway.env}
    env.pop("DISPLAY", None)
    inserter = select_wayland_inserter(env)
    inserter.close()
    assert isinstance(inserter, VirtualKeyboardInserter)
    assert "virtual keyboard" in describe(detect_session(env))
    with pytest.raises(BackendUnavailable) as err:
        select_wayland_inserter({**env, "VOICETYPE_WAYLAND_BACKEND": "ydotool"})
    assert "vk, portal" in err.value.fix
    no_wayland = {k: v for k, v in env.items() if k not in ("WAYLAND_DISPLAY", "SWAYSOCK")}
    with pytest.raises(BackendUnavailable):
        select_wayland_inserter(no_wayland)


def test_doctor_on_sway_names_the_typing_path_and_the_missing_binding(
    sway: Sway, user_env: dict[str, str], tmp_path: Path
) -> None:
    """`voicetype doctor` asks the daemon's own choosers: the virtual keyboard is ✓ and,
    with no sway binding running voicetype, the hotkey is ✗ with `voicetype shortcut`."""
    from voicetype.config import load_config
    from voicetype.doctor import check_hotkey, check_session

    env = {**user_env, **sway.env}
    env.pop("DISPLAY", None)
    session = check_session(env, "auto", "linux")
    assert session.ok and session.detail == describe(detect_session(env))
    config = load_config(tmp_path / "missing.toml", {})
    hotkey = check_hotkey(config, env, "linux")
    assert hotkey is not None and not hotkey.ok
    assert "voicetype shortcut" in hotkey.fix
