"""Pure parts of the Wayland support: the keymap made for a text, batches, terminal line
breaks, session detection and backend choice, and the `voicetype shortcut` text."""

from __future__ import annotations

import json

import pytest

from voicetype.errors import BackendUnavailable
from voicetype.hotkeys import parse_hotkey
from voicetype.hotkeys_portal import PortalHotkeyListener, describe_hotkey, select_wayland_hotkeys
from voicetype.insertion.wayland_select import Session, describe, detect_session
from voicetype.insertion.wayland_vk import MAX_KEYS, build_keymap, for_window, keysym_name, plan
from voicetype.shortcut import GNOME_PATH, shortcut_is_set, shortcut_text


def test_keysym_names_cover_every_code_point() -> None:
    assert keysym_name("a") == "U0061"
    assert keysym_name("€") == "U20AC"
    assert keysym_name("😀") == "U1F600"
    assert keysym_name("\u200d") == "U200D"
    assert keysym_name("\n") == "Return"
    assert keysym_name("\t") == "Tab"


def test_keymap_has_one_key_per_character_and_a_silent_warm_up_key() -> None:
    keymap = build_keymap(["U0061", "U1F600", "Return"])
    assert "<K0> = 9;" in keymap and "<K3> = 12;" in keymap
    assert "key <K1> { [ U1F600 ] };" in keymap
    assert "key <K3> { [ NoSymbol ] };" in keymap
    assert "maximum = 12;" in keymap


def test_plan_reuses_keys_and_cuts_batches_at_the_keymap_size() -> None:
    (batch,) = plan("abca")
    assert batch.keysyms == ["U0061", "U0062", "U0063"] and batch.keys == [0, 1, 2, 0]
    text = "".join(chr(0x4E00 + i) for i in range(600))
    batches = plan(text)
    assert [len(b.keysyms) for b in batches] == [MAX_KEYS - 1, MAX_KEYS - 1, 600 - 2 * 246]
    rebuilt = "".join(chr(int(b.keysyms[k][1:], 16)) for b in batches for k in b.keys)
    assert rebuilt == text
    for b in batches:
        assert "maximum = 255;" in build_keymap(b.keysyms) or len(b.keysyms) < MAX_KEYS - 1
    with pytest.raises(ValueError):
        build_keymap(["U0061"] * MAX_KEYS)


def test_terminal_line_breaks_become_spaces_elsewhere_stay() -> None:
    assert for_window("ls\nrm -rf x\r\n", terminal=True) == "ls rm -rf x "
    assert for_window("a\r\nb\x1b[A", terminal=False) == "a\nb[A"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DISPLAY": ":0"}, Session("x11", "unknown")),
        ({"DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "XFCE"}, Session("x11", "unknown")),
        ({}, Session("none", "unknown")),
        ({"WAYLAND_DISPLAY": "wayland-1", "SWAYSOCK": "/run/s.sock"}, Session("wayland", "sway")),
        (
            {"WAYLAND_DISPLAY": "wayland-1", "XDG_CURRENT_DESKTOP": "sway", "DISPLAY": ":0"},
            Session("wayland", "sway", xwayland=True),
        ),
        (
            {"WAYLAND_DISPLAY": "wayland-0", "XDG_CURRENT_DESKTOP": "ubuntu:GNOME"},
            Session("wayland", "gnome"),
        ),
        ({"WAYLAND_DISPLAY": "wayland-0", "XDG_CURRENT_DESKTOP": "KDE"}, Session("wayland", "kde")),
        (
            {"WAYLAND_DISPLAY": "wayland-1", "HYPRLAND_INSTANCE_SIGNATURE": "abc"},
            Session("wayland", "hyprland"),
        ),
        ({"WAYLAND_DISPLAY": "w", "XDG_CURRENT_DESKTOP": "river"}, Session("wayland", "river")),
        ({"WAYLAND_DISPLAY": "wayland-1"}, Session("wayland", "unknown")),
        (
            {"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":1", "KDE_FULL_SESSION": "true"},
            Session("wayland", "kde", xwayland=True),
        ),
    ],
)
def test_detect_session(env: dict[str, str], expected: Session) -> None:
    assert detect_session(env) == expected


def test_backend_per_session_and_description() -> None:
    assert Session("wayland", "gnome").backend == "portal"
    assert Session("wayland", "kde").backend == "portal"
    assert Session("wayland", "sway").backend == "vk"
    assert Session("wayland", "unknown").backend == "vk"
    assert Session("x11", "unknown").backend is None
    assert "RemoteDesktop portal" in describe(Session("wayland", "gnome"))
    assert "virtual keyboard" in describe(Session("wayland", "sway"))
    # Hyprland names its focused window over its IPC, as sway does; river does not
    assert "AT-SPI" not in describe(Session("wayland", "hyprland"))
    assert "AT-SPI" in describe(Session("wayland", "river"))
    assert "AT-SPI" in describe(Session("wayland", "kde"))


def test_sway_shortcut_for_hold_and_toggle() -> None:
    hotkey = parse_hotkey("<ctrl>+<alt>+<space>")
    assert shortcut_text("sway", hotkey, hold=True).splitlines()[1:3] == [
        "bindsym --no-repeat Ctrl+Mod1+space exec voicetype start",
        "bindsym --release Ctrl+Mod1+space exec voicetype stop",
    ]
    toggle = shortcut_text("sway", parse_hotkey("<super>+d"), hold=False)
    assert "bindsym --no-repeat Mod4+d exec voicetype dictate" in toggle
    assert "--release" not in toggle


def test_gnome_shortcut_keeps_existing_custom_bindings() -> None:
    other = "/org/gnome/settings-daemon/plugins/media-keys/custom-keybindings/custom0/"
    text = shortcut_text(
        "gnome", parse_hotkey("<ctrl>+<alt>+<space>"), False, gnome_existing=[other]
    )
    assert f"custom-keybindings \"['{other}', '{GNOME_PATH}']\"" in text
    assert "binding '<Control><Alt>space'" in text and "command 'voicetype dictate'" in text
    hold = shortcut_text("gnome", parse_hotkey("<super>+<f9>"), True, gnome_existing=[GNOME_PATH])
    assert "press only" in hold and "binding '<Super>F9'" in hold
    assert f"custom-keybindings \"['{GNOME_PATH}']\"" in hold  # already listed: not twice


def test_other_desktops_get_instructions() -> None:
    hotkey = parse_hotkey("<ctrl>+<alt>+,")
    assert "bindr = CTRL ALT, comma, exec, voicetype stop" in shortcut_text(
        "hyprland", hotkey, True
    )
    assert "Plasma 5" in shortcut_text("kde", hotkey, True)
    assert "voicetype dictate" in shortcut_text("unknown", hotkey, False)


def test_doctor_sees_whether_a_binding_runs_voicetype() -> None:
    sway_config = "set $mod Mod4\nbindsym $mod+d exec /home/u/.local/bin/voicetype dictate\n"
    outputs = {"swaymsg": json.dumps({"config": sway_config})}
    assert shortcut_is_set("sway", lambda argv: outputs.get(argv[0], "")) is True
    other = json.dumps({"config": "bindsym $mod+Return exec foot\n"})
    assert shortcut_is_set("sway", lambda argv: other) is False
    assert shortcut_is_set("sway", lambda argv: "") is None  # swaymsg failed
    path = "/org/gnome/settings-daemon/plugins/media-keys/custom-keybindings/custom0/"

    def gsettings(argv: list[str]) -> str:
        if argv[-1] == "custom-keybindings":
            return f"['{path}']\n"
        return "'voicetype dictate'\n" if argv[-1] == "command" else ""

    assert shortcut_is_set("gnome", gsettings) is True
    assert shortcut_is_set("gnome", lambda argv: "@as []\n") is False
    assert shortcut_is_set("kde", lambda argv: "") is None


def test_wayland_hotkey_choice() -> None:
    hotkey = parse_hotkey("<ctrl>+<alt>+<space>")
    with pytest.raises(BackendUnavailable) as err:
        select_wayland_hotkeys(hotkey, lambda: None, lambda: None, "sway", {})
    assert "voicetype shortcut" in err.value.fix
    listener = select_wayland_hotkeys(hotkey, lambda: None, lambda: None, "kde", {})
    assert isinstance(listener, PortalHotkeyListener)
    assert "voicetype shortcut" in describe_hotkey("sway", None)
    assert "desktop key binding" in describe_hotkey("kde", listener)  # not started


def test_a_pasted_text_is_served_until_quiet_at_most_linger_after_the_first_fetch() -> None:
    from voicetype.insertion.serving import LINGER, QUIET, time_left

    assert time_left(10.0, 15.0, None, 0.0) == 5.0  # nothing fetched: the caller's bound
    assert time_left(10.0, 15.0, 10.0, 10.0) == pytest.approx(QUIET)  # fetched just now
    assert time_left(12.9, 15.0, 10.0, 12.8) == pytest.approx(LINGER - 2.9)  # the cap
    assert time_left(11.0, 15.0, 10.0, 10.5) < 0  # quiet for longer than QUIET: done
