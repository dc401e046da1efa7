"""A session-wide PulseAudio with a virtual default microphone (see TESTING.md, Audio).

Layout: a null sink ``vt_speaker`` (16 kHz mono) is the "air"; ``vt_mic``, a virtual source on
its monitor, is the default source, so anything played into the sink is what the default
microphone captures (bit-exact). A null source looped into the sink (latency_msec=20) keeps
the sink's clock ticking; without it the null sink works in 2 s blocks and captures stall.

Fixtures:
- ``pulse_audio`` (session): the running ``PulseAudio``; ``.env`` holds what clients need.
- ``pulse_env`` (function): sets those variables in ``os.environ`` for in-process clients
  (the Speech SDK reads them when it opens the microphone) and restores them afterwards.

The daemon runs in the foreground under ``Proc`` (``--daemonize=no``, never exits on idle)
with a private runtime dir and HOME, and is stopped at session end; nothing is left behind.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.procs import Proc, require, wait_for

SINK = "vt_speaker"
SOURCE = "vt_mic"


@dataclass
class PulseAudio:
    """A running PulseAudio. Methods may be called from any thread; each blocks boundedly."""

    proc: Proc
    runtime_dir: Path
    sink: str = SINK
    source: str = SOURCE

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "native"

    @property
    def env(self) -> dict[str, str]:
        """Variables a client process needs (merge into its environment)."""
        return {"PULSE_SERVER": f"unix:{self.socket}"}

    def pactl(self, *args: str, timeout: float = 10.0) -> str:
        out = subprocess.run(
            ["pactl", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if out.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def capture_streams(self) -> list[str]:
        """Clients' capture streams open right now, one ``pactl list short`` line each.

        The modules' own source outputs (virtual source, loopback) are left out.
        """
        lines = self.pactl("list", "short", "source-outputs").splitlines()
        return [ln for ln in lines if "protocol-native.c" in ln]

    def wait_for_capture(self, timeout: float = 10.0) -> list[str]:
        return wait_for(self.capture_streams, timeout, "a capture stream on the virtual mic", 0.02)

    def add_microphone(self, name: str, description: str) -> tuple[str, str]:
        """Another microphone the user could choose: a null sink ``<name>_air`` whose
        monitor feeds a virtual source ``name`` described as ``description`` (what sound
        settings show), with its own ticking loopback. Returns ``(sink, source)``; play
        into the sink with ``play(wav, sink=…)``. Not the default source."""
        sink = f"{name}_air"
        desc = description.replace(" ", "_")  # module arguments split on spaces
        self.pactl(
            "load-module",
            "module-null-sink",
            f"sink_name={sink}",
            "rate=16000",
            "channels=1",
            "format=s16le",
            f"sink_properties=device.description={sink}",
        )
        self.pactl(
            "load-module",
            "module-virtual-source",
            f"source_name={name}",
            f"master={sink}.monitor",
            f"source_properties=device.description={desc}",
        )
        self.pactl(
            "load-module",
            "module-loopback",
            "source=vt_silence",
            f"sink={sink}",
            "latency_msec=20",
        )
        self.pactl("suspend-sink", sink, "1")
        self.pactl("suspend-sink", sink, "0")
        return sink, name

    def play(
        self, wav: Path, *, wait_for_capture: float = 10.0, sink: str | None = None
    ) -> subprocess.Popen[bytes]:
        """Once something captures from the mic, start playing ``wav`` into it.

        Returns the ``paplay`` process (the caller waits for it, boundedly). Raises
        ``TimeoutError`` when no capture stream appears within ``wait_for_capture`` s.
        """
        self.wait_for_capture(wait_for_capture)
        return subprocess.Popen(
            ["paplay", "-d", sink or self.sink, str(wav)],
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )


def _script() -> str:
    return "\n".join(
        [
            f"load-module module-null-sink sink_name={SINK} rate=16000 channels=1 format=s16le"
            f" sink_properties=device.description={SINK}",
            f"load-module module-virtual-source source_name={SOURCE} master={SINK}.monitor"
            f" source_properties=device.description={SOURCE}",
            "load-module module-null-source source_name=vt_silence rate=16000 channels=1",
            f"load-module module-loopback source=vt_silence sink={SINK} latency_msec=20",
            f"set-default-sink {SINK}",
            f"set-default-source {SOURCE}",
            "",
        ]
    )


def start_pulseaudio(base: Path, runtime: Path | None = None) -> PulseAudio:
    """Start a PulseAudio with the virtual microphone, its files under ``base`` and its
    socket at ``runtime/native`` (default ``base/runtime``); raise when it does not come
    up within 15 s. The caller stops ``.proc``. Tests that kill an audio server use one
    of their own from here, never the session's."""
    require("pulseaudio", "pactl", "paplay")
    runtime = runtime or base / "runtime"
    home = base / "home"
    for d in (runtime, home):
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
    script = base / "default.pa"
    script.write_text(
        f"load-module module-native-protocol-unix socket={runtime / 'native'} auth-anonymous=1\n"
        + _script()
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "XDG_"))},
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    proc = Proc(
        [
            "pulseaudio",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--system=no",
            "--disallow-module-loading=no",
            "-n",
            "-F",
            str(script),
            "--log-target=stderr",
        ],
        env=env,
        log=base / "pulseaudio.log",
    )
    pulse = PulseAudio(proc=proc, runtime_dir=runtime)
    try:
        wait_for(
            lambda: _ready(pulse) or not proc.alive(), 15, "PulseAudio to accept clients", 0.05
        )
        if not proc.alive():
            raise RuntimeError(f"pulseaudio exited:\n{proc.output()[-2000:]}")
        pulse.pactl("suspend-sink", SINK, "1")
        pulse.pactl("suspend-sink", SINK, "0")
    except BaseException:
        proc.stop()
        raise
    return pulse


@pytest.fixture(scope="session")
def pulse_audio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseAudio]:
    pulse = start_pulseaudio(tmp_path_factory.mktemp("pulse"))
    try:
        yield pulse
    finally:
        pulse.proc.stop()


def _ready(pulse: PulseAudio) -> bool:
    if not pulse.socket.exists():
        return False
    try:
        return SOURCE in pulse.pactl("get-default-source", timeout=5)
    except (RuntimeError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def pulse_env(pulse_audio: PulseAudio, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in pulse_audio.env.items():
        monkeypatch.setenv(name, value)
    return pulse_audio.env
