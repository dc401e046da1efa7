"""One X11 connection with what typing and the clipboard both need from it: interned atoms,
a current server timestamp, a bounded event wait, window queries (the focused client, its
class, process id, profile and ``WM_PROTOCOLS``). ``X11Focus`` (the focus) and
``X11Keyboard`` (XTEST keys, the modifier keys held, Caps Lock, the Escape grab) work on a
session.

``X11Inserter`` (typing) and ``ClipboardInserter`` (its pasting steps) share one
``X11Session``. The clipboard's owner thread opens a second ``X11Session`` of its own:
selections must be answered while the controller's thread waits on this one (and after
``insert`` has returned), and python-xlib hands each event to whichever thread reads the
queue first, so two threads waiting for events on one connection would take each other's.

Threading: a session is used from one thread at a time; ``close`` closes the connection.
Errors: ``BackendUnavailable`` when the display can't be opened (or lacks XTEST when
``need_xtest``); ``InsertionError`` when the server doesn't answer ``server_time``.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voicetype.errors import BackendUnavailable
from voicetype.insertion import InsertionError, Target
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

    # -- window properties -----------------------------------------------------------------

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
