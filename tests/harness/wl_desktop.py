"""Real headless GNOME and KDE compositors with their xdg-desktop-portal backends, on
private session and system buses, and a GTK3 Wayland text window (foot crashes on KWin
and gets no keys on bare mutter) whose content a test can read.

Everything runs as ``nobody`` (uid 65534) with its own 0700 runtime dir: the portal
refuses callers whose ``/proc/PID/root`` it cannot open, so portal clients run as that
user too (``SETPRIV`` + ``client_env``). The buses allow any user, so the root test
process can watch and drive them.

- ``KWin``: recipe from TESTING.md: ``/usr/bin/kwin_wayland`` carries a file capability
  this sandbox refuses, so a copy (which drops it) runs ``--virtual``;
  xdg-desktop-portal-kde. RemoteDesktop ``Start`` answers at once, with no dialog, for a
  caller without an app id.
- ``Mutter``: ``mutter --headless --wayland --no-x11 --virtual-monitor``;
  xdg-desktop-portal-gnome, whose RemoteDesktop ``Start`` shows a consent dialog:
  ``Mutter.consent()`` answers it through AT-SPI (``at-spi-bus-launcher`` runs in the
  session). A virtual keyboard of mutter's own remote-desktop API stays present, as a
  physical keyboard would (without one wl-clipboard refuses to work and every new
  virtual keyboard loses its first keys).

Fixtures ``kwin`` and ``mutter`` (module scope). ``desktop.gtk_window()`` starts a
focused GTK3 ``TextView`` (``harness.sway``'s app) and returns its ``DesktopText``
(``content()``, ``wait_for_text``, ``close()``); with ``accessible=True`` the window is
on the session's AT-SPI bus (``desktop.start_a11y()`` first).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.dbus_notify import _bus_ready
from harness.procs import Proc, require, wait_for
from harness.sway import _GTK_APP, UID

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>{kind}</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
SETPRIV = ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups"]
KWIN = "/usr/bin/kwin_wayland"
PORTAL = "/usr/libexec/xdg-desktop-portal"
PORTAL_KDE = "/usr/lib/x86_64-linux-gnu/libexec/xdg-desktop-portal-kde"
PORTAL_GNOME = "/usr/libexec/xdg-desktop-portal-gnome"
MUTTER_RD = "org.gnome.Mutter.RemoteDesktop"


class DesktopText:
    def __init__(self, proc: Proc, path: Path) -> None:
        self.proc = proc
        self.path = path

    def content(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def wait_for_text(self, expected: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.content() != expected:
            time.sleep(0.02)
        got = self.content()
        assert got == expected, f"GTK3 window: got {got!r}, expected {expected!r}"
        return got

    def close(self) -> None:
        self.proc.stop()


class Desktop:
    """The buses, runtime dir and helpers shared by both desktops."""

    name = ""
    display = ""
    current_desktop = ""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.chmod(0o777)
        self.runtime = root / "runtime"
        self.runtime.mkdir()
        os.chown(self.runtime, UID, UID)
        self.runtime.chmod(0o700)
        home = root / "home"
        home.mkdir()
        os.chown(home, UID, UID)
        self.workdir = root / "work"
        self.workdir.mkdir()
        self.workdir.chmod(0o777)
        self.procs: list[Proc] = []
        buses = {}
        for kind in ("session", "system"):
            sock = root / f"{kind}-bus"
            conf = root / f"{kind}.conf"
            conf.write_text(_BUS_CONFIG.format(kind=kind, socket=sock))
            conf.chmod(0o644)
            self._start(
                [*SETPRIV, "dbus-daemon", f"--config-file={conf}", "--nofork", "--nopidfile"],
                {"PATH": "/usr/bin:/bin"},
                f"{kind}-bus",
            )
            address = f"unix:path={sock}"
            wait_for(lambda a=address: _bus_ready(a), 10, f"the private {kind} bus", 0.02)  # type: ignore[misc]
            buses[kind] = address
        self.base_env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "DBUS_SESSION_BUS_ADDRESS": buses["session"],
            "DBUS_SYSTEM_BUS_ADDRESS": buses["system"],
            "XDG_CURRENT_DESKTOP": self.current_desktop,
            "XDG_SESSION_TYPE": "wayland",
            "LANG": "C.UTF-8",
            "NO_AT_BRIDGE": "1",
        }
        self.client_env = {
            **self.base_env,
            "WAYLAND_DISPLAY": self.display,
            "QT_QPA_PLATFORM": "wayland",
            "GDK_BACKEND": "wayland",
        }
        self.env = {
            "DBUS_SESSION_BUS_ADDRESS": buses["session"],
            "WAYLAND_DISPLAY": self.display,
            "XDG_RUNTIME_DIR": str(self.runtime),
            "XDG_CURRENT_DESKTOP": self.current_desktop,
        }
        self.compositor: Proc | None = None

    def start_portal(self, backend: str, impl_name: str) -> None:
        self._start([*SETPRIV, backend], self.client_env, "portal-backend")
        wait_for(lambda: self._has_name(impl_name), 20, impl_name)
        self._start([*SETPRIV, PORTAL, "-r"], self.client_env, "portal")
        wait_for(lambda: self._has_name("org.freedesktop.portal.Desktop"), 20, "xdg-desktop-portal")

    def start_a11y(self) -> None:
        """The session's accessibility bus (at-spi-bus-launcher; registryd starts on it)."""
        self._start(
            [*SETPRIV, "/usr/libexec/at-spi-bus-launcher", "--launch-immediately"],
            self.base_env,
            "at-spi",
        )
        wait_for(lambda: self._has_name("org.a11y.Bus"), 20, "the accessibility bus")

    def _start(self, argv: list[str], env: dict[str, str], name: str) -> Proc:
        proc = Proc(argv, env=env, log=self.root / f"{name}.log")
        self.procs.append(proc)
        return proc

    def _socket_ready(self) -> bool:
        assert self.compositor is not None
        if not self.compositor.alive():
            raise RuntimeError(f"{self.name} exited:\n{self.compositor.output()[-3000:]}")
        p = self.runtime / self.display
        return p.exists() and stat.S_ISSOCK(p.stat().st_mode)

    def _has_name(self, name: str) -> bool:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        conn = open_dbus_connection(self.base_env["DBUS_SESSION_BUS_ADDRESS"])
        try:
            reply = conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=2)
            return bool(reply.body[0])
        finally:
            conn.close()

    def gtk_window(self, accessible: bool = False) -> DesktopText:
        """``accessible``: the window is on the session's AT-SPI bus (``start_a11y``);
        else (``NO_AT_BRIDGE=1``) nothing there knows it, like foot or kitty."""
        path = self.workdir / f"gtk-{time.monotonic_ns()}.txt"
        script = self.workdir / "gtk_textview.py"
        script.write_text(_GTK_APP)
        script.chmod(0o644)
        proc = self._start(
            [*SETPRIV, "/usr/bin/python3", str(script), str(path), "voicetype-test"],
            {k: v for k, v in self.client_env.items() if not (accessible and k == "NO_AT_BRIDGE")},
            "gtk",
        )
        wait_for(path.exists, 20, f"the GTK3 window on {self.name}")
        time.sleep(0.5)  # the compositor focuses it when mapped; no event reaches us here
        return DesktopText(proc, path)

    def stop(self) -> None:
        keyboard = getattr(self, "_keyboard", None)
        if keyboard is not None:
            keyboard.close()
        for proc in reversed(self.procs):
            proc.stop()


class KWin(Desktop):
    name = "KWin"
    display = "wayland-kw"
    current_desktop = "KDE"

    def __init__(self, root: Path) -> None:
        require("setpriv", "dbus-daemon", KWIN, PORTAL, PORTAL_KDE)
        super().__init__(root)
        kwin = root / "kwin_wayland"
        shutil.copy(KWIN, kwin)  # the copy has no file capability
        kwin.chmod(0o755)
        self.compositor = self._start(
            [*SETPRIV, str(kwin), "--virtual", "--width", "1280", "--height", "800",
             "--socket", self.display, "--no-lockscreen"],
            self.base_env,
            "kwin",
        )  # fmt: skip
        wait_for(self._socket_ready, 30, "KWin's Wayland socket")
        self.start_portal(PORTAL_KDE, "org.freedesktop.impl.portal.desktop.kde")


class Mutter(Desktop):
    name = "mutter"
    display = "wayland-mt"
    current_desktop = "GNOME"

    def __init__(self, root: Path) -> None:
        require("setpriv", "dbus-daemon", "mutter", PORTAL, PORTAL_GNOME)
        super().__init__(root)
        self.compositor = self._start(
            [*SETPRIV, "mutter", "--headless", "--wayland", "--no-x11",
             "--virtual-monitor", "1280x800", f"--wayland-display={self.display}"],
            self.base_env,
            "mutter",
        )  # fmt: skip
        wait_for(self._socket_ready, 30, "mutter's Wayland socket")
        wait_for(lambda: self._has_name(MUTTER_RD), 20, "mutter's RemoteDesktop API")
        # A real desktop always has a keyboard; headless mutter has none, and without one
        # wl-copy/wl-paste refuse ("This seat has no keyboard") and every new virtual
        # keyboard makes windows bind a wl_keyboard late (lost keys). Keep one present.
        self.start_a11y()
        self._keyboard, call = self._rd_session()
        call("NotifyKeyboardKeysym", "ub", (0xFFE1, True))  # the device appears on its first key
        call("NotifyKeyboardKeysym", "ub", (0xFFE1, False))
        self.start_portal(PORTAL_GNOME, "org.freedesktop.impl.portal.desktop.gnome")

    def _rd_session(self) -> tuple[Any, Callable[..., None]]:
        """A started session of mutter's own remote-desktop API (a virtual keyboard that
        needs no consent) and a ``call(member, signature, body)`` on it."""
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import unwrap_msg

        conn = open_dbus_connection(self.base_env["DBUS_SESSION_BUS_ADDRESS"])
        rd = DBusAddress("/org/gnome/Mutter/RemoteDesktop", MUTTER_RD, MUTTER_RD)
        reply = conn.send_and_get_reply(new_method_call(rd, "CreateSession"), timeout=5)
        (session,) = unwrap_msg(reply)
        sess = DBusAddress(session, MUTTER_RD, MUTTER_RD + ".Session")

        def call(member: str, sig: str = "", body: tuple[object, ...] = ()) -> None:
            msg = new_method_call(sess, member, sig, body)
            unwrap_msg(conn.send_and_get_reply(msg, timeout=5))

        call("Start")
        return conn, call

    def consent(self, timeout: float = 30.0) -> None:
        """Answer xdg-desktop-portal-gnome's remote-desktop dialog (allow) through AT-SPI
        (``harness/atspi_consent.py``): keys were not reliable, since the dialog's initial
        focus varies and a space on Cancel declines."""
        script = Path(__file__).with_name("atspi_consent.py")
        copy = self.workdir / script.name
        copy.write_text(script.read_text())
        copy.chmod(0o644)
        answered = subprocess.run(
            [*SETPRIV, "/usr/bin/python3", str(copy), str(timeout)],
            env=self.client_env,
            capture_output=True,
            text=True,
            timeout=timeout + 10,
            check=False,
        )
        if answered.returncode != 0:
            raise TimeoutError(f"could not answer the consent dialog: {answered.stderr[-1500:]}")


@pytest.fixture(scope="module")
def kwin() -> Iterator[KWin]:
    if not Path(KWIN).exists() or not Path(PORTAL_KDE).exists():
        pytest.fail("kwin-wayland / xdg-desktop-portal-kde missing; run scripts/test.sh")
    root = Path(tempfile.mkdtemp(prefix="voicetype-kwin-"))
    session = KWin(root)
    try:
        yield session
    finally:
        session.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def mutter() -> Iterator[Mutter]:
    if shutil.which("mutter") is None or not Path(PORTAL_GNOME).exists():
        pytest.fail("mutter / xdg-desktop-portal-gnome missing; run scripts/test.sh")
    root = Path(tempfile.mkdtemp(prefix="voicetype-mutter-"))
    session = Mutter(root)
    try:
        yield session
    finally:
        session.stop()
        shutil.rmtree(root, ignore_errors=True)
