"""Real desktop applications (Debian packages) as insertion targets on the test display.

Each application runs on ``x_display`` (Xvfb + openbox) with its own fresh HOME, XDG dirs
and profile, a UTF-8 locale, the session's private D-Bus bus (nothing is auto-started on
it) and a text target focused. Readiness is awaited on what the application does (its
window appears in openbox's ``_NET_CLIENT_LIST``, a terminal's ``cat`` opened its file, a
browser page retitled itself, Emacs answered its server), every wait bounded.

``start_app(name, display, workdir, env) -> RealApp`` for ``name`` in ``APP_NAMES``:

- ``xterm``, ``urxvt``, ``xfce4-terminal``: ``sh -c 'stty -icanon -echo; exec cat >> FILE'``;
  ``read_back()`` is FILE decoded as UTF-8 — exactly the bytes the terminal sent.
- ``mousepad``, ``gnome-text-editor`` (GTK4), ``kwrite`` (Qt5), ``libreoffice`` (Writer,
  autocorrect and word completion off in its fresh profile, so it keeps what it is given),
  ``firefox`` (ESR) and ``chromium``: a local ``file://`` page whose ``<textarea>`` takes
  the focus; ``read_back()`` is select-all + copy read with ``xclip``.
- ``emacs`` (``emacs -Q`` on a text-mode file, with a server): ``read_back()`` writes the
  buffer as UTF-8 through ``emacsclient``; ``eval(lisp)`` for other questions.

``RealApp`` API (use from one thread): ``name``, ``kind`` ("terminal" | "editor"),
``window`` (the managed client window), ``start()``, ``alive()`` (process running and its
window still managed), ``focus()`` (the window is active and its text target has the
focus), ``clear()``, ``read_back(expected=None, timeout=2.0) -> str`` (with ``expected``,
re-reads until equal or ``timeout`` for applications still taking in the text),
``dialogs()`` (titles of other windows it opened, e.g. a paste warning),
``dismiss_dialogs()``, ``ensure_running() -> bool`` (restarts it if it is gone; True if it
did), ``restarts``, ``close()`` (stops it) and ``shutdown()`` (also drops the X
connection; safe twice). Editors are ready once a key typed into them can be copied back
out (LibreOffice maps its window seconds before its document takes keys).

Two more for single tests: ``xterm-bash`` (``XTermBash``: xterm running ``bash --norc``;
``prompts()`` counts the command lines it ran, ``run_marker(path)`` runs ``touch PATH``
typed by the test) and ``gtk-keys`` (``GtkKeys``: a GTK3 ``TextView`` logging every key
event its window gets, ``events()``).

``Clipboard(display)``: ``own(text)`` makes ``xclip`` the CLIPBOARD owner serving
``text`` (returns once ``xclip -o`` reads it back), ``read() -> str | None``; ``close()``.

Fixtures: ``app_env`` (session) — the environment shared by the applications;
``app_launcher`` (session) — ``launch(name) -> RealApp``, every app shut down at the end;
``compat_report`` (session) — a ``CompatReport`` the matrix records into; at the end of
the session it writes ``test-artifacts/compatibility.md`` and ``.json`` (and, when
``VOICETYPE_WRITE_COMPAT=1`` and every cell ran, ``docs/compatibility.md``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from harness.procs import Proc, require, wait_for
from harness.userenv import private_dirs
from voicetype.xlib_errors import repair_core_errors

APP_NAMES = (
    "xterm",
    "urxvt",
    "xfce4-terminal",
    "mousepad",
    "gnome-text-editor",
    "kwrite",
    "libreoffice",
    "firefox",
    "chromium",
    "emacs",
)
#: Debian package of each application (what scripts/test.sh installs, and whose version
#: the compatibility table shows).
PACKAGES = {
    "xterm": "xterm",
    "urxvt": "rxvt-unicode",
    "xfce4-terminal": "xfce4-terminal",
    "mousepad": "mousepad",
    "gnome-text-editor": "gnome-text-editor",
    "kwrite": "kwrite",
    "libreoffice": "libreoffice-writer",
    "firefox": "firefox-esr",
    "chromium": "chromium",
    "emacs": "emacs-gtk",
}
#: Terminals with no key that pastes the CLIPBOARD selection.
NO_PASTE_KEY = frozenset({"xterm", "urxvt"})

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>vt-loading</title>
<style>textarea { width: 96vw; height: 88vh; font: 16px sans-serif; }</style></head>
<body><textarea id="t" spellcheck="false" autocomplete="off"></textarea>
<script>
const t = document.getElementById("t");
function show() {
  document.title = document.hasFocus() && document.activeElement === t
    ? "vt-focused" : "vt-blurred";
}
t.addEventListener("focus", show);
t.addEventListener("blur", show);
window.addEventListener("focus", () => { t.focus(); show(); });
window.addEventListener("blur", show);
t.focus();
show();
</script></body></html>
"""

FIREFOX_PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "startup.homepage_welcome_url": "",
    "startup.homepage_welcome_url.additional": "",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.policy.firstRunURL": "",
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "browser.sessionstore.resume_from_crash": False,
    "browser.tabs.warnOnClose": False,
    "browser.warnOnQuit": False,
    "app.normandy.enabled": False,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "layout.spellcheckDefault": 0,
}

#: LibreOffice keeps what it is given: autocorrect, autoformat and word completion off.
LIBREOFFICE_SETTINGS = [
    *(
        ("/org.openoffice.Office.Common/AutoCorrect", prop, "xs:boolean", "false")
        for prop in (
            "UseReplacementTable",
            "TwoCapitalsAtStart",
            "CapitalAtStartSentence",
            "ChangeUnderlineWeight",
            "SetInetAttribute",
            "ChangeOrdinalNumber",
            "ChangeDash",
            "AddNonBreakingSpace",
            "TransliterateRTL",
            "ChangeAngleQuotes",
            "RemoveDoubleSpaces",
            "CorrectAccidentalCapsLock",
            "ReplaceSingleQuote",
            "ReplaceDoubleQuote",
        )
    ),
    ("/org.openoffice.Office.Writer/AutoFunction/Format/ByInput", "Enable", "xs:boolean", "false"),
    ("/org.openoffice.Office.Writer/AutoFunction/Completion", "Enable", "xs:boolean", "false"),
    ("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay", "xs:boolean", "false"),
    ("/org.openoffice.Office.Common/Misc", "FirstRun", "xs:boolean", "false"),
    ("/org.openoffice.Office.UI.Infobar/Enabled", "WhatsNew", "xs:boolean", "false"),
]


def _run(argv: Sequence[str], env: dict[str, str], timeout: float = 10) -> str:
    return subprocess.run(
        list(argv), env=env, capture_output=True, text=True, timeout=timeout, check=True
    ).stdout


class XDesk:
    """Read-only questions about the display's windows (python-xlib, one connection)."""

    def __init__(self, display_name: str) -> None:
        from Xlib import X, Xatom, display, error

        self._X, self._Xatom, self._error = X, Xatom, error
        self.display = repair_core_errors(display.Display(display_name))
        self.root = self.display.screen().root
        self._atoms: dict[str, int] = {}

    def atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self.display.intern_atom(name)
        return self._atoms[name]

    def clients(self) -> list[int]:
        prop = self.root.get_full_property(self.atom("_NET_CLIENT_LIST"), self._Xatom.WINDOW)
        return [int(w) for w in prop.value] if prop else []

    def active(self) -> int | None:
        prop = self.root.get_full_property(self.atom("_NET_ACTIVE_WINDOW"), self._Xatom.WINDOW)
        return int(prop.value[0]) if prop and prop.value[0] else None

    def title(self, wid: int) -> str:
        window = self.display.create_resource_object("window", wid)
        try:
            prop = window.get_full_property(self.atom("_NET_WM_NAME"), self.atom("UTF8_STRING"))
            if prop:
                value = prop.value
                return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            name = window.get_wm_name()
            return name.decode("latin-1") if isinstance(name, bytes) else (name or "")
        except self._error.XError:
            return ""

    def wm_class(self, wid: int) -> tuple[str, str] | None:
        try:
            value = self.display.create_resource_object("window", wid).get_wm_class()
        except self._error.XError:
            return None
        return (str(value[0]), str(value[1])) if value else None

    def close(self) -> None:
        self.display.close()


class Clipboard:
    """The CLIPBOARD selection through ``xclip``: owned by a foreground ``xclip`` we keep a
    handle on (it exits by itself when another client takes the selection)."""

    def __init__(self, display: str) -> None:
        require("xclip")
        self.env = {**os.environ, "DISPLAY": display}
        self._owner: subprocess.Popen[bytes] | None = None

    def read(self, timeout: float = 5) -> str | None:
        """What a paste would insert now (UTF8_STRING), or None if nobody serves text."""
        out = subprocess.run(
            ["xclip", "-o", "-selection", "clipboard"],
            env=self.env,
            capture_output=True,
            timeout=timeout,
        )
        return out.stdout.decode("utf-8", "backslashreplace") if out.returncode == 0 else None

    def own(self, text: str, timeout: float = 5) -> None:
        self.close()
        self._owner = subprocess.Popen(
            ["xclip", "-quiet", "-selection", "clipboard", "-i"],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert self._owner.stdin is not None
        self._owner.stdin.write(text.encode())
        self._owner.stdin.close()
        wait_for(lambda: self.read() == text, timeout, "xclip to own the clipboard", 0.01)

    def close(self) -> None:
        if self._owner is not None:
            if self._owner.poll() is None:
                self._owner.terminate()
            self._owner.wait(5)
            self._owner = None


def app_environment(root: Path, display: str, bus_address: str) -> dict[str, str]:
    """A fresh HOME and XDG dirs under ``root``, UTF-8 locale, ``display``, the private
    bus, and the settings that keep applications quiet and light on a headless server.
    Each ``RealApp`` replaces HOME and the XDG dirs with its own under its workdir."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE_", "VOICETYPE_", "XDG_", "LC_", "SESSION_MANAGER"))
    }
    env.update(private_dirs(root))
    env.update(
        {
            "DISPLAY": display,
            "DBUS_SESSION_BUS_ADDRESS": bus_address,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "NO_AT_BRIDGE": "1",
            "GTK_A11Y": "none",
            "GSETTINGS_BACKEND": "memory",
            "GSK_RENDERER": "cairo",
            "LIBGL_ALWAYS_SOFTWARE": "1",
            "QT_QPA_PLATFORM": "xcb",
            "QT_X11_NO_MITSHM": "1",
            "MOZ_CRASHREPORTER_DISABLE": "1",
        }
    )
    return env


class RealApp:
    """One real application with a text target; see the module docstring."""

    name: str
    kind: Literal["terminal", "editor"] = "editor"
    #: How long a start may take (first starts of LibreOffice/browsers on 2 busy cores).
    start_timeout = 60.0

    def __init__(self, display: str, workdir: Path, env: dict[str, str]) -> None:
        self.display = display
        self.workdir = workdir
        self.env = {**env, **private_dirs(workdir)}  # its own HOME: no state shared
        self.desk = XDesk(display)
        self.proc: Proc | None = None
        self.window = 0
        self.restarts = 0
        self._starts = 0
        self._baseline: set[int] = set()

    # -- to override -------------------------------------------------------------------
    def argv(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Make the fresh profile/files for a start."""

    def is_main_window(self, wid: int) -> bool:
        return True

    def after_map(self) -> None:
        """Wait until the text target is ready for keys (window already mapped)."""

    def target_focused(self) -> bool:
        return True

    def clear(self) -> None:
        self.keys("ctrl+a", "Delete")

    def read_once(self) -> str:
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------
    def start(self) -> None:
        self._starts += 1
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        require(self.argv()[0])
        self._baseline = set(self.desk.clients())
        self.proc = Proc(
            self.argv(),
            env=self.env,
            log=self.workdir / f"{self.name}-{self._starts}.log",
            cwd=self.workdir,
        )

        def mapped() -> int:
            if self.proc is not None and not self.proc.alive():
                raise RuntimeError(f"{self.name} exited at start:\n{self._log_tail()}")
            new = (w for w in self.desk.clients() if w not in self._baseline)
            return next((w for w in new if self.is_main_window(w)), 0)

        try:
            self.window = wait_for(mapped, self.start_timeout, f"{self.name}'s window", 0.05)
            self.after_map()
            self.focus()
        except (RuntimeError, TimeoutError) as e:
            self.close()
            raise RuntimeError(f"{self.name} did not start: {e}\n{self._log_tail()}") from e

    def _log_tail(self) -> str:
        return self.proc.output()[-2000:] if self.proc else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive() and self.window in self.desk.clients()

    def ensure_running(self) -> bool:
        if self.alive():
            return False
        self.close()
        self.restarts += 1
        self.start()
        return True

    def keys(self, *keys: str) -> None:
        _run(["xdotool", "key", "--clearmodifiers", *keys], self.env)

    def focus(self, timeout: float = 10.0) -> None:
        if self.desk.active() != self.window:
            _run(["xdotool", "windowactivate", "--sync", str(self.window)], self.env, 20)
        wait_for(
            lambda: self.desk.active() == self.window and self.target_focused(),
            timeout,
            f"{self.name} to have the focus",
            0.02,
        )

    def read_back(self, expected: str | None = None, timeout: float = 2.0) -> str:
        got = self.read_once()
        if expected is None or got == expected:
            return got
        deadline = time.monotonic() + timeout
        while got != expected and time.monotonic() < deadline:
            time.sleep(0.05)
            got = self.read_once()
        return got

    def dialogs(self) -> list[tuple[int, str]]:
        return [
            (w, self.desk.title(w))
            for w in self.desk.clients()
            if w not in self._baseline and w != self.window
        ]

    def dismiss_dialogs(self, timeout: float = 5.0) -> list[str]:
        """Close every other window the application opened (Escape, then destroy); the
        titles they had."""
        found = self.dialogs()
        for wid, _ in found:
            with contextlib.suppress(subprocess.CalledProcessError):
                _run(["xdotool", "windowactivate", "--sync", str(wid)], self.env, 20)
                _run(["xdotool", "key", "Escape"], self.env)
        with contextlib.suppress(TimeoutError):
            wait_for(lambda: not self.dialogs(), timeout, "dialogs to close", 0.05)
        for wid, _ in self.dialogs():
            with contextlib.suppress(subprocess.CalledProcessError):
                _run(["xdotool", "windowclose", str(wid)], self.env)
        return [title for _, title in found]

    def close(self) -> None:
        """Stop the application; returns once the window manager has let go of its window
        (X reuses a dead client's window ids, so a restart could otherwise look old)."""
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        if self.window and self.desk is not None:
            window = self.window
            with contextlib.suppress(TimeoutError):
                wait_for(lambda: window not in self.desk.clients(), 5, "the window to go", 0.02)
        self.window = 0

    def shutdown(self) -> None:
        """Stop the application and drop the X connection; safe to call twice."""
        self.close()
        if self.desk is not None:
            self.desk.close()
            self.desk = None  # type: ignore[assignment]


class TerminalApp(RealApp):
    """A terminal whose shell is ``cat`` appending raw input to a file (no echo, no line
    editing): the file holds exactly the bytes the terminal sent."""

    kind: Literal["terminal", "editor"] = "terminal"
    title = "voicetype-terminal"

    def __init__(self, display: str, workdir: Path, env: dict[str, str]) -> None:
        super().__init__(display, workdir, env)
        self.file = workdir / "received.bin"
        self.command = ["sh", "-c", 'stty -icanon -echo; exec cat >> "$0"', str(self.file)]
        self.ready_file = self.file

    def prepare(self) -> None:
        self.ready_file.unlink(missing_ok=True)

    def is_main_window(self, wid: int) -> bool:
        return self.desk.title(wid) == self.title

    def after_map(self) -> None:
        wait_for(self.ready_file.exists, 15, f"the shell in {self.name} to start", 0.02)

    def clear(self) -> None:
        with open(self.file, "r+b") as f:  # cat appends (O_APPEND): truncating is enough
            f.truncate(0)

    def raw(self) -> bytes:
        return self.file.read_bytes() if self.file.exists() else b""

    def read_once(self) -> str:
        return self.raw().decode("utf-8", "backslashreplace")


class XTerm(TerminalApp):
    name = "xterm"

    def argv(self) -> list[str]:
        return ["xterm", "-u8", "-fa", "Monospace", "-fs", "11", "-geometry", "100x30",
                "-title", self.title, "-e", *self.command]  # fmt: skip


class URxvt(TerminalApp):
    name = "urxvt"

    def argv(self) -> list[str]:
        font = "xft:DejaVu Sans Mono:size=11,xft:Noto Sans CJK JP:size=11"
        return ["urxvt", "-fn", font, "-geometry", "100x30", "-title", self.title,
                "-e", *self.command]  # fmt: skip


class Xfce4Terminal(TerminalApp):
    name = "xfce4-terminal"

    def argv(self) -> list[str]:
        return ["xfce4-terminal", "--disable-server", "--hide-menubar",
                "--geometry", "100x30", "--title", self.title,
                "--dynamic-title-mode", "none", "-x", *self.command]  # fmt: skip


class ClipboardEditor(RealApp):
    """An editor read back with select-all + copy (Ctrl+A, Ctrl+C) and ``xclip -o``."""

    copy_timeout = 1.5

    def __init__(self, display: str, workdir: Path, env: dict[str, str]) -> None:
        super().__init__(display, workdir, env)
        self.clipboard = Clipboard(display)
        self.doc = workdir / "document.txt"

    def after_map(self) -> None:
        """Ready when a key typed into the text target can be copied back out (LibreOffice
        maps its window seconds before its document takes keys)."""
        self.focus()

        def echoed() -> bool:
            self.keys("x")
            return "x" in self.read_once()

        wait_for(echoed, 45, f"{self.name}'s text to take keys", 0.1)
        self.clear()

    def read_once(self) -> str:
        marker = f"voicetype-readback-{time.monotonic_ns()}"
        self.clipboard.own(marker)
        self.keys("ctrl+a", "ctrl+c")

        def copied() -> str:
            got = self.clipboard.read()
            return got if got is not None and got != marker else ""

        try:
            return wait_for(copied, self.copy_timeout, f"{self.name} to copy its text", 0.02)
        except TimeoutError:  # nothing selected, nothing copied: the document is empty
            return ""
        finally:
            self.clipboard.close()

    def close(self) -> None:
        self.clipboard.close()
        super().close()


class Mousepad(ClipboardEditor):
    name = "mousepad"

    def prepare(self) -> None:
        self.doc.write_text("")

    def argv(self) -> list[str]:
        return ["mousepad", "--disable-server", str(self.doc)]

    def is_main_window(self, wid: int) -> bool:
        return "Mousepad" in self.desk.title(wid)


class GnomeTextEditor(ClipboardEditor):
    name = "gnome-text-editor"

    def prepare(self) -> None:
        self.doc.write_text("")

    def argv(self) -> list[str]:
        return ["gnome-text-editor", "--standalone", str(self.doc)]

    def is_main_window(self, wid: int) -> bool:
        return self.desk.title(wid).endswith("- Text Editor")


class KWrite(ClipboardEditor):
    name = "kwrite"

    def prepare(self) -> None:
        self.doc.write_text("")

    def argv(self) -> list[str]:
        return ["kwrite", str(self.doc)]

    def is_main_window(self, wid: int) -> bool:
        return "KWrite" in self.desk.title(wid)


class LibreOffice(ClipboardEditor):
    name = "libreoffice"

    def prepare(self) -> None:
        profile = self.workdir / f"lo-profile-{self._starts}"
        items = "\n".join(
            f'<item oor:path="{path}"><prop oor:name="{prop}" oor:op="fuse">'
            f"<value>{value}</value></prop></item>"
            for path, prop, _type, value in LIBREOFFICE_SETTINGS
        )
        user = profile / "user"
        user.mkdir(parents=True, exist_ok=True)
        (user / "registrymodifications.xcu").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
            ' xmlns:xs="http://www.w3.org/2001/XMLSchema"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            f"{items}\n</oor:items>\n"
        )
        self.profile = profile

    def argv(self) -> list[str]:
        return ["libreoffice", "--writer", "--norestore", "--nologo",
                f"-env:UserInstallation={self.profile.as_uri()}"]  # fmt: skip

    def is_main_window(self, wid: int) -> bool:
        return "LibreOffice Writer" in self.desk.title(wid)


class Browser(ClipboardEditor):
    """A browser showing a local page whose <textarea> takes the focus; the page titles
    itself "vt-focused" while the textarea has the keyboard focus."""

    def prepare(self) -> None:
        self.page = self.workdir / "page.html"
        self.page.write_text(PAGE, encoding="utf-8")

    def is_main_window(self, wid: int) -> bool:
        return self.desk.title(wid).startswith(("vt-focused", "vt-blurred"))

    def target_focused(self) -> bool:
        return self.desk.title(self.window).startswith("vt-focused")


class Firefox(Browser):
    name = "firefox"

    def prepare(self) -> None:
        super().prepare()
        self.profile = self.workdir / f"ff-profile-{self._starts}"
        self.profile.mkdir(parents=True, exist_ok=True)
        lines = []
        for key, value in FIREFOX_PREFS.items():
            literal = str(value).lower() if isinstance(value, bool) else repr(value)
            lines.append(f'user_pref("{key}", {literal});'.replace("'", '"'))
        (self.profile / "user.js").write_text("\n".join(lines) + "\n")

    def argv(self) -> list[str]:
        return ["firefox-esr", "--no-remote", "--new-instance", "--profile", str(self.profile),
                "--width", "1000", "--height", "700", self.page.as_uri()]  # fmt: skip


class Chromium(Browser):
    name = "chromium"

    def argv(self) -> list[str]:
        return [
            "chromium", "--no-sandbox", "--test-type", f"--user-data-dir={self.workdir / 'cr'}",
            "--no-first-run", "--no-default-browser-check", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--password-store=basic", "--disable-features=Translate,MediaRouter",
            "--window-size=1000,700", f"--app={self.page.as_uri()}",
        ]  # fmt: skip


class Emacs(RealApp):
    """``emacs -Q`` visiting a text-mode file, with a server for ``emacsclient``."""

    name = "emacs"

    def prepare(self) -> None:
        self.doc = self.workdir / "document.txt"
        self.doc.write_text("")
        self.server_dir = self.workdir / "emacs-server"
        self.server_dir.mkdir(mode=0o700, exist_ok=True)
        self.out = self.workdir / "emacs-buffer.txt"

    def argv(self) -> list[str]:
        setup = (
            f'(progn (setq inhibit-startup-screen t server-socket-dir "{self.server_dir}")'
            " (server-start))"
        )
        return ["emacs", "-Q", "--eval", setup, "--title", "voicetype-emacs", str(self.doc)]

    def is_main_window(self, wid: int) -> bool:
        return self.desk.title(wid) == "voicetype-emacs"

    def after_map(self) -> None:
        wait_for(lambda: (self.server_dir / "server").exists(), 15, "the Emacs server", 0.02)
        wait_for(
            lambda: (
                self.eval("(buffer-name (window-buffer (selected-window)))") == '"document.txt"'
            ),
            15,
            "Emacs to show document.txt",
            0.05,
        )

    def eval(self, lisp: str) -> str:
        """``emacsclient --eval`` in this Emacs; its printed answer, stripped."""
        return _run(
            ["emacsclient", "-s", str(self.server_dir / "server"), "--eval", lisp], self.env
        ).strip()

    def clear(self) -> None:
        self.eval('(with-current-buffer "document.txt" (erase-buffer))')

    def read_once(self) -> str:
        self.eval(
            '(with-current-buffer "document.txt" (let ((coding-system-for-write'
            f" 'utf-8-unix)) (write-region (point-min) (point-max) \"{self.out}\" nil 'silent)))"
        )
        return self.out.read_text(encoding="utf-8", errors="backslashreplace")


class XTermBash(XTerm):
    """xterm running an interactive ``bash --norc`` in ``workdir``; every prompt bash
    shows appends a line to ``prompts_file`` (PROMPT_COMMAND), so a test can count the
    command lines it ran."""

    name = "xterm-bash"

    def __init__(self, display: str, workdir: Path, env: dict[str, str]) -> None:
        super().__init__(display, workdir, env)
        self.prompts_file = workdir / "prompts"
        self.ready_file = self.prompts_file
        self.command = ["bash", "--norc", "--noprofile", "-i"]
        self.env = {
            **self.env,
            "PS1": "$ ",
            "PROMPT_COMMAND": f"echo >> {self.prompts_file}",
            "HISTFILE": "/dev/null",
            "TERM": "xterm",
        }

    def prompts(self) -> int:
        """How many prompts bash has shown: 1 + the command lines it ran."""
        return len(self.prompts_file.read_text().splitlines()) if self.prompts_file.exists() else 0

    def run_marker(self, marker: Path, timeout: float = 10.0) -> None:
        """Erase the line being edited (Ctrl+U), run ``touch MARKER`` and wait for the file:
        proves the shell was alive and had processed every key sent before."""
        self.focus()
        self.keys("ctrl+u")
        _run(["xdotool", "type", "--delay", "5", f"touch {marker}"], self.env)
        self.keys("Return")
        wait_for(marker.exists, timeout, f"bash in xterm to run 'touch {marker}'", 0.02)

    def clear(self) -> None:
        self.keys("ctrl+u")

    def read_once(self) -> str:
        raise NotImplementedError("bash's line is not readable; use prompts() and files")


GTK_KEYS_APP = r"""
import sys, gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, Gtk

log = open(sys.argv[1], "a", buffering=1)
win = Gtk.Window(title=sys.argv[2])
win.set_default_size(700, 300)
view = Gtk.TextView()
win.add(view)

def on_key(_widget, event):
    kind = "press" if event.type == Gdk.EventType.KEY_PRESS else "release"
    log.write(f"{kind} {Gdk.keyval_name(event.keyval)} {int(event.state):#x}\n")
    return False

win.connect("key-press-event", on_key)
win.connect("key-release-event", on_key)
win.connect("destroy", Gtk.main_quit)
win.show_all()
view.grab_focus()
Gtk.main()
"""


class GtkKeys(RealApp):
    """A GTK3 ``TextView`` (Debian's python3-gi) that logs every key event its window
    receives, one line each: ``press|release KEYNAME 0xSTATE``."""

    name = "gtk-keys"
    title = "voicetype-gtk-keys"

    def prepare(self) -> None:
        self.script = self.workdir / "gtk_keys.py"
        self.script.write_text(GTK_KEYS_APP)
        self.log = self.workdir / "keys.log"
        self.log.write_text("")

    def argv(self) -> list[str]:
        return ["/usr/bin/python3", str(self.script), str(self.log), self.title]

    def is_main_window(self, wid: int) -> bool:
        return self.desk.title(wid) == self.title

    def events(self) -> list[str]:
        return self.log.read_text().splitlines()

    def clear(self) -> None:
        self.log.write_text("")

    def read_once(self) -> str:
        return self.log.read_text()


APP_CLASSES: dict[str, type[RealApp]] = {
    "xterm": XTerm,
    "urxvt": URxvt,
    "xfce4-terminal": Xfce4Terminal,
    "mousepad": Mousepad,
    "gnome-text-editor": GnomeTextEditor,
    "kwrite": KWrite,
    "libreoffice": LibreOffice,
    "firefox": Firefox,
    "chromium": Chromium,
    "emacs": Emacs,
    "xterm-bash": XTermBash,
    "gtk-keys": GtkKeys,
}


def start_app(name: str, display: str, workdir: Path, env: dict[str, str]) -> RealApp:
    """Start application ``name`` (one of ``APP_NAMES``, or ``xterm-bash``/``gtk-keys``)
    focused and empty."""
    app = APP_CLASSES[name](display, workdir, env)
    started = False
    try:
        app.start()
        started = True
    finally:
        if not started:
            app.shutdown()
    return app


def package_versions(names: Sequence[str] = APP_NAMES) -> dict[str, str]:
    """Debian package and version of each application, e.g. ``xterm 379-1``."""
    out: dict[str, str] = {}
    for name in names:
        package = PACKAGES[name]
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
        )
        out[name] = f"{package} {result.stdout.strip() or '(not installed)'}"
    return out


@dataclass
class Cell:
    app: str
    text: str
    method: str
    verdict: Literal["ok", "refused", "fail"]
    problems: list[str] = field(default_factory=list)
    #: from ``insert()`` called to returned
    seconds: float = 0.0
    #: from ``insert()`` called to the text read back exactly (includes one read-back,
    #: ~0.1 s for select-all + copy); None when it never was
    arrived: float | None = None


@dataclass
class CompatReport:
    """The matrix's cells, written as a Markdown table (see ``markdown``)."""

    texts: dict[str, str] = field(default_factory=dict)
    methods: Sequence[str] = ()
    cells: list[Cell] = field(default_factory=list)
    restarts: dict[str, int] = field(default_factory=dict)

    def record(self, cell: Cell) -> None:
        self.cells.append(cell)

    def markdown(self, versions: dict[str, str], when: datetime.datetime, commit: str) -> str:
        by_key = {(c.app, c.text, c.method): c for c in self.cells}
        apps = [a for a in APP_NAMES if any(c.app == a for c in self.cells)]
        symbol = {"ok": "✓", "refused": "—", "fail": "✗"}
        ok = sum(c.verdict != "fail" for c in self.cells)
        refused = sum(c.verdict == "refused" for c in self.cells)
        lines = [
            "# Compatibility: real applications",
            "",
            f"Generated by `tests/apps/test_matrix.py` on {when:%Y-%m-%d %H:%M} UTC from"
            f" voicetype {commit} (Debian {_debian_version()}, headless Xvfb + openbox):"
            f" **{ok} of {len(self.cells)} cells pass** ({ok - refused} exact, {refused}"
            " refused as allowed). Regenerate with"
            " `VOICETYPE_WRITE_COMPAT=1 scripts/test.sh tests/apps/test_matrix.py`.",
            "",
            "Each cell inserts one text with one `[typing] method` into the focused text",
            "target of a freshly started application and reads it back exactly (terminals run",
            "`cat` into a file; editors and browsers: select all + copy; Emacs: its buffer).",
            "A cell passes when the text arrived exactly (in terminals a line break arrives as",
            "a space and trailing line breaks are dropped, so a dictation never runs a",
            "command), the clipboard afterwards is what the user had before, no dialog",
            "appeared, no error was reported and the window is still open.",
            "",
            f"Each table cell shows the methods {' / '.join(self.methods)}:"
            " ✓ exact · — refused with a message, nothing inserted (allowed only for paste"
            " into xterm/urxvt, which have no key that pastes the CLIPBOARD) · ✗ failed (see"
            " below).",
            "",
            "Texts:",
            "",
        ]
        lines += [
            f"- **{k}**: `{v!r}`" if len(v) <= 60 else f"- **{k}**: {len(v)} characters of prose"
            for k, v in self.texts.items()
        ]
        lines.append("")
        header = "| application | " + " | ".join(self.texts)
        lines += [header + " | exact |", "|---" * (len(self.texts) + 2) + "|"]
        for app in apps:
            row = [f"{app}"]
            passed = total = 0
            for t in self.texts:
                marks = []
                for m in self.methods:
                    cell = by_key.get((app, t, m))
                    marks.append(symbol[cell.verdict] if cell else "·")
                    if cell:
                        total += 1
                        passed += cell.verdict != "fail"
                row.append(" ".join(marks))
            lines.append("| " + " | ".join(row) + f" | {passed}/{total} |")
        longest = max(self.texts, key=lambda t: len(self.texts[t]), default=None)
        if longest is not None:
            lines += [
                "",
                f"## Time to insert the {len(self.texts[longest])}-character {longest}",
                "",
                "Seconds from `insert()` called → returned / → the text read back exactly",
                "(includes one read-back: ~0.1 s for select-all + copy in editors). Failed",
                "cells in parentheses.",
                "",
                "| application | " + " | ".join(self.methods) + " |",
                "|---" * (len(self.methods) + 1) + "|",
            ]
            for app in apps:
                times = []
                for m in self.methods:
                    cell = by_key.get((app, longest, m))
                    arrived = "–" if cell is None or cell.arrived is None else f"{cell.arrived:.2f}"
                    shown = "·" if cell is None else f"{cell.seconds:.2f} / {arrived}"
                    times.append(f"({shown})" if cell and cell.verdict == "fail" else shown)
                lines.append(f"| {app} | " + " | ".join(times) + " |")
        lines += ["", "## Versions", ""]
        lines += [f"- {app}: {versions.get(app, '?')}" for app in apps]
        failures = [c for c in self.cells if c.verdict == "fail"]
        if failures:
            lines += ["", "## Failures", ""]
            for c in failures:
                lines.append(f"- {c.app} × {c.text} × {c.method}: {'; '.join(c.problems)}")
        restarts = {a: n for a, n in self.restarts.items() if n}
        if restarts:
            lines += ["", "Applications restarted after closing during a cell: "]
            lines[-1] += ", ".join(f"{a} ×{n}" for a, n in restarts.items())
        return "\n".join(lines) + "\n"


def _debian_version() -> str:
    try:
        return Path("/etc/debian_version").read_text().strip()
    except OSError:
        return "?"


@pytest.fixture(scope="session")
def app_env(
    tmp_path_factory: pytest.TempPathFactory, x_display: str, dbus_session: Any
) -> dict[str, str]:
    """Environment for the real applications (fresh HOME, UTF-8, private bus)."""
    return app_environment(
        tmp_path_factory.mktemp("apps-home"), x_display, dbus_session.bus_address
    )


@pytest.fixture(scope="session")
def app_launcher(
    app_env: dict[str, str], x_display: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], RealApp]]:
    """``launch(name) -> RealApp`` started, focused and empty; every app it started is
    closed at the end of the session (tests close theirs earlier with ``shutdown()``)."""
    started: list[RealApp] = []

    def launch(name: str) -> RealApp:
        app = start_app(name, x_display, tmp_path_factory.mktemp(name), app_env)
        started.append(app)
        return app

    yield launch
    for app in started:
        app.shutdown()


ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="session")
def compat_report(artifacts: Path) -> Iterator[CompatReport]:
    report = CompatReport()  # the matrix module fills in its texts and methods
    yield report
    if not report.cells:
        return
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    now = datetime.datetime.now(datetime.timezone.utc)
    text = report.markdown(package_versions(), now, commit or "(unknown commit)")
    (artifacts / "compatibility.md").write_text(text, encoding="utf-8")
    cells = [dataclasses.asdict(c) for c in report.cells]  # for before/after comparisons
    (artifacts / "compatibility.json").write_text(json.dumps(cells, ensure_ascii=False, indent=1))
    complete = len(report.cells) == len(APP_NAMES) * len(report.texts) * len(report.methods)
    if os.environ.get("VOICETYPE_WRITE_COMPAT") == "1" and complete:  # never a partial table
        shutil.copyfile(artifacts / "compatibility.md", ROOT / "docs" / "compatibility.md")
