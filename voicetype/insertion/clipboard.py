"""Paste insertion on X11 that gives the user's clipboard back.

``insert(text, target)``:
1. runs the insertion template (``template.insert_with``) like typing does: sanitizes,
   waits until no modifier key is held, raises ``TargetGone`` if the window is gone, gives
   the focus back if it moved (the shared ``X11Session``); then shapes the text for that
   window (``apps.shape_text``: no trailing line breaks; no
   line break at all in a terminal, so no "unsafe paste" dialog and no Return);
2. saves the current CLIPBOARD: every target its owner offers (``TARGETS``) except the
   meta targets (``TARGETS``, ``MULTIPLE``, ``TIMESTAMP``, …), each converted into our own
   window (INCR transfers included), within ``save_timeout`` seconds in total; targets that
   fail or time out are left out;
3. owns CLIPBOARD in-process and serves ``text`` as ``UTF8_STRING``, ``TEXT``,
   ``text/plain;charset=utf-8``, ``text/plain`` and ``STRING`` (the last two only when the
   text is Latin-1, so nobody gets ``?`` for a character), plus ``TARGETS``/``TIMESTAMP``;
4. presses the window's paste keys with XTEST (``AppProfile.paste_keys``: Ctrl+V, Ctrl+Shift+V
   in terminals, Shift+Insert in Emacs);
5. waits, up to ``paste_timeout`` seconds, until the *target's process* fetched a text
   target from us after the keys were pressed (LibreOffice also reads the clipboard the
   moment its owner changes; that read doesn't show a paste). A requestor belongs to the
   target when the X server's X-Resource extension gives both the same process id
   (LibreOffice and others fetch through another connection than the one that made the
   window), or, without that extension, when it shares the window's resource-id base. A
   clipboard manager reading the new content does not count;
6. keeps serving the text until the target has been quiet for ``QUIET`` seconds (no
   request of any kind from it since its last one), at most ``LINGER`` seconds after its
   first fetch: applications fetch more than once (Chromium asks ``UTF8_STRING`` twice
   ~0.1 s apart with ``TARGETS`` between, xfce4-terminal twice ~11 ms apart), and a fetch
   answered with the old clipboard would paste the user's previous (maybe private) text;
7. restores: re-owns CLIPBOARD with the saved targets and serves them (or gives up the
   ownership when the clipboard was empty before). A program that takes the clipboard
   in between wins: nothing is restored over its content.

Outcomes: a fetch by the target is success. Text fetched only by requestors that could
not be tied to the target is "sent, not confirmed": logged as such and kept in
``last_note``, not raised (the text may well have arrived: advising to type it again
could insert it twice). No fetch at all within ``paste_timeout`` raises
``NothingPasted`` — then nothing was inserted, since nobody had the text. A window whose
profile has no paste key (xterm, urxvt) raises ``InsertionError`` (``select`` types there
instead). Selections over ``MAX_SAVE_BYTES`` per target are not saved. A clipboard
manager sees the pasted text briefly and may keep it in its history.

Threading: the clipboard must be served after ``insert`` returns, so a
``ClipboardInserter`` runs one daemon thread with its own ``X11Session`` (connection,
atoms, server time, event wait) that answers every selection event;
``insert``/``focused_target`` are called from one thread at a time (the controller) and
talk to that thread through a queue. ``close`` stops it
(any clipboard content we still hold is then lost, as when any X client exits).
"""

from __future__ import annotations

import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from voicetype.insertion import InsertionError, NothingPasted, Target
from voicetype.insertion.apps import AppProfile, shape_text
from voicetype.insertion.template import Chunk, insert_clean, insert_with
from voicetype.insertion.x11_keys import X11Keyboard
from voicetype.insertion.x11_session import X11Session, X11Target, client_pid

T = TypeVar("T")

_META_TARGETS = (
    "TARGETS", "MULTIPLE", "TIMESTAMP", "SAVE_TARGETS", "DELETE", "INSERT_SELECTION",
    "INSERT_PROPERTY", "_VOICETYPE_SEL",
)  # fmt: skip
_TEXT_TARGETS = ("UTF8_STRING", "TEXT", "text/plain;charset=utf-8", "text/plain", "STRING")
MAX_SAVE_BYTES = 32 * 1024 * 1024
#: Property writes above this go out in INCR chunks of this size.
INCR_CHUNK = 64 * 1024
#: The target counts as done with the clipboard after this long without a request from it.
QUIET = 0.3
#: ...but the text is served at most this long after the target's first fetch.
LINGER = 3.0

log = logging.getLogger(__name__)


@dataclass
class _Item:
    type: int
    format: int
    value: Any  # bytes for format 8, a sequence of ints for 16/32

    def size(self) -> int:
        return len(self.value) * max(1, self.format // 8)


@dataclass
class _Ticket:
    """One paste in flight, written by the owner thread, read by the inserting thread
    under ``changed``: what was fetched, by whom, when (``time.monotonic``)."""

    client_base: int
    pid: int | None
    changed: threading.Condition = field(default_factory=threading.Condition)
    target_fetched: int = 0  # text fetches by the target's process
    other_fetched: int = 0  # text fetches by requestors not tied to the target
    first_fetch: float | None = None
    last_target_request: float | None = None  # any request (TARGETS too) by the target
    last_request: float | None = None  # any request by anyone
    lost: bool = False  # another program took the clipboard
    # Set just before the paste keys go out: fetches before it (LibreOffice reads the new
    # clipboard as soon as the owner changes) don't show that the paste happened.
    keys_pressed: bool = False
    pids: dict[int, int | None] = field(default_factory=dict)  # requestor window -> pid


@dataclass
class _Outgoing:
    """An INCR transfer to one requestor property."""

    window: Any
    prop: int
    item: _Item
    offset: int = 0


class _Owner(threading.Thread):
    """Owns CLIPBOARD on its own connection and answers selection events until stopped."""

    def __init__(self, display_name: str | None) -> None:
        super().__init__(name="voicetype-clipboard", daemon=True)
        # Its own connection: it answers selection events while the inserting thread
        # waits on the typing session, and after insert returned (see x11_session).
        self.session = X11Session(display_name, need_xtest=False)
        self.session.on_event = self.handle
        self.X: Any = self.session.X
        self.Xatom: Any = self.session.Xatom
        self.xerror: Any = self.session.xerror
        self.d: Any = self.session.display
        self.mask = self.session.resource_mask
        self.win: Any = self.session.helper_window()
        self.atom = self.session.atom
        self.CLIPBOARD = self.atom("CLIPBOARD")
        self.store: dict[int, _Item] | None = None  # what we serve while we own CLIPBOARD
        self.owned_since = 0
        self.ticket: _Ticket | None = None
        self.outgoing: list[_Outgoing] = []
        self.jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any]]] = queue.Queue()
        self.wake_r, self.wake_w = os.pipe()
        self.stopping = False

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
            self.session.dispatch_pending()
            ready, _, _ = select.select([fd, self.wake_r], [], [], 1.0)
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
            while not self.jobs.empty():
                fn, box = self.jobs.get()
                try:
                    box.put((True, fn()))
                except Exception as e:  # handed to the caller, who raises it
                    box.put((False, e))
        self.session.close()
        os.close(self.wake_r)
        os.close(self.wake_w)

    def stop(self) -> None:
        def _stop() -> None:
            self.stopping = True

        if self.is_alive():
            self.call(_stop)
            self.join(5)

    # -- events -----------------------------------------------------------------------

    def handle(self, ev: Any) -> None:
        X = self.X
        if ev.type == X.SelectionRequest:
            self.serve(ev)
        elif ev.type == X.SelectionClear and ev.atom == self.CLIPBOARD:
            if ev.time >= self.owned_since or ev.time == X.CurrentTime:
                self.store = None
                ticket = self.ticket
                if ticket is not None:
                    with ticket.changed:
                        ticket.lost = True
                        ticket.changed.notify_all()
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
        if ticket is not None and self.store is not None:
            self.record(ticket, int(ev.requestor.id), ok and self.d.get_atom_name(ev.target)
                        in _TEXT_TARGETS, self.d.get_atom_name(ev.target))  # fmt: skip

    def record(self, ticket: _Ticket, requestor: int, text: bool, target_name: str) -> None:
        """Note one answered request in ``ticket`` and wake the inserting thread."""
        if requestor not in ticket.pids:
            ticket.pids[requestor] = client_pid(self.d, requestor)
        pid = ticket.pids[requestor]
        if ticket.pid is not None and pid is not None:
            ours = pid == ticket.pid
        else:
            ours = requestor & ~self.mask == ticket.client_base
        now = time.monotonic()
        log.debug("clipboard request %s by 0x%x (pid %s, %s)", target_name, requestor, pid,
                  "the target" if ours else "another client")  # fmt: skip
        with ticket.changed:
            if not ticket.keys_pressed:
                return
            ticket.last_request = now
            if ours:
                ticket.last_target_request = now
            if text and ours:
                ticket.target_fetched += 1
                if ticket.first_fetch is None:
                    ticket.first_fetch = now
            elif text:
                ticket.other_fetched += 1
            ticket.changed.notify_all()

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

    def snapshot(self, timeout: float) -> dict[int, _Item] | None:
        """The current CLIPBOARD content, target by target; None when nobody owns it."""
        owner = self.d.get_selection_owner(self.CLIPBOARD)
        owner_id = owner if isinstance(owner, int) else int(owner.id)
        if owner_id == self.X.NONE:
            return None
        if owner_id == int(self.win.id) and self.store is not None:
            return dict(self.store)
        deadline = time.monotonic() + timeout
        stamp = self.session.server_time()
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
        ev = self.session.wait_event(
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
            ev = self.session.wait_event(
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
        stamp = self.session.server_time()
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


@dataclass(frozen=True)
class _Paste:
    """The one chunk of a paste: the keys to press and the ticket that tells the outcome."""

    ticket: _Ticket
    profile: AppProfile
    keys: list[int]


class ClipboardInserter:
    """Pastes text through CLIPBOARD and restores the clipboard; see the module docstring.

    It is a ``template.Port`` (one chunk: the paste keys, no Escape or modifier watch while
    the target fetches). ``session`` is the ``X11Session`` shared with typing (one made
    here is closed by ``close``); the owner thread has a connection of its own.
    """

    def __init__(
        self,
        session: X11Session | None = None,
        display_name: str | None = None,
        paste_timeout: float = 2.0,
        save_timeout: float = 1.0,
        modifier_timeout: float = 2.0,
        focus_timeout: float = 1.0,
    ) -> None:
        self._own_session = session is None
        self.session = session if session is not None else X11Session(display_name)
        self.keyboard = X11Keyboard(self.session)
        self._display_name = display_name
        self.paste_timeout = paste_timeout
        self.save_timeout = save_timeout
        self.modifier_timeout = modifier_timeout
        self.focus_timeout = focus_timeout
        self._owner: _Owner | None = None
        #: A sentence about the last ``insert`` that was not a plain success, else None.
        self.last_note: str | None = None

    def _owner_thread(self) -> _Owner:
        if self._owner is None:
            self._owner = _Owner(self._display_name)
            self._owner.start()
        return self._owner

    def focused_target(self) -> X11Target | None:
        window = self.session.focused_client()
        return X11Target(window) if window else None

    def insert(self, text: str, target: Target | None) -> None:
        """Paste ``text`` (sanitized, shaped for the window) into ``target`` (None: the
        focused window); see the module docstring for the steps and outcomes."""
        self.last_note = None
        insert_with(self, text, target)

    def insert_clean(self, text: str, target: Target | None) -> None:
        """``insert`` for a text that is sanitized already."""
        self.last_note = None
        insert_clean(self, text, target)

    # -- the template's port -------------------------------------------------------------

    def clean(self, text: str) -> str:
        return text

    def wait_modifiers_released(self) -> None:
        self.keyboard.wait_modifiers_released(self.modifier_timeout)

    def ensure_focus(self, target: Target | None) -> int:
        return self.session.target_window(target, self.focus_timeout)

    def shape(self, text: str, window: int) -> str:
        return shape_text(text, self.session.window_profile(window))

    def focus_is_in(self, window: int) -> bool:
        return self.session.focus_is_in(window)

    def focus_lost(self, typed: int, total: int) -> InsertionError:
        return InsertionError("the focus left the window before the paste; nothing was pasted")

    def between(self, typed: int, total: int) -> bool:
        return False

    @contextmanager
    def delivery(self, text: str, window: int) -> Iterator[Iterator[Chunk[_Paste]]]:
        """Takes the clipboard (saving the previous content) and switches Caps Lock off;
        gives both back on the way out."""
        profile = self.session.window_profile(window)
        keys = self._paste_keycodes(profile)
        owner = self._owner_thread()
        ticket = _Ticket(client_base=window & ~owner.mask, pid=self.session.window_pid(window))

        def take() -> dict[int, _Item] | None:
            previous = owner.snapshot(self.save_timeout)
            owner.own(text_store(owner, text))
            owner.ticket = ticket
            return previous

        previous = owner.call(take)
        caps = 0
        try:
            caps = self.keyboard.caps_lock_off()
            yield iter([Chunk(_Paste(ticket, profile, keys), len(text), check_focus=False)])
        finally:
            if caps:
                self.keyboard.tap(caps)
                self.session.display.sync()

            def restore() -> None:
                owner.ticket = None
                if not ticket.lost:
                    owner.own(previous)

            owner.call(restore)

    def send(self, payload: _Paste, typed: int, total: int) -> None:
        """Press the paste keys and wait for the target's fetches (``_await_fetches``)."""
        with payload.ticket.changed:
            payload.ticket.keys_pressed = True
        for kc in payload.keys:
            self.keyboard.key(kc, True)
        for kc in reversed(payload.keys):
            self.keyboard.key(kc, False)
        self.session.display.sync()
        self._await_fetches(payload.ticket, payload.profile)

    def _paste_keycodes(self, profile: AppProfile) -> list[int]:
        from Xlib import XK

        if profile.paste_keys is None:
            raise InsertionError(
                f"can't paste here: {profile.name} has no key that pastes the clipboard;"
                " nothing was pasted",
                fix='set [typing] method = "auto" or "type" in config.toml',
            )
        keys = []
        for name in profile.paste_keys:
            kcs = self.keyboard.keycodes(XK.string_to_keysym(name))
            if not kcs:
                raise InsertionError(f"the keymap has no {name} key to paste with")
            keys.append(kcs[0])
        return keys

    def _await_fetches(self, ticket: _Ticket, profile: AppProfile) -> None:
        """Block until the target fetched the text and went quiet (success), or decide
        "sent, not confirmed" / "nothing pasted"; see the module docstring."""
        start = time.monotonic()
        with ticket.changed:
            while not (ticket.target_fetched or ticket.lost):
                left = start + self.paste_timeout - time.monotonic()
                if left <= 0:
                    break
                ticket.changed.wait(left)
            if ticket.lost and not ticket.target_fetched:
                if ticket.other_fetched:
                    self._not_confirmed(profile, "another program took the clipboard meanwhile")
                    return
                raise InsertionError(
                    "another program took the clipboard before the window pasted; nothing"
                    " was pasted"
                )
            if not ticket.target_fetched and not ticket.other_fetched:
                raise NothingPasted(
                    f"{profile.name} did not ask for the pasted text within"
                    f" {self.paste_timeout:g} s; nothing was pasted",
                    fix='if it pastes with another key, set [typing] method = "type"',
                )
            # Serve until quiet: the target (or, unconfirmed, anyone) asked nothing for QUIET.
            first = ticket.first_fetch or time.monotonic()
            while not ticket.lost:
                last = (
                    ticket.last_target_request if ticket.target_fetched else ticket.last_request
                ) or first
                now = time.monotonic()
                wait = min(last + QUIET, first + LINGER) - now
                if wait <= 0:
                    break
                ticket.changed.wait(wait)
            if not ticket.target_fetched:
                self._not_confirmed(profile, "only other programs fetched it")
            else:
                log.debug("pasted into %s: %d fetches", profile.name, ticket.target_fetched)

    def _not_confirmed(self, profile: AppProfile, why: str) -> None:
        self.last_note = f"sent to {profile.name}, not confirmed ({why})"
        log.warning("paste %s", self.last_note)

    def close(self) -> None:
        if self._owner is not None:
            self._owner.stop()
            self._owner = None
        if self._own_session:
            self.session.close()
