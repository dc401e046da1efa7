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
6. keeps serving the text until the target has been quiet for ``serving.QUIET`` seconds (no
   request of any kind from it since its last one), at most ``serving.LINGER`` seconds after its
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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from voicetype.insertion import InsertionError, NothingPasted, Target
from voicetype.insertion.apps import AppProfile
from voicetype.insertion.clipboard_owner import ClipboardOwner, Item, Ticket, text_store
from voicetype.insertion.serving import time_left
from voicetype.insertion.template import Chunk, insert_clean, insert_with
from voicetype.insertion.x11_port import X11Port
from voicetype.insertion.x11_session import X11Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Paste:
    """The one chunk of a paste: the keys to press and the ticket that tells the outcome."""

    ticket: Ticket
    profile: AppProfile
    keys: list[int]


class ClipboardInserter(X11Port):
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
        super().__init__(session, display_name, modifier_timeout, focus_timeout)
        self._display_name = display_name
        self.paste_timeout = paste_timeout
        self.save_timeout = save_timeout
        self._owner: ClipboardOwner | None = None
        #: A sentence about the last ``insert`` that was not a plain success, else None.
        self.last_note: str | None = None

    def _owner_thread(self) -> ClipboardOwner:
        if self._owner is None:
            self._owner = ClipboardOwner(self._display_name)
            self._owner.start()
        return self._owner

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
        ticket = Ticket(client_base=window & ~owner.mask, pid=self.session.window_pid(window))

        def take() -> dict[int, Item] | None:
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

    def _await_fetches(self, ticket: Ticket, profile: AppProfile) -> None:
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
                wait = time_left(time.monotonic(), 0.0, first, last)
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
