"""The microphones the user can choose: PulseAudio/PipeWire sources, by name or description.

Why ``pactl -f json`` and not the ``pulsectl`` library or PortAudio's list: PortAudio (19.6,
Debian 12) sees only ALSA PCMs ("pulse", "default", hw:…), not the inputs the desktop's sound
settings show; ``pactl`` ships with PulseAudio (``pulseaudio-utils``) and with PipeWire's
PulseAudio server (``pipewire-pulse`` systems have it too), speaks to whichever runs, and its
JSON output (PulseAudio ≥ 15) is stable; ``pulsectl`` would add a ctypes binding of
libpulse to the process for two calls made only when listing or opening. Each call is a
subprocess bounded by ``timeout``.

Parsing and choosing are pure (``parse_sources``, ``choose``); ``list_devices`` runs pactl.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from voicetype.errors import VoicetypeError

PACTL_TIMEOUT = 2.0


@dataclass(frozen=True)
class InputDevice:
    name: str  # the server's source name, e.g. "alsa_input.usb-…" (stable, for the config)
    description: str  # what sound settings show, e.g. "Blue Yeti Analog Stereo"
    is_default: bool = False

    @property
    def label(self) -> str:
        return f"{self.description} ({self.name})" if self.description else self.name


@dataclass(frozen=True)
class Choice:
    """The device to open: ``name`` None = the default input. ``fallback`` says why the
    configured one is not used ("" when it is, or none was configured)."""

    name: str | None
    fallback: str = ""


class DevicesUnavailable(VoicetypeError):
    """The sound server cannot be asked for its inputs."""


def parse_sources(
    sources_json: str, default_name: str, *, monitors: bool = False
) -> list[InputDevice]:
    """The inputs in ``pactl -f json list sources`` output, the default first marked.

    Monitors of outputs ("Monitor of Built-in Audio") are left out unless ``monitors``:
    sound settings hide them from the input list too. Raises ``ValueError`` on output that
    is not such a list.
    """
    data: Any = json.loads(sources_json)
    if not isinstance(data, list):
        raise ValueError("pactl did not answer with a list of sources")
    out: list[InputDevice] = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        props = item.get("properties")
        props = props if isinstance(props, dict) else {}
        is_monitor = props.get("device.class") == "monitor" or bool(item.get("monitor_source"))
        if is_monitor and not monitors:
            continue
        description = item.get("description")
        out.append(
            InputDevice(
                name=item["name"],
                description=description if isinstance(description, str) else "",
                is_default=item["name"] == default_name,
            )
        )
    return out


def choose(devices: Sequence[InputDevice], wanted: str) -> Choice:
    """Which device to open for ``[audio] device = wanted`` ("" = the default).

    Matches the source name exactly, else the description ignoring case (the first of
    several with the same description). A device not present gives the default, with a
    reason in plain words for a notification.
    """
    wanted = wanted.strip()
    if not wanted:
        return Choice(None)
    for d in devices:
        if d.name == wanted:
            return Choice(d.name)
    folded = wanted.casefold()
    for d in devices:
        if d.description.casefold() == folded:
            return Choice(d.name)
    default = next((d for d in devices if d.is_default), None)
    instead = f"“{default.description or default.name}”" if default else "the default input"
    return Choice(None, f"The microphone “{wanted}” is not connected; using {instead}")


Runner = Callable[[Sequence[str], Mapping[str, str]], str]


def _run_pactl(args: Sequence[str], env: Mapping[str, str]) -> str:
    if shutil.which("pactl") is None:
        raise DevicesUnavailable(
            "Cannot list microphones: `pactl` is not installed",
            "install it (Debian/Ubuntu: `sudo apt install pulseaudio-utils`)",
        )
    try:
        out = subprocess.run(
            ["pactl", *args],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=PACTL_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise DevicesUnavailable(
            f"The sound server did not answer within {PACTL_TIMEOUT:g} s",
            "restart it (`systemctl --user restart pipewire-pulse` or `pulseaudio -k`)",
        ) from exc
    if out.returncode != 0:
        raise DevicesUnavailable(
            f"Cannot reach the sound server: {out.stderr.strip()[:200]}",
            "start PulseAudio or PipeWire (a desktop session normally runs one)",
        )
    return out.stdout


def list_devices(
    run: Runner = _run_pactl, env: Mapping[str, str] | None = None
) -> list[InputDevice]:
    """The inputs of the running PulseAudio/PipeWire server, the default marked.

    Blocks for at most ~2 × ``PACTL_TIMEOUT``; raises ``DevicesUnavailable`` (with the fix)
    when pactl is missing or the server does not answer.
    """
    env = os.environ if env is None else env
    default = run(["get-default-source"], env).strip()
    try:
        return parse_sources(run(["-f", "json", "list", "sources"], env), default)
    except ValueError as exc:
        raise DevicesUnavailable(
            f"Cannot read the sound server's list of inputs: {exc}",
            "pactl from PulseAudio 15 or later is needed (`pactl -f json`)",
        ) from exc


def format_devices(devices: Sequence[InputDevice], chosen: str = "") -> str:
    """What ``voicetype devices`` prints: one input a line, ``*`` marking the default and
    ``>`` the one ``[audio] device = chosen`` picks; the description first, the name to
    copy into the config after it."""
    if not devices:
        return "No microphones found (is one connected and enabled in your sound settings?)"
    picked = choose(devices, chosen).name if chosen else None
    lines = []
    for d in devices:
        mark = (">" if d.name == picked else " ") + ("*" if d.is_default else " ")
        lines.append(f"{mark} {d.description or d.name}    device = {json.dumps(d.name)}")
    lines.append("(* default input, > chosen by [audio] device)")
    return "\n".join(lines)
