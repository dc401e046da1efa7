"""Typing into native Wayland windows on wlroots compositors (sway, Hyprland, river,
labwc, Wayfire) through the virtual-keyboard protocol (``zwp_virtual_keyboard_v1``).

How a text is typed
-------------------
The inserter connects to the compositor (``WAYLAND_DISPLAY``), creates its own virtual
keyboard on the first seat and uploads an XKB keymap made for the text: one key per
distinct character, level 1 only, keysym ``U<hex>`` for the code point (``Return`` for a
line break, ``Tab`` for a tab). Emoji, ZWJ sequences, variation selectors and flag halves
are typed code point by code point; nothing depends on the user's layout. A keymap holds
at most ``MAX_KEYS`` keys (XKB keycodes 9–255, the range XWayland and older toolkits
accept); a text with more distinct characters is cut into batches, one keymap upload
each. Wayland delivers a keymap change and the keys after it in order on one stream, so
there is no race with keys still queued in the window (unlike X11); for an XWayland
window (known through the compositor's IPC) a wait of ``XWAYLAND_SETTLE`` follows each upload and
precedes the next, a precaution from X11 (xterm under XWayland was exact without it, 4
of 4 runs of the test, which runs with it).

The keymap is the virtual keyboard's own: the user's keyboard and layout are never
changed, and a window gets the user's keymap back with the next physical key press (the
compositor sends the active keyboard's keymap). The virtual keyboard is created at the
first ``insert`` and kept until ``close`` (checked with a round trip before each insert,
recreated if the compositor restarted). Its modifier state is its own (all released), so
a Ctrl or Caps Lock the user holds does not turn typed text into shortcuts.

Keys lost at the start (atx/wtype#46): when the virtual keyboard is the seat's *only*
keyboard (no physical one, as in headless tests, or a tablet), creating it gives the
seat the keyboard capability and each window then binds a ``wl_keyboard``; keys sent
before it has done so are lost, and destroying the keyboard after every insert lost
whole texts (3 of 60 here). Hence the kept keyboard, and one wait of
``NEW_SEAT_KEYBOARD_SETTLE`` after creating it when the seat had no keyboard before (no
event tells when the windows are ready). A key with no symbol is also pressed first
after each keymap upload, so no text key is the first one a window sees.

Pacing: keys go out in chunks of ``CHUNK`` characters, each followed by a round trip
(the compositor has forwarded them), and at most ``max_rate`` characters per second:
a window slower than that would otherwise have events pile up in the compositor until
libwayland disconnects it (Debian 12's libwayland 1.21 has a fixed 4 KB buffer per
client behind the socket buffer).

Line breaks: in a terminal a line break becomes a space, never Return (it would run
the command line); ``press`` (BackSpace for "scratch that", Return for a final "new
line") uploads a keymap of that one key and refuses Return there. A window is a
terminal when its ``app_id``/class is in ``TERMINAL_APP_IDS``. Which window has focus
comes from the compositor's IPC where it has one (sway, Hyprland: ``focus_ipc``); when
the compositor does not say (river, labwc, no socket, no answer within the IPC's bound)
the injected ``is_terminal`` probe answers
(AT-SPI, ``voicetype.context.focus.terminal_probe``); without one every such window is
treated as a terminal unless ``unknown_is_terminal`` is False.

Errors: ``BackendUnavailable`` when there is no compositor socket or it lacks the
virtual-keyboard protocol (GNOME, KDE); ``TargetGone`` when the window of the hotkey
press has closed; ``InsertionError`` for a lost connection or protocol error (the
message says how many characters were already sent). Threading: call one inserter from
one thread at a time (the controller thread); it owns one connection to the compositor,
closed by ``close``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from voicetype.errors import BackendUnavailable
from voicetype.insertion import InsertionError, Key, Target, TargetGone, sanitize
from voicetype.insertion.focus_ipc import Window, find_focus_ipc
from voicetype.insertion.wayland_wire import Connection, WaylandError, message, socket_path, uints

MANAGER = "zwp_virtual_keyboard_manager_v1"
#: XKB keycodes 9..255 (evdev codes 1..247).
MAX_KEYS = 247
CHUNK = 64
MAX_RATE = 4000.0
XWAYLAND_SETTLE = 0.1
#: Wait after creating the seat's only keyboard before typing (see ``_keyboard``).
NEW_SEAT_KEYBOARD_SETTLE = 0.1
SEAT_KEYBOARD = 2  # wl_seat capability bit
KEYMAP_FORMAT_XKB_V1 = 1
#: Lower-cased Wayland app_ids / X11 classes of terminals (a line break never is Return).
TERMINAL_APP_IDS = frozenset(
    {
        "foot", "footclient", "kitty", "alacritty", "org.wezfurlong.wezterm", "wezterm",
        "org.gnome.console", "kgx", "org.gnome.terminal", "gnome-terminal-server",
        "gnome-terminal", "org.kde.konsole", "konsole", "xfce4-terminal", "terminator",
        "com.gexperts.tilix", "tilix", "xterm", "uxterm", "urxvt", "rxvt", "st",
        "st-256color", "com.mitchellh.ghostty", "ghostty", "lxterminal", "qterminal",
        "terminology", "sakura", "mate-terminal", "io.elementary.terminal", "blackbox",
        "com.raggesilver.blackbox", "org.codeberg.dnkl.foot", "rio", "contour",
    }
)  # fmt: skip


def keysym_name(ch: str) -> str:
    """The XKB keysym name that types ``ch``."""
    if ch == "\n":
        return "Return"
    if ch == "\t":
        return "Tab"
    return f"U{ord(ch):04X}"


def build_keymap(keysyms: Sequence[str]) -> str:
    """An XKB keymap with key ``i`` (XKB keycode ``9 + i``) typing ``keysyms[i]`` and one
    more key with no symbol (the warm-up key). Types and compatibility come from the
    system's ``complete`` sets, which every compositor's xkeyboard-config has."""
    if len(keysyms) > MAX_KEYS - 1:
        raise ValueError(f"at most {MAX_KEYS - 1} keys per keymap, got {len(keysyms)}")
    count = len(keysyms) + 1
    codes = "".join(f"    <K{i}> = {9 + i};\n" for i in range(count))
    symbols = "".join(f"    key <K{i}> {{ [ {ks} ] }};\n" for i, ks in enumerate(keysyms))
    symbols += f"    key <K{len(keysyms)}> {{ [ NoSymbol ] }};\n"
    return (
        "xkb_keymap {\n"
        f'  xkb_keycodes "voicetype" {{\n    minimum = 8;\n    maximum = {8 + count};\n'
        f"{codes}  }};\n"
        '  xkb_types "voicetype" { include "complete" };\n'
        '  xkb_compatibility "voicetype" { include "complete" };\n'
        f'  xkb_symbols "voicetype" {{\n{symbols}  }};\n'
        "};\n"
    )


@dataclass
class Batch:
    """Keysyms of one keymap and the text as indexes into them."""

    keysyms: list[str]
    keys: list[int]


def plan(text: str, max_keys: int = MAX_KEYS - 1) -> list[Batch]:
    """Cut ``text`` into batches of at most ``max_keys`` distinct characters, greedily."""
    batches: list[Batch] = []
    index: dict[str, int] = {}
    for ch in text:
        name = keysym_name(ch)
        if not batches or (name not in index and len(index) == max_keys):
            batches.append(Batch([], []))
            index = {}
        if name not in index:
            index[name] = len(batches[-1].keysyms)
            batches[-1].keysyms.append(name)
        batches[-1].keys.append(index[name])
    return batches


def for_window(text: str, terminal: bool) -> str:
    """``text`` as it must be typed: sanitized, and with line breaks as spaces in a
    terminal."""
    text = sanitize(text)
    return text.replace("\n", " ") if terminal else text


@dataclass(frozen=True)
class WaylandTarget:
    """The window of the hotkey press as the compositor named it (None: not known)."""

    window: Window | None

    @property
    def identity(self) -> int | None:
        """The window's identity for the text memory, an int as X11 window ids are:
        sway's container id, Hyprland's window address ("0x…") read as a number."""
        if self.window is None:
            return None
        wid = self.window.id
        return wid if isinstance(wid, int) else int(wid, 16)

    @property
    def terminal(self) -> bool:
        """Whether the named window is a terminal (``TERMINAL_APP_IDS``)."""
        return self.window is not None and self.window.app_id in TERMINAL_APP_IDS


class VirtualKeyboardInserter:
    """Types text through ``zwp_virtual_keyboard_v1``; see the module docstring."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        max_rate: float = MAX_RATE,
        timeout: float = 2.0,
        unknown_is_terminal: bool = True,
    ) -> None:
        self.env = dict(os.environ if env is None else env)
        path = socket_path(self.env)
        if path is None:
            missing = "XDG_RUNTIME_DIR" if self.env.get("WAYLAND_DISPLAY") else "WAYLAND_DISPLAY"
            raise BackendUnavailable(
                f"no Wayland compositor to type into ({missing} is not set)",
                fix="run voicetype inside your Wayland session",
            )
        self.path = path
        self.max_rate = max_rate
        self.timeout = timeout
        self.unknown_is_terminal = unknown_is_terminal
        #: Whether the focused window is a terminal, where the compositor does not name it
        #: (bounded; wired by the composition root). None: ``unknown_is_terminal``.
        self.is_terminal: Callable[[], bool | None] | None = None
        self.ipc = find_focus_ipc(self.env)
        self.sent = 0  #: characters sent by the last ``insert`` (for error messages, tests)
        self._vk: tuple[Connection, int] | None = None

    def check(self) -> None:
        """Raise ``BackendUnavailable`` unless the compositor offers the protocol."""
        conn = self._connect()
        conn.close()

    def focused_target(self) -> Target | None:
        if self.ipc is None:
            return None
        try:
            return WaylandTarget(self.ipc.focused())
        except (OSError, ValueError):
            return None

    def press(self, key: Key, count: int, target: Target | None) -> None:
        """Press ``key`` ``count`` times in ``target``, with the same focus check as
        ``insert``, from a keymap of its own; Return never into a terminal (nor into a
        window the compositor does not name, unless ``unknown_is_terminal`` is False)."""
        if count <= 0:
            return
        terminal, xwayland = self._aim(target)
        if key == "Return" and terminal:
            raise InsertionError(
                "a line break is never typed into a terminal (or a window voicetype cannot"
                " tell from one); nothing typed",
                fix="press Enter yourself",
            )
        self.sent = 0
        keyboard = self._keyboard()
        try:
            self._send(keyboard, Batch([key], [0] * count), xwayland)
        except WaylandError as exc:
            self.close()
            raise InsertionError(
                f"pressing {key} through the Wayland virtual keyboard failed after"
                f" {self.sent} of {count}: {exc}",
                fix="check the text and correct it by hand",
            ) from exc

    def _aim(self, target: Target | None) -> tuple[bool, bool]:
        """Give focus back to the dictated window if it moved (``TargetGone`` when it
        closed); whether it is a terminal and whether it runs through XWayland."""
        window = target.window if isinstance(target, WaylandTarget) else None
        if window is not None and self.ipc is not None:
            self._refocus(window)
            return window.app_id in TERMINAL_APP_IDS, window.xwayland
        if self.is_terminal is not None:
            return self.is_terminal() is not False, False
        return self.unknown_is_terminal, False

    def insert(self, text: str, target: Target | None) -> None:
        terminal, xwayland = self._aim(target)
        text = for_window(text, terminal)
        self.sent = 0
        if not text:
            return
        keyboard = self._keyboard()
        try:
            self._type(keyboard, text, xwayland)
        except WaylandError as exc:
            self.close()
            raise InsertionError(
                f"typing through the Wayland virtual keyboard failed after {self.sent} of"
                f" {len(text)} characters: {exc}",
                fix='try again; if it keeps failing, set [typing] method = "paste"',
            ) from exc

    def close(self) -> None:
        """Destroy the virtual keyboard and close the connection (idempotent)."""
        keyboard, self._vk = self._vk, None
        if keyboard is None:
            return
        conn, vk = keyboard
        try:
            conn.send(message(vk, 3))  # destroy
            conn.roundtrip()
        except WaylandError:
            pass  # the compositor is gone: nothing left to clean up
        finally:
            conn.close()

    def _keyboard(self) -> tuple[Connection, int]:
        """The live virtual keyboard, created (or recreated after the compositor went
        away) on demand."""
        if self._vk is not None:
            try:
                self._vk[0].roundtrip()
                return self._vk
            except WaylandError:
                self.close()
        conn = self._connect()
        try:
            seat = conn.bind(conn.find("wl_seat"), 1)  # type: ignore[arg-type]
            manager = conn.bind(conn.find(MANAGER), 1)  # type: ignore[arg-type]
            conn.roundtrip()
            had_keyboard = any(
                oid == seat and op == 0 and int.from_bytes(body[:4], sys.byteorder) & SEAT_KEYBOARD
                for oid, op, body in conn.events
            )
            vk = conn.new_id()
            conn.send(message(manager, 0, uints(seat, vk)))  # create_virtual_keyboard
            conn.roundtrip()
        except WaylandError as exc:
            conn.close()
            raise InsertionError(
                f"could not create a Wayland virtual keyboard: {exc}",
                fix="check that the compositor allows virtual keyboards",
            ) from exc
        if not had_keyboard:
            # The seat just gained its keyboard: windows now bind a wl_keyboard, and
            # keys sent before they have are lost (atx/wtype#46). Nothing tells us when
            # they have, so wait the measured time once.
            time.sleep(NEW_SEAT_KEYBOARD_SETTLE)
        self._vk = (conn, vk)
        return self._vk

    def _type(self, keyboard: tuple[Connection, int], text: str, xwayland: bool) -> None:
        for batch in plan(text):
            self._send(keyboard, batch, xwayland)

    def _send(self, keyboard: tuple[Connection, int], batch: Batch, xwayland: bool) -> None:
        """Upload the batch's keymap, then press its keys."""
        conn, vk = keyboard
        self._upload(conn, vk, build_keymap(batch.keysyms))
        self._keys(conn, vk, [len(batch.keysyms)])  # the warm-up key (no symbol)
        conn.roundtrip()
        if xwayland:
            time.sleep(XWAYLAND_SETTLE)  # X clients take in MappingNotify; no event
        self._type_keys(conn, vk, batch.keys)
        if xwayland:
            time.sleep(XWAYLAND_SETTLE)

    def _refocus(self, window: Window) -> None:
        ipc = self.ipc
        assert ipc is not None
        try:
            now = ipc.focused()
            if now is not None and now.id == window.id:
                return
            if not ipc.exists(window) or not ipc.focus(window):
                raise TargetGone(
                    "the window you dictated into has closed; nothing was typed",
                    fix="use Type last dictation from the tray menu in another window",
                )
        except (OSError, ValueError) as exc:
            raise InsertionError(
                f"could not ask {ipc.name} which window has focus: {exc}; nothing was typed",
                fix=f"check that {ipc.name} is running ({ipc.check_command})",
            ) from exc

    def _connect(self) -> Connection:
        try:
            conn = Connection(self.path, self.timeout)
            conn.connect()
        except WaylandError as exc:
            raise BackendUnavailable(
                f"cannot reach the Wayland compositor: {exc}",
                fix="run voicetype inside your Wayland session (WAYLAND_DISPLAY, XDG_RUNTIME_DIR)",
            ) from exc
        if conn.find(MANAGER) is None or conn.find("wl_seat") is None:
            conn.close()
            raise BackendUnavailable(
                "this Wayland compositor has no virtual keyboard for applications"
                " (zwp_virtual_keyboard_v1; GNOME and KDE don't offer it)",
                fix="on GNOME or KDE voicetype types through the RemoteDesktop portal;"
                ' elsewhere set [typing] method = "paste"',
            )
        return conn

    def _upload(self, conn: Connection, vk: int, keymap: str) -> None:
        data = keymap.encode() + b"\0"
        fd = os.memfd_create("voicetype-keymap", os.MFD_CLOEXEC)
        try:
            os.write(fd, data)
            conn.send(message(vk, 0, uints(KEYMAP_FORMAT_XKB_V1, len(data))), fds=[fd])
        finally:
            os.close(fd)

    def _type_keys(self, conn: Connection, vk: int, keys: Sequence[int]) -> None:
        start = time.monotonic()
        base = self.sent
        for i in range(0, len(keys), CHUNK):
            chunk = keys[i : i + CHUNK]
            self._keys(conn, vk, chunk)
            conn.roundtrip()
            self.sent += len(chunk)
            ahead = (self.sent - base) / self.max_rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)  # a rate limit: the window's progress cannot be observed

    @staticmethod
    def _keys(conn: Connection, vk: int, keys: Sequence[int]) -> None:
        now = int(time.monotonic() * 1000) & 0xFFFFFFFF
        out = bytearray()
        for key in keys:
            out += message(vk, 1, uints(now, key + 1, 1))  # key: evdev code, pressed
            out += message(vk, 1, uints(now, key + 1, 0))
        conn.send(bytes(out))
