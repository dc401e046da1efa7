"""A tray icon for plain X11 (freedesktop System Tray protocol + XEmbed), python-xlib only.

Used where PyGObject is missing (tray backend ``xorg``). It replaces pystray 0.19.5's
``_xorg`` backend, which lost 1 start in 5 and docked late in others because:

- its ``_run`` records the loop thread (``_thread``) only after it marked the icon ready,
  and every call from another thread compares against ``_thread``: a call made early
  raised ``AttributeError: 'Icon' object has no attribute '_thread'`` and the icon was
  never shown;
- calls from other threads sent a message through the *same* python-xlib connection the
  loop thread was blocked reading, then waited for the loop without a bound: python-xlib
  hands the socket between threads, and a call could wait until some unrelated event
  arrived (seconds);
- it docked only when shown and re-sent the dock request at every icon change; it never
  listened for a tray host that starts (or restarts) later.

Here one thread (``run``) owns the X connection: other threads only store the wanted
image and title and write one byte to a pipe the loop selects on with the connection.
The icon docks as soon as a tray host owns ``_NET_SYSTEM_TRAY_S<screen>``, also when the
host appears later (its ``MANAGER`` broadcast) or is replaced. A left click calls
``on_click`` on the loop thread. The title goes to ``_NET_WM_NAME`` (UTF-8) and
``WM_NAME`` (Latin-1). The image is drawn over the tray's own background where the
embedding window has our depth (``ParentRelative``), else over a neutral grey.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

from PIL import Image
from Xlib import X, Xatom, Xutil, error
from Xlib import display as xdisplay
from Xlib.protocol import event as xevent

from voicetype.errors import BackendUnavailable
from voicetype.xlib_errors import repair_core_errors

log = logging.getLogger(__name__)

_REQUEST_DOCK = 0
_XEMBED_MAPPED = 1
_INITIAL_SIZE = 24
_FALLBACK_BACKGROUND = (128, 128, 128)


def _latin1(text: str) -> bytes:
    text = text.replace("—", "-").replace("…", "...")
    return text.encode("latin-1", "replace")


class XEmbedIcon:
    """One tray icon on the X display ``display_name`` (``None``: ``$DISPLAY``).

    Construct on any thread (opens the X connection; raises ``BackendUnavailable`` with
    the fix when there is no display). ``run`` is the loop: call it once, on the thread
    that will own the connection; it returns after ``stop``, or when the X connection
    breaks (logged). ``show`` and ``stop`` may be called from any thread, never block and
    never touch the connection. ``on_click`` runs on the loop thread for a left click and
    must return at once.
    """

    def __init__(
        self,
        name: str,
        image: Image.Image,
        title: str,
        *,
        on_click: Callable[[], None] = lambda: None,
        display_name: str | None = None,
    ) -> None:
        try:
            self._d = repair_core_errors(xdisplay.Display(display_name))
        except (error.DisplayError, error.ConnectionClosedError, OSError) as e:
            raise BackendUnavailable(
                f"The tray icon cannot connect to the X display: {e}",
                "run voicetype inside an X11 desktop session (DISPLAY set)",
            ) from e
        self._name = name
        self._on_click = on_click
        self._lock = threading.Lock()
        self._wanted: tuple[Image.Image, str] = (image, title)
        self._shown: tuple[Image.Image, str] | None = None
        self._stopping = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._ran = False
        # loop thread only, from here on:
        self._window: Any = None
        self._painter: _Painter
        self._manager: Any = None

    # -- any thread ---------------------------------------------------------------------

    def show(self, image: Image.Image, title: str) -> None:
        """Show ``image`` and ``title`` (the latest call wins). Any thread; returns at once."""
        with self._lock:
            self._wanted = (image, title)
        self._wake()

    def stop(self) -> None:
        """End ``run`` (the icon leaves the tray). Any thread, idempotent; before ``run``
        it makes ``run`` return at once."""
        with self._lock:
            self._stopping = True
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # full: a wake-up is pending
            os.write(self._wake_w, b"\0")

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        """Create the icon's window, dock it, and serve X events and ``show``/``stop``
        until ``stop``. Once only; the thread calling it owns the X connection."""
        if self._ran:
            raise RuntimeError("XEmbedIcon.run called twice")
        self._ran = True
        try:
            if not self._stop_requested():
                self._d.set_error_handler(self._on_x_error)
                self._setup()
                self._loop()
        except (error.ConnectionClosedError, OSError) as e:
            log.warning("tray icon: the X connection failed (%s); the icon is gone", e)
        finally:
            self._close()

    def _stop_requested(self) -> bool:
        with self._lock:
            return self._stopping

    def _setup(self) -> None:
        d = self._d
        screen = d.screen()
        self._atoms = {
            name: d.intern_atom(name)
            for name in (
                "_NET_SYSTEM_TRAY_OPCODE",
                "MANAGER",
                "_XEMBED_INFO",
                "_NET_WM_NAME",
                "UTF8_STRING",
            )
        }
        self._selection = d.intern_atom(f"_NET_SYSTEM_TRAY_S{d.get_default_screen()}")
        screen.root.change_attributes(event_mask=X.StructureNotifyMask)  # MANAGER messages
        window = _create_icon_window(screen, self._name, self._atoms["_XEMBED_INFO"])
        self._window = window
        self._painter = _Painter(d, window)
        self._apply_wanted()
        self._dock()

    def _loop(self) -> None:
        d = self._d
        fd = d.fileno()
        while True:
            while d.pending_events():
                self._handle(d.next_event())
            if self._stop_requested():
                return
            ready, _, _ = select.select([fd, self._wake_r], [], [])
            if self._wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake_r, 4096)
                if self._stop_requested():
                    return
                self._apply_wanted()

    def _close(self) -> None:
        with contextlib.suppress(error.ConnectionClosedError, OSError):
            if self._window is not None:
                self._window.destroy()  # the tray host removes the icon
            self._d.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    @staticmethod
    def _on_x_error(err: Any, request: Any) -> None:
        # asynchronous errors, e.g. BadWindow when the tray host went away mid-request
        log.debug("tray icon: X error %s", err)

    # -- events -------------------------------------------------------------------------

    def _handle(self, ev: Any) -> None:
        window = self._window
        kind = ev.type
        redraw = (kind == X.Expose and ev.count == 0) or kind == X.ConfigureNotify
        if redraw and ev.window == window:
            self._painter.draw()
        elif kind == X.ButtonPress and ev.window == window and ev.detail == 1:
            try:
                self._on_click()
            except Exception:
                log.exception("tray icon: click handler failed")
        elif kind == X.ReparentNotify and ev.window == window:
            self._on_reparent(ev.parent)
        elif kind == X.DestroyNotify and self._manager is not None and ev.window == self._manager:
            log.info("tray icon: the tray host went away; waiting for a new one")
            self._manager = None
            window.unmap()
        elif (
            kind == X.ClientMessage
            and ev.client_type == self._atoms["MANAGER"]
            and ev.data[1][1] == self._selection
        ):
            log.info("tray icon: a tray host appeared; docking")
            self._dock()

    def _on_reparent(self, parent: Any) -> None:
        root = self._d.screen().root
        if parent == root:
            self._painter.parent_relative = False
            self._window.unmap()  # undocked: never a stray window on the desktop
            return
        try:
            same_depth = parent.get_geometry().depth == self._d.screen().root_depth
        except error.XError:
            same_depth = False
        self._painter.parent_relative = same_depth
        if same_depth:  # the tray's background shows through (else BadMatch)
            self._window.change_attributes(background_pixmap=X.ParentRelative)
        self._painter.draw()

    def _dock(self) -> None:
        """Ask the current tray host (the selection owner) to embed the window."""
        d = self._d
        d.grab_server()
        try:
            owner = d.get_selection_owner(self._selection)
            if isinstance(owner, int) or owner.id == X.NONE:
                owner = None
            else:
                owner.change_attributes(event_mask=X.StructureNotifyMask)
        finally:
            d.ungrab_server()
        if owner is None:
            log.info("tray icon: no tray host yet; the icon docks when one starts")
            self._manager = None
            d.flush()
            return
        self._manager = owner
        message = xevent.ClientMessage(
            window=owner,
            client_type=self._atoms["_NET_SYSTEM_TRAY_OPCODE"],
            data=(32, [X.CurrentTime, _REQUEST_DOCK, self._window.id, 0, 0]),
        )
        owner.send_event(message, event_mask=X.NoEventMask)
        d.flush()

    # -- image and title ----------------------------------------------------------------

    def _apply_wanted(self) -> None:
        with self._lock:
            wanted = self._wanted
        if wanted == self._shown:
            return
        image, title = wanted
        previous = self._shown
        self._shown = wanted
        if previous is None or previous[1] != title:
            window = self._window
            window.change_property(Xatom.WM_NAME, Xatom.STRING, 8, _latin1(title))
            window.change_property(
                self._atoms["_NET_WM_NAME"], self._atoms["UTF8_STRING"], 8, title.encode()
            )
        if previous is None or previous[0] is not image:
            self._painter.set_image(image)
        self._d.flush()


def _create_icon_window(screen: Any, name: str, xembed_info: int) -> Any:
    """The (unmapped) window the tray host embeds, with XEmbed info and size hints."""
    window = screen.root.create_window(
        0,
        0,
        _INITIAL_SIZE,
        _INITIAL_SIZE,
        0,
        screen.root_depth,
        X.InputOutput,
        X.CopyFromParent,
        background_pixel=screen.black_pixel,
        event_mask=X.ExposureMask | X.StructureNotifyMask | X.ButtonPressMask,
    )
    window.set_wm_class(f"{name}SystemTrayIcon", name)
    window.set_wm_normal_hints(
        flags=Xutil.PMinSize | Xutil.PBaseSize,
        min_width=16,
        min_height=16,
        base_width=_INITIAL_SIZE,
        base_height=_INITIAL_SIZE,
    )
    window.change_property(xembed_info, xembed_info, 32, [0, _XEMBED_MAPPED])
    return window


class _Painter:
    """Draws the image into the icon window, scaled to the size the tray gave it, over
    the tray's own background (``parent_relative``, set when the embedding window has our
    depth) or a neutral grey. Loop thread only."""

    def __init__(self, display: Any, window: Any) -> None:
        self._d = display
        self._window = window
        self._gc = window.create_gc()
        self._image: Image.Image | None = None
        self._scaled: dict[tuple[int, int], Image.Image] = {}
        self.parent_relative = False

    def set_image(self, image: Image.Image) -> None:
        self._image = image
        self._scaled.clear()
        self.draw()

    def draw(self) -> None:
        if self._image is None:
            return
        window = self._window
        try:
            geometry = window.get_geometry()
        except error.XError:
            return
        width, height = geometry.width, geometry.height
        background = self._background(width, height)
        side = max(1, min(width, height))
        icon = self._scaled.get((side, side))
        if icon is None:
            icon = self._image.convert("RGBA").resize((side, side), Image.Resampling.LANCZOS)
            self._scaled[(side, side)] = icon
        background.paste(icon, ((width - side) // 2, (height - side) // 2), icon)
        window.put_pil_image(self._gc, 0, 0, background)
        self._d.flush()

    def _background(self, width: int, height: int) -> Image.Image:
        if self.parent_relative:
            try:
                self._window.clear_area(0, 0, width, height)
                raw = self._window.get_image(0, 0, width, height, X.ZPixmap, 0xFFFFFFFF)
                if len(raw.data) == width * height * 4:
                    return Image.frombytes("RGB", (width, height), raw.data, "raw", "BGRX")
            except error.XError:
                pass  # not viewable yet: the Expose after mapping draws again
        return Image.new("RGB", (width, height), _FALLBACK_BACKGROUND)
