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
force when it was sent (Xlib's XKB code marks its keymap stale when it *reads* a
MappingNotify and fetches the server's current one at the next key), so the one rule is:
a keycode's binding never changes while keys typed on it may still wait in a window.
What that takes (``_Syncer``):

- After a remap, a round trip (``sync``) proves the server has the new mapping. The
  server sends the MappingNotify while it handles the request and makes our XTEST keys
  only afterwards, so a window reads the notify before the keys, and by the rule the
  mapping it then fetches has the bindings the keys were typed with. No fixed wait.
- Before a remap that changes keycodes typed on in this text (a text with more missing
  characters than slots), a *drain*: proof that the window has processed those keys. A
  ping where the window lists ``_NET_WM_PING``; for any other window nothing proves it,
  so a measured wait: on a loaded 2-core machine ``DRAIN_WAIT`` = 150 ms (+ 1 ms per key
  in flight) passed 3 of 3 runs of the 47-string corpus in Tk where 30 ms garbled keys.
  A window that lists the ping is given up to ``PING_BOUND`` to answer (a loaded Firefox
  took longer than 0.1 s, and treating it as one that never answers lost every non-ASCII
  character of a text once).
- The restore is a remap too: after the last key a window that lists the ping is pinged
  (its answer proves the keys were handled), and the bindings are handed to a
  ``KeymapLease`` (``x11_lease``), which clears them on its own thread once that proof or
  the measured wait is there and at least ``CLEAR_LINGER`` has passed since the last key;
  a text typed before then reuses the bindings still in place (and binds what is missing
  on free keycodes).

A window that does not list ``_NET_WM_PING`` is never sent a client message (ICCCM; xterm,
which lists only ``WM_DELETE_WINDOW``, closes itself on *any* ``WM_PROTOCOLS`` message, a
ping included; Tk lists only ``WM_DELETE_WINDOW`` too). A remap touching several runs of
spare keycodes is several ChangeKeyboardMapping requests; a loaded Tk given them in a
burst once took in only the first (characters on the other borrowed keycodes were lost,
1 corpus run in 2; with only a round trip between them, a 120-character CJK text lost
characters in 1 of 6 loaded runs), so an unpinged window gets ``RUN_GAP`` = 20 ms between
them (paid only when a text needs new bindings). One request spanning them all would
rewrite the keys in between through the core protocol, which changes the XKB map's shape:
not done.

What arrives is shaped per window first (``apps.shape_text`` with the window's profile):
trailing line breaks are stripped, and in terminals a line break or tab becomes a space.

Escape stops typing: while a text is typed, Escape is grabbed on the root window (a
passive grab on this connection, with every Caps/Num Lock combination, so the application
never sees it) and released right after; between groups of keys a pressed Escape raises
``TypingStopped`` saying how many characters were typed. When the grab fails (another
program holds Escape), the key state (``XQueryKeymap``) is checked instead.

The spare keycodes are set back to "no symbols" by the lease ~0.6 s after the last
key (``settle`` waits for it; ``close`` does it), also when typing failed midway. Binding
and unbinding keycodes that had no symbols leaves the XKB keymap exactly as it was
(``xkbcomp`` dumps compare equal); keycodes that carry symbols before we come are never
touched. If the process is killed before the clear the spare keycodes keep their last
binding: harmless (no physical key sends them).

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

Structure: ``insert`` is ``template.insert_with`` with this class as the port; the
connection, atoms, server time, event wait and window queries are the ``X11Session``
(shared with ``ClipboardInserter``), the focus ``X11Focus``, key presses and key state
``X11Keyboard``, the plan the pure ``keymap`` module; ``_TypingRun`` is one text being typed.

Threading: an ``X11Inserter`` opens an ``X11Session`` in ``__init__`` unless given one and
is not thread-safe: call it from one thread at a time (the controller's dictation worker).
``close`` closes the session it opened.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from voicetype.insertion import InsertionError, Key, Target, TypingStopped
from voicetype.insertion.apps import AppProfile
from voicetype.insertion.keymap import (
    KEYSYM_BACKSPACE,
    KEYSYM_RETURN,
    Batch,
    Stroke,
    contiguous_runs,
    keymap_strokes,
    keysym_for_char,
    plan,
    spare_keycodes,
)
from voicetype.insertion.template import Chunk, insert_clean, insert_with
from voicetype.insertion.x11_lease import KeymapLease
from voicetype.insertion.x11_port import X11Port
from voicetype.insertion.x11_session import X11Session

log = logging.getLogger(__name__)

#: Characters typed between two checks that the focus is still in the target window.
CHUNK = 64
#: Characters typed between two checks that no modifier key is held (a hotkey pressed
#: while typing would otherwise turn the next characters into shortcuts); one
#: ``QueryKeymap`` round trip each. Must divide ``CHUNK``.
MODIFIER_CHUNK = 4
#: Measured waits for windows that don't advertise ``_NET_WM_PING`` (module docstring).
DRAIN_WAIT = 0.15
DRAIN_KEYS_PER_S = 1000.0
RUN_GAP = 0.02
#: How long a window that lists ``_NET_WM_PING`` may take to answer one (a busy browser
#: under load takes longer than 0.1 s: treating it as one that never answers lost
#: characters, see docs/faults.md), plus per key in flight.
PING_BOUND = 2.0
PING_KEYS_PER_S = 300.0
#: The bindings stay this long after the last key even when a measured wait would allow
#: clearing them sooner (off the typing path: the lease clears them): a window whose
#: keys are still queued after ``DRAIN_WAIT`` on a loaded machine still gets them right.
CLEAR_LINGER = 0.6
#: Our ping ids; far from the small serial ids window managers use for their own pings.
_PING_BASE = 0x7E000000


class X11Inserter(X11Port):
    """Types text into an X11 window with XTEST. See the module docstring for the contract.

    It is the ``template.Port`` of X11 typing: ``insert`` runs ``template.insert_with``.
    ``session`` (an ``X11Session``) may be shared with a ``ClipboardInserter``; one made
    here is closed by ``close``.
    """

    def __init__(
        self,
        display_name: str | None = None,
        modifier_timeout: float = 2.0,
        focus_timeout: float = 1.0,
        session: X11Session | None = None,
    ) -> None:
        super().__init__(session, display_name, modifier_timeout, focus_timeout)
        self._ping_serial = 0
        self._run: _TypingRun | None = None
        self.lease = KeymapLease(self.session.display.get_display_name())

    # -- the Inserter interface --------------------------------------------------------

    def insert(self, text: str, target: Target | None) -> None:
        """Type ``text`` into ``target`` (None: into whatever has focus now).

        Control characters other than newline and tab are dropped first (``sanitize``);
        a lone surrogate raises ``InsertionError`` before anything is typed.
        """
        insert_with(self, text, target)

    def insert_clean(self, text: str, target: Target | None) -> None:
        """``insert`` for a text that is sanitized already."""
        insert_clean(self, text, target)

    def window_profile(self, window: int) -> AppProfile:
        return self.session.window_profile(window)

    def window_pid(self, window: int) -> int | None:
        return self.session.window_pid(window)

    def press(self, key: Key, count: int, target: Target | None) -> None:
        """Press ``key`` ``count`` times in ``target`` (None: whatever has focus), after
        the same modifier wait and focus check as ``insert``; Return never into a terminal.
        Returns once the server has the keys (they reach the window in order, before any
        text typed next)."""
        if count <= 0:
            return
        self.wait_modifiers_released()
        window = self.ensure_focus(target)
        if key == "Return" and self.session.window_profile(window).terminal:
            raise InsertionError("a line break is never typed into a terminal; nothing typed")
        keysym = KEYSYM_BACKSPACE if key == "BackSpace" else KEYSYM_RETURN
        display = self.session.display
        keycodes = [kc for kc, _ in display.keysym_to_keycodes(keysym)]
        if not keycodes:
            raise InsertionError(f"the keymap has no {key} key; nothing typed")
        for start in range(0, count, CHUNK):
            if not self.focus_is_in(window):
                raise InsertionError(
                    f"the focus left the window while pressing {key}: {start} of {count} "
                    "were pressed",
                    fix="don't switch windows until the text has changed",
                )
            for _ in range(min(CHUNK, count - start)):
                self.keyboard.tap(keycodes[0])
            display.flush()
        display.sync()

    def settle(self, timeout: float = 2.0) -> bool:
        """Wait until the temporary key bindings are cleared (``x11_lease``); False if
        they are still there after ``timeout`` s plus the wait they are due after."""
        return self.lease.wait_cleared(timeout + CLEAR_LINGER + DRAIN_WAIT + 1.0)

    def close(self) -> None:
        """Clears the temporary key bindings (waiting until that is safe, ≤ ~0.5 s), then
        closes the session it opened."""
        self.lease.close()
        if self._own_session:
            self.session.close()

    # -- the template's port -------------------------------------------------------------

    def clean(self, text: str) -> str:
        try:
            for ch in text:
                keysym_for_char(ch)
        except ValueError as e:
            raise InsertionError(f"cannot type this text: {e}; nothing was typed") from e
        return text

    def focus_lost(self, typed: int, total: int) -> InsertionError:
        return InsertionError(
            f"the focus left the window while typing: {typed} of {total} characters were typed",
            fix="don't switch windows until the text has appeared",
        )

    @contextmanager
    def delivery(self, text: str, window: int) -> Iterator[Iterator[Chunk[_Keys]]]:
        run = _TypingRun(self, text, window)
        self._run = run
        try:
            run.start()
            yield run.chunks()
        finally:
            self._run = None
            run.restore()

    def between(self, typed: int, total: int) -> bool:
        assert self._run is not None
        return self._run.between(typed, total)

    def send(self, payload: _Keys, typed: int, total: int) -> None:
        assert self._run is not None
        self._run.send(payload)


@dataclass(frozen=True)
class _Keys:
    """Up to ``MODIFIER_CHUNK`` strokes."""

    strokes: list[Stroke]


class _TypingRun:
    """One text being typed into ``window``: reads the keymap and plans (raising
    ``InsertionError`` before anything is sent), then, as the template asks, remaps spare
    keycodes per batch, sends keys, watches Escape and held modifiers; ``restore`` puts
    the keymap, Caps Lock, the grab and the event mask back, also after an error."""

    def __init__(self, typer: X11Inserter, text: str, window: int) -> None:
        self.typer = typer
        self.session = s = typer.session
        self.kb = kb = typer.keyboard
        d = s.display
        # keycodes still bound by an earlier text, and when rebinding them is safe
        self.ours, self.safe_at = typer.lease.take()
        self.width = 0
        planned = False
        try:
            min_kc = d.display.info.min_keycode
            self.rows = [
                list(r)
                for r in d.get_keyboard_mapping(min_kc, d.display.info.max_keycode - min_kc + 1)
            ]
            self.width = len(self.rows[0]) if self.rows else 0
            modifier_kcs = kb.modifier_keycodes(include_locks=True)
            self.shift_kc = next(
                (kc for kc in d.get_modifier_mapping()[s.X.ShiftMapIndex] if kc), 0
            )
            self.held_kcs = kb.modifier_keycodes(include_locks=False)
            self.batches: list[Batch] = self._plan(text, min_kc, modifier_kcs)
            if not self.shift_kc and any(st.shift for b in self.batches for st in b.strokes):
                raise InsertionError("the keymap has no Shift key; nothing was typed")
            planned = True
        finally:
            if not planned:
                typer.lease.give_back(set(self.ours), self.width, self.safe_at)
        self.bound: set[int] = set(self.ours)  # keycodes carrying our bindings
        self.dirty: set[int] = set()  # of those, typed on since the last drain
        self.in_flight = 0  # keys typed on them since the last drain
        self.shift_down = False
        self.caps_kc = 0
        self.grabs: list[tuple[int, int]] = []
        self.escape_kc = 0  # Escape's keycode while typing; 0 otherwise
        self.escape_seen = False
        self.swallowed = 0  # our keys that reached our own Escape grab, not the window
        self.modifier_kcs = frozenset(modifier_kcs)
        self.window = window
        self.sync: _Syncer | None = None

    def _plan(self, text: str, min_kc: int, modifier_kcs: list[int]) -> list[Batch]:
        """The batches for ``text``: characters bound by an earlier text are typed with
        those bindings, others are bound to free spare keycodes. When that takes more than
        one batch (or finds no free keycode), our earlier keycodes are taken back for
        rebinding — once their keys can have been handled (``safe_at``, measured)."""
        rows = self.rows
        try:
            batches = plan(
                text, keymap_strokes(rows, min_kc, modifier_kcs), spare_keycodes(rows, min_kc)
            )
            if len(batches) == 1 or not self.ours:
                return batches
        except ValueError as e:
            if not self.ours:
                raise InsertionError(f"cannot type this text: {e}; nothing was typed") from e
        wait = self.safe_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # the earlier text's keys may still be queued in a window
        rows = [[0] * len(r) if min_kc + i in self.ours else r for i, r in enumerate(rows)]
        try:
            return plan(
                text, keymap_strokes(rows, min_kc, modifier_kcs), spare_keycodes(rows, min_kc)
            )
        except ValueError as e:
            raise InsertionError(f"cannot type this text: {e}; nothing was typed") from e

    def start(self) -> None:
        """Listen for pongs (they come back through the root window) and Escape; switch
        Caps Lock off; grab Escape. ``restore`` undoes what was done, also partly."""
        s, kb = self.session, self.kb
        s.root.change_attributes(event_mask=s.X.SubstructureNotifyMask)
        s.on_event = self._note_escape
        self.caps_kc = kb.caps_lock_off()
        self.sync = _Syncer(self.typer, self.window)
        self.escape_kc = kb.escape_keycode()
        if self.escape_kc:
            self.grabs = kb.grab(self.escape_kc)

    def chunks(self) -> Iterator[Chunk[_Keys]]:
        """The strokes in groups of ``MODIFIER_CHUNK``, a focus check every ``CHUNK``
        characters of a batch; each batch's spare keycodes are bound before its first group
        (after the window has drained the keys typed with the previous binding)."""
        assert self.sync is not None
        for batch in self.batches:
            if batch.bindings:
                if self.dirty & set(batch.bindings):
                    self.sync.drain(self.in_flight)  # keys on keycodes about to change
                    self.dirty.clear()
                    self.in_flight = 0
                for i, run in enumerate(contiguous_runs(batch.bindings)):
                    if i:
                        self.sync.between_runs()
                    self.session.display.change_keyboard_mapping(
                        run[0], [batch.bindings[kc] for kc in run]
                    )
                self.bound.update(batch.bindings)
                self.sync.after_remap()
            strokes = batch.strokes
            for start in range(0, len(strokes), MODIFIER_CHUNK):
                group = strokes[start : start + MODIFIER_CHUNK]
                yield Chunk(_Keys(group), len(group), start % CHUNK == 0)

    def send(self, keys: _Keys) -> None:
        kb = self.kb
        for st in keys.strokes:
            if st.shift != self.shift_down:
                kb.key(self.shift_kc, st.shift)
                self.shift_down = st.shift
            kb.tap(st.keycode)
        if self.shift_down:
            kb.key(self.shift_kc, False)
            self.shift_down = False
        self.session.display.flush()
        for st in keys.strokes:
            if st.keycode in self.bound:
                self.dirty.add(st.keycode)
                self.in_flight += 1

    def between(self, typed: int, total: int) -> bool:
        """Between two groups of typed keys: raises ``TypingStopped`` when Escape was
        pressed (grabbed, or down now); while the user holds a modifier (e.g. presses the
        hotkey again), waits — a key typed now would arrive as a shortcut. Returns whether
        it paused (the template then re-checks the focus); raises ``InsertionError`` when a
        modifier is still held after ``modifier_timeout``."""
        s = self.session
        esc = self.escape_kc
        watched = [esc] if esc else []
        down = set(self.kb.keys_down([*watched, *self.held_kcs]))
        if esc:
            s.dispatch_pending()
            if self.escape_seen or esc in down:
                s.display.sync()  # every key sent so far has been delivered somewhere
                s.dispatch_pending()
                raise TypingStopped(typed - self.swallowed, total)
        if not down - {esc}:
            return False
        try:
            self.typer.wait_modifiers_released()
        except InsertionError as e:
            raise InsertionError(
                f"a modifier key was held while typing; stopped after {typed} of {total}"
                " characters so that the rest could not arrive as shortcuts",
                fix="don't hold keys until the text has appeared",
            ) from e
        return True

    def _note_escape(self, ev: Any) -> None:
        """Escape's press starts an active grab of the whole keyboard by us until its
        release: the keys we type meanwhile come back to us instead of reaching the window
        (counted in ``swallowed``, so ``TypingStopped`` says what really arrived)."""
        if not self.escape_kc or ev.type != self.session.X.KeyPress:
            return
        if ev.detail == self.escape_kc:
            self.escape_seen = True
        elif self.escape_seen and ev.detail not in self.modifier_kcs:
            self.swallowed += 1

    def restore(self) -> None:
        """Puts back Caps Lock, the grab and the event mask now; hands our bindings to the
        lease, which clears them once the keys typed on them can have been handled: at
        once for a window that answered a ping sent after them, else a measured
        ``DRAIN_WAIT`` + 1 ms per such key after now (or later if an earlier text's wait
        ends later) — and never before ``CLEAR_LINGER``: ``x11_lease``."""
        s, kb = self.session, self.kb
        proven = False
        if self.sync is not None and self.in_flight and self.sync.answers is not False:
            try:  # before the event mask goes: the answer comes through the root window
                bound = PING_BOUND + self.in_flight / PING_KEYS_PER_S
                proven = self.sync.ping(bound)
            except (InsertionError, s.xerror.XError, s.xerror.ConnectionClosedError) as e:
                log.debug("no ping before clearing the key bindings: %s", e)
        now = time.monotonic()
        safe_at = now if proven else now + DRAIN_WAIT + self.in_flight / DRAIN_KEYS_PER_S
        safe_at = max(safe_at, self.safe_at)
        self.typer.lease.give_back(
            self.bound, self.width, safe_at, clear_at=max(safe_at, now + CLEAR_LINGER)
        )
        try:
            if self.shift_down:
                kb.key(self.shift_kc, False)
            if self.caps_kc:
                kb.tap(self.caps_kc)
            s.root.change_attributes(event_mask=s.X.NoEventMask)
            kb.ungrab(self.grabs)
            self.escape_kc = 0
            s.on_event = None
            s.display.sync()
        except s.xerror.ConnectionClosedError:
            pass


class _Syncer:
    """Before keys typed on new bindings: proof that the server has the new mapping — a
    round trip (``sync``) after the ChangeKeyboardMapping requests. The server sends the
    MappingNotify to every client while it handles the request, and generates our XTEST
    keys only later, so a window reads the notify before the keys; as a keycode's binding
    never changes while keys typed on it may still be queued (``drain``, and the lease's
    delayed clear), whenever the window looks the mapping up again it finds the binding
    the keys were typed with. For a window whose ``WM_PROTOCOLS`` lists ``_NET_WM_PING``
    the round trip is a ping (it also proves the window handled every event before it).

    ``drain`` — before rebinding keycodes that keys were typed on — needs proof that the
    window has *processed* those keys: a ping where advertised, else the measured wait
    (nothing else proves it). A window that does not list the ping is never sent a client
    message."""

    def __init__(self, typer: X11Inserter, window: int) -> None:
        self.typer = typer
        self.x = x = typer.session
        self.window = window
        # None: advertises _NET_WM_PING, not pinged yet; False: never ping it.
        self.answers: bool | None = None
        if x.atom("_NET_WM_PING") not in x.protocols(window):
            self.answers = False

    def ping(self, timeout: float) -> bool:
        """Send ``_NET_WM_PING`` (only to a window that lists it) and wait up to ``timeout``
        for the answer: True when it came (the window handled every event before it);
        False, and never pinged again, when it did not come the first time; raises
        ``InsertionError`` when a window that answered before stops answering."""
        from Xlib.protocol import event

        x = self.x
        self.typer._ping_serial += 1
        ping_id = _PING_BASE + self.typer._ping_serial
        wm_protocols = x.atom("WM_PROTOCOLS")
        ev = event.ClientMessage(
            window=x.window(self.window),
            client_type=wm_protocols,
            data=(32, [x.atom("_NET_WM_PING"), ping_id, self.window, 0, 0]),
        )
        x.window(self.window).send_event(ev, event_mask=0)
        x.display.flush()
        pong = x.wait_event(
            lambda e: (
                e.type == x.X.ClientMessage
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
        """A round trip: the server has the new mapping (and sent its MappingNotify before
        any key we type next). No ping: that proof is needed only before a rebinding."""
        self.x.display.sync()

    def drain(self, keys: int) -> bool:
        """Wait until the window has handled the ``keys`` keys sent since the last drain:
        True when a ping proved it, False after the measured wait (a window that does not
        list the ping, or did not answer its first within ``PING_BOUND``)."""
        if self.answers is not False:
            bound = PING_BOUND + keys / PING_KEYS_PER_S
            if self.ping(bound):
                return True
        time.sleep(DRAIN_WAIT + keys / DRAIN_KEYS_PER_S)
        return False
