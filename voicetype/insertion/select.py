"""The one place that picks the text-insertion backend for this platform and method.

=========================  =========================================================
platform                   method "type" / "paste" / "auto"
=========================  =========================================================
Wayland session             ``wayland_select.select_wayland_inserter`` (virtual keyboard on
                            wlroots, RemoteDesktop portal on GNOME/KDE; the method is its
                            own); when that is unavailable and ``DISPLAY`` is set, X11
                            typing through XWayland (X11 apps only; logged)
Linux/BSD with ``DISPLAY``  ``PerAppInserter`` over ``X11Inserter`` + ``ClipboardInserter``
Windows                     ``WindowsInserter`` (SendInput) for "type" and "auto";
                            "paste" is not implemented there
macOS                       ``MacInserter`` (Quartz) for "type" and "auto"; no "paste"
=========================  =========================================================

On X11 every method goes through ``PerAppInserter``, which looks at the target window's
profile (``apps``: WM_CLASS and toolkit) and decides per text (``apps.choose_method``):
"auto" types unless typing into that window would take longer than
``apps.AUTO_TYPE_SECONDS`` (~1 s, from the window's measured typing rate), else pastes.
Typing is the default because it leaves the clipboard alone (no clipboard-manager history
entry, no restore that another program could race). Whatever the method, windows with no
paste key (xterm, urxvt) are typed into, and text with characters above U+FFFF is pasted
into windows that drop them when typed (Qt, LibreOffice); the reason is logged and kept
in ``last_note``. The override for every platform is ``[typing] method``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Protocol

from voicetype.errors import BackendUnavailable
from voicetype.insertion import Inserter, Key, NothingPasted, Target, sanitize
from voicetype.insertion.apps import (
    AppProfile,
    Choice,
    choose_method,
    has_non_bmp,
    profile_for,
    shape_text,
)

METHODS = ("auto", "type", "paste")

log = logging.getLogger(__name__)


class _Part(Protocol):
    """A typing or pasting inserter that can take a text sanitized already."""

    def focused_target(self) -> Target | None: ...

    def insert(self, text: str, target: Target | None) -> None: ...

    def insert_clean(self, text: str, target: Target | None) -> None: ...

    def close(self) -> None: ...


class _Typer(_Part, Protocol):
    """The typing part also presses keys and knows each window's profile."""

    def press(self, key: Key, count: int, target: Target | None) -> None: ...

    def window_profile(self, window: int) -> AppProfile: ...

    def window_pid(self, window: int) -> int | None: ...


class PerAppInserter:
    """Types or pastes each text, as the target window's profile and ``method`` decide
    (see the module docstring). ``last_note`` says why the last insert used another
    method than asked, or that a paste was sent but not confirmed; else None.

    The text is sanitized once, here, and handed to the parts' ``insert_clean``.

    Threading: like its parts, call from one thread at a time.
    """

    def __init__(self, method: str, typer: _Typer, paster: _Part) -> None:
        self.method = method
        self.typer = typer
        self.paster = paster
        self.last_note: str | None = None

    def focused_target(self) -> Target | None:
        return self.typer.focused_target()

    def choose(self, text: str, target: Target | None) -> tuple[_Part, Choice]:
        inserter, choice, _profile = self._decide(sanitize(text), target)
        return inserter, choice

    def _decide(self, clean: str, target: Target | None) -> tuple[_Part, Choice, AppProfile]:
        focus = target if target is not None else self.typer.focused_target()
        window = getattr(focus, "window", None)
        profile = self.typer.window_profile(window) if window else profile_for(None)
        choice = choose_method(self.method, shape_text(clean, profile), profile)
        return (self.paster if choice.method == "paste" else self.typer), choice, profile

    def insert(self, text: str, target: Target | None) -> None:
        """Insert with the chosen method. A paste nobody fetched (``NothingPasted``: the
        window ignored its paste key) is typed instead when typing is exact there."""
        self.last_note = None
        clean = sanitize(text)
        inserter, choice, profile = self._decide(clean, target)
        if choice.note:
            log.info("%s", choice.note)
        try:
            inserter.insert_clean(clean, target)
        except NothingPasted as e:
            shaped = shape_text(clean, profile)
            if (
                inserter is self.typer
                or profile.autocorrects
                or (not profile.types_non_bmp and has_non_bmp(shaped))
            ):
                raise
            log.warning("%s; typing it instead", e.message)
            self.typer.insert_clean(clean, target)
            self.last_note = f"{e.message}: typed instead"
            return
        self.last_note = choice.note or getattr(inserter, "last_note", None)

    def press(self, key: Key, count: int, target: Target | None) -> None:
        """Keys are always pressed through the typer (XTEST), whatever the method."""
        self.typer.press(key, count, target)

    def window_profile(self, window: int) -> AppProfile:
        return self.typer.window_profile(window)

    def window_pid(self, window: int) -> int | None:
        return self.typer.window_pid(window)

    def close(self) -> None:
        self.paster.close()
        self.typer.close()


def select_inserter(
    method: str,
    platform: str | None = None,
    environ: dict[str, str] | None = None,
) -> Inserter:
    """The inserter for ``method`` ("auto" | "type" | "paste") on ``platform``
    (default ``sys.platform``) with ``environ`` (default ``os.environ``).

    Raises ``BackendUnavailable`` saying what is missing and how to fix it, and
    ``ValueError`` for an unknown method (config validation rejects those first).
    """
    if method not in METHODS:
        raise ValueError(f"unknown typing method {method!r}; expected one of {METHODS}")
    platform = platform or sys.platform
    env = os.environ if environ is None else environ
    if platform == "win32":
        _no_paste(method, "Windows")
        from voicetype.insertion.windows import WindowsInserter

        return WindowsInserter()
    if platform == "darwin":
        _no_paste(method, "macOS")
        from voicetype.insertion.macos import MacInserter

        return MacInserter()
    from voicetype.insertion.wayland_select import detect_session, select_wayland_inserter

    if detect_session(env).kind == "wayland":
        # Native Wayland windows can only be reached through the compositor (virtual
        # keyboard) or the desktop's portal; both reach XWayland windows too.
        try:
            return select_wayland_inserter(env)
        except BackendUnavailable as exc:
            if not env.get("DISPLAY"):
                raise
            log.warning(
                "Wayland typing is not available (%s; fix: %s): typing through XWayland,"
                " which reaches X11 applications only",
                exc.message,
                exc.fix,
            )
    if not env.get("DISPLAY"):
        raise BackendUnavailable(
            "no X display to type into (DISPLAY is not set)",
            fix="run voicetype inside your desktop session, or set DISPLAY (e.g. DISPLAY=:0)",
        )
    display = env["DISPLAY"]
    from voicetype.insertion.clipboard import ClipboardInserter
    from voicetype.insertion.x11 import X11Inserter

    typer = X11Inserter(display)
    return PerAppInserter(method, typer, ClipboardInserter(typer.session, display))


def _no_paste(method: str, system: str) -> None:
    if method == "paste":
        raise BackendUnavailable(
            f'[typing] method = "paste" is not available on {system}',
            fix='set [typing] method = "auto" or "type" (it types all of Unicode exactly)',
        )
