"""Pure parts of text insertion: keysyms, batching, and the Windows/macOS backends with fakes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from voicetype.errors import BackendUnavailable
from voicetype.insertion import InsertionError, Key, NothingPasted, TargetGone, TypingStopped
from voicetype.insertion import macos as mac
from voicetype.insertion import windows as win
from voicetype.insertion.apps import (
    CTRL_SHIFT_V,
    CTRL_V,
    SHIFT_INSERT,
    AppProfile,
    Choice,
    choose_method,
    profile_for,
    shape_text,
    toolkit_from_maps,
)
from voicetype.insertion.keymap import (
    KEYSYM_RETURN,
    KEYSYM_TAB,
    Stroke,
    contiguous_runs,
    keymap_strokes,
    keysym_for_char,
    plan,
    spare_keycodes,
)
from voicetype.insertion.select import PerAppInserter, select_inserter
from voicetype.insertion.template import Chunk, insert_with

# -- X11 helpers -----------------------------------------------------------------------


def test_keysym_for_char() -> None:
    assert keysym_for_char("a") == 0x61
    assert keysym_for_char("é") == 0xE9
    assert keysym_for_char("\xa0") == 0xA0
    assert keysym_for_char("€") == 0x10020AC
    assert keysym_for_char("😀") == 0x101F600
    assert keysym_for_char("\u200d") == 0x100200D
    assert keysym_for_char("\n") == KEYSYM_RETURN
    assert keysym_for_char("\t") == KEYSYM_TAB
    for bad in ("\x1b", "\x7f", "\x85", "\ud83d"):
        with pytest.raises(ValueError):
            keysym_for_char(bad)


ROWS = [
    [0, 0],  # 8: spare
    [0x61, 0x41],  # 9: a A
    [0xFFE1, 0],  # 10: Shift_L (modifier)
    [0xFFB1, 0xFF9C],  # 11: keypad
    [0, 0],  # 12: spare
    [0, 0],  # 13: spare
    [0x31, 0x21],  # 14: 1 !
    [0x41, 0],  # 15: A at level 1 on another key
]


def test_keymap_strokes_prefers_level_one_and_skips_modifiers_and_keypad() -> None:
    km = keymap_strokes(ROWS, 8, skip=[10])
    assert km[0x61] == Stroke(9, False)
    assert km[0x41] == Stroke(15, False)
    assert km[0x21] == Stroke(14, True)
    assert 0xFFE1 not in km and 0xFFB1 not in km
    assert spare_keycodes(ROWS, 8) == [8, 12, 13]
    assert contiguous_runs([13, 8, 12]) == [[8], [12, 13]]


def test_plan_batches_missing_keysyms_two_levels_per_spare_keycode() -> None:
    km = keymap_strokes(ROWS, 8, skip=[10])
    batches = plan("a€ü€!ßçñ😀a", km, [8, 12])
    # 4 slots per batch, both levels of a keycode first: € ü on 8, ß ç on 12 | ñ 😀
    assert [len(b.strokes) for b in batches] == [7, 3]
    first, second = batches
    assert first.bindings == {8: (0x10020AC, 0xFC), 12: (0xDF, 0xE7)}
    assert first.strokes[1] == first.strokes[3] == Stroke(8, False)
    assert first.strokes[2] == Stroke(8, True)  # ü on level 2
    assert plan("€", km, [8, 12])[0].bindings == {8: (0x10020AC, 0x10020AC)}
    # a lone level-1 keysym is repeated on level 2 (else the server would add its upper case)
    assert second.bindings == {8: (0xF1, 0x101F600)}
    assert second.strokes[2] == Stroke(9, False)


def test_plan_without_spare_keycodes_refuses_missing_characters() -> None:
    km = keymap_strokes(ROWS, 8, skip=[10])
    assert len(plan("aA1!", km, [])) == 1
    with pytest.raises(ValueError):
        plan("a€", km, [])


# -- per-application profiles (apps.py) -------------------------------------------------

KWRITE_MAPS = "7f0 r-xp /usr/lib/x86_64-linux-gnu/libQt5Gui.so.5.15.8\n"
LO_MAPS = (
    "7f1 r-xp /usr/lib/libreoffice/program/libvclplug_gtk3lo.so\n"
    "7f2 r-xp /usr/lib/x86_64-linux-gnu/libgtk-3.so.0.2406.32\n"
)


@pytest.mark.parametrize(
    ("wm_class", "maps", "name", "terminal", "paste_keys", "non_bmp"),
    [
        (("xterm", "XTerm"), "", "xterm", True, None, True),
        (("urxvt", "URxvt"), "", "urxvt", True, None, True),
        (("xfce4-terminal", "Xfce4-terminal"), "libgtk-3", "xfce4-terminal", True,
         CTRL_SHIFT_V, True),
        (("gnome-terminal-server", "Gnome-terminal"), "", "gnome-terminal-server", True,
         CTRL_SHIFT_V, True),
        (("konsole", "konsole"), KWRITE_MAPS, "konsole", True, CTRL_SHIFT_V, False),
        (("emacs", "Emacs"), "libgtk-3", "emacs", False, SHIFT_INSERT, True),
        (("kwrite", "kwrite"), KWRITE_MAPS, "kwrite", False, CTRL_V, False),
        (("libreoffice", "libreoffice-writer"), LO_MAPS, "libreoffice", False, CTRL_V, False),
        (("soffice", "Soffice"), "", "libreoffice", False, CTRL_V, False),
        (("oddname", "Oddname"), LO_MAPS, "oddname", False, CTRL_V, False),
        (("chromium (/tmp/x)", "Chromium"), "libgtk-3", "chromium", False, CTRL_V, True),
        (("Navigator", "firefox-esr"), "libgtk-3", "firefox", False, CTRL_V, True),
        (("mousepad", "Mousepad"), "libgtk-3", "mousepad", False, CTRL_V, True),
        (("gnome-text-editor", "Gnome-text-editor"), "libgtk-4", "gnome-text-editor", False,
         CTRL_V, True),
        (("VoicetypeTextwin", "VoicetypeTextwin"), "libtk8.6", "VoicetypeTextwin", False,
         CTRL_V, True),
        (None, "", "this window", False, CTRL_V, True),
    ],
)  # fmt: skip
def test_profile_for_windows(
    wm_class: tuple[str, str] | None,
    maps: str,
    name: str,
    terminal: bool,
    paste_keys: tuple[str, ...] | None,
    non_bmp: bool,
) -> None:
    profile = profile_for(wm_class, toolkit_from_maps(maps))
    assert (profile.name, profile.terminal, profile.paste_keys, profile.types_non_bmp) == (
        name, terminal, paste_keys, non_bmp,
    )  # fmt: skip


def test_toolkit_from_maps() -> None:
    assert toolkit_from_maps(KWRITE_MAPS) == "qt"
    assert toolkit_from_maps("x /usr/lib/x86_64-linux-gnu/libQt6Gui.so.6\n") == "qt"
    assert toolkit_from_maps(LO_MAPS) == "libreoffice"  # though it loads GTK3 too
    assert toolkit_from_maps("x libgtk-4.so.1\n") == "gtk4"
    assert toolkit_from_maps("x /usr/lib/libc.so.6\n") is None


TERM = profile_for(("xterm", "XTerm"))
EDITOR = profile_for(("mousepad", "Mousepad"), "gtk3")


def test_shape_text_strips_trailing_breaks_and_keeps_returns_out_of_terminals() -> None:
    assert shape_text("echo hi; touch FILE\n", TERM) == "echo hi; touch FILE"
    assert shape_text("a\r\nb\r\n \n", EDITOR) == "a\nb"
    assert shape_text("one\ntwo\n\n", EDITOR) == "one\ntwo"
    assert shape_text("one\ntwo\tthree\n", TERM) == "one two three"
    assert shape_text("trailing spaces   ", EDITOR) == "trailing spaces   "
    assert shape_text("\n\n", EDITOR) == ""
    for text in ("x\n y \n", "a\tb\r\n"):
        for profile in (TERM, EDITOR):
            once = shape_text(text, profile)
            assert shape_text(once, profile) == once


def test_choose_method_per_window() -> None:
    kwrite = profile_for(("kwrite", "kwrite"), "qt")
    slow = AppProfile("slow", chars_per_s=100.0)
    emoji = "👩‍💻 and 🇫🇷 ok"
    assert choose_method("auto", "hello", EDITOR) == Choice("type")
    assert choose_method("auto", "x" * 99, slow) == Choice("type")
    assert choose_method("auto", "x" * 101, slow) == Choice("paste")  # > 1 s of typing
    assert choose_method("auto", "x" * 5000, TERM) == Choice("type")  # no paste key
    assert choose_method("paste", "x", TERM).method == "type"
    assert "no key that pastes" in (choose_method("paste", "x", TERM).note or "")
    assert choose_method("type", emoji, kwrite).method == "paste"
    assert choose_method("auto", emoji, kwrite).method == "paste"
    assert choose_method("type", "Grüße € 日本", kwrite) == Choice("type")
    assert choose_method("type", emoji, EDITOR) == Choice("type")
    assert choose_method("paste", "x", EDITOR) == Choice("paste")
    writer = profile_for(("libreoffice", "libreoffice-writer"), "libreoffice")
    assert choose_method("type", "line one\nline two", writer).method == "paste"
    assert "autocorrects" in (choose_method("type", "x", writer).note or "")
    assert choose_method("auto", "x", writer) == Choice("paste")


def test_typing_stopped_says_how_much() -> None:
    e = TypingStopped(12, 200)
    assert isinstance(e, InsertionError)
    assert (e.typed, e.total) == (12, 200)
    assert str(e) == "Typing stopped (Escape) after 12 of 200 characters"


# -- select -----------------------------------------------------------------------------


def test_select_reports_what_is_missing() -> None:
    with pytest.raises(BackendUnavailable) as e:
        select_inserter("auto", platform="linux", environ={"WAYLAND_DISPLAY": "wayland-0"})
    assert "Wayland compositor" in e.value.message  # a Wayland session: the Wayland path
    with pytest.raises(BackendUnavailable) as e:
        environ = {"WAYLAND_DISPLAY": "wayland-0", "XDG_CURRENT_DESKTOP": "GNOME"}
        select_inserter("auto", platform="linux", environ=environ)
    assert "portal" in e.value.message  # GNOME: the RemoteDesktop portal
    with pytest.raises(BackendUnavailable) as e:
        select_inserter("type", platform="linux", environ={})
    assert "DISPLAY" in str(e.value)
    for platform in ("win32", "darwin"):
        with pytest.raises(BackendUnavailable, match="paste"):
            select_inserter("paste", platform=platform, environ={})
    with pytest.raises(ValueError):
        select_inserter("telepathy", platform="linux", environ={})


class _Recorder:
    def __init__(self, name: str, calls: list[tuple[str, str]]) -> None:
        self.name, self.calls = name, calls

    def focused_target(self) -> object:
        return _Win(1)

    def insert(self, text: str, target: object) -> None:
        raise AssertionError("PerAppInserter sanitizes once and calls insert_clean")

    def insert_clean(self, text: str, target: object) -> None:
        self.calls.append((self.name, text))

    def close(self) -> None:
        self.calls.append((self.name, "closed"))

    def press(self, key: Key, count: int, target: object) -> None:
        self.calls.append((self.name, f"{key} x{count}"))

    def window_pid(self, window: int) -> int | None:
        return None

    def window_profile(self, window: int) -> AppProfile:
        return {1: EDITOR, 2: TERM, 3: profile_for(("kwrite", "kwrite"), "qt")}[window]


class _Ignores(_Recorder):
    def insert_clean(self, text: str, target: object) -> None:
        self.calls.append((self.name, text))
        raise NothingPasted("mousepad did not ask for the pasted text within 2 s")


def test_a_paste_nobody_fetched_is_typed_instead_where_typing_is_exact() -> None:
    calls: list[tuple[str, str]] = []
    ins = PerAppInserter("paste", _Recorder("type", calls), _Ignores("paste", calls))
    ins.insert("hello", _Win(1))
    assert calls == [("paste", "hello"), ("type", "hello")]
    assert ins.last_note and "typed instead" in ins.last_note
    with pytest.raises(NothingPasted):  # kwrite would drop the emoji if typed
        ins.insert("🇫🇷", _Win(3))
    assert calls[-1] == ("paste", "🇫🇷")


class _Win:
    def __init__(self, window: int) -> None:
        self.window = window


def test_per_app_inserter_chooses_by_window_profile() -> None:
    calls: list[tuple[str, str]] = []
    typing = PerAppInserter("type", _Recorder("type", calls), _Recorder("paste", calls))
    typing.insert("sh\x1bort", None)  # sanitized once, here
    typing.insert("🇫🇷", _Win(3))
    assert typing.last_note and "above U+FFFF" in typing.last_note
    pasting = PerAppInserter("paste", _Recorder("type", calls), _Recorder("paste", calls))
    pasting.insert("into xterm", _Win(2))
    pasting.insert("into an editor", _Win(1))
    auto = PerAppInserter("auto", _Recorder("type", calls), _Recorder("paste", calls))
    auto.insert("x" * 2000, _Win(1))  # ~2 s of GTK typing: pasted
    auto.insert("x" * 2000, _Win(2))  # xterm: typed
    auto.close()
    assert calls == [
        ("type", "short"),
        ("paste", "🇫🇷"),
        ("type", "into xterm"),
        ("paste", "into an editor"),
        ("paste", "x" * 2000),
        ("type", "x" * 2000),
        ("paste", "closed"),
        ("type", "closed"),
    ]


# -- Windows ----------------------------------------------------------------------------

U, UP = win.KEYEVENTF_UNICODE, win.KEYEVENTF_KEYUP


class FakeWin:
    def __init__(self, foreground: int = 7, windows: Sequence[int] = (7, 9)) -> None:
        self.foreground = foreground
        self.windows = set(windows)
        self.held: set[int] = set()
        self.sent: list[win.KeyInput] = []
        self.accept: int | None = None
        self.refuse_focus = False
        self.on_send: list[object] = []

    def foreground_window(self) -> int:
        return self.foreground

    def is_window(self, hwnd: int) -> bool:
        return hwnd in self.windows

    def set_foreground_window(self, hwnd: int) -> bool:
        if not self.refuse_focus:
            self.foreground = hwnd
        return not self.refuse_focus

    def key_is_down(self, vk: int) -> bool:
        if vk in self.held:
            self.held.discard(vk)  # released by the time it is asked again
            return True
        return False

    def send_input(self, inputs: Sequence[win.KeyInput]) -> int:
        self.sent.extend(inputs)
        return len(inputs) if self.accept is None else self.accept


def test_windows_exact_input_sequence() -> None:
    api = FakeWin()
    w = win.WindowsInserter(api)
    w.insert("é😀\n\t€", w.focused_target())
    assert api.sent == [
        win.KeyInput(0, 0xE9, U),
        win.KeyInput(0, 0xE9, U | UP),
        win.KeyInput(0, 0xD83D, U),
        win.KeyInput(0, 0xD83D, U | UP),
        win.KeyInput(0, 0xDE00, U),
        win.KeyInput(0, 0xDE00, U | UP),
        win.KeyInput(win.VK_RETURN, 0, 0),
        win.KeyInput(win.VK_RETURN, 0, UP),
        win.KeyInput(win.VK_TAB, 0, 0),
        win.KeyInput(win.VK_TAB, 0, UP),
        win.KeyInput(0, 0x20AC, U),
        win.KeyInput(0, 0x20AC, U | UP),
    ]


def test_windows_shortcut_like_text_is_literal_and_control_chars_dropped() -> None:
    api = FakeWin()
    win.WindowsInserter(api).insert("^c\x1b[A", win.WindowsTarget(7))
    assert [k.scan for k in api.sent if not k.flags & UP] == [ord(c) for c in "^c[A"]
    assert all(k.vk == 0 and k.flags & U for k in api.sent)


def test_windows_focus_gone_refocus_and_partial() -> None:
    api = FakeWin(foreground=9)
    w = win.WindowsInserter(api, modifier_timeout=0.05, focus_timeout=0.05)
    w.insert("x", win.WindowsTarget(7))
    assert api.foreground == 7 and len(api.sent) == 2
    with pytest.raises(TargetGone):
        w.insert("x", win.WindowsTarget(42))
    api.foreground, api.refuse_focus, api.sent = 9, True, []
    with pytest.raises(InsertionError, match="could not bring back"):
        w.insert("x", win.WindowsTarget(7))
    assert api.sent == []
    api.refuse_focus, api.accept = False, 1
    with pytest.raises(InsertionError, match="only part"):
        w.insert("xy", win.WindowsTarget(7))


def test_windows_waits_for_modifiers() -> None:
    api = FakeWin()
    api.held = {0x11}
    win.WindowsInserter(api).insert("a", win.WindowsTarget(7))
    assert len(api.sent) == 2

    class Stuck(FakeWin):
        def key_is_down(self, vk: int) -> bool:
            return vk == 0x11

    stuck = Stuck()
    with pytest.raises(InsertionError, match="modifier"):
        win.WindowsInserter(stuck, modifier_timeout=0.05).insert("a", win.WindowsTarget(7))
    assert stuck.sent == []


# -- macOS ------------------------------------------------------------------------------


class FakeMac:
    def __init__(self) -> None:
        self.front = 100
        self.apps = {100, 200}
        self.posted: list[mac.MacKey] = []
        self.mods = 0

    def frontmost_pid(self) -> int:
        return self.front

    def app_running(self, pid: int) -> bool:
        return pid in self.apps

    def activate(self, pid: int) -> bool:
        self.front = pid
        return True

    def modifiers_down(self) -> bool:
        self.mods = max(0, self.mods - 1)
        return self.mods > 0

    def post(self, key: mac.MacKey) -> None:
        self.posted.append(key)


def test_mac_chunks_never_split_surrogates_and_use_return_tab_keys() -> None:
    text = "a" * 19 + "😀" + "b\n\tc"
    events = mac.events_for_text(text)
    texts = [e.text for e in events if e.down and e.text]
    assert texts == ["a" * 19, "😀b", "c"]
    assert all(mac.utf16_len(t) <= mac.CHUNK_UNITS for t in texts)
    keys = [(e.keycode, e.down) for e in events if not e.text]
    assert keys == [(36, True), (36, False), (48, True), (48, False)]


def test_mac_insert_refocuses_and_posts_everything() -> None:
    api = FakeMac()
    api.front, api.mods = 200, 3
    m = mac.MacInserter(api)
    m.insert("Grüße 👩‍👩‍👧 ctrl+c\n", mac.MacTarget(100))
    assert api.front == 100
    got = "".join(
        e.text if e.text else ("\n" if e.keycode == 36 else "") for e in api.posted if e.down
    )
    assert got == "Grüße 👩‍👩‍👧 ctrl+c\n"
    with pytest.raises(TargetGone):
        m.insert("x", mac.MacTarget(300))


# -- the insertion template ----------------------------------------------------------------


class FakePort:
    """A port that records what the template asks, in order; ``focus_until`` chunks keep
    the focus, ``pause_at`` typed counts pause (a modifier held)."""

    def __init__(self, focus_until: int = 99, pause_at: tuple[int, ...] = ()) -> None:
        self.calls: list[str] = []
        self.sent: list[str] = []
        self.focus_until = focus_until
        self.pause_at = pause_at

    def clean(self, text: str) -> str:
        self.calls.append(f"clean {text!r}")
        return text

    def wait_modifiers_released(self) -> None:
        self.calls.append("modifiers")

    def ensure_focus(self, target: object) -> int:
        self.calls.append("focus")
        return 7

    def shape(self, text: str, window: int) -> str:
        self.calls.append("shape")
        return text.rstrip("\n")

    @contextmanager
    def delivery(self, text: str, window: int) -> Iterator[Iterator[Chunk[str]]]:
        self.calls.append("prepare")
        try:
            parts = [text[i : i + 2] for i in range(0, len(text), 2)]
            yield iter([Chunk(p, len(p), check_focus=i == 0) for i, p in enumerate(parts)])
        finally:
            self.calls.append("restore")

    def between(self, typed: int, total: int) -> bool:
        return typed in self.pause_at

    def focus_is_in(self, window: int) -> bool:
        self.calls.append("check")
        return len(self.sent) < self.focus_until

    def focus_lost(self, typed: int, total: int) -> InsertionError:
        return InsertionError(f"focus left: {typed} of {total}")

    def send(self, payload: str, typed: int, total: int) -> None:
        self.sent.append(payload)


def test_template_runs_the_steps_in_order_sanitized_once_and_restores() -> None:
    port = FakePort()
    insert_with(port, "ab\x1bcde\n", None)
    assert port.sent == ["ab", "cd", "e"]
    assert port.calls == ["clean 'abcde\\n'", "modifiers", "focus", "shape", "prepare",
                          "check", "restore"]  # fmt: skip


def test_template_does_nothing_for_an_empty_text() -> None:
    port = FakePort()
    insert_with(port, "\x07\x1b", None)
    assert port.calls == ["clean ''"]
    insert_with(port, "\n\n", None)  # shaped away: no delivery
    assert "prepare" not in port.calls and port.sent == []


def test_template_checks_the_focus_after_a_pause_and_says_how_much_arrived() -> None:
    port = FakePort(focus_until=1, pause_at=(2,))
    with pytest.raises(InsertionError, match="focus left: 2 of 5"):
        insert_with(port, "abcde", None)
    assert port.sent == ["ab"]
    assert port.calls[-3:] == ["check", "check", "restore"]


def test_windows_focus_lost_midway_says_how_much() -> None:
    class Fickle(FakeWin):
        def send_input(self, inputs: Sequence[win.KeyInput]) -> int:
            self.foreground = 9
            return super().send_input(inputs)

    api = Fickle()
    with pytest.raises(InsertionError, match=f"{win.CHUNK} of {win.CHUNK + 5}"):
        win.WindowsInserter(api).insert("x" * (win.CHUNK + 5), win.WindowsTarget(7))
