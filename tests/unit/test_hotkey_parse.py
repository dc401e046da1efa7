"""Hotkey string parsing (pynput syntax), without any desktop."""

from __future__ import annotations

import pytest

from voicetype.hotkeys import HotkeyError, parse_hotkey


@pytest.mark.parametrize(
    ("text", "canonical", "shown"),
    [
        ("<ctrl>+<alt>+<space>", "<ctrl>+<alt>+<space>", "Ctrl+Alt+Space"),
        ("<alt>+<ctrl>+x", "<ctrl>+<alt>+x", "Ctrl+Alt+X"),
        ("<CTRL>+<Shift>+D", "<ctrl>+<shift>+d", "Ctrl+Shift+D"),
        ("<super>+v", "<cmd>+v", "Super+V"),
        ("<f9>", "<f9>", "F9"),
        ("<shift>+<f12>", "<shift>+<f12>", "Shift+F12"),
        (" <ctrl> + <alt> + <page_up> ", "<ctrl>+<alt>+<page_up>", "Ctrl+Alt+Page Up"),
    ],
)
def test_valid(text: str, canonical: str, shown: str) -> None:
    hotkey = parse_hotkey(text)
    assert hotkey.pynput_string() == canonical
    assert str(hotkey) == shown


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("<ctrl>++x", "empty part"),
        ("<ctrl>+<alt>", "only modifiers"),
        ("<ctrl>+a+b", "2 non-modifier keys"),
        ("<ctrl>+<ctrl>+x", "twice"),
        ("<ctrl>+<spcae>", "did you mean <space>?"),
        ("ctrl+x", "write it as <ctrl>"),
        ("<ctrl>+xy", "neither a single character"),
        ("a", "ordinary typing"),
        ("<shift>+a", "ordinary typing"),
        ("<ctrl>+ ", "empty part"),
    ],
)
def test_invalid(text: str, needle: str) -> None:
    with pytest.raises(HotkeyError) as info:
        parse_hotkey(text)
    assert needle in str(info.value)
