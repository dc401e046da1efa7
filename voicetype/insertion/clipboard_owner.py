"""The clipboard's owner thread: owns CLIPBOARD on an ``X11Session`` of its own and
answers every selection request (INCR for large values), records in a ``Ticket`` who
fetched what for the paste in flight, saves another owner's content target by target
(``snapshot``) and serves it back (``own``). ``clipboard.ClipboardInserter`` drives it.

Threading: ``ClipboardOwner`` is a daemon thread; other threads only ``call`` it (a job
queue plus a wake-up pipe) and read a ``Ticket`` under its ``changed`` condition. Its own
connection is needed because it must answer selection requests while the inserting thread
waits on the typing session and after ``insert`` returned (see ``x11_session``).
"""

from __future__ import annotations

import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from voicetype.insertion import InsertionError
from voicetype.insertion.x11_session import X11Session, client_pid

T = TypeVar("T")

_META_TARGETS = (
    "TARGETS", "MULTIPLE", "TIMESTAMP", "SAVE_TARGETS", "DELETE", "INSERT_SELECTION",
    "INSERT_PROPERTY", "_VOICETYPE_SEL",
)  # fmt: skip
_TEXT_TARGETS = ("UTF8_STRING", "TEXT", "text/plain;charset=utf-8", "text/plain", "STRING")
MAX_SAVE_BYTES = 32 * 1024 * 1024
#: Property writes above this go out in INCR chunks of this size.
INCR_CHUNK = 64 * 1024

log = logging.getLogger(__name__)


@dataclass
class Item:
    type: int
    format: int
    value: Any  # bytes for format 8, a sequence of ints for 16/32

    def size(self) -> int:
        return len(self.value) * max(1, self.format // 8)


@dataclass
class Ticket:
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
    item: Item
    offset: int = 0


class ClipboardOwner(threading.Thread):
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
        self.store: dict[int, Item] | None = None  # what we serve while we own CLIPBOARD
        self.owned_since = 0
        self.ticket: Ticket | None = None
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

    def record(self, ticket: Ticket, requestor: int, text: bool, target_name: str) -> None:
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

    def item_for(self, target: int) -> Item | None:
        assert self.store is not None
        if target == self.atom("TARGETS"):
            atoms = [self.atom("TARGETS"), self.atom("TIMESTAMP"), *self.store]
            return Item(self.Xatom.ATOM, 32, atoms)
        if target == self.atom("TIMESTAMP"):
            return Item(self.Xatom.INTEGER, 32, [self.owned_since])
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

    def snapshot(self, timeout: float) -> dict[int, Item] | None:
        """The current CLIPBOARD content, target by target; None when nobody owns it."""
        owner = self.d.get_selection_owner(self.CLIPBOARD)
        owner_id = owner if isinstance(owner, int) else int(owner.id)
        if owner_id == self.X.NONE:
            return None
        if owner_id == int(self.win.id) and self.store is not None:
            return dict(self.store)
        deadline = time.monotonic() + timeout
        stamp = self.session.server_time()
        targets = read_selection(
            self.session, self.CLIPBOARD, self.atom("TARGETS"), stamp, deadline
        )
        names: list[int] = []
        if targets is not None and targets.format == 32:
            names = [int(a) for a in targets.value]
        else:  # an owner that can't list its targets: try plain text
            names = [self.atom("UTF8_STRING"), self.Xatom.STRING]
        saved: dict[int, Item] = {}
        for target in names:
            if target in saved or self.d.get_atom_name(target) in _META_TARGETS:
                continue
            if time.monotonic() > deadline:
                break
            item = read_selection(self.session, self.CLIPBOARD, target, stamp, deadline)
            if item is not None:
                saved[target] = item
        return saved

    def own(self, store: dict[int, Item] | None) -> None:
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


def text_store(owner: ClipboardOwner, text: str) -> dict[int, Item]:
    """The targets under which ``text`` is offered."""
    utf8 = text.encode("utf-8")
    store = {
        owner.atom("UTF8_STRING"): Item(owner.atom("UTF8_STRING"), 8, utf8),
        owner.atom("TEXT"): Item(owner.atom("UTF8_STRING"), 8, utf8),
        owner.atom("text/plain;charset=utf-8"): Item(
            owner.atom("text/plain;charset=utf-8"), 8, utf8
        ),
    }
    try:
        latin1 = text.encode("latin-1")
    except UnicodeEncodeError:
        return store
    store[owner.atom("STRING")] = Item(owner.Xatom.STRING, 8, latin1)
    store[owner.atom("text/plain")] = Item(owner.atom("text/plain"), 8, latin1)
    return store


def read_selection(
    session: X11Session, selection: int, target: int, stamp: int, deadline: float
) -> Item | None:
    """``selection`` converted to ``target`` into ``session``'s helper window (INCR
    transfers included, at most ``MAX_SAVE_BYTES``), or None when the owner refuses, the
    transfer fails or ``deadline`` (``time.monotonic``) passes."""
    X = session.X
    win = session.helper_window()
    d = session.display
    prop = session.atom("_VOICETYPE_SEL")
    win.delete_property(prop)
    win.convert_selection(selection, target, prop, stamp)
    d.flush()
    ev = session.wait_event(
        lambda e: e.type == X.SelectionNotify and int(e.requestor.id) == int(win.id),
        max(0.0, deadline - time.monotonic()),
    )
    if ev is None or ev.property == X.NONE:
        return None
    got = win.get_full_property(prop, X.AnyPropertyType)
    win.delete_property(prop)
    d.flush()
    if got is None:
        return None
    if got.property_type != session.atom("INCR"):
        return Item(got.property_type, got.format, got.value)
    parts: list[Any] = []
    size, item_type, fmt = 0, 0, 8
    while True:
        ev = session.wait_event(
            lambda e: (
                e.type == X.PropertyNotify
                and int(e.window.id) == int(win.id)
                and e.atom == prop
                and e.state == X.PropertyNewValue
            ),
            max(0.0, deadline - time.monotonic()),
        )
        if ev is None:
            return None
        got = win.get_full_property(prop, X.AnyPropertyType)
        win.delete_property(prop)
        d.flush()
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
    return Item(item_type, fmt, value)
