"""Seeing that the user typed something, so joining by memory stops ("any key the user
typed in between resets it", issue 13).

``KeyWatch`` (X11) listens on a connection of its own for XInput 2 raw key events on the
root window: they arrive for every key press of every keyboard, even while another client
holds a grab, and listening takes no key away from anyone (never blocking input). For
each press that is the user's it calls ``on_user_key`` (``DictationMemory.user_typed``).

Not the user's:

- keys voicetype presses itself: events from an XTEST device (the slave keyboard named
  "… XTEST keyboard") whose server time falls inside a span marked with ``ours()`` (the
  text stage wraps its Backspaces, typing and paste keys in it). XTEST keys outside those
  spans (xdotool, another dictation tool, a remote-control app) did change the text, and
  count;
- modifier keys alone, function keys (F1–F35), and keys pressed while Ctrl, Alt or Super
  is held: the dictation hotkey (a bare function key or a combination with one of those)
  and other shortcuts. (So Ctrl+V or Ctrl+Z by the user are missed; where the text
  can be read through AT-SPI the pipeline sees that change anyway.)

Server times are turned into this process's monotonic clock by one measurement at start
(a property change's timestamp), so the order in which events are read does not matter.

Threading: one daemon thread ("keywatch") reads the events and calls ``on_user_key`` on
it (which must not block); ``ours`` and ``close`` may be called from any thread.
The thread sleeps in ``select`` until an event arrives (no polling); ``close`` wakes it
through a pipe, ends it (bounded: 1 s) and closes the connection.
"""

from __future__ import annotations

import logging
import os
import select
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any, Protocol

from voicetype.errors import BackendUnavailable

log = logging.getLogger(__name__)

#: Slack (seconds) around a span of our own keys, for the clock measurement's error.
MARGIN = 0.01
#: Round trips measured to pair the server's clock with ours (the quickest counts).
CALIBRATIONS = 5
_SPANS = 32  # spans kept (older ones are long over)
_RAW_KEY_PRESS, _RAW_KEY_RELEASE = 13, 14  # XI_RawKeyPress, XI_RawKeyRelease
_GENERIC_EVENT = 35
_KEYSYM_F1, _KEYSYM_F35 = 0xFFBE, 0xFFE0
#: Modifier map rows that make a key press a shortcut: Control, Mod1 (Alt), Mod4 (Super).
_SHORTCUT_ROWS = (2, 3, 6)


class KeyMarker(Protocol):
    """What the text stage needs of a key watcher: mark the keys it presses itself."""

    def ours(self) -> AbstractContextManager[object]: ...

    def close(self) -> None: ...


class NoKeyWatch:
    """No key watching (not X11, or XInput 2 missing): nothing is marked or reported."""

    def ours(self) -> AbstractContextManager[object]:
        return nullcontext()

    def close(self) -> None:
        return None


def start_key_watch(
    on_user_key: Callable[[], None], env: Mapping[str, str] | None = None
) -> KeyMarker:
    """A started ``KeyWatch`` on X11, else ``NoKeyWatch``. Never raises: a watch that
    cannot start is logged once (joining then relies on the time limit and, where
    available, the text read through AT-SPI)."""
    env = os.environ if env is None else env
    if sys.platform in ("win32", "darwin") or not env.get("DISPLAY"):
        return NoKeyWatch()
    watch = KeyWatch(on_user_key, env.get("DISPLAY"))
    try:
        watch.start()
    except BackendUnavailable as exc:
        watch.close()
        log.warning("Keys typed between dictations are not noticed: %s", str(exc))
        return NoKeyWatch()
    return watch


class KeyWatch:
    def __init__(self, on_user_key: Callable[[], None], display_name: str | None = None) -> None:
        self._on_user_key = on_user_key
        self._display_name = display_name
        self._lock = threading.Lock()
        self._spans: deque[list[float]] = deque(maxlen=_SPANS)  # [start, end]; end inf: open
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._display: Any = None
        self._opcode = 0
        self._xtest: set[int] = set()
        self._modifiers: set[int] = set()
        self._shortcut: set[int] = set()
        self._held: set[int] = set()
        self._server_ref = 0  # a server time (ms) …
        self._mono_ref = 0.0  # … and the monotonic time it was
        self.user_keys = 0  # presses reported (for tests and the log)
        self._wake_r, self._wake_w = os.pipe()  # ``close`` wakes the thread through it

    # -- any thread ------------------------------------------------------------------

    @contextmanager
    def ours(self) -> Iterator[None]:
        """Keys from XTEST pressed while this is open are voicetype's own."""
        span = [time.monotonic(), float("inf")]
        with self._lock:
            self._spans.append(span)
        try:
            yield
        finally:
            with self._lock:
                span[1] = time.monotonic()

    def close(self) -> None:
        self._stop.set()
        with suppress(OSError):
            os.write(self._wake_w, b"x")  # wakes the thread out of its select
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)
        if self._display is not None:
            try:
                self._display.close()
            except Exception:
                log.debug("closing the key watch connection failed", exc_info=True)
            self._display = None
        for fd in (self._wake_r, self._wake_w):
            with suppress(OSError):
                os.close(fd)
        self._wake_r = self._wake_w = -1

    # -- start -----------------------------------------------------------------------

    def start(self) -> None:
        """Connect, select raw key events on the root, measure the server clock and start
        the thread. Raises ``BackendUnavailable`` (nothing left open)."""
        try:
            from Xlib import X, Xatom, display, error
            from Xlib.ext import xinput
        except ImportError as e:
            raise BackendUnavailable(
                f"python-xlib is missing ({e})", "pip install python-xlib"
            ) from e
        try:
            d = display.Display(self._display_name)
        except (error.DisplayError, error.ConnectionClosedError, OSError) as e:
            raise BackendUnavailable(f"cannot connect to the X display ({e})") from e
        try:
            if not d.has_extension("XInputExtension"):
                raise BackendUnavailable("the X server has no XInput extension")
            version = d.xinput_query_version()
            if (version.major_version, version.minor_version) < (2, 0):
                raise BackendUnavailable("the X server's XInput is older than 2.0")
            self._opcode = d.query_extension("XInputExtension").major_opcode
            for device in d.xinput_query_device(xinput.AllDevices).devices:
                name = device.name.decode() if isinstance(device.name, bytes) else device.name
                if "XTEST" in str(name):
                    self._xtest.add(int(device.deviceid))
            rows = d.get_modifier_mapping()
            self._modifiers = {kc for row in rows for kc in row if kc}
            for keysym in range(_KEYSYM_F1, _KEYSYM_F35 + 1):  # a bare F-key hotkey
                self._modifiers.update(kc for kc, _ in d.keysym_to_keycodes(keysym))
            self._shortcut = {kc for i in _SHORTCUT_ROWS for kc in rows[i] if kc}
            root = d.screen().root
            self._calibrate(d, root, X, Xatom)
            mask = xinput.RawKeyPressMask | xinput.RawKeyReleaseMask
            root.xinput_select_events([(xinput.AllMasterDevices, mask)])
            d.sync()
        except BackendUnavailable:
            d.close()
            raise
        except (error.XError, error.ConnectionClosedError) as e:
            d.close()
            raise BackendUnavailable(f"XInput 2 raw key events are not available ({e})") from e
        self._display = d
        self._thread = threading.Thread(target=self._run, name="keywatch", daemon=True)
        self._thread.start()
        log.debug("key watch started (XTEST devices %s)", sorted(self._xtest))

    def _calibrate(self, d: Any, root: Any, X: Any, Xatom: Any) -> None:
        """Pair a server timestamp with the monotonic clock: a property change on a window
        of our own, ``CALIBRATIONS`` times; the round trip with the least time wins (its
        midpoint is off by at most half of it; on a busy machine one round trip may take
        far longer)."""
        window = root.create_window(0, 0, 1, 1, 0, 0, event_mask=X.PropertyChangeMask)
        try:
            atom = d.intern_atom("_VOICETYPE_KEYWATCH")
            best = float("inf")
            deadline = time.monotonic() + 2.0
            for _ in range(CALIBRATIONS):
                before = time.monotonic()
                window.change_property(atom, Xatom.STRING, 8, b"t")
                d.flush()
                server_ms = self._property_time(d, window, X, deadline)
                after = time.monotonic()
                if after - before < best:
                    best = after - before
                    self._server_ref, self._mono_ref = server_ms, (before + after) / 2
        finally:
            window.destroy()
        log.debug("key watch clock: round trip %.2f ms", best * 1000)

    @staticmethod
    def _property_time(d: Any, window: Any, X: Any, deadline: float) -> int:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BackendUnavailable("the X server did not answer within 2 s")
            if not d.pending_events():
                select.select([d.fileno()], [], [], left)
                continue
            ev = d.next_event()
            if ev.type == X.PropertyNotify and ev.window.id == window.id:
                return int(ev.time)

    # -- the thread --------------------------------------------------------------------

    def _run(self) -> None:
        d = self._display
        try:
            while not self._stop.is_set():
                if not d.pending_events():
                    select.select([d.fileno(), self._wake_r], [], [])
                    continue
                self.handle(d.next_event())
        except Exception as e:  # the connection broke (X server gone): watching ends, logged
            if self._stop.is_set():
                return
            from Xlib import error

            if isinstance(e, (error.ConnectionClosedError, error.DisplayError, OSError)):
                log.warning("the key watch stopped: the X display connection closed (%s)", e)
            else:
                log.warning("the key watch stopped", exc_info=True)

    def handle(self, ev: Any) -> None:
        """One event off the connection (the thread; tests call it directly)."""
        if getattr(ev, "type", None) != _GENERIC_EVENT or ev.extension != self._opcode:
            return
        if ev.evtype not in (_RAW_KEY_PRESS, _RAW_KEY_RELEASE):
            return
        data = ev.data if isinstance(ev.data, bytes) else bytes(ev.data)
        _device, server_ms, keycode, source = struct.unpack_from("=HIIH", data, 0)
        self.key(ev.evtype == _RAW_KEY_PRESS, keycode, source, server_ms)

    def key(self, press: bool, keycode: int, source: int, server_ms: int) -> None:
        """The decision for one raw key event (see the module doc)."""
        if keycode in self._shortcut:
            if press:
                self._held.add(keycode)
            else:
                self._held.discard(keycode)
            return
        if not press or keycode in self._modifiers or self._held:
            return
        if source in self._xtest and self._is_ours(self._monotonic(server_ms)):
            return
        self.user_keys += 1
        self._on_user_key()

    def _monotonic(self, server_ms: int) -> float:
        delta = (server_ms - self._server_ref) % (1 << 32)
        if delta >= 1 << 31:  # before the reference
            delta -= 1 << 32
        return self._mono_ref + delta / 1000

    def _is_ours(self, at: float) -> bool:
        with self._lock:
            return any(start - MARGIN <= at <= end + MARGIN for start, end in self._spans)
