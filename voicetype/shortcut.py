"""The text ``voicetype shortcut`` prints: how to bind the dictation hotkey in the running
desktop's own settings, where voicetype cannot grab a key itself (Wayland without the
GlobalShortcuts portal: sway and other wlroots compositors, GNOME before 48, KDE Plasma 5).

Pure: a desktop name (``wayland_select.detect_session(env).desktop``), the parsed hotkey
and the mode in, text out. ``shortcut_is_set`` (for ``doctor``) reads the desktop's
bindings through an injected ``run`` (command → stdout), so it is testable too.

Hold-to-talk needs a binding that fires on release too: sway (``bindsym --release``) and
Hyprland (``bindr``) have one; GNOME and KDE custom shortcuts fire on press only, so
there the binding toggles (``voicetype dictate``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from voicetype.hotkeys import Hotkey

GNOME_SCHEMA = "org.gnome.settings-daemon.plugins.media-keys"
GNOME_PATH = "/org/gnome/settings-daemon/plugins/media-keys/custom-keybindings/voicetype/"

_XKB_KEYS = {
    "space": "space", "enter": "Return", "tab": "Tab", "backspace": "BackSpace",
    "delete": "Delete", "esc": "Escape", "insert": "Insert", "home": "Home", "end": "End",
    "page_up": "Prior", "page_down": "Next", "up": "Up", "down": "Down", "left": "Left",
    "right": "Right", "pause": "Pause", "print_screen": "Print", "scroll_lock": "Scroll_Lock",
    "menu": "Menu", "num_lock": "Num_Lock", "caps_lock": "Caps_Lock",
}  # fmt: skip
_PUNCTUATION = {
    ",": "comma", ".": "period", "/": "slash", ";": "semicolon", "'": "apostrophe",
    "[": "bracketleft", "]": "bracketright", "\\": "backslash", "-": "minus", "=": "equal",
    "`": "grave",
}  # fmt: skip
_SWAY_MODS = {"ctrl": "Ctrl", "alt": "Mod1", "shift": "Shift", "cmd": "Mod4", "alt_gr": "Mod5"}
_GNOME_MODS = {
    "ctrl": "<Control>", "alt": "<Alt>", "shift": "<Shift>", "cmd": "<Super>", "alt_gr": "<Mod5>",
}  # fmt: skip
_HYPR_MODS = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "cmd": "SUPER", "alt_gr": "MOD5"}


def keysym(hotkey: Hotkey) -> str:
    """The XKB keysym name of the hotkey's key (``space``, ``F9``, ``d``, ``comma``)."""
    key = hotkey.key
    if key in _XKB_KEYS:
        return _XKB_KEYS[key]
    if key.startswith("f") and key[1:].isdigit():
        return key.upper()
    if key in _PUNCTUATION:
        return _PUNCTUATION[key]
    if key.isascii() and key.isalnum():
        return key
    return f"U{ord(key):04X}"


def shortcut_text(
    desktop: str,
    hotkey: Hotkey,
    hold: bool,
    exe: str = "voicetype",
    gnome_existing: Sequence[str] = (),
) -> str:
    """The lines to add or the commands to run for ``desktop`` ("sway", "hyprland",
    "gnome", "kde", other wlroots names, "unknown"). ``hold``: press starts, release stops
    (where the desktop can bind a release). ``gnome_existing``: the current
    ``custom-keybindings`` list, kept (ours is appended once)."""
    start, stop, toggle = f"{exe} start", f"{exe} stop", f"{exe} dictate"
    if desktop == "sway" or desktop in ("river", "labwc", "wayfire", "niri", "wlroots"):
        combo = "+".join([*(_SWAY_MODS[m] for m in hotkey.modifiers), keysym(hotkey)])
        if desktop != "sway":
            return (
                f"Bind {hotkey} to `{toggle}` in your compositor's key bindings"
                f" (for hold-to-talk: `{start}` on press, `{stop}` on release)."
            )
        lines = (
            [
                f"bindsym --no-repeat {combo} exec {start}",
                f"bindsym --release {combo} exec {stop}",
            ]
            if hold
            else [f"bindsym --no-repeat {combo} exec {toggle}"]
        )
        return "# Add to ~/.config/sway/config, then run: swaymsg reload\n" + "\n".join(lines)
    if desktop == "hyprland":
        mods = " ".join(_HYPR_MODS[m] for m in hotkey.modifiers)
        key = keysym(hotkey)
        lines = (
            [f"bind = {mods}, {key}, exec, {start}", f"bindr = {mods}, {key}, exec, {stop}"]
            if hold
            else [f"bind = {mods}, {key}, exec, {toggle}"]
        )
        return "# Add to ~/.config/hypr/hyprland.conf (reloaded on save)\n" + "\n".join(lines)
    if desktop == "gnome":
        binding = "".join(_GNOME_MODS[m] for m in hotkey.modifiers) + keysym(hotkey)
        paths = [p for p in gnome_existing if p != GNOME_PATH] + [GNOME_PATH]
        listed = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
        key = f"{GNOME_SCHEMA}.custom-keybinding:{GNOME_PATH}"
        hold_note = (
            "# GNOME shortcuts fire on press only: this one toggles (press to start,"
            " press again to stop).\n"
            if hold
            else ""
        )
        return (
            hold_note
            + f'gsettings set {GNOME_SCHEMA} custom-keybindings "{listed}"\n'
            + f"gsettings set {key} name 'voicetype'\n"
            + f"gsettings set {key} command '{toggle}'\n"
            + f"gsettings set {key} binding '{binding}'"
        )
    if desktop == "kde":
        return (
            "KDE Plasma 6 registers the shortcut itself (GlobalShortcuts portal): accept it"
            " in the dialog that appears when voicetype starts, or change it in System"
            " Settings > Keyboard > Shortcuts > voicetype.\n"
            "KDE Plasma 5: System Settings > Shortcuts > Custom Shortcuts > Edit > New >"
            f" Global Shortcut > Command/URL; Trigger: {hotkey}; Action: {toggle}"
            " (Plasma 5 custom shortcuts fire on press only: it toggles)."
        )
    return (
        f"Bind {hotkey} to `{toggle}` in your desktop's keyboard shortcut settings"
        f" (for hold-to-talk, if it can bind a key release: `{start}` on press,"
        f" `{stop}` on release)."
    )


def gnome_custom_keybindings(run: Callable[[list[str]], str]) -> list[str]:
    """The paths in GNOME's ``custom-keybindings`` list, read with ``run`` (e.g. a
    subprocess call of ``gsettings get …``; its output is GVariant text like
    ``['/a/', '/b/']`` or ``@as []``)."""
    text = run(["gsettings", "get", GNOME_SCHEMA, "custom-keybindings"])
    return re.findall(r"'([^']*)'", text)


def sway_binding_set(config_text: str, exe: str = "voicetype") -> bool:
    """Whether sway's loaded config (IPC ``GET_CONFIG``) binds a key to ``exe``."""
    for line in config_text.splitlines():
        words = line.split()
        if words and words[0] in ("bindsym", "bindcode") and "exec" in words:
            command = words[words.index("exec") + 1 :]
            if command and Path(command[0]).name == exe:
                return True
    return False


def shortcut_is_set(
    desktop: str, run: Callable[[list[str]], str], exe: str = "voicetype"
) -> bool | None:
    """For ``doctor``: whether a desktop binding runs voicetype, None where it can't be
    told (``run`` executes a command and returns its stdout, "" on failure)."""
    if desktop == "sway":
        answer = run(["swaymsg", "-t", "get_config", "-r"])  # JSON: {"config": "<text>"}
        try:
            config = str(json.loads(answer).get("config", ""))
        except (ValueError, AttributeError):
            return None
        return sway_binding_set(config, exe)
    if desktop == "gnome":
        for path in gnome_custom_keybindings(run):
            key = f"{GNOME_SCHEMA}.custom-keybinding:{path}"
            command = run(["gsettings", "get", key, "command"]).strip().strip("'")
            if command.split() and Path(command.split()[0]).name == exe:
                return True
        return False
    return None
