"""The one place that picks the text-insertion backend for this platform and method.

=========================  =========================================================
platform                   method "type" / "paste" / "auto"
=========================  =========================================================
Linux/BSD with ``DISPLAY``  ``X11Inserter`` / ``ClipboardInserter`` / ``AutoInserter``
Wayland without X           ``BackendUnavailable`` (see below)
Windows                     ``WindowsInserter`` (SendInput) for "type" and "auto";
                            "paste" is not implemented there
macOS                       ``MacInserter`` (Quartz) for "type" and "auto"; no "paste"
=========================  =========================================================

"auto" on X11 types texts up to ``AUTO_PASTE_ABOVE`` characters and pastes longer ones.
Typing is the default because it leaves the clipboard alone (no clipboard-manager history
entry, no restore that another program could race) and works in every terminal; it runs
at ~2,900 chars/s in Tk and ~1,000 in GTK, so a dictated sentence appears in well under
0.1 s. Pasting is instant at any length, so long texts (where typing would take visible
time) are pasted — except into terminals with no paste key (xterm, urxvt), which are
always typed. The override for every platform is ``[typing] method``.
"""

from __future__ import annotations

import os
import sys

from voicetype.errors import BackendUnavailable
from voicetype.insertion import Inserter, Target

#: "auto" pastes texts longer than this many characters (~0.4 s of typing in GTK).
AUTO_PASTE_ABOVE = 400
METHODS = ("auto", "type", "paste")


class AutoInserter:
    """Types short texts, pastes long ones (see the module docstring).

    Threading: like its parts, call from one thread at a time.
    """

    def __init__(self, typer: Inserter, paster: Inserter, paste_above: int = AUTO_PASTE_ABOVE):
        self.typer = typer
        self.paster = paster
        self.paste_above = paste_above

    def focused_target(self) -> Target | None:
        return self.typer.focused_target()

    def choose(self, text: str, target: Target | None) -> Inserter:
        if len(text) <= self.paste_above:
            return self.typer
        problem = getattr(self.paster, "paste_problem", None)
        if problem is not None and problem(target):
            return self.typer
        return self.paster

    def insert(self, text: str, target: Target | None) -> None:
        self.choose(text, target).insert(text, target)

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
    if not env.get("DISPLAY"):
        if env.get("WAYLAND_DISPLAY"):
            raise BackendUnavailable(
                "typing into Wayland windows is not supported yet (this is a Wayland session"
                " without an X display)",
                fix="run voicetype with DISPLAY set to your XWayland display (e.g."
                " DISPLAY=:0) to type into X11 apps, and bind a compositor shortcut to"
                " `voicetype dictate` for the hotkey",
            )
        raise BackendUnavailable(
            "no X display to type into (DISPLAY is not set)",
            fix="run voicetype inside your desktop session, or set DISPLAY (e.g. DISPLAY=:0)",
        )
    display = env["DISPLAY"]
    from voicetype.insertion.x11 import X11Inserter

    if method == "type":
        return X11Inserter(display)
    from voicetype.insertion.clipboard import ClipboardInserter

    if method == "paste":
        return ClipboardInserter(display_name=display)  # owns (and closes) its typer
    typer = X11Inserter(display)
    return AutoInserter(typer, ClipboardInserter(typer, display))


def _no_paste(method: str, system: str) -> None:
    if method == "paste":
        raise BackendUnavailable(
            f'[typing] method = "paste" is not available on {system}',
            fix='set [typing] method = "auto" or "type" (it types all of Unicode exactly)',
        )
