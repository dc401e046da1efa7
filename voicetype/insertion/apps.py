"""What each kind of application needs, decided in one pure table: no X calls here.

A window is described by its ``WM_CLASS`` (instance, class) and, when known, the toolkit
its process loaded (``toolkit_from_maps`` on ``/proc/PID/maps``). ``profile_for`` turns
that into an ``AppProfile``:

- ``terminal``: a line break becomes a space there (a typed Return would run the command
  line; bracketed paste is not used because a shell or program may not have it enabled —
  ``cat``, ``bash --norc`` with an old readline, a remote shell), and so does a tab (Tab
  runs completion in a shell, which changes the text).
- ``paste_keys``: the keysym names pressed, in order, to paste CLIPBOARD; ``None`` when no
  key does (xterm and urxvt paste only PRIMARY from a key): such windows are always typed.
- ``types_non_bmp``: typed keysyms above U+FFFF arrive exactly. Observed with Debian 12
  packages: Qt5 (kwrite) drops them, LibreOffice moves a ZWJ after the next emoji; both
  paste them exactly. GTK3/GTK4, Firefox, Chromium, Emacs, urxvt, xterm and VTE terminals
  type them exactly.
- ``autocorrects``: the application rewrites typed text as it arrives (LibreOffice Writer
  capitalizes "line one" after a typed Return, turns quotes into typographic ones, …) but
  not pasted text: such windows are always pasted into.
- ``chars_per_s``: how fast the window takes in typed keys (measured, see ``RATES``), for
  ``auto``: type unless typing would take longer than ``AUTO_TYPE_SECONDS``.

``shape_text`` applies the line-break rules (trailing line breaks are always stripped) and
``choose_method`` picks typing or pasting for one text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

#: "auto" types a text unless typing it into the window would take longer than this.
AUTO_TYPE_SECONDS = 1.0

CTRL_V = ("Control_L", "v")
CTRL_SHIFT_V = ("Control_L", "Shift_L", "v")
SHIFT_INSERT = ("Shift_L", "Insert")

#: Characters per second a window takes in typed text, until it shows in the widget: the
#: slowest of 3 runs of ``bench/typing_rates.py`` (1,000 ASCII characters; 2,000 in
#: terminals running ``cat``), Xvfb on a loaded 2-core machine, Debian 12 packages,
#: rounded down. Medians: xterm 9,085, urxvt 8,897, xfce4-terminal 7,364, Emacs 4,548,
#: kwrite 2,874, gnome-text-editor 1,481, mousepad 1,393, Firefox 1,338, Chromium 1,000,
#: LibreOffice Writer 513. A toolkit's figure applies to applications not named here.
RATES = {
    "xterm": 8000.0,
    "urxvt": 6500.0,
    "vte": 4000.0,  # xfce4-terminal
    "emacs": 4000.0,
    "qt": 1500.0,  # kwrite
    "gtk4": 1200.0,  # gnome-text-editor
    "gtk3": 1100.0,  # mousepad
    "tk": 2900.0,  # a python-xlib probe into a Tk Text, idle machine
    "firefox": 1000.0,
    "chromium": 750.0,
    "libreoffice": 400.0,
    "unknown": 750.0,
}


@dataclass(frozen=True)
class AppProfile:
    """How to put text into one kind of window (see the module docstring)."""

    name: str
    terminal: bool = False
    paste_keys: tuple[str, ...] | None = CTRL_V
    types_non_bmp: bool = True
    chars_per_s: float = RATES["unknown"]
    autocorrects: bool = False


XTERM = AppProfile("xterm", terminal=True, paste_keys=None, chars_per_s=RATES["xterm"])
URXVT = AppProfile("urxvt", terminal=True, paste_keys=None, chars_per_s=RATES["urxvt"])

#: Terminals (WM_CLASS names, lower case) whose paste key is Ctrl+Shift+V.
_SHIFT_V_TERMINALS = (
    "gnome-terminal", "gnome-terminal-server", "mate-terminal", "xfce4-terminal",
    "tilix", "terminator", "alacritty", "kitty", "wezterm", "org.wezfurlong.wezterm",
    "lxterminal", "terminology", "sakura", "guake", "tilda", "termite", "kgx", "ptyxis",
    "ghostty", "com.mitchellh.ghostty", "st", "st-256color", "deepin-terminal",
    "cool-retro-term", "terminal", "foot", "footclient",
)  # fmt: skip
_QT_TERMINALS = ("konsole", "qterminal", "yakuake")

_LIBREOFFICE = AppProfile(
    "libreoffice", types_non_bmp=False, chars_per_s=RATES["libreoffice"], autocorrects=True
)
_LIBREOFFICE_CLASSES = (
    "soffice", "libreoffice", "libreoffice-writer", "libreoffice-calc", "libreoffice-impress",
    "libreoffice-draw", "libreoffice-startcenter",
)  # fmt: skip


def _class_table() -> dict[str, AppProfile]:
    table: dict[str, AppProfile] = {}
    for name in ("xterm", "uxterm"):
        table[name] = XTERM
    for name in ("urxvt", "rxvt", "rxvt-unicode", "urxvt-256color"):
        table[name] = URXVT
    for name in _SHIFT_V_TERMINALS:
        table[name] = AppProfile(
            name, terminal=True, paste_keys=CTRL_SHIFT_V, chars_per_s=RATES["vte"]
        )
    for name in _QT_TERMINALS:
        table[name] = AppProfile(
            name, terminal=True, paste_keys=CTRL_SHIFT_V, types_non_bmp=False,
            chars_per_s=RATES["qt"],
        )  # fmt: skip
    # Ctrl+V scrolls in Emacs; Shift+Insert runs `yank`, which takes the CLIPBOARD.
    table["emacs"] = AppProfile("emacs", paste_keys=SHIFT_INSERT, chars_per_s=RATES["emacs"])
    for name in _LIBREOFFICE_CLASSES:
        table[name] = _LIBREOFFICE
    for name in ("chromium", "chromium-browser", "google-chrome"):
        table[name] = AppProfile("chromium", chars_per_s=RATES["chromium"])
    for name in ("firefox", "firefox-esr", "navigator"):
        table[name] = AppProfile("firefox", chars_per_s=RATES["firefox"])
    return table


#: WM_CLASS name (instance or class, lower case) -> profile.
_BY_CLASS = _class_table()

_BY_TOOLKIT: dict[str, AppProfile] = {
    "qt": AppProfile("a Qt application", types_non_bmp=False, chars_per_s=RATES["qt"]),
    "libreoffice": _LIBREOFFICE,
    "gtk3": AppProfile("a GTK application", chars_per_s=RATES["gtk3"]),
    "gtk4": AppProfile("a GTK 4 application", chars_per_s=RATES["gtk4"]),
    "tk": AppProfile("a Tk application", chars_per_s=RATES["tk"]),
}

#: Library names in /proc/PID/maps -> toolkit, first match wins (LibreOffice loads GTK3
#: through its VCL plugin, so it is looked for first).
_MAPS_MARKERS = (
    ("libreoffice", ("/libreoffice/program/", "libvclplug_", "libsofficeapp")),
    ("qt", ("libQt5Gui", "libQt6Gui", "libQtGui")),
    ("gtk4", ("libgtk-4",)),
    ("gtk3", ("libgtk-3",)),
    ("tk", ("libtk8",)),
)

_TRAILING_BREAKS = re.compile(r"\s*$")


def toolkit_from_maps(maps: str) -> str | None:
    """The toolkit named by a process's ``/proc/PID/maps`` text, or None."""
    for toolkit, markers in _MAPS_MARKERS:
        if any(m in maps for m in markers):
            return toolkit
    return None


def profile_for(wm_class: tuple[str, str] | None, toolkit: str | None = None) -> AppProfile:
    """The profile for a window: its WM_CLASS names first (instance, then class), then its
    toolkit, then a cautious default (Ctrl+V, non-BMP typed, a modest rate)."""
    for name in wm_class or ():
        profile = _BY_CLASS.get(name.lower()) if name else None
        if profile is not None:
            if toolkit == "qt":
                return replace(profile, types_non_bmp=False)
            return profile
    if toolkit is not None and toolkit in _BY_TOOLKIT:
        base = _BY_TOOLKIT[toolkit]
        name = (wm_class[0] or wm_class[1]) if wm_class else ""
        return replace(base, name=name or base.name)
    name = (wm_class[0] or wm_class[1]) if wm_class else "this window"
    return AppProfile(name or "this window")


def shape_text(text: str, profile: AppProfile) -> str:
    """The text as it must arrive in a window of ``profile``: trailing line breaks (and the
    blanks among them) stripped everywhere; in terminals every line break and tab becomes
    one space, so nothing typed can submit or complete a command line. Idempotent."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    tail = _TRAILING_BREAKS.search(text)
    if tail is not None and "\n" in tail.group():
        text = text[: tail.start()]
    if profile.terminal:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def has_non_bmp(text: str) -> bool:
    return any(ord(ch) > 0xFFFF for ch in text)


@dataclass(frozen=True)
class Choice:
    """``method`` is "type" or "paste"; ``note`` says why it differs from what was asked
    (for the log), or is None."""

    method: str
    note: str | None = None


def choose_method(method: str, text: str, profile: AppProfile) -> Choice:
    """Type or paste ``text`` (already shaped) into a window of ``profile``, for
    ``[typing] method`` ``method`` ("auto" | "type" | "paste")."""
    if profile.paste_keys is None:
        if method == "paste":
            return Choice("type", f"{profile.name} has no key that pastes the clipboard: typed")
        return Choice("type")
    if profile.autocorrects:
        note = f"{profile.name} autocorrects typed text: pasted"
        return Choice("paste", note if method == "type" else None)
    if not profile.types_non_bmp and has_non_bmp(text):
        note = f"{profile.name} drops typed characters above U+FFFF: pasted"
        return Choice("paste", None if method == "paste" else note)
    if method in ("type", "paste"):
        return Choice(method)
    seconds = len(text) / profile.chars_per_s
    return Choice("paste" if seconds > AUTO_TYPE_SECONDS else "type")
