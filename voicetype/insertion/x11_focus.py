"""Where keys go on X11: the focused client window, whether a window still has the focus,
and giving it back (``_NET_ACTIVE_WINDOW`` through the window manager, else SetInputFocus),
on an ``X11Session``.

Threading: like its session, one thread at a time.
"""

from __future__ import annotations

import time

from voicetype.insertion import InsertionError, Target, TargetGone
from voicetype.insertion.x11_session import X11Session, as_x11_target

_GONE = "the window that had focus when you pressed the hotkey was closed; nothing was typed"


class X11Focus:
    """Focus queries and moves on ``session``'s connection."""

    def __init__(self, session: X11Session) -> None:
        self.session = session

    def active_window(self) -> int | None:
        """``_NET_ACTIVE_WINDOW`` or None when the window manager doesn't maintain it."""
        prop = self.session.root.get_full_property(
            self.session.atom("_NET_ACTIVE_WINDOW"), self.session.X.AnyPropertyType
        )
        if prop is None or not len(prop.value):
            return None
        return int(prop.value[0]) or None

    def wm_supports(self, name: str) -> bool:
        prop = self.session.root.get_full_property(
            self.session.atom("_NET_SUPPORTED"), self.session.Xatom.ATOM
        )
        return prop is not None and self.session.atom(name) in prop.value

    def parent_chain(self, wid: int) -> list[int]:
        """``wid`` and its ancestors up to (not including) the root."""
        chain = []
        root = self.session.root.id
        while wid and wid != root:
            chain.append(wid)
            wid = int(self.session.window(wid).query_tree().parent.id)
        return chain

    def client_of(self, wid: int) -> int:
        """The top-level client window containing ``wid`` (the one with WM_STATE)."""
        chain = self.parent_chain(wid)
        if not chain:
            return wid
        wm_state = self.session.atom("WM_STATE")
        for w in chain:
            if self.session.window(w).get_full_property(wm_state, self.session.X.AnyPropertyType):
                return w
        top = chain[-1]  # a frame without WM_STATE: look for the client inside it
        stack = [top]
        while stack:
            w = stack.pop()
            if self.session.window(w).get_full_property(wm_state, self.session.X.AnyPropertyType):
                return w
            stack.extend(int(c.id) for c in self.session.window(w).query_tree().children)
        return top

    def focus_window(self) -> int | None:
        """Where key events go now: the focus window, or for PointerRoot the window under
        the pointer. None when keys go nowhere."""
        focus = self.session.display.get_input_focus().focus
        fid = focus if isinstance(focus, int) else int(focus.id)
        if fid == self.session.X.PointerRoot:
            child = self.session.root.query_pointer().child
            return int(child.id) if child else None
        return fid or None

    def focused_client(self) -> int | None:
        """The focused top-level client window: ``_NET_ACTIVE_WINDOW`` (one round trip),
        else the client containing the input focus. None when nothing has focus."""
        active = self.active_window()
        if active:
            return active
        focus = self.focus_window()
        return self.client_of(focus) if focus else None

    def focus_is_in(self, window: int) -> bool:
        """Keys typed now go to ``window`` (and, with EWMH, the WM says it is active)."""
        active = self.active_window()
        if active is not None and active != window:
            return False
        focus = self.focus_window()
        return focus is not None and window in self.parent_chain(focus)

    def target_window(self, target: Target | None, timeout: float) -> int:
        """The window to insert into: ``target``'s, given the focus back if it moved
        (``ensure_focus``), or for None the focused client (``InsertionError`` if none)."""
        x11 = as_x11_target(target)
        if x11 is None:
            focus = self.focused_client()
            if focus is None:
                raise InsertionError(
                    "no window has the keyboard focus; nothing was typed",
                    fix="click into the window you want to type into and dictate again",
                )
            return focus
        self.ensure_focus(x11.window, timeout)
        return x11.window

    def ensure_focus(self, window: int, timeout: float) -> None:
        """Give ``window`` the focus back if it moved (``_NET_ACTIVE_WINDOW`` through the
        window manager, else SetInputFocus) and wait up to ``timeout`` until it has it.
        Raises ``TargetGone`` when the window no longer exists, else ``InsertionError``."""
        try:
            _ = self.session.window(window).get_attributes().map_state
            if self.focus_is_in(window):
                return
        except (self.session.xerror.BadWindow, self.session.xerror.BadDrawable) as e:
            raise TargetGone(_GONE) from e
        stamp = self.session.server_time()
        try:
            if self.wm_supports("_NET_ACTIVE_WINDOW"):
                from Xlib.protocol import event

                ev = event.ClientMessage(
                    window=self.session.window(window),
                    client_type=self.session.atom("_NET_ACTIVE_WINDOW"),
                    data=(32, [2, stamp, self.active_window() or 0, 0, 0]),
                )
                mask = (
                    self.session.X.SubstructureRedirectMask | self.session.X.SubstructureNotifyMask
                )
                self.session.root.send_event(ev, event_mask=mask)
            else:
                self.session.window(window).set_input_focus(self.session.X.RevertToParent, stamp)
            self.session.display.sync()
            deadline = time.monotonic() + timeout
            while not self.focus_is_in(window):
                if time.monotonic() > deadline:
                    raise InsertionError(
                        "could not give the focus back to the window that had it when you"
                        " pressed the hotkey; nothing was typed",
                        fix="keep that window open and focused until the text appears",
                    )
                time.sleep(0.005)
        except (self.session.xerror.BadWindow, self.session.xerror.BadMatch) as e:
            raise TargetGone(_GONE) from e
