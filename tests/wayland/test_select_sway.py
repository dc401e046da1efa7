"""The Wayland backend choice against a real sway: the virtual keyboard, checked on the
compositor; a bad override and a non-Wayland session are refused with a fix."""

from __future__ import annotations

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
