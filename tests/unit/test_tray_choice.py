"""Choosing the tray backend, the titles, the no-menu message (no display needed)."""

from __future__ import annotations

import pytest

from voicetype.errors import ConfigError
from voicetype.state import State
from voicetype.tray import (
    MENU_FIX,
    MENU_ROWS,
    choose_tray_backend,
    menu_fix_hint,
    status_text,
    title_text,
)
from voicetype.tray.gtk import gtk_without_gl
from voicetype.tray.xembed import _latin1


def _probe(result: str):  # type: ignore[no-untyped-def]
    return lambda: [result]


@pytest.mark.parametrize(
    ("platform", "probe", "expected"),
    [
        ("linux", "appindicator", "appindicator"),
        ("linux", "gtk", "gtk"),
        ("linux", "xorg", "xorg"),
        ("win32", "appindicator", "win32"),
        ("darwin", "appindicator", "darwin"),
    ],
)
def test_platform_default(platform: str, probe: str, expected: str) -> None:
    env: dict[str, str] = {}
    assert choose_tray_backend(env, platform=platform, probe=_probe(probe)) == expected
    assert env == {}  # choosing changes nothing; pystray's variable is set only for pystray


def test_voicetype_override_beats_pystray_variable() -> None:
    env = {"VOICETYPE_TRAY_BACKEND": "GTK", "PYSTRAY_BACKEND": "xorg"}
    assert choose_tray_backend(env, platform="linux", probe=_probe("appindicator")) == "gtk"
    env = {"PYSTRAY_BACKEND": "dummy"}
    assert choose_tray_backend(env, platform="linux", probe=_probe("appindicator")) == "dummy"


def test_unknown_override_is_a_config_error_naming_the_choices() -> None:
    with pytest.raises(ConfigError) as e:
        choose_tray_backend({"VOICETYPE_TRAY_BACKEND": "kde"}, platform="linux")
    assert "VOICETYPE_TRAY_BACKEND='kde'" in e.value.message
    assert "appindicator" in e.value.fix


def test_titles_and_status_rows() -> None:
    assert title_text(State.IDLE) == "voicetype — Idle"
    assert title_text(State.LISTENING) == "voicetype — Listening…"
    assert status_text(State.ERROR, "No key\nmore") == "Error — No key"
    assert len(status_text(State.ERROR, "x" * 500)) < 140
    assert _latin1(title_text(State.RECOGNIZING)) == b"voicetype - Recognizing..."
    assert MENU_ROWS.count("-") == 2 and MENU_ROWS[-1] == "Quit"


def test_the_no_menu_hint_says_how_to_get_it() -> None:
    assert menu_fix_hint() == MENU_FIX
    for words in ("python3-gi", "gir1.2-ayatanaappindicator3-0.1", "--system-site-packages",
                  'pip install "PyGObject<3.51"', "libgirepository1.0-dev"):  # fmt: skip
        assert words in MENU_FIX


def test_gtk_initialises_without_opengl_and_children_do_not_inherit_it() -> None:
    env: dict[str, str] = {"PATH": "/usr/bin"}
    with gtk_without_gl(env):
        assert env["GDK_GL"] == "disable"  # GDK reads it once, when GTK initialises
    assert env == {"PATH": "/usr/bin"}  # the editor voicetype opens gets the user's env
    mine = {"GDK_GL": "always"}
    with gtk_without_gl(mine):
        assert mine["GDK_GL"] == "always"  # a user's own setting wins
    assert mine == {"GDK_GL": "always"}
