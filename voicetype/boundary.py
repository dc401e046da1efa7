"""The daemon's error boundary at the process level: losing the X display ends the
process with one log line, uncaught thread exceptions are logged (never printed), and
the process ends with ``os._exit`` once everything is closed.

Threading: ``guard_display`` and ``finish`` on the main thread; the handlers they install
run on whichever thread meets the failure.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import NoReturn

log = logging.getLogger(__name__)

EXIT_DISPLAY_LOST = 1


def guard_display() -> object | None:
    """Make losing the X server a clean exit: one log line, then status 1.

    libX11 calls its fatal I/O error handler when the display connection breaks (the X
    server died, the session ended); GDK's handler exits silently, and the other threads
    holding X connections (hotkey listener, typing) would each print a traceback. This
    replaces the handler (process-wide, for every libX11 connection; call it after the
    tray started, since GDK installs its own then) with one that logs once and ends the
    process without running anything that could touch the display again. Threads that
    see the display vanish through python-xlib log one debug line (``log_thread_errors``).
    Returns the handler, which must stay referenced, or None where libX11 is not loaded.
    """
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    if not name:
        return None
    try:
        libx11 = ctypes.CDLL(name)
    except OSError:
        return None
    handler_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)

    def lost(_display: int | None) -> int:
        log.error("the X display %s went away; voicetype stops", os.environ.get("DISPLAY", ""))
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(EXIT_DISPLAY_LOST)

    callback = handler_type(lost)
    libx11.XSetIOErrorHandler.argtypes = [handler_type]
    libx11.XSetIOErrorHandler.restype = ctypes.c_void_p
    libx11.XSetIOErrorHandler(callback)
    log_thread_errors()
    return callback


def log_thread_errors() -> None:
    """A thread ending because the display connection closed logs one debug line; any
    other uncaught thread exception is logged with its traceback (key scrubbed)."""

    def hook(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread else "?"
        if type(args.exc_value).__name__ in ("ConnectionClosedError", "DisplayConnectionError"):
            log.debug("thread %s: the X display connection closed", name)
            return
        log.error("thread %s failed", name, exc_info=args.exc_value)

    threading.excepthook = hook


def finish(code: int) -> NoReturn:
    """End the process with ``code`` once the daemon closed everything and logged.

    Here rather than in the interpreter's finalization, where native Speech SDK / ALSA
    threads still blocked on an audio server that died were seen to hang the exit for good.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
