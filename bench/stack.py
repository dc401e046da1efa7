"""The real parts a benchmark runs against, started from the test harness's classes.

``Stack`` starts Xvfb + openbox (the harness's ``_start_desktop``), trayer, a private D-Bus bus
with the recording notification server, PulseAudio with the virtual default microphone,
the fake speech service, a Tk text window, and (``start_daemon``) the real daemon as a
subprocess (``python -m voicetype run --verbose``) with private HOME/XDG directories.
Everything is stopped by ``close`` (or leaving the ``with`` block), children first.

Timing helpers measure from outside the daemon with ``time.monotonic()`` (CLOCK_MONOTONIC,
comparable across processes on Linux):

- ``Hotkey.press()``: the hotkey through XTEST (python-xlib ``fake_input``), returning the
  moment the key that completes the chord was sent and flushed.
- ``ContentWatch``: inotify on the text window's directory; the window replaces its content
  file atomically after every change, so each ``IN_MOVED_TO`` is a new content, read and
  timestamped at once (no polling).
- ``TitleWatch``: PropertyNotify on the docked icon's plug window: when its title (icon
  state) changed.
- ``CaptureWatch``: ``pactl subscribe``: when a capture stream appeared on the microphone.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _p in (str(ROOT), str(ROOT / "tests")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from harness.daemon import RunningDaemon  # noqa: E402
from harness.dbus_notify import _CONFIG as DBUS_CONFIG  # noqa: E402
from harness.dbus_notify import NotificationBus, _bus_ready  # noqa: E402
from harness.fake_speech import FakeSpeechService  # noqa: E402
from harness.procs import Proc, wait_for  # noqa: E402
from harness.pulse import SOURCE, PulseAudio, _ready, _script  # noqa: E402
from harness.textwin import TextWindow  # noqa: E402
from harness.tray import TrayHost  # noqa: E402
from harness.userenv import DROPPED, private_user_env  # noqa: E402
from harness.x11 import _start_desktop  # noqa: E402

BENCH_CONFIG = """
[feedback]
start_sound = false
notify_no_match = false
"""


#: The two ways voicetype's tray runs on Linux, measured side by side (``--tray``).
TRAY_PATHS = {
    "gtk": "GTK tray",  # the README's install: python3-gi visible → AppIndicator backend
    "plain": "plain X tray",  # a plain ``pip install``: no PyGObject → voicetype.xembed
}


class Stack:
    """Every part of the desktop a dictation goes through, except the daemon itself."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="vt-bench-"))
        self._procs: list[Proc] = []
        self._closers: list[Callable[[], None]] = []
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        logs = self.tmp / "logs"
        logs.mkdir()
        xvfb, wm, self.display = _start_desktop(logs)
        self._procs += [xvfb, wm]
        self.x_env = {**os.environ, "DISPLAY": self.display}
        self.tray = TrayHost(self.display, logs)
        self._closers.append(self.tray.close)
        self.tray.start()
        self.bus = self._start_dbus(logs)
        self.pulse = self._start_pulse()
        self.speech = FakeSpeechService().start()
        self._closers.append(self.speech.stop)
        self.window = TextWindow(self.display, self.tmp / "win", "bench window")
        self._closers.append(self.window.close)
        self.window.focus()

    def _start_dbus(self, logs: Path) -> NotificationBus:
        root = self.tmp / "dbus"
        root.mkdir()
        config = root / "session.conf"
        config.write_text(DBUS_CONFIG.format(socket=root / "bus"))
        env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
        daemon = Proc(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"],
            env=env,
            log=logs / "dbus.log",
        )
        self._procs.append(daemon)
        address = f"unix:path={root / 'bus'}"
        wait_for(lambda: _bus_ready(address), 10, "the private D-Bus bus", 0.02)
        bus = NotificationBus(address)
        bus.start_server()
        self._closers.append(bus.stop_server)
        return bus

    def _start_pulse(self) -> PulseAudio:
        base = self.tmp / "pulse"
        runtime, home = base / "runtime", base / "home"
        for d in (runtime, home):
            d.mkdir(parents=True, mode=0o700)
        script = base / "default.pa"
        script.write_text(
            f"load-module module-native-protocol-unix socket={runtime / 'native'} "
            "auth-anonymous=1\n" + _script()
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "XDG_"))},
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(runtime),
            "XDG_CONFIG_HOME": str(home / ".config"),
        }
        proc = Proc(
            ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
             "--system=no", "--disallow-module-loading=no", "-n", "-F", str(script),
             "--log-target=stderr"],
            env=env,
            log=base / "pulseaudio.log",
        )  # fmt: skip
        self._procs.append(proc)
        pulse = PulseAudio(proc=proc, runtime_dir=runtime)
        wait_for(lambda: _ready(pulse) or not proc.alive(), 15, "PulseAudio", 0.05)
        if not proc.alive():
            raise RuntimeError(f"pulseaudio exited:\n{proc.output()[-2000:]}")
        pulse.pactl("suspend-sink", pulse.sink, "1")
        pulse.pactl("suspend-sink", pulse.sink, "0")
        assert SOURCE in pulse.pactl("get-default-source")
        return pulse

    def user_env(self, name: str) -> dict[str, str]:
        """A private HOME and XDG dirs (like the tests' ``user_env``) plus the desktop."""
        env = private_user_env(self.tmp / name, drop=(*DROPPED, "PULSE_"))
        env.update(
            DISPLAY=self.display,
            **self.bus.env,
            **self.pulse.env,
            **self.speech.env(),
        )
        return env

    def tray_env(self, path: str) -> dict[str, str]:
        """Environment for a daemon on one of ``TRAY_PATHS``: ``gtk`` as installed by the
        README (Debian's PyGObject visible through ``--system-site-packages``); ``plain`` as
        after a plain ``pip install``: ``gi`` made unimportable by a shadowing package on
        ``PYTHONPATH``, so voicetype picks the plain X tray by itself."""
        if path == "gtk":
            return {}
        if path != "plain":
            raise ValueError(f"unknown tray path {path!r}")
        shim = self.tmp / "no-pygobject"
        (shim / "gi").mkdir(parents=True, exist_ok=True)
        (shim / "gi" / "__init__.py").write_text(
            'raise ImportError("PyGObject hidden by bench/stack.py (a plain pip install)")\n'
        )
        inherited = os.environ.get("PYTHONPATH", "")
        return {"PYTHONPATH": os.pathsep.join(filter(None, (str(shim), inherited)))}

    def start_daemon(
        self, name: str, config: str = BENCH_CONFIG, extra_env: dict[str, str] | None = None
    ) -> RunningDaemon:
        """Start ``python -m voicetype run --verbose``; returns at once (not waiting).

        First removes the root window's ``GDK_VISUALS`` property: the first GTK 3 client
        on a display probes GLX (loading Mesa and LLVM) and caches the result there, so
        later clients skip the probe. Every daemon is thus measured as the first GTK
        application after login (an autostarted voicetype on a desktop that is not GTK 3),
        the worst case, not depending on which daemon of the run came first."""
        subprocess.run(
            ["xprop", "-root", "-remove", "GDK_VISUALS"],
            env={**os.environ, "DISPLAY": self.display},
            capture_output=True,
            timeout=10,
        )
        env = {**self.user_env(name), **(extra_env or {})}
        config_path = Path(env["XDG_CONFIG_HOME"]) / "voicetype" / "config.toml"
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(config, encoding="utf-8")
        proc = Proc(
            [sys.executable, "-m", "voicetype", "run", "--verbose"],
            env=env,
            log=self.tmp / f"{name}.out",
        )
        return RunningDaemon(proc, env, config_path, self.tray)

    def close(self) -> None:
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                close()
        for proc in reversed(self._procs):
            with contextlib.suppress(Exception):
                proc.stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_daemon_ready(daemon: RunningDaemon, timeout: float = 30.0) -> None:
    """The control socket answers, the icon is docked and the hotkey is live."""
    from voicetype.control import ControlUnavailable

    def ready() -> bool:
        if not daemon.proc.alive():
            raise RuntimeError(f"the daemon exited early:\n{daemon.output()[-3000:]}")
        try:
            return bool(daemon.command("status")["ok"])
        except ControlUnavailable:
            return False

    wait_for(ready, timeout, "the daemon's control socket", 0.02)
    daemon.tray.wait_for_icon("voicetype", timeout)
    daemon.wait_for_log("is live", timeout)


def stop_daemon(daemon: RunningDaemon) -> None:
    try:
        daemon.quit()
    except Exception:
        daemon.proc.stop()


# ---------------------------------------------------------------- process figures


def proc_figures(pid: int) -> dict[str, float]:
    """CPU seconds (user+system), RSS in MB, threads, context switches of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        status[key] = value.split()
    return {
        "cpu": cpu,
        "rss_mb": int(status["VmRSS"][0]) / 1024,
        "threads": int(status["Threads"][0]),
        "switches": float(
            int(status["voluntary_ctxt_switches"][0]) + int(status["nonvoluntary_ctxt_switches"][0])
        ),
    }


def thread_switches(pid: int) -> dict[str, int]:
    """Context switches per thread name (to find a thread that wakes up while idle)."""
    out: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            status = (task / "status").read_text().splitlines()
        except OSError:
            continue
        n = 0
        for line in status:
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                n += int(line.split()[1])
        out[f"{name}/{task.name}"] = n
    return out


# ---------------------------------------------------------------- key presses


class Hotkey:
    """Presses Ctrl+Alt+Space through XTEST from this process (like a keyboard would)."""

    def __init__(self, display: str) -> None:
        from Xlib import XK
        from Xlib import display as xdisplay
        from Xlib.ext import xtest

        self._xtest = xtest
        self._d = xdisplay.Display(display)
        self._codes = [
            self._d.keysym_to_keycode(XK.string_to_keysym(name))
            for name in ("Control_L", "Alt_L", "space")
        ]

    def press(self) -> float:
        """Press and release the chord; the time the completing key went down."""
        from Xlib import X

        ctrl, alt, space = self._codes
        for code in (ctrl, alt):
            self._xtest.fake_input(self._d, X.KeyPress, code)
        self._d.sync()
        self._xtest.fake_input(self._d, X.KeyPress, space)
        self._d.flush()
        at = time.monotonic()
        self._d.sync()
        for code in (space, alt, ctrl):
            self._xtest.fake_input(self._d, X.KeyRelease, code)
        self._d.sync()
        return at

    def close(self) -> None:
        self._d.close()


# ---------------------------------------------------------------- watchers

_IN_MOVED_TO = 0x00000080
_IN_CLOSE_WRITE = 0x00000008


class ContentWatch:
    """Timestamps every new content the text window writes (inotify; see module docstring).

    ``wait_for(text, timeout)`` returns the monotonic time at which the window's content
    first equalled ``text`` (seen by this watcher), or raises ``TimeoutError``.
    """

    def __init__(self, window: TextWindow) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self._fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        path = window._content
        self._path = path
        self._name = path.name.encode()
        if libc.inotify_add_watch(self._fd, str(path.parent).encode(), _IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch failed")

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._fd, 65536):
                pass

    def wait_for(self, text: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                got = self._path.read_text(encoding="utf-8") if self._path.exists() else ""
                raise TimeoutError(f"window content never became {text!r} (last: {got!r})")
            ready, _, _ = select.select([self._fd], [], [], left)
            if not ready:
                continue
            data = os.read(self._fd, 65536)
            at = time.monotonic()
            offset = 0
            hit = False
            while offset < len(data):
                _wd, _mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16 : offset + 16 + length].rstrip(b"\0")
                offset += 16 + length
                hit = hit or name == self._name
            if hit and self._path.read_text(encoding="utf-8") == text:
                return at

    def close(self) -> None:
        os.close(self._fd)


class TitleWatch:
    """Records (monotonic time, title) for every title change of the docked voicetype icon."""

    def __init__(self, display: str, tray: TrayHost) -> None:
        from Xlib import X
        from Xlib import display as xdisplay

        icon = tray.wait_for_icon("voicetype")
        self._d = xdisplay.Display(display)
        socket = self._d.create_resource_object("window", icon.window)
        plugs = socket.query_tree().children
        if not plugs:
            raise RuntimeError("the docked icon has no plug window")
        self._plug = plugs[0]
        self._plug.change_attributes(event_mask=X.PropertyChangeMask)
        self._d.sync()
        self._atoms = {self._d.intern_atom("_NET_WM_NAME"), self._d.intern_atom("WM_NAME")}
        self.changes: list[tuple[float, str]] = []
        self._lock = threading.Condition()
        self._stop = False
        self._tray = tray
        self._thread = threading.Thread(target=self._run, name="title-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from Xlib import error

        fd = self._d.fileno()
        while not self._stop:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            with contextlib.suppress(error.ConnectionClosedError):
                self._drain()

    def _drain(self) -> None:
        from Xlib import X

        while self._d.pending_events():
            event = self._d.next_event()
            if event.type == X.PropertyNotify and event.atom in self._atoms:
                at = time.monotonic()
                name = self._tray._name(self._plug)
                with self._lock:
                    self.changes.append((at, name))
                    self._lock.notify_all()

    def first_after(self, since: float, prefix: str, timeout: float) -> float:
        """When the title first started with ``prefix`` after ``since``."""

        def find() -> float | None:
            return next((t for t, n in self.changes if t >= since and n.startswith(prefix)), None)

        deadline = time.monotonic() + timeout
        with self._lock:
            while (found := find()) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"icon title never became {prefix!r}: {self.changes[-5:]}")
                self._lock.wait(left)
        return found

    def close(self) -> None:
        self._stop = True
        self._thread.join(1)
        self._d.close()


class CaptureWatch:
    """Times when capture streams (source outputs) appear on PulseAudio (``pactl subscribe``)."""

    def __init__(self, pulse: PulseAudio) -> None:
        self._proc = subprocess.Popen(
            ["pactl", "subscribe"],
            env={**os.environ, **pulse.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.opened: list[float] = []
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="capture-watch", daemon=True)
        self._thread.start()
        time.sleep(0.2)  # subscribed before anything is measured

    def _run(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if "'new' on source-output" in line:
                at = time.monotonic()
                with self._lock:
                    self.opened.append(at)
                    self._lock.notify_all()

    def first_after(self, since: float, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not any(t >= since for t in self.opened):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no capture stream opened")
                self._lock.wait(left)
            return next(t for t in self.opened if t >= since)

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(5)


def play(pulse: PulseAudio, wav: Path) -> subprocess.Popen[bytes]:
    """Start ``paplay`` into the virtual microphone's sink now (no waiting for a capture)."""
    return subprocess.Popen(
        ["paplay", "-d", pulse.sink, str(wav)],
        env={**os.environ, **pulse.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
