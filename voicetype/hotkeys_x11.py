"""The global hotkey on X11: a passive key grab on the root window, so no application
sees the key.

``X11HotkeyListener`` opens its own python-xlib connection and grabs the hotkey's
keycode(s) with the hotkey's modifier mask, once for every combination of the lock
modifiers (Caps Lock, Num Lock and Scroll Lock where they are mapped), with
``owner_events`` False and both modes asynchronous: the X server then sends the key to
us instead of the focused window, and nothing freezes while we read. One reader thread
("hotkey-x11") owns the connection after ``start``: it reports each press and release,
drops the auto-repeat of a held key (XKB detectable auto-repeat where the server has
XKB, else the X convention that a repeat is a release and a press with the same
timestamp), and grabs again when the keyboard or modifier mapping changes
(``MappingNotify``). A key another client grabbed first is ``HotkeyTaken``.

The pure parts (which modifier bits a hotkey needs, the lock variants, the repeat
filter) take plain numbers and are tested without a display.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import select
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from voicetype.errors import BackendUnavailable
from voicetype.hotkeys import NAMED_KEYS, Hotkey, HotkeyTaken
from voicetype.xlib_errors import repair_core_errors

log = logging.getLogger(__name__)

# X11 modifier bits (X.h)
SHIFT, LOCK, CONTROL = 1 << 0, 1 << 1, 1 << 2
MOD1 = 1 << 3  # Mod1..Mod5 are 1 << 3 .. 1 << 7

# keysyms (keysymdef.h) needed to resolve modifiers and named keys without Xlib
_ALT = (0xFFE9, 0xFFEA)  # Alt_L, Alt_R
_META = (0xFFE7, 0xFFE8)  # Meta_L, Meta_R: Alt's stand-in on keymaps without Alt
_SUPER = (0xFFEB, 0xFFEC)  # Super_L, Super_R
_ALT_GR = (0xFE03, 0xFF7E)  # ISO_Level3_Shift, Mode_switch
_NUM_LOCK = 0xFF7F
_SCROLL_LOCK = 0xFF14

_NAMED_KEYSYMS = {
    "space": 0x20,
    "enter": 0xFF0D,
    "tab": 0xFF09,
    "backspace": 0xFF08,
    "delete": 0xFFFF,
    "esc": 0xFF1B,
    "insert": 0xFF63,
    "home": 0xFF50,
    "end": 0xFF57,
    "page_up": 0xFF55,
    "page_down": 0xFF56,
    "left": 0xFF51,
    "up": 0xFF52,
    "right": 0xFF53,
    "down": 0xFF54,
    "pause": 0xFF13,
    "print_screen": 0xFF61,
    "scroll_lock": _SCROLL_LOCK,
    "menu": 0xFF67,
    "num_lock": _NUM_LOCK,
    "caps_lock": 0xFFE5,
    **{f"f{n}": 0xFFBE + n - 1 for n in range(1, 21)},
}
assert set(_NAMED_KEYSYMS) == NAMED_KEYS

# XKB (XKBproto.h): the request numbers and flags used here
_XKB_USE_CORE_KBD = 0x100
_XKB_PCF_DETECTABLE_AUTO_REPEAT = 1 << 0
_XKB_NEW_KEYBOARD_NOTIFY, _XKB_MAP_NOTIFY = 0, 1  # xkbType of an XKB event
_XKB_KEYMAP_EVENTS = (1 << _XKB_NEW_KEYBOARD_NOTIFY) | (1 << _XKB_MAP_NOTIFY)
_XKB_ALL_MAP_COMPONENTS = 0xFF


def key_keysym(key: str) -> int:
    """The keysym of a parsed hotkey key: a named key or one (lower-case) character.

    Latin-1 characters are their own keysym; other characters are 0x01000000 + code point
    (the Unicode keysym convention of keysymdef.h).
    """
    if key in _NAMED_KEYSYMS:
        return _NAMED_KEYSYMS[key]
    code = ord(key)
    return code if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF else 0x01000000 + code


@dataclass(frozen=True)
class ModifierBits:
    """Which modifier bit carries each logical modifier on this server (0: not mapped)."""

    alt: int = 0
    super: int = 0
    alt_gr: int = 0
    num_lock: int = 0
    scroll_lock: int = 0

    @classmethod
    def from_mapping(cls, keysyms_per_modifier: Sequence[Iterable[int]]) -> ModifierBits:
        """``keysyms_per_modifier[i]``: the keysyms of the keys on modifier ``i`` (0 Shift,
        1 Lock, 2 Control, 3..7 Mod1..Mod5), as GetModifierMapping and the keymap give."""
        found: dict[int, int] = {}
        for index, keysyms in enumerate(keysyms_per_modifier):
            if index < 3:
                continue
            for sym in keysyms:
                found.setdefault(sym, 1 << index)

        def first(syms: Iterable[int]) -> int:
            return next((found[s] for s in syms if s in found), 0)

        return cls(
            alt=first(_ALT) or first(_META),
            super=first(_SUPER),
            alt_gr=first(_ALT_GR),
            num_lock=found.get(_NUM_LOCK, 0),
            scroll_lock=found.get(_SCROLL_LOCK, 0),
        )

    def mask(self, hotkey: Hotkey) -> int:
        """The modifier mask of ``hotkey``; ``BackendUnavailable`` when one of its
        modifiers is on no modifier bit of this keyboard."""
        bits = {
            "ctrl": CONTROL,
            "shift": SHIFT,
            "alt": self.alt,
            "cmd": self.super,
            "alt_gr": self.alt_gr,
        }
        mask = 0
        for name in hotkey.modifiers:
            if not bits[name]:
                shown = "Super" if name == "cmd" else name.replace("_", " ").title()
                raise BackendUnavailable(
                    f"{hotkey} cannot be grabbed: this keyboard layout has no {shown} modifier",
                    "choose another hotkey in [hotkey] dictate",
                )
            mask |= bits[name]
        return mask

    def lock_variants(self, mask: int) -> list[int]:
        """``mask`` combined with every subset of the lock modifiers (Caps Lock, and Num
        Lock and Scroll Lock where mapped) that ``mask`` does not already use."""
        locks = [b for b in (LOCK, self.num_lock, self.scroll_lock) if b and not b & mask]
        locks = list(dict.fromkeys(locks))
        variants = []
        for n in range(len(locks) + 1):
            for combo in itertools.combinations(locks, n):
                variants.append(mask | sum(combo))
        return variants


def grabs_for(
    hotkey: Hotkey, keymap: Mapping[int, Sequence[int]], bits: ModifierBits
) -> frozenset[tuple[int, int]]:
    """Every ``(keycode, modifier mask)`` to grab for ``hotkey`` on this keymap.

    ``keymap`` maps keycodes to their keysyms (index 0: plain, 1: with Shift, as
    GetKeyboardMapping gives). A keycode whose plain keysym is the key is grabbed with the
    hotkey's modifiers; one where the key needs Shift, with Shift added (``<ctrl>+!``).
    Raises ``BackendUnavailable`` when the key is on no keycode.
    """
    keysym = key_keysym(hotkey.key)
    base = bits.mask(hotkey)
    wanted: list[tuple[int, int]] = []
    for keycode, syms in sorted(keymap.items()):
        if syms and syms[0] == keysym:
            wanted.append((keycode, base))
        elif len(syms) > 1 and syms[1] == keysym and syms[0] != keysym:
            wanted.append((keycode, base | SHIFT))
    if not wanted:
        raise BackendUnavailable(
            f"{hotkey} cannot be grabbed: no key on this keyboard layout types {hotkey.key!r}",
            "choose another hotkey in [hotkey] dictate",
        )
    return frozenset((kc, m) for kc, base_mask in wanted for m in bits.lock_variants(base_mask))


class Edge(Enum):
    PRESS = "press"
    RELEASE = "release"


class RepeatFilter:
    """Turns the grabbed key's events into one press and one release per physical press.

    With XKB detectable auto-repeat a held key sends press, press, …, release: a press
    while the key is down is dropped. Without it (``pair_by_time``) a held key sends
    press, release+press, release+press, …, release, each repeat's release and press
    with the same server timestamp: a release is held back until the next event shows
    whether it was a repeat (``feed_press`` with the same time) or real (anything else,
    or ``flush`` when no event follows within a moment).

    Not thread-safe: used by the reader thread only.
    """

    def __init__(self, pair_by_time: bool) -> None:
        self.pair_by_time = pair_by_time
        self._down: int | None = None  # keycode that went down
        self.dropped = 0  # auto-repeats dropped so far (for the log and tests)
        self._held_release: tuple[int, int] | None = None  # (keycode, time)

    @property
    def waiting(self) -> bool:
        """A release is held back: call ``flush`` if no event arrives soon."""
        return self._held_release is not None

    def feed_press(self, keycode: int, time: int) -> list[Edge]:
        held = self._held_release
        if held is not None and held == (keycode, time):
            self._held_release = None  # auto-repeat: release+press at one instant
            self.dropped += 1
            return []
        out = self.flush()
        if self._down is not None:
            self.dropped += 1  # detectable auto-repeat, or a second keycode for the key
            return out
        self._down = keycode
        return [*out, Edge.PRESS]

    def feed_release(self, keycode: int, time: int) -> list[Edge]:
        if self._down != keycode:
            return []
        if self.pair_by_time:
            out = self.flush()
            self._held_release = (keycode, time)
            return out
        self._down = None
        return [Edge.RELEASE]

    def flush(self) -> list[Edge]:
        if self._held_release is None:
            return []
        self._held_release = None
        self._down = None
        return [Edge.RELEASE]


#: How long a held-back release waits for the press that would make it an auto-repeat.
#: The X server writes a repeat's release and press together; 20 ms covers a busy reader.
REPEAT_PAIR_WAIT = 0.02


class X11HotkeyListener:
    """Grabs one hotkey on X11 and reports its presses and releases.

    Threading: ``start`` and ``stop`` from one thread at a time (the daemon's main or
    controller thread). ``on_press`` and ``on_release`` run on the reader thread, in
    order, one release after each press; they must only enqueue (while they run, later
    hotkey events wait; the grab is asynchronous, so the keyboard never freezes).

    Errors: ``start`` raises ``HotkeyTaken`` when another client holds the grab and
    ``BackendUnavailable`` when there is no display or the layout cannot express the
    hotkey; after ``start`` the reader thread logs problems (a lost display, a grab taken
    after a keymap change) and never raises into the caller.
    """

    def __init__(
        self,
        hotkey: Hotkey,
        on_press: Callable[[], None],
        on_release: Callable[[], None],
        display_name: str | None = None,
        use_xkb: bool = True,
        any_modifier: bool = False,
        on_escape: Callable[[], None] | None = None,
    ) -> None:
        """``use_xkb`` False skips XKB detectable auto-repeat (pairs repeats by time).
        ``any_modifier``: the key counts with any modifiers held (the cancel key, pressed
        while the hotkey's modifiers may still be down): every combination of the modifier
        bits is grabbed but those another client holds. ``on_escape``: called (reader
        thread, must only enqueue) for Escape pressed while the hotkey is down — its grab
        then takes every key, so the cancel key's own grab never sees it."""
        self.hotkey = hotkey
        self._use_xkb = use_xkb
        self._any_modifier = any_modifier
        self._on_escape = on_escape
        self._on_press = on_press
        self._on_release = on_release
        self._display_name = display_name
        self._display: Any = None
        self._grabs: frozenset[tuple[int, int]] = frozenset()
        self._filter = RepeatFilter(pair_by_time=True)
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1
        self._xkb_event: int | None = None  # XKB's event code once we use XKB

    @property
    def detectable_repeat(self) -> bool:
        """True when the server does XKB detectable auto-repeat for this connection."""
        return not self._filter.pair_by_time

    @property
    def dropped_repeats(self) -> int:
        """Auto-repeat presses dropped since ``start`` (read from any thread)."""
        return self._filter.dropped

    def start(self) -> None:
        self._display = open_display(self._display_name)
        try:
            self._xkb_event = _use_xkb(self._display) if self._use_xkb else None
            detectable = self._xkb_event is not None and _detectable_auto_repeat(self._display)
            self._filter = RepeatFilter(pair_by_time=not detectable)
            self._grabs = self._grab_first(self._display)
        except Exception:  # any failure: close the connection, then let it reach the caller
            self._display.close()
            self._display = None
            raise
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="hotkey-x11", daemon=True)
        self._thread.start()
        log.debug(
            "hotkey %s grabbed: %d keycode/modifier combinations, auto-repeat %s",
            self.hotkey,
            len(self._grabs),
            "detectable (XKB)" if self.detectable_repeat else "paired by timestamp",
        )

    def stop(self, timeout: float = 2.0) -> None:
        """Ungrab the key and end the reader thread (bounded by ``timeout``); idempotent."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        thread.join(timeout)
        if thread.is_alive():
            log.warning("the hotkey reader did not stop within %g s", timeout)
            return  # it still owns the pipe and the connection
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._wake_r = self._wake_w = -1

    def _grab_first(self, display: Any) -> frozenset[tuple[int, int]]:
        if self._any_modifier:
            try:
                return _grab_any_modifier(display, self.hotkey)
            except HotkeyTaken:
                log.debug("%s with any modifier is taken; grabbing it alone", self.hotkey)
        return _grab(display, self.hotkey)

    def _wanted(self, display: Any) -> frozenset[tuple[int, int]]:
        wanted = compute_grabs(display, self.hotkey)
        if self._any_modifier and len(self._grabs) > len(wanted):  # every combination
            return frozenset((kc, mask) for kc, _ in wanted for mask in range(256))
        return wanted

    # ------------------------------------------------------------ reader thread

    def _run(self) -> None:
        from Xlib import error

        display = self._display
        try:
            self._loop(display)
        except (error.ConnectionClosedError, error.DisplayError, OSError) as exc:
            log.warning("the hotkey stopped working: the X display connection closed (%s)", exc)
            return
        with contextlib.suppress(error.ConnectionClosedError, error.DisplayError, OSError):
            for keycode, mask in self._grabs:
                display.screen().root.ungrab_key(keycode, mask)
            display.sync()
        with contextlib.suppress(Exception):  # closing a dead connection may raise anything
            display.close()
        self._display = None

    def _loop(self, display: Any) -> None:
        from Xlib import X

        fd = display.fileno()
        while True:
            remap = False
            while display.pending_events():
                event = display.next_event()
                if event.type == X.KeyPress:
                    if self._escape(display, event.detail):
                        continue
                    self._emit(self._filter.feed_press(event.detail, event.time))
                elif event.type == X.KeyRelease:
                    self._emit(self._filter.feed_release(event.detail, event.time))
                elif event.type == X.MappingNotify and event.request != X.MappingPointer:
                    remap = True  # a client without XKB gets this for a keymap change
                elif event.type == self._xkb_event and event.detail in (
                    _XKB_MAP_NOTIFY,
                    _XKB_NEW_KEYBOARD_NOTIFY,
                ):
                    remap = True  # the same for a client that uses XKB
            if remap:
                self._regrab(display)
                continue  # its round trips may have queued events: read them first
            timeout = REPEAT_PAIR_WAIT if self._filter.waiting else None
            ready, _, _ = select.select([fd, self._wake_r], [], [], timeout)
            if self._wake_r in ready:
                return
            if not ready:
                self._emit(self._filter.flush())

    def _escape(self, display: Any, keycode: int) -> bool:
        """Escape pressed while the hotkey is held (its active grab sends us every key)."""
        if self._on_escape is None or any(kc == keycode for kc, _ in self._grabs):
            return False
        if display.keycode_to_keysym(keycode, 0) != _NAMED_KEYSYMS["esc"]:
            return False
        log.debug("Escape while %s is held", self.hotkey)
        try:
            self._on_escape()
        except Exception:
            log.exception("escape callback failed")
        return True

    def _emit(self, edges: list[Edge]) -> None:
        for edge in edges:
            log.debug("hotkey %s: %s", self.hotkey, edge.value)
            callback = self._on_press if edge is Edge.PRESS else self._on_release
            try:
                callback()
            except Exception:  # a failing callback must not end the hotkey
                log.exception("hotkey %s callback failed", edge.value)

    def _regrab(self, display: Any) -> None:
        """The keymap changed: grab the key where it is now (nothing if nothing moved)."""
        try:
            wanted = self._wanted(display)
        except BackendUnavailable as exc:
            log.warning("after a keymap change: %s", exc.message)
            wanted = frozenset()
        if wanted == self._grabs:
            return
        root = display.screen().root
        for keycode, mask in self._grabs - wanted:
            root.ungrab_key(keycode, mask)
        kept = self._grabs & wanted
        self._grabs = kept
        try:
            _grab_all(display, wanted - kept, self.hotkey)
        except HotkeyTaken as exc:
            log.warning("after a keymap change: %s (it works only where it did)", exc.message)
            return
        self._grabs = wanted
        log.info("hotkey %s grabbed again after a keymap change", self.hotkey)


def open_display(display_name: str | None) -> Any:
    """A new python-xlib connection; ``BackendUnavailable`` when there is none to open."""
    try:
        from Xlib import display, error
    except ImportError as exc:
        raise BackendUnavailable(
            f"the global hotkey on X11 needs python-xlib ({exc})", "pip install python-xlib"
        ) from exc
    try:
        return repair_core_errors(display.Display(display_name))
    except (error.DisplayError, error.ConnectionClosedError, OSError) as exc:
        raise BackendUnavailable(
            f"The global hotkey cannot be used: no X display ({exc})",
            "run voicetype inside an X11 session (DISPLAY must be set)",
        ) from exc


def compute_grabs(display: Any, hotkey: Hotkey) -> frozenset[tuple[int, int]]:
    """Read the server's keymap and modifier map; see ``grabs_for``."""
    first = display.display.info.min_keycode
    last = display.display.info.max_keycode
    rows = display.get_keyboard_mapping(first, last - first + 1)
    keymap = {first + i: [int(s) for s in row] for i, row in enumerate(rows)}
    per_modifier = [
        [keymap.get(kc, [0])[0] for kc in codes if kc] for codes in display.get_modifier_mapping()
    ]
    return grabs_for(hotkey, keymap, ModifierBits.from_mapping(per_modifier))


def _grab_any_modifier(display: Any, hotkey: Hotkey) -> frozenset[tuple[int, int]]:
    """Grab the hotkey's key(s) with every combination of the eight modifier bits; the
    combinations another client holds (a window manager's Alt+Escape) stay theirs. Raises
    ``HotkeyTaken`` only when the plain key is taken."""
    from Xlib import X, error

    keycodes = sorted({kc for kc, _ in compute_grabs(display, hotkey)})
    root = display.screen().root
    plain = error.CatchError(error.BadAccess)
    for keycode in keycodes:
        root.grab_key(keycode, 0, False, X.GrabModeAsync, X.GrabModeAsync, onerror=plain)
    display.sync()
    if plain.get_error() is not None:
        for keycode in keycodes:
            root.ungrab_key(keycode, 0)
        display.sync()
        raise HotkeyTaken(hotkey)
    others = error.CatchError(error.BadAccess)
    for keycode in keycodes:
        for mask in range(1, 256):
            root.grab_key(keycode, mask, False, X.GrabModeAsync, X.GrabModeAsync, onerror=others)
    display.sync()
    return frozenset((kc, mask) for kc in keycodes for mask in range(256))


def _grab(display: Any, hotkey: Hotkey) -> frozenset[tuple[int, int]]:
    grabs = compute_grabs(display, hotkey)
    _grab_all(display, grabs, hotkey)
    return grabs


def _grab_all(display: Any, grabs: Iterable[tuple[int, int]], hotkey: Hotkey) -> None:
    """Grab each combination; on BadAccess undo these grabs and raise ``HotkeyTaken``."""
    from Xlib import X, error

    hotkey_grabs = list(grabs)
    root = display.screen().root
    catch = error.CatchError(error.BadAccess)
    for keycode, mask in hotkey_grabs:
        root.grab_key(keycode, mask, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
    display.sync()
    if catch.get_error() is not None:
        for keycode, mask in hotkey_grabs:
            root.ungrab_key(keycode, mask)  # ours only: the other client's grab stays
        display.sync()
        raise HotkeyTaken(hotkey)


def probe_grab(hotkey: Hotkey, display_name: str | None = None) -> None:
    """Grab and release ``hotkey`` once on a connection of its own (for ``doctor``).

    Raises ``HotkeyTaken`` or ``BackendUnavailable`` as ``X11HotkeyListener.start`` would.
    """
    display = open_display(display_name)
    try:
        grabs = _grab(display, hotkey)
        root = display.screen().root
        for keycode, mask in grabs:
            root.ungrab_key(keycode, mask)
        display.sync()
    finally:
        display.close()


def _xkb_requests() -> tuple[Any, Any, Any]:
    """python-xlib has no XKB module: the three requests used here, from XKBproto.h."""
    from Xlib.protocol import rq

    class UseExtension(rq.ReplyRequest):
        _request = rq.Struct(
            rq.Card8("opcode"),
            rq.Opcode(0),
            rq.RequestLength(),
            rq.Card16("wanted_major"),
            rq.Card16("wanted_minor"),
        )
        _reply = rq.Struct(
            rq.ReplyCode(),
            rq.Bool("supported"),
            rq.Card16("sequence_number"),
            rq.ReplyLength(),
            rq.Card16("server_major"),
            rq.Card16("server_minor"),
            rq.Pad(20),
        )

    class SelectEvents(rq.Request):
        _request = rq.Struct(
            rq.Card8("opcode"),
            rq.Opcode(1),
            rq.RequestLength(),
            rq.Card16("device_spec"),
            rq.Card16("affect_which"),
            rq.Card16("clear"),
            rq.Card16("select_all"),
            rq.Card16("affect_map"),
            rq.Card16("map"),
        )

    class PerClientFlags(rq.ReplyRequest):
        _request = rq.Struct(
            rq.Card8("opcode"),
            rq.Opcode(21),
            rq.RequestLength(),
            rq.Card16("device_spec"),
            rq.Pad(2),
            rq.Card32("change"),
            rq.Card32("value"),
            rq.Card32("ctrls_to_change"),
            rq.Card32("auto_ctrls"),
            rq.Card32("auto_ctrls_values"),
        )
        _reply = rq.Struct(
            rq.ReplyCode(),
            rq.Card8("device_id"),
            rq.Card16("sequence_number"),
            rq.ReplyLength(),
            rq.Card32("supported"),
            rq.Card32("value"),
            rq.Card32("auto_ctrls"),
            rq.Card32("auto_ctrls_values"),
            rq.Pad(8),
        )

    return UseExtension, SelectEvents, PerClientFlags


def _use_xkb(display: Any) -> int | None:
    """Start using XKB on this connection and select its keymap-change events; return
    XKB's event code, or None where the server has no usable XKB.

    A client that uses XKB no longer gets core ``MappingNotify`` for keymap changes, so
    both steps go together.
    """
    from Xlib import error

    info = display.query_extension("XKEYBOARD")
    if info is None or not info.present:
        return None
    use_extension, select_events, _ = _xkb_requests()
    try:
        use = use_extension(
            display=display.display, opcode=info.major_opcode, wanted_major=1, wanted_minor=0
        )
        if not use.supported:
            return None
        select_events(
            display=display.display,
            opcode=info.major_opcode,
            device_spec=_XKB_USE_CORE_KBD,
            affect_which=_XKB_KEYMAP_EVENTS,
            clear=0,
            select_all=_XKB_KEYMAP_EVENTS,
            affect_map=_XKB_ALL_MAP_COMPONENTS,
            map=_XKB_ALL_MAP_COMPONENTS,
        )
        display.sync()
    except error.XError as exc:
        log.debug("XKB unavailable: %s", exc)
        return None
    return int(info.first_event)


def _detectable_auto_repeat(display: Any) -> bool:
    """Ask XKB to report a held key as presses without releases (after ``_use_xkb``)."""
    from Xlib import error

    info = display.query_extension("XKEYBOARD")
    _, _, per_client_flags = _xkb_requests()
    try:
        flags = per_client_flags(
            display=display.display,
            opcode=info.major_opcode,
            device_spec=_XKB_USE_CORE_KBD,
            change=_XKB_PCF_DETECTABLE_AUTO_REPEAT,
            value=_XKB_PCF_DETECTABLE_AUTO_REPEAT,
            ctrls_to_change=0,
            auto_ctrls=0,
            auto_ctrls_values=0,
        )
    except error.XError as exc:
        log.debug("XKB detectable auto-repeat unavailable: %s", exc)
        return False
    return bool(flags.value & _XKB_PCF_DETECTABLE_AUTO_REPEAT)
