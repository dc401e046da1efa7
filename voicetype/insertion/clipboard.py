"""Paste insertion on X11 that gives the user's clipboard back.

``insert(text, target)``:
1. does what typing does first (``X11Inserter.prepare``): waits until no modifier key is
   held, raises ``TargetGone`` if the window is gone, gives the focus back if it moved;
2. saves the current CLIPBOARD: every target its owner offers (``TARGETS``) except the
   meta targets (``TARGETS``, ``MULTIPLE``, ``TIMESTAMP``, …), each converted into our own
   window (INCR transfers included), within ``save_timeout`` seconds in total; targets that
   fail or time out are left out;
3. owns CLIPBOARD in-process and serves ``text`` as ``UTF8_STRING``, ``TEXT``,
   ``text/plain;charset=utf-8``, ``text/plain`` and ``STRING`` (the last only when the text
   is Latin-1, so nobody gets ``?`` for a character), plus ``TARGETS`` and ``TIMESTAMP``;
4. presses Ctrl+V with XTEST (Ctrl+Shift+V in known terminals, see ``CTRL_SHIFT_V_CLASSES``);
5. waits, up to ``paste_timeout`` seconds, until a client *of the target window* (same X
   resource-id base) has fetched a text target from us — a clipboard manager reading the
   new content does not count;
6. restores: re-owns CLIPBOARD with the saved targets and serves them (or gives up the
   ownership when the clipboard was empty before). A program that takes the clipboard
   in between wins: nothing is restored over its content.

Where it can't work: terminals in which no key pastes CLIPBOARD (xterm, uxterm, urxvt:
``NO_PASTE_KEY_CLASSES``) raise ``InsertionError`` naming the fix (method "type" or
"auto"); a window that ignores Ctrl+V (e.g. a terminal we don't know) makes step 5 time
out, which raises ``InsertionError`` after restoring the clipboard. Selections over
``MAX_SAVE_BYTES`` per target are not saved. A clipboard manager sees the pasted text
briefly and may keep it in its history.

Threading: the clipboard must be served after ``insert`` returns, so a
``ClipboardInserter`` runs one daemon thread with its own ``Display`` connection that
answers every selection event; ``insert``/``focused_target`` are called from one thread
at a time (the controller) and talk to that thread through a queue. ``close`` stops it
(any clipboard content we still hold is then lost, as when any X client exits).
"""

from __future__ import annotations

import os
import queue
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from voicetype.insertion import InsertionError, Target, sanitize
from voicetype.insertion.x11 import X11Inserter, X11Target, _x11_target

T = TypeVar("T")

#: Terminals whose "paste clipboard" key is Ctrl+Shift+V (WM_CLASS class or instance,
#: lower case); Ctrl+V there sends a literal ^V to the shell.
CTRL_SHIFT_V_CLASSES = frozenset(
    {
        "gnome-terminal", "gnome-terminal-server", "mate-terminal", "xfce4-terminal",
        "konsole", "tilix", "terminator", "alacritty", "kitty", "wezterm",
        "org.wezfurlong.wezterm", "lxterminal", "qterminal", "terminology", "sakura",
        "guake", "tilda", "termite", "kgx", "ptyxis", "ghostty", "com.mitchellh.ghostty",
        "st", "st-256color", "deepin-terminal", "cool-retro-term", "terminal",
    }
)  # fmt: skip
#: Terminals with no default key that pastes CLIPBOARD.
NO_PASTE_KEY_CLASSES = frozenset({"xterm", "uxterm", "urxvt", "rxvt", "rxvt-unicode"})

_META_TARGETS = (
    "TARGETS", "MULTIPLE", "TIMESTAMP", "SAVE_TARGETS", "DELETE", "INSERT_SELECTION",
    "INSERT_PROPERTY", "_VOICETYPE_SEL",
)  # fmt: skip
_TEXT_TARGETS = ("UTF8_STRING", "TEXT", "text/plain;charset=utf-8", "text/plain", "STRING")
MAX_SAVE_BYTES = 32 * 1024 * 1024
#: Property writes above this go out in INCR chunks of this size.
INCR_CHUNK = 64 * 1024
KEYSYM_V = 0x76


@dataclass
class _Item:
    type: int
    format: int
    value: Any  # bytes for format 8, a sequence of ints for 16/32

    def size(self) -> int:
        return len(self.value) * max(1, self.format // 8)


@dataclass
class _Ticket:
    """One paste in flight: set when the target's client fetched text, or ownership lost."""

    client_base: int
    served: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Outgoing:
    """An INCR transfer to one requestor property."""

    window: Any
    prop: int
    item: _Item
    offset: int = 0


def paste_keys_for(wm_class: tuple[str, str] | None) -> tuple[bool, str | None]:
    """(needs Shift, problem): how to paste into a window of this WM_CLASS; ``problem`` is
    a sentence when no key pastes the clipboard there."""
    names = {n.lower() for n in wm_class or () if n}
    if names & NO_PASTE_KEY_CLASSES:
        return False, f"{'/'.join(sorted(names))} has no key that pastes the clipboard"
    return bool(names & CTRL_SHIFT_V_CLASSES), None


class _Owner(threading.Thread):
    """Owns CLIPBOARD on its own connection and answers selection events until stopped."""

    def __init__(self, display_name: str | None) -> None:
        super().__init__(name="voicetype-clipboard", daemon=True)
        from Xlib import X, Xatom, display, error

        self.X: Any = X
        self.Xatom: Any = Xatom
        self.xerror: Any = error
        self.d: Any = display.Display(display_name)
        self.mask = int(self.d.display.info.resource_id_mask)
        root = self.d.screen().root
        self.win: Any = root.create_window(
            -10, -10, 1, 1, 0, X.CopyFromParent, X.InputOnly, event_mask=X.PropertyChangeMask
        )
        self._atoms: dict[str, int] = {}
        self.CLIPBOARD = self.atom("CLIPBOARD")
        self.store: dict[int, _Item] | None = None  # what we serve while we own CLIPBOARD
        self.owned_since = 0
        self.ticket: _Ticket | None = None
        self.outgoing: list[_Outgoing] = []
        self.jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any]]] = queue.Queue()
        self.wake_r, self.wake_w = os.pipe()
        self.stopping = False

    def atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self.d.intern_atom(name)
        return self._atoms[name]

    # -- thread plumbing ------------------------------------------------------------

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` on the owner thread; re-raise what it raised."""
        box: queue.Queue[Any] = queue.Queue()
        self.jobs.put((fn, box))
        os.write(self.wake_w, b"x")
        try:
            ok, value = box.get(timeout=timeout)
        except queue.Empty:
            raise InsertionError("the clipboard thread did not answer") from None
        if not ok:
            raise value
        return value

    def run(self) -> None:
        fd = self.d.fileno()
        while not self.stopping:
            self.dispatch_pending()
            ready, _, _ = select.select([fd, self.wake_r], [], [], 1.0)
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
            while not self.jobs.empty():
                fn, box = self.jobs.get()
                try:
                    box.put((True, fn()))
                except Exception as e:  # handed to the caller, who raises it
                    box.put((False, e))
        self.win.destroy()
        self.d.close()
        os.close(self.wake_r)
        os.close(self.wake_w)

    def stop(self) -> None:
        def _stop() -> None:
            self.stopping = True

        if self.is_alive():
            self.call(_stop)
            self.join(5)

    def dispatch_pending(self) -> None:
        while self.d.pending_events():
            self.handle(self.d.next_event())

    def wait(self, match: Callable[[Any], bool], timeout: float) -> Any:
        """Handle events until one ``match``es (returned, not handled) or ``timeout``."""
        deadline = time.monotonic() + timeout
        fd = self.d.fileno()
        while True:
            while self.d.pending_events():
                ev = self.d.next_event()
                if match(ev):
                    return ev
                self.handle(ev)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            select.select([fd], [], [], left)

    # -- events -----------------------------------------------------------------------

    def handle(self, ev: Any) -> None:
        X = self.X
        if ev.type == X.SelectionRequest:
            self.serve(ev)
        elif ev.type == X.SelectionClear and ev.atom == self.CLIPBOARD:
            if ev.time >= self.owned_since or ev.time == X.CurrentTime:
                self.store = None
                if self.ticket is not None:
                    self.ticket.lost.set()
        elif ev.type == X.PropertyNotify and ev.state == X.PropertyDelete:
            self.continue_incr(ev)

    def serve(self, ev: Any) -> None:
        from Xlib.protocol import event

        X = self.X
        prop = ev.property or ev.target  # obsolete clients pass None
        item = None
        if self.store is not None and ev.selection == self.CLIPBOARD:
            item = self.item_for(ev.target)
        ok = False
        if item is not None:
            try:
                if item.size() > INCR_CHUNK:
                    ev.requestor.change_attributes(event_mask=X.PropertyChangeMask)
                    ev.requestor.change_property(prop, self.atom("INCR"), 32, [item.size()])
                    self.outgoing.append(_Outgoing(ev.requestor, prop, item))
                else:
                    ev.requestor.change_property(prop, item.type, item.format, item.value)
                ok = True
            except self.xerror.XError:
                ok = False
        reply = event.SelectionNotify(
            time=ev.time,
            requestor=ev.requestor,
            selection=ev.selection,
            target=ev.target,
            property=prop if ok else X.NONE,
        )
        ev.requestor.send_event(reply, event_mask=0)
        self.d.flush()
        ticket = self.ticket
        if (
            ok
            and ticket is not None
            and self.d.get_atom_name(ev.target) in _TEXT_TARGETS
            and int(ev.requestor.id) & ~self.mask == ticket.client_base
        ):
            ticket.served.set()

    def item_for(self, target: int) -> _Item | None:
        assert self.store is not None
        if target == self.atom("TARGETS"):
            atoms = [self.atom("TARGETS"), self.atom("TIMESTAMP"), *self.store]
            return _Item(self.Xatom.ATOM, 32, atoms)
        if target == self.atom("TIMESTAMP"):
            return _Item(self.Xatom.INTEGER, 32, [self.owned_since])
        return self.store.get(target)

    def continue_incr(self, ev: Any) -> None:
        for out in list(self.outgoing):
            if int(out.window.id) == int(ev.window.id) and out.prop == ev.atom:
                unit = max(1, out.item.format // 8)
                step = INCR_CHUNK // unit
                chunk = out.item.value[out.offset : out.offset + step]
                out.window.change_property(out.prop, out.item.type, out.item.format, chunk)
                out.offset += step
                if not len(chunk):
                    self.outgoing.remove(out)
                self.d.flush()

    # -- jobs run on this thread ------------------------------------------------------

    def server_time(self) -> int:
        self.win.change_property(self.atom("_VOICETYPE_TIME"), self.Xatom.STRING, 8, b"",
                                 mode=self.X.PropModeAppend)  # fmt: skip
        self.d.flush()
        ev = self.wait(
            lambda e: (
                e.type == self.X.PropertyNotify
                and int(e.window.id) == int(self.win.id)
                and e.atom == self.atom("_VOICETYPE_TIME")
            ),
            1.0,
        )
        if ev is None:
            raise InsertionError("the X server did not answer (no PropertyNotify)")
        return int(ev.time)

    def snapshot(self, timeout: float) -> dict[int, _Item] | None:
        """The current CLIPBOARD content, target by target; None when nobody owns it."""
        owner = self.d.get_selection_owner(self.CLIPBOARD)
        owner_id = owner if isinstance(owner, int) else int(owner.id)
        if owner_id == self.X.NONE:
            return None
        if owner_id == int(self.win.id) and self.store is not None:
            return dict(self.store)
        deadline = time.monotonic() + timeout
        stamp = self.server_time()
        targets = self.convert(self.atom("TARGETS"), stamp, deadline)
        names: list[int] = []
        if targets is not None and targets.format == 32:
            names = [int(a) for a in targets.value]
        else:  # an owner that can't list its targets: try plain text
            names = [self.atom("UTF8_STRING"), self.Xatom.STRING]
        saved: dict[int, _Item] = {}
        for target in names:
            if target in saved or self.d.get_atom_name(target) in _META_TARGETS:
                continue
            if time.monotonic() > deadline:
                break
            item = self.convert(target, stamp, deadline)
            if item is not None:
                saved[target] = item
        return saved

    def convert(self, target: int, stamp: int, deadline: float) -> _Item | None:
        X = self.X
        prop = self.atom("_VOICETYPE_SEL")
        self.win.delete_property(prop)
        self.win.convert_selection(self.CLIPBOARD, target, prop, stamp)
        self.d.flush()
        ev = self.wait(
            lambda e: e.type == X.SelectionNotify and int(e.requestor.id) == int(self.win.id),
            max(0.0, deadline - time.monotonic()),
        )
        if ev is None or ev.property == X.NONE:
            return None
        got = self.win.get_full_property(prop, X.AnyPropertyType)
        self.win.delete_property(prop)
        self.d.flush()
        if got is None:
            return None
        if got.property_type != self.atom("INCR"):
            return _Item(got.property_type, got.format, got.value)
        parts: list[Any] = []
        size, item_type, fmt = 0, 0, 8
        while True:
            ev = self.wait(
                lambda e: (
                    e.type == X.PropertyNotify
                    and int(e.window.id) == int(self.win.id)
                    and e.atom == prop
                    and e.state == X.PropertyNewValue
                ),
                max(0.0, deadline - time.monotonic()),
            )
            if ev is None:
                return None
            got = self.win.get_full_property(prop, X.AnyPropertyType)
            self.win.delete_property(prop)
            self.d.flush()
            if got is None or not len(got.value):
                break
            item_type, fmt = got.property_type, got.format
            parts.append(got.value)
            size += len(got.value) * max(1, fmt // 8)
            if size > MAX_SAVE_BYTES:
                return None
        if not parts:
            return None
        value: Any = b"".join(parts) if fmt == 8 else [v for p in parts for v in p]
        return _Item(item_type, fmt, value)

    def own(self, store: dict[int, _Item] | None) -> None:
        """Serve ``store`` as CLIPBOARD (None: give the ownership up)."""
        stamp = self.server_time()
        if store is None:
            if self.store is not None:
                from Xlib.protocol import request

                request.SetSelectionOwner(
                    display=self.d.display, window=self.X.NONE, selection=self.CLIPBOARD, time=stamp
                )
            self.store = None
            self.d.flush()
            return
        self.win.set_selection_owner(self.CLIPBOARD, stamp)
        owner = self.d.get_selection_owner(self.CLIPBOARD)
        if owner is None or isinstance(owner, int) or int(owner.id) != int(self.win.id):
            raise InsertionError("could not take the clipboard; nothing was pasted")
        self.store = store
        self.owned_since = stamp


def text_store(owner: _Owner, text: str) -> dict[int, _Item]:
    """The targets under which ``text`` is offered."""
    utf8 = text.encode("utf-8")
    store = {
        owner.atom("UTF8_STRING"): _Item(owner.atom("UTF8_STRING"), 8, utf8),
        owner.atom("TEXT"): _Item(owner.atom("UTF8_STRING"), 8, utf8),
        owner.atom("text/plain;charset=utf-8"): _Item(
            owner.atom("text/plain;charset=utf-8"), 8, utf8
        ),
    }
    try:
        latin1 = text.encode("latin-1")
    except UnicodeEncodeError:
        return store
    store[owner.atom("STRING")] = _Item(owner.Xatom.STRING, 8, latin1)
    store[owner.atom("text/plain")] = _Item(owner.atom("text/plain"), 8, latin1)
    return store


class ClipboardInserter:
    """Pastes text through CLIPBOARD and restores the clipboard; see the module docstring."""

    def __init__(
        self,
        typer: X11Inserter | None = None,
        display_name: str | None = None,
        paste_timeout: float = 2.0,
        save_timeout: float = 1.0,
    ) -> None:
        self.typer = typer if typer is not None else X11Inserter(display_name)
        self._own_typer = typer is None
        self._display_name = display_name
        self.paste_timeout = paste_timeout
        self.save_timeout = save_timeout
        self._owner: _Owner | None = None

    def _owner_thread(self) -> _Owner:
        if self._owner is None:
            self._owner = _Owner(self._display_name)
            self._owner.start()
        return self._owner

    def focused_target(self) -> X11Target | None:
        return self.typer.focused_target()

    def paste_problem(self, target: Target | None) -> str | None:
        """Why pasting into ``target`` can't work, or None."""
        window = _x11_target(target)
        if window is None:
            return None
        return paste_keys_for(self._wm_class(window.window))[1]

    def _wm_class(self, window: int) -> tuple[str, str] | None:
        try:
            wm_class = self.typer._window(window).get_wm_class()
        except self.typer._xerror.XError:
            return None
        return (str(wm_class[0]), str(wm_class[1])) if wm_class else None

    def insert(self, text: str, target: Target | None) -> None:
        """Paste ``text`` (sanitized) into ``target`` (None: the focused window)."""
        text = sanitize(text)
        if not text:
            return
        x = self.typer
        window = x.prepare(_x11_target(target))
        shift, problem = paste_keys_for(self._wm_class(window))
        if problem:
            raise InsertionError(
                f"can't paste here: {problem}; nothing was pasted",
                fix='set [typing] method = "auto" or "type" in config.toml',
            )
        v_codes = [kc for kc, _ in x.display.keysym_to_keycodes(KEYSYM_V)]
        ctrl_codes = [kc for kc, _ in x.display.keysym_to_keycodes(0xFFE3)]
        shift_codes = [kc for kc, _ in x.display.keysym_to_keycodes(0xFFE1)]
        if not v_codes or not ctrl_codes or (shift and not shift_codes):
            raise InsertionError("the keymap has no Ctrl or V key to paste with")
        owner = self._owner_thread()
        ticket = _Ticket(client_base=window & ~owner.mask)

        def take() -> dict[int, _Item] | None:
            previous = owner.snapshot(self.save_timeout)
            owner.own(text_store(owner, text))
            owner.ticket = ticket
            return previous

        previous = owner.call(take)
        caps = 0
        try:
            caps = x._caps_lock_off()
            keys = [ctrl_codes[0], *([shift_codes[0]] if shift else []), v_codes[0]]
            for kc in keys:
                x.key(kc, True)
            for kc in reversed(keys):
                x.key(kc, False)
            x.display.sync()
            deadline = time.monotonic() + self.paste_timeout
            while not (ticket.served.is_set() or ticket.lost.is_set()):
                if time.monotonic() > deadline:
                    raise InsertionError(
                        f"the window did not take the pasted text within {self.paste_timeout:g} s",
                        fix='if it is a terminal, set [typing] method = "type"',
                    )
                ticket.served.wait(0.005)
            if ticket.lost.is_set() and not ticket.served.is_set():
                raise InsertionError(
                    "another program took the clipboard before the window pasted; nothing"
                    " was pasted"
                )
        finally:
            if caps:
                x.key(caps, True)
                x.key(caps, False)
                x.display.sync()

            def restore() -> None:
                owner.ticket = None
                if not ticket.lost.is_set():
                    owner.own(previous)

            owner.call(restore)

    def close(self) -> None:
        if self._owner is not None:
            self._owner.stop()
            self._owner = None
        if self._own_typer:
            self.typer.close()
