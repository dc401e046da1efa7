"""The pure parts of the X11 hotkey grab, the taken message and the listener choice:
no display needed."""

from __future__ import annotations

import pytest

from voicetype.errors import BackendUnavailable
from voicetype.hotkeys import HotkeyTaken, choose_listener, parse_hotkey, uses_x11_grab
from voicetype.hotkeys_x11 import (
    CONTROL,
    LOCK,
    SHIFT,
    Edge,
    ModifierBits,
    RepeatFilter,
    X11HotkeyListener,
    grabs_for,
    key_keysym,
)

MOD1, MOD2, MOD3, MOD4, MOD5 = (1 << i for i in range(3, 8))

# Xvfb's default modifier map, as keysyms (keycode 205 is Meta_L, 203 Mode_switch)
XVFB_MODIFIERS = [
    [0xFFE1, 0xFFE2],  # Shift_L, Shift_R
    [0xFFE5],  # Caps_Lock
    [0xFFE3, 0xFFE4],  # Control_L, Control_R
    [0xFFE9, 0xFFEA, 0xFFE7],  # Alt_L, Alt_R, Meta_L
    [0xFF7F],  # Num_Lock
    [],
    [0xFFEB, 0xFFEC, 0xFFED, 0xFFEE],  # Super_L, Super_R, Hyper_L, Hyper_R
    [0xFE03, 0xFF7E],  # ISO_Level3_Shift, Mode_switch
]
KEYMAP = {
    10: [0x31, 0x21],  # 1 !
    38: [0x61, 0x41],  # a A
    65: [0x20, 0],  # space
    75: [0xFFC3, 0],  # F6
    94: [0x3C, 0x3E],  # < >
}

NOP = lambda: None  # noqa: E731


def test_modifier_bits_from_the_xvfb_map() -> None:
    bits = ModifierBits.from_mapping(XVFB_MODIFIERS)
    assert bits == ModifierBits(alt=MOD1, super=MOD4, alt_gr=MOD5, num_lock=MOD2, scroll_lock=0)
    assert bits.mask(parse_hotkey("<ctrl>+<alt>+<space>")) == CONTROL | MOD1
    assert bits.mask(parse_hotkey("<super>+<shift>+x")) == MOD4 | SHIFT


def test_lock_variants_cover_caps_num_and_scroll_lock() -> None:
    bits = ModifierBits(alt=MOD1, num_lock=MOD2, scroll_lock=MOD3)
    base = CONTROL | MOD1
    variants = bits.lock_variants(base)
    assert len(variants) == 8 == len(set(variants))
    assert set(variants) == {
        base | lock | num | scroll
        for lock in (0, LOCK)
        for num in (0, MOD2)
        for scroll in (0, MOD3)
    }
    assert bits.lock_variants(CONTROL | MOD2) == [  # a lock bit the hotkey uses is no variant
        CONTROL | MOD2,
        CONTROL | MOD2 | LOCK,
        CONTROL | MOD2 | MOD3,
        CONTROL | MOD2 | LOCK | MOD3,
    ]
    assert ModifierBits().lock_variants(CONTROL) == [CONTROL, CONTROL | LOCK]


def test_grabs_for_the_default_hotkey_on_xvfb() -> None:
    bits = ModifierBits.from_mapping(XVFB_MODIFIERS)
    grabs = grabs_for(parse_hotkey("<ctrl>+<alt>+<space>"), KEYMAP, bits)
    base = CONTROL | MOD1
    assert grabs == {(65, base), (65, base | LOCK), (65, base | MOD2), (65, base | LOCK | MOD2)}


def test_a_shifted_character_is_grabbed_with_shift() -> None:
    bits = ModifierBits.from_mapping(XVFB_MODIFIERS)
    grabs = grabs_for(parse_hotkey("<ctrl>+!"), KEYMAP, bits)
    assert (10, CONTROL | SHIFT) in grabs and all(kc == 10 for kc, _ in grabs)
    assert {kc for kc, _ in grabs_for(parse_hotkey("<f6>"), KEYMAP, bits)} == {75}


def test_a_key_or_modifier_the_layout_lacks_is_said_in_words() -> None:
    bits = ModifierBits.from_mapping(XVFB_MODIFIERS)
    with pytest.raises(BackendUnavailable) as info:
        grabs_for(parse_hotkey("<ctrl>+<alt>+é"), KEYMAP, bits)
    assert info.value.message == (
        "Ctrl+Alt+É cannot be grabbed: no key on this keyboard layout types 'é'"
    )
    assert info.value.fix == "choose another hotkey in [hotkey] dictate"
    with pytest.raises(BackendUnavailable) as info:
        grabs_for(parse_hotkey("<super>+a"), KEYMAP, ModifierBits(alt=MOD1))
    assert info.value.message == (
        "Super+A cannot be grabbed: this keyboard layout has no Super modifier"
    )


@pytest.mark.parametrize(
    ("key", "keysym"),
    [("a", 0x61), ("space", 0x20), ("f12", 0xFFC9), ("page_up", 0xFF55), ("é", 0xE9)],
)
def test_key_keysyms(key: str, keysym: int) -> None:
    assert key_keysym(key) == keysym
    assert key_keysym("€") == 0x010020AC


def test_detectable_auto_repeat_gives_one_press_and_one_release() -> None:
    f = RepeatFilter(pair_by_time=False)
    out = f.feed_press(65, 100)
    for t in range(600, 1500, 40):
        out += f.feed_press(65, t)
    out += f.feed_release(65, 1500)
    assert out == [Edge.PRESS, Edge.RELEASE]
    assert not f.waiting


def test_paired_auto_repeat_gives_one_press_and_one_release() -> None:
    f = RepeatFilter(pair_by_time=True)
    out = f.feed_press(65, 100)
    for t in range(600, 1500, 40):  # each repeat: release and press at the same time
        out += f.feed_release(65, t)
        out += f.feed_press(65, t)
    out += f.feed_release(65, 1500)
    assert out == [Edge.PRESS]
    assert f.waiting
    assert f.flush() == [Edge.RELEASE]
    assert f.flush() == []  # nothing held back any more


def test_paired_mode_quick_taps_are_separate_presses() -> None:
    f = RepeatFilter(pair_by_time=True)
    out = f.feed_press(65, 100) + f.feed_release(65, 180) + f.feed_press(65, 250)
    assert out == [Edge.PRESS, Edge.RELEASE, Edge.PRESS]
    assert f.feed_release(65, 300) == [] and f.flush() == [Edge.RELEASE]


def test_a_release_without_its_press_is_ignored() -> None:
    f = RepeatFilter(pair_by_time=False)
    assert f.feed_release(65, 10) == []
    assert f.feed_press(65, 20) + f.feed_release(66, 30) + f.feed_release(65, 40) == [
        Edge.PRESS,
        Edge.RELEASE,
    ]


def test_taken_message_names_the_hotkey_and_the_setting() -> None:
    taken = HotkeyTaken(parse_hotkey("<ctrl>+<alt>+<space>"))
    assert f"{taken.message}: {taken.fix}" == (
        "Ctrl+Alt+Space is taken by another application: choose another in [hotkey] dictate"
    )


def test_one_place_chooses_the_listener() -> None:
    hotkey = parse_hotkey("<ctrl>+<alt>+<space>")
    x11 = choose_listener(hotkey, NOP, NOP, "linux", {"DISPLAY": ":5"})
    assert isinstance(x11, X11HotkeyListener)
    assert uses_x11_grab("freebsd14", {"DISPLAY": ":0"})
    for platform in ("win32", "darwin"):
        listener = choose_listener(hotkey, NOP, NOP, platform, {})
        assert type(listener).__name__ == "PynputHotkeyListener"
    forced = choose_listener(hotkey, NOP, NOP, "linux", {"VOICETYPE_HOTKEY_BACKEND": "pynput"})
    assert type(forced).__name__ == "PynputHotkeyListener"
    # Wayland: the desktop's GlobalShortcuts portal, or the compositor's own key binding.
    portal = choose_listener(hotkey, NOP, NOP, "linux", {"WAYLAND_DISPLAY": "wayland-0"})
    assert type(portal).__name__ == "PortalHotkeyListener"
    with pytest.raises(BackendUnavailable) as info:
        choose_listener(hotkey, NOP, NOP, "linux", {"WAYLAND_DISPLAY": "w", "SWAYSOCK": "/s"})
    assert "voicetype shortcut" in info.value.fix
    with pytest.raises(BackendUnavailable) as info:
        choose_listener(hotkey, NOP, NOP, "linux", {})
    assert info.value.message == "The global hotkey needs an X11 display (DISPLAY is unset)"
    with pytest.raises(BackendUnavailable) as info:
        choose_listener(hotkey, NOP, NOP, "linux", {"VOICETYPE_HOTKEY_BACKEND": "evdev"})
    assert "VOICETYPE_HOTKEY_BACKEND='evdev'" in info.value.message
