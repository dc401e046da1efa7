"""A real headless KDE session: KWin 5.27 (``--virtual``) with xdg-desktop-portal and
xdg-desktop-portal-kde on private session and system buses, and a GTK3 Wayland text
window (foot crashes on KWin) whose content a test can read.

Recipe from TESTING.md: ``/usr/bin/kwin_wayland`` carries a file capability this sandbox
refuses, so a copy (which drops it) runs; everything runs as ``nobody`` (uid 65534) with
its own 0700 runtime dir; the buses allow any user, so the root test process can call the
portal (``KWin.env``: ``DBUS_SESSION_BUS_ADDRESS``, ``WAYLAND_DISPLAY``,
``XDG_RUNTIME_DIR``). RemoteDesktop ``Start`` answers at once, with no dialog, for a
caller without an app id.

Fixture ``kwin`` (module): the running ``KWin``; ``kwin.gtk_window()`` starts a focused
GTK3 ``TextView`` (``harness.sway``'s app) and returns its ``KWinText``
(``content()``, ``wait_for_text``, ``close()``).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

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


class KWinText:
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
        assert got == expected, f"GTK3 on KWin: got {got!r}, expected {expected!r}"
        return got

    def close(self) -> None:
        self.proc.stop()


class KWin:
    def __init__(self, root: Path) -> None:
        require("setpriv", "dbus-daemon", KWIN, PORTAL, PORTAL_KDE)
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
        kwin = root / "kwin_wayland"
        shutil.copy(KWIN, kwin)  # the copy has no file capability
        kwin.chmod(0o755)
        self.display = "wayland-kw"
        self.base_env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "DBUS_SESSION_BUS_ADDRESS": buses["session"],
            "DBUS_SYSTEM_BUS_ADDRESS": buses["system"],
            "XDG_CURRENT_DESKTOP": "KDE",
            "XDG_SESSION_TYPE": "wayland",
            "LANG": "C.UTF-8",
            "NO_AT_BRIDGE": "1",
        }
        self.kwin = self._start(
            [*SETPRIV, str(kwin), "--virtual", "--width", "1280", "--height", "800",
             "--socket", self.display, "--no-lockscreen"],
            self.base_env,
            "kwin",
        )  # fmt: skip
        wait_for(self._socket_ready, 30, "KWin's Wayland socket")
        client_env = {
            **self.base_env,
            "WAYLAND_DISPLAY": self.display,
            "QT_QPA_PLATFORM": "wayland",
        }
        self.client_env = client_env
        self._start([*SETPRIV, PORTAL_KDE], client_env, "portal-kde")
        wait_for(
            lambda: self._has_name("org.freedesktop.impl.portal.desktop.kde"),
            20,
            "xdg-desktop-portal-kde",
        )
        self._start([*SETPRIV, PORTAL, "-r"], client_env, "portal")
        wait_for(lambda: self._has_name("org.freedesktop.portal.Desktop"), 20, "xdg-desktop-portal")
        self.env = {
            "DBUS_SESSION_BUS_ADDRESS": buses["session"],
            "WAYLAND_DISPLAY": self.display,
            "XDG_RUNTIME_DIR": str(self.runtime),
            "XDG_CURRENT_DESKTOP": "KDE",
        }

    def _start(self, argv: list[str], env: dict[str, str], name: str) -> Proc:
        proc = Proc(argv, env=env, log=self.root / f"{name}.log")
        self.procs.append(proc)
        return proc

    def _socket_ready(self) -> bool:
        if not self.kwin.alive():
            raise RuntimeError(f"kwin_wayland exited:\n{self.kwin.output()[-3000:]}")
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

    def gtk_window(self) -> KWinText:
        path = self.workdir / f"gtk-{time.monotonic_ns()}.txt"
        script = self.workdir / "gtk_textview.py"
        script.write_text(_GTK_APP)
        script.chmod(0o644)
        env = {**self.client_env, "GDK_BACKEND": "wayland"}
        proc = self._start(
            [*SETPRIV, "/usr/bin/python3", str(script), str(path), "voicetype-kwin"], env, "gtk"
        )
        wait_for(path.exists, 20, "the GTK3 window on KWin")
        time.sleep(0.5)  # KWin gives it focus when mapped; no event reaches us from here
        return KWinText(proc, path)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


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
