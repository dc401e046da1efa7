"""The audio package's pure parts: level meter, no-sound watch, source list, device choice,
and the capture ring (fed by hand, no PortAudio)."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping, Sequence

import pytest

from voicetype.audio.capture import Capture, MicrophoneError, open_microphone
from voicetype.audio.devices import (
    Choice,
    DevicesUnavailable,
    InputDevice,
    choose,
    format_devices,
    list_devices,
    parse_sources,
)
from voicetype.audio.level import SoundWatch, dbfs, rms


def pcm(*samples: int) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


@pytest.mark.parametrize(
    ("block", "level"),
    [
        (b"", 0.0),
        (pcm(0, 0, 0), 0.0),
        (pcm(16384, -16384), 0.5),
        (pcm(-32768, -32768), 1.0),
        (pcm(100) + b"\x01", 100 / 32768),  # an odd trailing byte is ignored
    ],
)
def test_rms(block: bytes, level: float) -> None:
    assert rms(block) == pytest.approx(level)


def test_dbfs() -> None:
    assert dbfs(1.0) == 0.0
    assert dbfs(0.001) == pytest.approx(-60.0)
    assert dbfs(0.0) == -math.inf


def test_sound_watch_says_no_sound_after_three_seconds() -> None:
    w = SoundWatch(started=10.0)
    assert not w.no_sound(12.9)
    assert w.no_sound(13.0)  # nothing heard since the start
    w.feed(0.2, 13.5)
    assert w.silent_for(14.0) == pytest.approx(0.5)
    w.feed(0.0001, 15.0)  # below the threshold: faint noise of a muted microphone
    assert w.level == 0.0001
    assert w.silent_for(16.4) == pytest.approx(2.9)
    assert w.no_sound(16.5)


SOURCES = [
    {
        "name": "alsa_output.pci.analog-stereo.monitor",
        "description": "Monitor of Built-in Audio Analog Stereo",
        "monitor_source": "alsa_output.pci.analog-stereo",
        "properties": {"device.class": "monitor"},
    },
    {
        "name": "alsa_input.pci.analog-stereo",
        "description": "Built-in Audio Analog Stereo",
        "monitor_source": "",
        "properties": {"device.class": "sound"},
    },
    {
        "name": "alsa_input.usb-Blue_Yeti.analog-stereo",
        "description": "Yeti Stereo Microphone",
        "monitor_source": "",
        "properties": {},
    },
    {"no": "name"},
    "junk",
]


def test_parse_sources_marks_the_default_and_hides_monitors() -> None:
    devices = parse_sources(json.dumps(SOURCES), "alsa_input.usb-Blue_Yeti.analog-stereo")
    assert devices == [
        InputDevice("alsa_input.pci.analog-stereo", "Built-in Audio Analog Stereo", False),
        InputDevice("alsa_input.usb-Blue_Yeti.analog-stereo", "Yeti Stereo Microphone", True),
    ]
    with_monitors = parse_sources(json.dumps(SOURCES), "", monitors=True)
    assert len(with_monitors) == 3


@pytest.mark.parametrize("text", ["{}", "not json", '{"a": 1}'])
def test_parse_sources_refuses_other_output(text: str) -> None:
    with pytest.raises(ValueError):
        parse_sources(text, "")


DEVICES = [
    InputDevice("alsa_input.pci.analog-stereo", "Built-in Audio Analog Stereo", True),
    InputDevice("alsa_input.usb-Blue_Yeti.analog-stereo", "Yeti Stereo Microphone"),
]


@pytest.mark.parametrize(
    ("wanted", "choice"),
    [
        ("", Choice(None)),
        (
            "alsa_input.usb-Blue_Yeti.analog-stereo",
            Choice("alsa_input.usb-Blue_Yeti.analog-stereo"),
        ),
        ("yeti stereo MICROPHONE", Choice("alsa_input.usb-Blue_Yeti.analog-stereo")),
        (
            "Headset",
            Choice(
                None,
                "The microphone “Headset” is not connected; using “Built-in Audio Analog Stereo”",
            ),
        ),
    ],
)
def test_choose(wanted: str, choice: Choice) -> None:
    assert choose(DEVICES, wanted) == choice


def test_choose_without_any_device_names_the_default_input() -> None:
    assert choose([], "Yeti").fallback.endswith("using the default input")


def test_list_devices_asks_pactl_for_the_default_and_the_sources() -> None:
    calls: list[list[str]] = []

    def run(args: Sequence[str], env: Mapping[str, str]) -> str:
        calls.append(list(args))
        if args[0] == "get-default-source":
            return "alsa_input.pci.analog-stereo\n"
        return json.dumps(SOURCES)

    devices = list_devices(run, {})
    assert calls == [["get-default-source"], ["-f", "json", "list", "sources"]]
    assert [d.is_default for d in devices] == [True, False]


def test_list_devices_with_an_old_pactl_says_what_is_needed() -> None:
    def run(args: Sequence[str], env: Mapping[str, str]) -> str:
        return "Source #0\n\tState: RUNNING\n"

    with pytest.raises(DevicesUnavailable) as info:
        list_devices(run, {})
    assert "PulseAudio 15 or later" in info.value.fix


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_capture_ring_hands_over_early_blocks_in_order_then_streams() -> None:
    clock = Clock()
    cap = Capture(ring_seconds=0.01, clock=clock)  # 320 bytes
    blocks = [pcm(*(i,) * 40) for i in range(1, 7)]  # 80 bytes each
    for b in blocks[:5]:
        cap._callback(b, 40, None, None)
    assert cap.dropped_bytes == 80  # the oldest block beyond the ring
    got: list[bytes] = []
    cap.attach(got.append)
    assert got == blocks[1:5]
    cap._callback(blocks[5], 40, None, None)
    assert got == blocks[1:]
    with pytest.raises(RuntimeError):
        cap.attach(got.append)
    cap.close()
    cap._callback(pcm(9), 1, None, None)  # a block PortAudio delivered while closing
    assert got == blocks[1:]
    cap.close()  # idempotent


def test_capture_level_and_silence() -> None:
    clock = Clock()
    cap = Capture(clock=clock)
    cap._callback(pcm(16384, -16384), 2, None, None)
    assert cap.level == pytest.approx(0.5)
    clock.now += 2.0
    cap._callback(pcm(0, 0), 2, None, None)
    clock.now += 1.5
    assert cap.silent_for() == pytest.approx(3.5)


def test_capture_reports_a_stream_that_ends_by_itself() -> None:
    reasons: list[str] = []
    cap = Capture(on_stopped=reasons.append)
    cap._finished()
    assert reasons == ["the microphone stopped delivering sound (unplugged?)"]
    cap.close()
    cap._finished()  # our own close is not reported
    assert len(reasons) == 1


def test_open_microphone_falls_back_to_the_default_with_a_reason() -> None:
    opened: list[str | None] = []

    def opener(source: str | None, **_: object) -> Capture:
        opened.append(source)
        if source == "gone":
            raise MicrophoneError("Cannot open the microphone “gone”", "")
        return Capture()

    _, reason = open_microphone("gone", opener=opener)
    assert opened == ["gone", None]
    assert reason == "The microphone “gone” is not available; using the default input"
    opened.clear()
    assert open_microphone("there", opener=opener)[1] == ""
    assert open_microphone(None, opener=opener)[1] == ""
    assert opened == ["there", None]


def test_format_devices_marks_default_and_chosen() -> None:
    assert format_devices(DEVICES, "yeti stereo microphone") == (
        ' * Built-in Audio Analog Stereo    device = "alsa_input.pci.analog-stereo"\n'
        '>  Yeti Stereo Microphone    device = "alsa_input.usb-Blue_Yeti.analog-stereo"\n'
        "(* default input, > chosen by [audio] device)"
    )
    assert format_devices([]).startswith("No microphones found")
