"""The keyboard side of an ``X11Session``: XTEST key presses, which modifier keys are held,
Caps Lock, and the passive grab of Escape while typing.

Threading: like its session, one thread at a time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from voicetype.insertion import InsertionError
from voicetype.insertion.keymap import KEYSYM_CAPS_LOCK, KEYSYM_ESCAPE, KEYSYM_NUM_LOCK
from voicetype.insertion.x11_session import X11Session


class X11Keyboard:
    """Key presses and key state on ``session``'s connection."""

    def __init__(self, session: X11Session) -> None:
        from Xlib.ext import xtest

        self.session = session
        self.display: Any = session.display
        self.X: Any = session.X
        self._xtest: Any = xtest

    def key(self, keycode: int, down: bool) -> None:
        """Press or release ``keycode`` through XTEST (sent at the next flush)."""
        self._xtest.fake_input(self.display, self.X.KeyPress if down else self.X.KeyRelease,
                               keycode)  # fmt: skip

    def keycodes(self, keysym: int) -> list[int]:
        return [kc for kc, _ in self.display.keysym_to_keycodes(keysym)]

    def modifier_keycodes(self, include_locks: bool) -> list[int]:
        mapping = self.display.get_modifier_mapping()
        lock_kcs: set[int] = set()
        if not include_locks:
            for ks in (KEYSYM_CAPS_LOCK, KEYSYM_NUM_LOCK):
                lock_kcs.update(self.keycodes(ks))
        out: list[int] = []
        for index, keycodes in enumerate(mapping):
            if index == self.X.LockMapIndex and not include_locks:
                continue
            out.extend(kc for kc in keycodes if kc and kc not in lock_kcs)
        return out

    def keys_down(self, keycodes: Sequence[int]) -> list[int]:
        """Those of ``keycodes`` that are down now (one ``QueryKeymap``)."""
        keymap = self.display.query_keymap()
        return [kc for kc in keycodes if keymap[kc // 8] & (1 << (kc % 8))]

    def keyname(self, keycode: int) -> str:
        from Xlib import XK

        ks = self.display.keycode_to_keysym(keycode, 0)
        names = {v: k[3:] for k, v in vars(XK).items() if k.startswith("XK_")}
        return names.get(ks) or f"keycode {keycode}"

    def wait_modifiers_released(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds until no modifier key (not Caps/Num Lock) is down;
        raises ``InsertionError`` naming the keys still held."""
        deadline = time.monotonic() + timeout
        while True:
            held = self.keys_down(self.modifier_keycodes(include_locks=False))
            if not held:
                return
            if time.monotonic() > deadline:
                names = ", ".join(self.keyname(kc) for kc in held)
                raise InsertionError(
                    f"a modifier key is still held ({names}) {timeout:g} s after"
                    " the dictation ended; nothing was typed, so that the text could not"
                    " arrive as shortcuts",
                    fix="release all keys after pressing the hotkey",
                )
            time.sleep(0.01)

    def caps_lock_off(self) -> int:
        """If Caps Lock is locked, switch it off; return its keycode (0 if untouched), to be
        pressed again afterwards (``tap``)."""
        if not self.session.root.query_pointer().mask & self.X.LockMask:
            return 0
        kcs = self.keycodes(KEYSYM_CAPS_LOCK)
        if kcs:
            self.tap(kcs[0])
        if not kcs or self.session.root.query_pointer().mask & self.X.LockMask:
            raise InsertionError("Caps Lock is on and could not be switched off; nothing typed",
                                 fix="switch Caps Lock off and dictate again")  # fmt: skip
        return kcs[0]

    def tap(self, keycode: int) -> None:
        self.key(keycode, True)
        self.key(keycode, False)

    def lock_masks(self) -> list[int]:
        """Every combination of the Caps Lock and Num Lock modifier bits (a passive grab
        matches exact modifiers only)."""
        X = self.X
        num = 0
        num_kcs = set(self.keycodes(KEYSYM_NUM_LOCK))
        for index, keycodes in enumerate(self.display.get_modifier_mapping()):
            if num_kcs & {kc for kc in keycodes if kc}:
                num = 1 << index
        return sorted({0, X.LockMask, num, X.LockMask | num})

    def escape_keycode(self) -> int:
        kcs = self.keycodes(KEYSYM_ESCAPE)
        return kcs[0] if kcs else 0

    def grab(self, keycode: int) -> list[tuple[int, int]]:
        """Grab ``keycode`` on the root window with every lock combination; returns the
        grabs to ``ungrab``, or [] (none kept) when another client holds one of them."""
        X = self.X
        xerror = self.session.xerror
        root = self.session.root
        catch = xerror.CatchError(xerror.BadAccess)
        grabs = [(keycode, m) for m in self.lock_masks()]
        for kc, mods in grabs:
            root.grab_key(kc, mods, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
        self.display.sync()
        if catch.get_error() is not None:
            self.ungrab(grabs)  # the ones that succeeded; another client's stay
            return []
        return grabs

    def ungrab(self, grabs: Sequence[tuple[int, int]]) -> None:
        for kc, mods in grabs:
            self.session.root.ungrab_key(kc, mods)
