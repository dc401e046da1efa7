"""Typing on X11 through XTEST, exactly, with temporary keysym bindings restored afterwards.

How a text is typed (planned by the pure ``keymap`` module)
-------------------------------------------------------------
Every character becomes one key press: ``\\n`` is Return, ``\\t`` is Tab, any other
character the keysym for its code point (the code point itself for Latin-1, else
``0x01000000 + code point``; emoji, ZWJ, variation selectors and flag halves are typed
code point by code point). A keysym already on a key of the current keymap (group 1,
level 1 or 2, not a keypad or modifier key) is typed with that key, with Shift held for
level 2. Any other keysym is bound for a while to a *spare* keycode (one with no symbols
at all), two keysyms per keycode (level 1 plain, level 2 with Shift), as many characters
per remap as there are slots; when the slots run out the text is cut into batches, each
one remapping the spare keycodes once.

Windows interpret a key with the keymap they hold *when they process it*, not the one in
force when it was sent, so a remap must not happen while keys typed with the previous
binding are still queued in the window, and typing must not start before the window has
taken in the new mapping. For a window whose ``WM_PROTOCOLS`` lists ``_NET_WM_PING`` both
waits are a ping round trip: the answer comes after the window has handled every event
queued before it. Any other window gets fixed waits instead and is never sent a client
message it did not advertise (ICCCM; xterm, which lists only ``WM_DELETE_WINDOW``, closes
itself on *any* ``WM_PROTOCOLS`` message, a ping included; Tk lists only
``WM_DELETE_WINDOW`` too). The fixed waits were measured on Xvfb: on an idle machine a
window missed a remap when typing started < 20 ms after it (xterm), and Tk garbled keys
when the next remap came < 30 ms after the last key, so 50 ms / 100 ms passed 30 of 30
runs; on a loaded 2-core machine those failed 2 of 2 runs of the 47-string corpus in Tk
(keys on borrowed keycodes lost or typed with the previous batch's symbols), while
``AFTER_REMAP_WAIT`` = 100 ms after a remap and ``DRAIN_WAIT`` = 150 ms (+ 1 ms per key
in flight) before the next remap or the restore passed 3 of 3. A remap touching several
runs of spare keycodes is several ChangeKeyboardMapping requests; a loaded Tk given them
in a burst took in only the first (characters on the other borrowed keycodes were lost,
1 corpus run in 2), so an unpinged window gets ``RUN_GAP`` = 20 ms between them (5 of 5
corpus runs exact). One request spanning them all would rewrite the keys in between
through the core protocol, which changes the XKB map's shape: not done.

What arrives is shaped per window first (``apps.shape_text`` with the window's profile):
trailing line breaks are stripped, and in terminals a line break or tab becomes a space.

Escape stops typing: while a text is typed, Escape is grabbed on the root window (a
passive grab on this connection, with every Caps/Num Lock combination, so the application
never sees it) and released right after; between groups of keys a pressed Escape raises
``TypingStopped`` saying how many characters were typed. When the grab fails (another
program holds Escape), the key state (``XQueryKeymap``) is checked instead.

The spare keycodes are set back to "no symbols" afterwards, always, also when typing fails
midway. Binding and unbinding keycodes that had no symbols leaves the XKB keymap exactly as
it was (``xkbcomp`` dumps compare equal); keycodes that carry symbols are never touched.
If the process is killed mid-insert the spare keycodes keep their last binding: harmless
(no physical key sends them) and cleared by the next insert.

Modifiers: typed text must never arrive as a shortcut, so ``insert`` first waits until no
modifier key (Shift, Ctrl, Alt, Super, AltGr, …; not the Caps/Num Lock keys) is down
(``XQueryKeymap``), for up to ``modifier_timeout`` seconds. If one is still held then, it
raises ``InsertionError`` and types nothing: releasing a key the user physically holds
behind their back is not reliable on real hardware (XTEST is a separate device), and
typing with it held would fire shortcuts. A locked Caps Lock is switched off for the
duration and back on afterwards. While typing, every ``MODIFIER_CHUNK`` characters it checks
again and pauses while a modifier is held (the user pressing the hotkey again), up to
``modifier_timeout``; a press landing inside one group of ``MODIFIER_CHUNK`` keys can still
reach those keys (XTEST has no way to type "without modifiers"): measured, a few characters
per press are lost, none added. Known limit: the layout group is assumed to be the first
one (a user switched to a second layout gets that layout's symbols for the keys already on
the keymap).

Threading: an ``X11Inserter`` opens its own ``Display`` connection in ``__init__`` and is
not thread-safe: call it from one thread at a time (the controller's dictation worker). ``close``
closes the connection.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from voicetype.errors import BackendUnavailable
from voicetype.insertion import InsertionError, Target, TargetGone, TypingStopped, sanitize
from voicetype.insertion.apps import AppProfile, profile_for, shape_text, toolkit_from_maps
from voicetype.insertion.keymap import (
    KEYSYM_CAPS_LOCK,
    KEYSYM_ESCAPE,
    KEYSYM_NUM_LOCK,
    contiguous_runs,
    keymap_strokes,
    keysym_for_char,
    plan,
    spare_keycodes,
)
from voicetype.xlib_errors import repair_core_errors

#: Characters typed between two checks that the focus is still in the target window.
CHUNK = 64
#: Characters typed between two checks that no modifier key is held (a hotkey pressed
#: while typing would otherwise turn the next characters into shortcuts); one
#: ``QueryKeymap`` round trip each. Must divide ``CHUNK``.
MODIFIER_CHUNK = 4
#: Fixed waits for windows that don't advertise ``_NET_WM_PING`` (measured: see the module
#: docstring).
AFTER_REMAP_WAIT = 0.1
DRAIN_WAIT = 0.15
DRAIN_KEYS_PER_S = 1000.0
RUN_GAP = 0.02
#: Our ping ids; far from the small serial ids window managers use for their own pings.
_PING_BASE = 0x7E000000


@dataclass(frozen=True)
class X11Target:
    """The top-level client window (the one the window manager manages) that had focus."""

    window: int


class X11Inserter:
    """Types text into an X11 window with XTEST. See the module docstring for the contract."""

    def __init__(
        self,
        display_name: str | None = None,
        modifier_timeout: float = 2.0,
        focus_timeout: float = 1.0,
    ) -> None:
        try:
            from Xlib import X, Xatom, display, error
            from Xlib.ext import xtest
        except ImportError as e:
            raise BackendUnavailable(
                f"typing on X11 needs python-xlib ({e})", fix="pip install python-xlib"
            ) from e
        self._X: Any = X
        self._Xatom: Any = Xatom
        self._xerror: Any = error
        self._xtest: Any = xtest
        try:
            self.display: Any = repair_core_errors(display.Display(display_name))
        except (error.DisplayError, error.ConnectionClosedError, OSError) as e:
            raise BackendUnavailable(
                f"cannot connect to the X display {display_name or ''} ({e})",
                fix="run voicetype inside an X11 session (DISPLAY must be set)",
            ) from e
        if not self.display.has_extension("XTEST"):
            self.display.close()
            raise BackendUnavailable(
                "the X server has no XTEST extension, needed to type",
                fix="enable XTEST in the X server (it is on by default in Xorg and Xvfb)",
            )
        self.modifier_timeout = modifier_timeout
        self.focus_timeout = focus_timeout
        self.root: Any = self.display.screen().root
        self._atoms: dict[str, int] = {}
        self._helper: Any = None
        self._ping_serial = 0
        self._profiles: dict[tuple[int, int | None], AppProfile] = {}
        self._escape_kc = 0  # Escape's keycode while typing; 0 otherwise
        self._escape_seen = False
        self._swallowed = 0  # our keys that reached our own Escape grab, not the window
        self._modifier_kcs: frozenset[int] = frozenset()

    # -- small X helpers -------------------------------------------------------------

    def atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self.display.intern_atom(name)
        return self._atoms[name]

    def _window(self, wid: int) -> Any:
        return self.display.create_resource_object("window", wid)

    def _active_window(self) -> int | None:
        """``_NET_ACTIVE_WINDOW`` or None when the window manager doesn't maintain it."""
        prop = self.root.get_full_property(self.atom("_NET_ACTIVE_WINDOW"), self._X.AnyPropertyType)
        if prop is None or not len(prop.value):
            return None
        return int(prop.value[0]) or None

    def _wm_supports(self, name: str) -> bool:
        prop = self.root.get_full_property(self.atom("_NET_SUPPORTED"), self._Xatom.ATOM)
        return prop is not None and self.atom(name) in prop.value

    def _parent_chain(self, wid: int) -> list[int]:
        """``wid`` and its ancestors up to (not including) the root."""
        chain = []
        root = self.root.id
        while wid and wid != root:
            chain.append(wid)
            wid = int(self._window(wid).query_tree().parent.id)
        return chain

    def _client_of(self, wid: int) -> int:
        """The top-level client window containing ``wid`` (the one with WM_STATE)."""
        chain = self._parent_chain(wid)
        if not chain:
            return wid
        wm_state = self.atom("WM_STATE")
        for w in chain:
            if self._window(w).get_full_property(wm_state, self._X.AnyPropertyType):
                return w
        top = chain[-1]  # a frame without WM_STATE: look for the client inside it
        stack = [top]
        while stack:
            w = stack.pop()
            if self._window(w).get_full_property(wm_state, self._X.AnyPropertyType):
                return w
            stack.extend(int(c.id) for c in self._window(w).query_tree().children)
        return top

    def wm_class(self, window: int) -> tuple[str, str] | None:
        """``WM_CLASS`` (instance, class) of ``window``, or None when it has none or is gone."""
        try:
            wm_class = self._window(window).get_wm_class()
        except self._xerror.XError:
            return None
        return (str(wm_class[0]), str(wm_class[1])) if wm_class else None

    def window_pid(self, window: int) -> int | None:
        """The process id of the client that created ``window``: from the X-Resource
        extension (told by the server, so true for local clients), else ``_NET_WM_PID``."""
        pid = client_pid(self.display, window)
        if pid:
            return pid
        try:
            prop = self._window(window).get_full_property(
                self.atom("_NET_WM_PID"), self._Xatom.CARDINAL
            )
        except self._xerror.XError:
            return None
        return int(prop.value[0]) if prop is not None and len(prop.value) else None

    def window_profile(self, window: int) -> AppProfile:
        """The ``AppProfile`` of the top-level client ``window`` (WM_CLASS, and the toolkit
        its process loaded), cached per window and process (window ids are reused)."""
        pid = self.window_pid(window)
        cached = self._profiles.get((window, pid))
        if cached is not None:
            return cached
        toolkit = None
        if pid:
            try:
                with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as f:
                    toolkit = toolkit_from_maps(f.read())
            except OSError:
                toolkit = None
        profile = profile_for(self.wm_class(window), toolkit)
        if len(self._profiles) > 256:
            self._profiles.clear()
        self._profiles[(window, pid)] = profile
        return profile

    def protocols(self, window: int) -> list[int]:
        """The atoms ``window`` lists in ``WM_PROTOCOLS`` (the only client messages it may
        be sent, ICCCM 4.1.2.7)."""
        try:
            prop = self._window(window).get_full_property(
                self.atom("WM_PROTOCOLS"), self._Xatom.ATOM
            )
        except self._xerror.XError:
            return []
        return [int(a) for a in prop.value] if prop is not None else []

    def _focus_window(self) -> int | None:
        """Where key events go now: the focus window, or for PointerRoot the window under
        the pointer. None when keys go nowhere."""
        focus = self.display.get_input_focus().focus
        fid = focus if isinstance(focus, int) else int(focus.id)
        if fid == self._X.PointerRoot:
            child = self.root.query_pointer().child
            return int(child.id) if child else None
        return fid or None

    def server_time(self) -> int:
        """A current server timestamp (ICCCM: never CurrentTime for focus and selections),
        from the PropertyNotify of a zero-length append to our own helper window."""
        win = self.helper_window()
        win.change_property(self.atom("_VOICETYPE_TIME"), self._Xatom.STRING, 8, b"",
                            mode=self._X.PropModeAppend)  # fmt: skip
        self.display.flush()
        ev = self.wait_event(
            lambda e: e.type == self._X.PropertyNotify and int(e.window.id) == int(win.id), 1.0
        )
        if ev is None:
            raise InsertionError("the X server did not answer (no PropertyNotify)")
        return int(ev.time)

    def helper_window(self) -> Any:
        if self._helper is None:
            self._helper = self.root.create_window(
                -10, -10, 1, 1, 0, self._X.CopyFromParent, self._X.InputOnly,
                event_mask=self._X.PropertyChangeMask,
            )  # fmt: skip
        return self._helper

    def wait_event(self, match: Callable[[Any], bool], timeout: float) -> Any:
        """The first queued or arriving event that ``match``es (others are dropped), or
        None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            while self.display.pending_events():
                ev = self.display.next_event()
                self._note_escape(ev)
                if match(ev):
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            select.select([self.display.fileno()], [], [], left)

    def _note_escape(self, ev: Any) -> None:
        """Escape's press starts an active grab of the whole keyboard by us until its
        release: the keys we type meanwhile come back to us instead of reaching the window
        (counted in ``_swallowed``, so ``TypingStopped`` says what really arrived)."""
        if not self._escape_kc or ev.type != self._X.KeyPress:
            return
        if ev.detail == self._escape_kc:
            self._escape_seen = True
        elif self._escape_seen and ev.detail not in self._modifier_kcs:
            self._swallowed += 1

    def key(self, keycode: int, down: bool) -> None:
        self._xtest.fake_input(self.display, self._X.KeyPress if down else self._X.KeyRelease,
                               keycode)  # fmt: skip

    # -- the Inserter interface --------------------------------------------------------

    def focused_target(self) -> X11Target | None:
        """The focused top-level client window: ``_NET_ACTIVE_WINDOW`` (one round trip),
        else the client containing the input focus. None when nothing has focus."""
        active = self._active_window()
        if active:
            return X11Target(active)
        focus = self._focus_window()
        return X11Target(self._client_of(focus)) if focus else None

    def insert(self, text: str, target: Target | None) -> None:
        """Type ``text`` into ``target`` (None: into whatever has focus now).

        Control characters other than newline and tab are dropped first (``sanitize``);
        a lone surrogate raises ``InsertionError`` before anything is typed.
        """
        text = sanitize(text)
        try:
            keysyms_ok = [keysym_for_char(ch) for ch in text]
        except ValueError as e:
            raise InsertionError(f"cannot type this text: {e}; nothing was typed") from e
        if not keysyms_ok:
            return
        window = self.prepare(_x11_target(target))
        text = shape_text(text, self.window_profile(window))
        if text:
            self._type(text, window)

    def close(self) -> None:
        try:
            if self._helper is not None:
                self._helper.destroy()
            self.display.close()
        except self._xerror.ConnectionClosedError:
            pass

    # -- steps shared with the clipboard inserter -----------------------------------

    def prepare(self, target: X11Target | None) -> int:
        """Wait for the modifiers to be released, check that ``target`` exists and holds
        the focus (giving it back if it moved). Returns the target window id."""
        self.wait_modifiers_released()
        if target is None:
            focus = self.focused_target()
            if focus is None:
                raise InsertionError(
                    "no window has the keyboard focus; nothing was typed",
                    fix="click into the window you want to type into and dictate again",
                )
            return focus.window
        self._ensure_focus(target.window)
        return target.window

    def held_modifiers(self) -> list[int]:
        """Keycodes of modifier keys (not Caps/Num Lock) that are down now."""
        keymap = self.display.query_keymap()
        held = []
        for kc in self._modifier_keycodes(include_locks=False):
            if keymap[kc // 8] & (1 << (kc % 8)):
                held.append(kc)
        return held

    def wait_modifiers_released(self) -> None:
        deadline = time.monotonic() + self.modifier_timeout
        while True:
            held = self.held_modifiers()
            if not held:
                return
            if time.monotonic() > deadline:
                names = ", ".join(self._keyname(kc) for kc in held)
                raise InsertionError(
                    f"a modifier key is still held ({names}) {self.modifier_timeout:g} s after"
                    " the dictation ended; nothing was typed, so that the text could not"
                    " arrive as shortcuts",
                    fix="release all keys after pressing the hotkey",
                )
            time.sleep(0.01)

    def _pause_while_modifiers_held(self, keycodes: Sequence[int], typed: int, total: int) -> bool:
        """Between two groups of typed keys: raises ``TypingStopped`` when Escape was
        pressed (grabbed, or down now); while the user holds a modifier (e.g. presses the
        hotkey again), waits — a key typed now would arrive as a shortcut. Returns whether
        it paused (the caller then re-checks the focus); raises ``InsertionError`` when a
        modifier is still held after ``modifier_timeout``."""
        keymap = self.display.query_keymap()
        esc = self._escape_kc
        if esc:
            while self.display.pending_events():
                self._note_escape(self.display.next_event())
            if self._escape_seen or keymap[esc // 8] & (1 << (esc % 8)):
                self.display.sync()  # every key sent so far has been delivered somewhere
                while self.display.pending_events():
                    self._note_escape(self.display.next_event())
                raise TypingStopped(typed - self._swallowed, total)
        if not any(keymap[kc // 8] & (1 << (kc % 8)) for kc in keycodes):
            return False
        try:
            self.wait_modifiers_released()
        except InsertionError as e:
            raise InsertionError(
                f"a modifier key was held while typing; stopped after {typed} of {total}"
                " characters so that the rest could not arrive as shortcuts",
                fix="don't hold keys until the text has appeared",
            ) from e
        return True

    def _keyname(self, keycode: int) -> str:
        from Xlib import XK

        ks = self.display.keycode_to_keysym(keycode, 0)
        names = {v: k[3:] for k, v in vars(XK).items() if k.startswith("XK_")}
        return names.get(ks) or f"keycode {keycode}"

    def _modifier_keycodes(self, include_locks: bool) -> list[int]:
        mapping = self.display.get_modifier_mapping()
        lock_kcs: set[int] = set()
        if not include_locks:
            for ks in (KEYSYM_CAPS_LOCK, KEYSYM_NUM_LOCK):
                lock_kcs.update(kc for kc, _ in self.display.keysym_to_keycodes(ks))
        out: list[int] = []
        for index, keycodes in enumerate(mapping):
            if index == self._X.LockMapIndex and not include_locks:
                continue
            out.extend(kc for kc in keycodes if kc and kc not in lock_kcs)
        return out

    def focus_is_in(self, window: int) -> bool:
        """Keys typed now go to ``window`` (and, with EWMH, the WM says it is active)."""
        active = self._active_window()
        if active is not None and active != window:
            return False
        focus = self._focus_window()
        return focus is not None and window in self._parent_chain(focus)

    def _ensure_focus(self, window: int) -> None:
        try:
            attrs = self._window(window).get_attributes()
            _ = attrs.map_state
            if self.focus_is_in(window):
                return
        except (self._xerror.BadWindow, self._xerror.BadDrawable) as e:
            raise TargetGone(
                "the window that had focus when you pressed the hotkey was closed;"
                " nothing was typed"
            ) from e
        stamp = self.server_time()
        try:
            if self._wm_supports("_NET_ACTIVE_WINDOW"):
                from Xlib.protocol import event

                ev = event.ClientMessage(
                    window=self._window(window),
                    client_type=self.atom("_NET_ACTIVE_WINDOW"),
                    data=(32, [2, stamp, self._active_window() or 0, 0, 0]),
                )
                mask = self._X.SubstructureRedirectMask | self._X.SubstructureNotifyMask
                self.root.send_event(ev, event_mask=mask)
            else:
                self._window(window).set_input_focus(self._X.RevertToParent, stamp)
            self.display.sync()
            deadline = time.monotonic() + self.focus_timeout
            while not self.focus_is_in(window):
                if time.monotonic() > deadline:
                    raise InsertionError(
                        "could not give the focus back to the window that had it when you"
                        " pressed the hotkey; nothing was typed",
                        fix="keep that window open and focused until the text appears",
                    )
                time.sleep(0.005)
        except (self._xerror.BadWindow, self._xerror.BadMatch) as e:
            raise TargetGone(
                "the window that had focus when you pressed the hotkey was closed;"
                " nothing was typed"
            ) from e

    # -- typing -------------------------------------------------------------------------

    def _type(self, text: str, window: int) -> None:
        d = self.display
        min_kc = d.display.info.min_keycode
        rows = [
            list(r) for r in d.get_keyboard_mapping(min_kc, d.display.info.max_keycode - min_kc + 1)
        ]
        modifier_kcs = self._modifier_keycodes(include_locks=True)
        keymap = keymap_strokes(rows, min_kc, modifier_kcs)
        spare = spare_keycodes(rows, min_kc)
        shift_kc = next((kc for kc in d.get_modifier_mapping()[self._X.ShiftMapIndex] if kc), 0)
        held_kcs = self._modifier_keycodes(include_locks=False)
        try:
            batches = plan(text, keymap, spare)
        except ValueError as e:
            raise InsertionError(f"cannot type this text: {e}; nothing was typed") from e
        if not shift_kc and any(s.shift for b in batches for s in b.strokes):
            raise InsertionError("the keymap has no Shift key; nothing was typed")

        # Pongs come back through the root window.
        self.root.change_attributes(event_mask=self._X.SubstructureNotifyMask)
        caps_kc = self._caps_lock_off()
        sync = _Syncer(self, window)
        grabs = self._grab_escape()
        typed = 0
        bound: set[int] = set()
        in_flight = 0  # keys typed on borrowed keycodes since the last sync
        shift_down = False
        try:
            for batch in batches:
                if batch.bindings:
                    if bound:
                        sync.drain(in_flight)
                    in_flight = 0
                    for i, run in enumerate(contiguous_runs(batch.bindings)):
                        if i:
                            sync.between_runs()
                        d.change_keyboard_mapping(run[0], [batch.bindings[kc] for kc in run])
                    bound.update(batch.bindings)
                    sync.after_remap()
                strokes = batch.strokes
                for start in range(0, len(strokes), MODIFIER_CHUNK):
                    paused = self._pause_while_modifiers_held(held_kcs, typed, len(text))
                    if paused or start % CHUNK == 0:  # noqa: SIM102 - two reasons to check
                        if not self.focus_is_in(window):
                            raise InsertionError(
                                f"the focus left the window while typing: {typed} of "
                                f"{len(text)} characters were typed",
                                fix="don't switch windows until the text has appeared",
                            )
                    for s in strokes[start : start + MODIFIER_CHUNK]:
                        if s.shift != shift_down:
                            self.key(shift_kc, s.shift)
                            shift_down = s.shift
                        self.key(s.keycode, True)
                        self.key(s.keycode, False)
                    if shift_down:
                        self.key(shift_kc, False)
                        shift_down = False
                    d.flush()
                    n = len(strokes[start : start + MODIFIER_CHUNK])
                    typed += n
                    if batch.bindings:
                        in_flight += n
            if bound:
                sync.drain(in_flight)
        finally:
            try:
                if shift_down:
                    self.key(shift_kc, False)
                if bound:
                    if sync.pending:
                        sync.drain(in_flight)
                    for run in contiguous_runs(bound):
                        d.change_keyboard_mapping(run[0], [[0] * len(rows[0]) for _ in run])
                if caps_kc:
                    self.key(caps_kc, True)
                    self.key(caps_kc, False)
                self.root.change_attributes(event_mask=self._X.NoEventMask)
                self._ungrab_escape(grabs)
                d.sync()
            except self._xerror.ConnectionClosedError:
                pass

    def _lock_masks(self) -> list[int]:
        """Every combination of the Caps Lock and Num Lock modifier bits (a passive grab
        matches exact modifiers only)."""
        X = self._X
        num = 0
        num_kcs = {kc for kc, _ in self.display.keysym_to_keycodes(KEYSYM_NUM_LOCK)}
        for index, keycodes in enumerate(self.display.get_modifier_mapping()):
            if num_kcs & {kc for kc in keycodes if kc}:
                num = 1 << index
        masks = {0, X.LockMask, num, X.LockMask | num}
        return sorted(masks)

    def _grab_escape(self) -> list[tuple[int, int]]:
        """Grab Escape on the root window for the time of typing; returns the grabs to undo.
        On failure (another client holds it) returns [] and Escape is still noticed through
        ``XQueryKeymap`` (the application then sees it too)."""
        self._escape_seen = False
        self._swallowed = 0
        self._modifier_kcs = frozenset(self._modifier_keycodes(include_locks=True))
        kcs = [kc for kc, _ in self.display.keysym_to_keycodes(KEYSYM_ESCAPE)]
        self._escape_kc = kcs[0] if kcs else 0
        if not self._escape_kc:
            return []
        X = self._X
        catch = self._xerror.CatchError(self._xerror.BadAccess)
        grabs = [(self._escape_kc, m) for m in self._lock_masks()]
        for kc, mods in grabs:
            self.root.grab_key(kc, mods, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
        self.display.sync()
        if catch.get_error() is not None:
            for kc, mods in grabs:  # the ones that succeeded; another client's stay
                self.root.ungrab_key(kc, mods)
            return []
        return grabs

    def _ungrab_escape(self, grabs: list[tuple[int, int]]) -> None:
        for kc, mods in grabs:
            self.root.ungrab_key(kc, mods)
        self._escape_kc = 0
        self._escape_seen = False

    def _caps_lock_off(self) -> int:
        """If Caps Lock is locked, switch it off; return its keycode (0 if untouched)."""
        if not self.root.query_pointer().mask & self._X.LockMask:
            return 0
        kcs = [kc for kc, _ in self.display.keysym_to_keycodes(KEYSYM_CAPS_LOCK)]
        if kcs:
            self.key(kcs[0], True)
            self.key(kcs[0], False)
        if not kcs or self.root.query_pointer().mask & self._X.LockMask:
            raise InsertionError("Caps Lock is on and could not be switched off; nothing typed",
                                 fix="switch Caps Lock off and dictate again")  # fmt: skip
        return kcs[0]


def client_pid(display: Any, window: int) -> int | None:
    """The process id the X server knows for the client that created ``window`` (the
    X-Resource extension's ``LocalClientPIDMask``), or None (no extension, a remote
    client, a window that is gone)."""
    if not display.has_extension("X-Resource"):
        return None
    from Xlib import error
    from Xlib.ext import res

    try:
        reply = res.query_client_ids(display, [{"client": window, "mask": res.LocalClientPIDMask}])
    except error.XError:
        return None
    for value in reply.ids:
        if value.spec.mask == res.LocalClientPIDMask and len(value.value):
            return int(value.value[0]) or None
    return None


def _x11_target(target: Target | None) -> X11Target | None:
    if target is None or isinstance(target, X11Target):
        return target
    raise TypeError(f"not an X11 target: {target!r}")


class _Syncer:
    """Waits until the target window has handled every event sent before: a
    ``_NET_WM_PING`` round trip when the window lists ``_NET_WM_PING`` in its
    ``WM_PROTOCOLS`` and answers it, else a fixed wait. A window that does not list it is
    never sent a client message."""

    def __init__(self, x: X11Inserter, window: int) -> None:
        self.x = x
        self.window = window
        # None: advertises _NET_WM_PING, not pinged yet; False: never ping it.
        self.answers: bool | None = None
        if x.atom("_NET_WM_PING") not in x.protocols(window):
            self.answers = False
        self.pending = False  # keys sent since the last completed sync

    def _ping(self, fallback: float, bound: float) -> bool:
        from Xlib.protocol import event

        x = self.x
        x._ping_serial += 1
        ping_id = _PING_BASE + x._ping_serial
        wm_protocols = x.atom("WM_PROTOCOLS")
        ev = event.ClientMessage(
            window=x._window(self.window),
            client_type=wm_protocols,
            data=(32, [x.atom("_NET_WM_PING"), ping_id, self.window, 0, 0]),
        )
        x._window(self.window).send_event(ev, event_mask=0)
        x.display.flush()
        timeout = fallback if self.answers is None else bound
        pong = x.wait_event(
            lambda e: (
                e.type == x._X.ClientMessage
                and e.client_type == wm_protocols
                and int(e.data[1][1]) == ping_id
            ),
            timeout,
        )
        if pong is not None:
            self.answers = True
            return True
        if self.answers:
            raise InsertionError(
                f"the window stopped responding for {timeout:.1f} s while text was typed"
            )
        self.answers = False
        return False

    def between_runs(self) -> None:
        """Between two ChangeKeyboardMapping requests of one remap: a window that isn't
        pinged gets ``RUN_GAP`` to take in each MappingNotify on its own (a loaded Tk
        given a burst of them kept only the first: keys on the other borrowed keycodes
        were lost)."""
        if self.answers is False:
            self.x.display.sync()
            time.sleep(RUN_GAP)

    def after_remap(self) -> None:
        if self.answers is False:
            time.sleep(AFTER_REMAP_WAIT)
        else:
            self._ping(AFTER_REMAP_WAIT, 2.0)
        self.pending = True

    def drain(self, keys: int) -> None:
        """Wait until the window has handled the ``keys`` keys sent since the last sync."""
        fallback = DRAIN_WAIT + keys / DRAIN_KEYS_PER_S
        if self.answers is False:
            time.sleep(fallback)
        else:
            self._ping(fallback, 2.0 + keys / 300.0)
        self.pending = False
