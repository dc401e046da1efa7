"""One X11 connection with what typing and the clipboard both need from it: interned atoms,
a current server timestamp, a bounded event wait, window queries (the focused client, its
class, process id and ``WM_PROTOCOLS``), the focus, and the keyboard (XTEST keys, the
modifier keys held, Caps Lock).

``X11Inserter`` (typing) and ``ClipboardInserter`` (its pasting steps) share one
``X11Session``. The clipboard's owner thread opens a second ``X11Session`` of its own:
selections must be answered while the controller's thread waits on this one (and after
``insert`` has returned), and python-xlib hands each event to whichever thread reads the
queue first, so two threads waiting for events on one connection would take each other's.

Threading: a session is used from one thread at a time; ``close`` closes the connection.
Errors: ``BackendUnavailable`` when the display can't be opened (or lacks XTEST when
``need_xtest``); ``InsertionError``/``TargetGone`` from the focus and modifier steps.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voicetype.errors import BackendUnavailable
from voicetype.insertion import InsertionError, Target, TargetGone
from voicetype.insertion.apps import AppProfile, profile_for, toolkit_from_maps
from voicetype.xlib_errors import repair_core_errors


@dataclass(frozen=True)
class X11Target:
    """The top-level client window (the one the window manager manages) that had focus."""

    window: int


def as_x11_target(target: Target | None) -> X11Target | None:
    """``target`` as an ``X11Target``; ``TypeError`` for another platform's target."""
    if target is None or isinstance(target, X11Target):
        return target
    raise TypeError(f"not an X11 target: {target!r}")


_GONE = "the window that had focus when you pressed the hotkey was closed; nothing was typed"


class X11Session:
    """A ``Display`` connection and its helpers; see the module docstring.

    ``on_event`` (settable) is given every event ``wait_event`` reads that doesn't match.
    """

    def __init__(self, display_name: str | None = None, need_xtest: bool = True) -> None:
        try:
            from Xlib import X, Xatom, display, error
        except ImportError as e:
            raise BackendUnavailable(
                f"typing on X11 needs python-xlib ({e})", fix="pip install python-xlib"
            ) from e
        self.X: Any = X
        self.Xatom: Any = Xatom
        self.xerror: Any = error
        try:
            self.display: Any = repair_core_errors(display.Display(display_name))
        except (error.DisplayError, error.ConnectionClosedError, OSError) as e:
            raise BackendUnavailable(
                f"cannot connect to the X display {display_name or ''} ({e})",
                fix="run voicetype inside an X11 session (DISPLAY must be set)",
            ) from e
        if need_xtest and not self.display.has_extension("XTEST"):
            self.display.close()
            raise BackendUnavailable(
                "the X server has no XTEST extension, needed to type",
                fix="enable XTEST in the X server (it is on by default in Xorg and Xvfb)",
            )
        self.root: Any = self.display.screen().root
        self.resource_mask = int(self.display.display.info.resource_id_mask)
        self.on_event: Callable[[Any], None] | None = None
        self._atoms: dict[str, int] = {}
        self._helper: Any = None
        self._profiles: dict[tuple[int, int | None], AppProfile] = {}

    # -- atoms, time, events -------------------------------------------------------------

    def atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self.display.intern_atom(name)
        return self._atoms[name]

    def window(self, wid: int) -> Any:
        return self.display.create_resource_object("window", wid)

    def helper_window(self) -> Any:
        """Our own 1×1 input-only window (PropertyChangeMask), made on first use."""
        if self._helper is None:
            self._helper = self.root.create_window(
                -10, -10, 1, 1, 0, self.X.CopyFromParent, self.X.InputOnly,
                event_mask=self.X.PropertyChangeMask,
            )  # fmt: skip
        return self._helper

    def server_time(self) -> int:
        """A current server timestamp (ICCCM: never CurrentTime for focus and selections),
        from the PropertyNotify of a zero-length append to our helper window."""
        win = self.helper_window()
        stamp_atom = self.atom("_VOICETYPE_TIME")
        win.change_property(stamp_atom, self.Xatom.STRING, 8, b"", mode=self.X.PropModeAppend)
        self.display.flush()
        ev = self.wait_event(
            lambda e: (
                e.type == self.X.PropertyNotify
                and int(e.window.id) == int(win.id)
                and e.atom == stamp_atom
            ),
            1.0,
        )
        if ev is None:
            raise InsertionError("the X server did not answer (no PropertyNotify)")
        return int(ev.time)

    def dispatch_pending(self) -> None:
        """Hand every queued event to ``on_event``."""
        while self.display.pending_events():
            ev = self.display.next_event()
            if self.on_event is not None:
                self.on_event(ev)

    def wait_event(self, match: Callable[[Any], bool], timeout: float) -> Any:
        """The first queued or arriving event that ``match``es (returned; the others go to
        ``on_event``, else are dropped), or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            while self.display.pending_events():
                ev = self.display.next_event()
                if match(ev):
                    return ev
                if self.on_event is not None:
                    self.on_event(ev)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            select.select([self.display.fileno()], [], [], left)

    # -- windows ---------------------------------------------------------------------------

    def active_window(self) -> int | None:
        """``_NET_ACTIVE_WINDOW`` or None when the window manager doesn't maintain it."""
        prop = self.root.get_full_property(self.atom("_NET_ACTIVE_WINDOW"), self.X.AnyPropertyType)
        if prop is None or not len(prop.value):
            return None
        return int(prop.value[0]) or None

    def wm_supports(self, name: str) -> bool:
        prop = self.root.get_full_property(self.atom("_NET_SUPPORTED"), self.Xatom.ATOM)
        return prop is not None and self.atom(name) in prop.value

    def parent_chain(self, wid: int) -> list[int]:
        """``wid`` and its ancestors up to (not including) the root."""
        chain = []
        root = self.root.id
        while wid and wid != root:
            chain.append(wid)
            wid = int(self.window(wid).query_tree().parent.id)
        return chain

    def client_of(self, wid: int) -> int:
        """The top-level client window containing ``wid`` (the one with WM_STATE)."""
        chain = self.parent_chain(wid)
        if not chain:
            return wid
        wm_state = self.atom("WM_STATE")
        for w in chain:
            if self.window(w).get_full_property(wm_state, self.X.AnyPropertyType):
                return w
        top = chain[-1]  # a frame without WM_STATE: look for the client inside it
        stack = [top]
        while stack:
            w = stack.pop()
            if self.window(w).get_full_property(wm_state, self.X.AnyPropertyType):
                return w
            stack.extend(int(c.id) for c in self.window(w).query_tree().children)
        return top

    def focus_window(self) -> int | None:
        """Where key events go now: the focus window, or for PointerRoot the window under
        the pointer. None when keys go nowhere."""
        focus = self.display.get_input_focus().focus
        fid = focus if isinstance(focus, int) else int(focus.id)
        if fid == self.X.PointerRoot:
            child = self.root.query_pointer().child
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

    def wm_class(self, window: int) -> tuple[str, str] | None:
        """``WM_CLASS`` (instance, class) of ``window``, or None when it has none or is gone."""
        try:
            wm_class = self.window(window).get_wm_class()
        except self.xerror.XError:
            return None
        return (str(wm_class[0]), str(wm_class[1])) if wm_class else None

    def window_pid(self, window: int) -> int | None:
        """The process id of the client that created ``window``: from the X-Resource
        extension (told by the server, so true for local clients), else ``_NET_WM_PID``."""
        pid = client_pid(self.display, window)
        if pid:
            return pid
        try:
            prop = self.window(window).get_full_property(
                self.atom("_NET_WM_PID"), self.Xatom.CARDINAL
            )
        except self.xerror.XError:
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
            prop = self.window(window).get_full_property(self.atom("WM_PROTOCOLS"), self.Xatom.ATOM)
        except self.xerror.XError:
            return []
        return [int(a) for a in prop.value] if prop is not None else []

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
            _ = self.window(window).get_attributes().map_state
            if self.focus_is_in(window):
                return
        except (self.xerror.BadWindow, self.xerror.BadDrawable) as e:
            raise TargetGone(_GONE) from e
        stamp = self.server_time()
        try:
            if self.wm_supports("_NET_ACTIVE_WINDOW"):
                from Xlib.protocol import event

                ev = event.ClientMessage(
                    window=self.window(window),
                    client_type=self.atom("_NET_ACTIVE_WINDOW"),
                    data=(32, [2, stamp, self.active_window() or 0, 0, 0]),
                )
                mask = self.X.SubstructureRedirectMask | self.X.SubstructureNotifyMask
                self.root.send_event(ev, event_mask=mask)
            else:
                self.window(window).set_input_focus(self.X.RevertToParent, stamp)
            self.display.sync()
            deadline = time.monotonic() + timeout
            while not self.focus_is_in(window):
                if time.monotonic() > deadline:
                    raise InsertionError(
                        "could not give the focus back to the window that had it when you"
                        " pressed the hotkey; nothing was typed",
                        fix="keep that window open and focused until the text appears",
                    )
                time.sleep(0.005)
        except (self.xerror.BadWindow, self.xerror.BadMatch) as e:
            raise TargetGone(_GONE) from e

    def close(self) -> None:
        try:
            if self._helper is not None:
                self._helper.destroy()
            self.display.close()
        except self.xerror.ConnectionClosedError:
            pass


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
