"""Continuous recognition: the real Speech SDK, our push stream, the fake service cutting
phrases at pauses, and our own capture from the PulseAudio virtual microphones."""

from __future__ import annotations

import queue
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.audio_feed import WavFeed, read_pcm
from harness.corpus import FIVE, SPOKEN
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import wait_for
from harness.pulse import PulseAudio
from harness.speech import SpeechWavs, make_silence_wav

from voicetype.audio import BYTES_PER_SECOND
from voicetype.audio.capture import Capture, open_microphone
from voicetype.audio.devices import choose, list_devices
from voicetype.config import AzureConfig
from voicetype.recognition import ErrorKind
from voicetype.recognition.events import (
    PhraseRecognized,
    SessionEvent,
    SessionFailed,
    SessionStopped,
)
from voicetype.recognition.session import ContinuousRecognizer


@pytest.fixture(scope="module")
def five_phrases(speech_wavs: SpeechWavs) -> Path:
    """Five spoken phrases with 1.2 s pauses between them (~13 s), no trailing silence."""
    out = speech_wavs.directory / "five.wav"
    if out.exists():
        return out
    pause = make_silence_wav(speech_wavs.directory / "pause.wav", 1.2)
    parts: list[str] = []
    for i, text in enumerate(SPOKEN):
        if i:
            parts.append(str(pause))
        parts.append(str(speech_wavs.make(f"five-{i}", text)))
    subprocess.run(["sox", *parts, str(out)], check=True, timeout=60)
    return out


class Events:
    """The session's ``on_event``: only enqueues, like the controller's queue."""

    def __init__(self) -> None:
        self.queue: queue.Queue[SessionEvent] = queue.Queue()
        self.seen: list[SessionEvent] = []

    def __call__(self, event: SessionEvent) -> None:
        self.queue.put(event)

    def until(self, done: Callable[[], bool], timeout: float) -> list[SessionEvent]:
        deadline = time.monotonic() + timeout
        while not done():
            self.seen.append(self.queue.get(timeout=max(0.01, deadline - time.monotonic())))
        return self.seen

    def until_stopped(self, timeout: float) -> list[SessionEvent]:
        return self.until(lambda: any(isinstance(e, SessionStopped) for e in self.seen), timeout)

    def phrases(self) -> list[str]:
        return [e.text for e in self.seen if isinstance(e, PhraseRecognized)]


def timed(call: Callable[[], None]) -> float:
    start = time.monotonic()
    call()
    return time.monotonic() - start


def test_five_phrases_with_pauses_arrive_in_order_once(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, five_phrases: Path
) -> None:
    speech_service.always(Behaviour.continuous(*FIVE, delay=0.05))
    pcm = read_pcm(five_phrases)
    feed = WavFeed(pcm, speed=2.0, trailing_silence=False)  # no pause after the last one
    events = Events()
    session = ContinuousRecognizer(fake_azure).start(feed, events)
    # Phrases are final while listening goes on (each after its pause)...
    events.until(lambda: len(events.phrases()) >= 4, 15)
    assert feed.done.wait(15)
    time.sleep(0.5)  # the SDK has sent the audio; the last phrase has no pause after it
    assert events.phrases() == list(FIVE[:4])
    assert timed(session.stop) < 0.1
    seen = events.until_stopped(10)
    assert events.phrases() == list(FIVE)  # ...the last one once the audio ended
    assert isinstance(seen[-1], SessionStopped) and seen[-1].reason == "end of audio"
    assert not any(isinstance(e, SessionFailed) for e in seen)
    first_turn = speech_service.turns[0]
    assert pcm in first_turn.pcm  # every sample reached the service, in order
    assert [t for t, _ in first_turn.phrases_sent] == list(FIVE)
    assert session.released.wait(10)
    time.sleep(0.3)
    assert events.queue.empty()  # nothing after SessionStopped


def test_stop_flushes_the_phrase_still_being_spoken(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.continuous("The last words.", delay=0.2))
    feed = WavFeed(read_pcm(speech_wavs.phrase), speed=0, trailing_silence=False)
    events = Events()
    session = ContinuousRecognizer(fake_azure).start(feed, events)
    assert feed.done.wait(10)
    wait_for(  # the SDK sends 100 ms chunks: all but the last partial one
        lambda: speech_service.turns and speech_service.turns[0].audio_bytes > len(feed.pcm) - 3200,
        10,
        "the audio at the service",
    )
    time.sleep(0.3)
    assert events.phrases() == []  # no long pause at the end: the service waits for more
    stop_took = timed(session.stop)
    seen = events.until_stopped(10)
    assert stop_took < 0.1
    assert events.phrases() == ["The last words."]
    assert isinstance(seen[-1], SessionStopped) and seen[-1].reason == "end of audio"


def test_stop_is_bounded_when_the_service_never_finalizes(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.silent(turn_start=True))
    feed = WavFeed(read_pcm(speech_wavs.phrase), speed=0)
    events = Events()
    session = ContinuousRecognizer(fake_azure, stop_timeout=1.5).start(feed, events)
    speech_service.wait_for_audio(BYTES_PER_SECOND)
    stop_took = timed(session.stop)
    start = time.monotonic()
    seen = events.until_stopped(5)
    assert stop_took < 0.1
    assert isinstance(seen[-1], SessionStopped) and seen[-1].reason == "stop timed out"
    assert 1.4 < time.monotonic() - start < 2.5


def test_unreachable_service_fails_once_and_stops(
    fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    from harness.procs import free_port

    config = AzureConfig(key=fake_azure.key, host=f"ws://127.0.0.1:{free_port()}")
    feed = WavFeed(read_pcm(speech_wavs.phrase), speed=1.0)
    events = Events()
    ContinuousRecognizer(config).start(feed, events)
    seen = events.until_stopped(20)
    failures = [e for e in seen if isinstance(e, SessionFailed)]
    assert len(failures) == 1 and failures[0].failure.kind is ErrorKind.CONNECTION_FAILURE
    assert isinstance(seen[-1], SessionStopped) and seen[-1].reason == "failed"
    assert feed.closed_at is not None  # the microphone was closed with the failure


def test_cancel_drops_everything_at_once(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, five_phrases: Path
) -> None:
    speech_service.always(Behaviour.continuous(*FIVE, delay=0.3))
    feed = WavFeed(read_pcm(five_phrases), speed=0)
    events = Events()
    session = ContinuousRecognizer(fake_azure).start(feed, events)
    speech_service.wait_for_audio(3 * BYTES_PER_SECOND)
    took = timed(session.cancel)
    delivered, sent = events.queue.qsize(), feed.sent
    assert took < 0.1
    assert feed.closed_at is not None
    time.sleep(1.0)  # the fake would send phrases meanwhile (0.3 s after each pause)
    assert feed.sent == sent  # no audio after cancel
    assert events.queue.qsize() == delivered  # no event after cancel returned
    assert not any(isinstance(e, SessionStopped) for e in events.queue.queue)
    assert session.finished
    assert session.released.wait(10)


# ------------------------------------------------------------------ own capture (PulseAudio)


@pytest.fixture
def second_mic(pulse_audio: PulseAudio) -> tuple[str, str]:
    if "vt_second" not in pulse_audio.pactl("list", "short", "sources"):
        return pulse_audio.add_microphone("vt_second", "Second Mic")
    return "vt_second_air", "vt_second"


@pytest.mark.audio
def test_capture_feeds_the_session_bit_exact_and_closes_the_microphone(
    pulse_audio: PulseAudio,
    pulse_env: dict[str, str],
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
) -> None:
    speech_service.always(Behaviour.continuous(speech_wavs.phrase_text, delay=0.05))
    pcm = read_pcm(speech_wavs.phrase)
    press = time.monotonic()
    capture = Capture.open()
    player = pulse_audio.play(speech_wavs.phrase, wait_for_capture=5)
    time.sleep(0.3)  # a slow recognizer start: the ring keeps what was said meanwhile
    events = Events()
    session = ContinuousRecognizer(fake_azure).start(capture, events)
    assert player.wait(timeout=15) == 0
    time.sleep(0.2)
    session.stop()
    seen = events.until_stopped(10)
    assert events.phrases() == [speech_wavs.phrase_text]
    assert isinstance(seen[-1], SessionStopped)
    assert capture.first_block_at is not None and capture.first_block_at - press < 0.5
    assert capture.dropped_bytes == 0
    middle = len(pcm) // 2 & ~1
    turn = speech_service.turns[0]
    assert pcm[:BYTES_PER_SECOND] in turn.pcm and pcm[middle:] in turn.pcm  # bit-exact
    assert not pulse_audio.capture_streams(), "the microphone stayed open after the stop"


@pytest.mark.audio
def test_cancel_closes_the_microphone_within_100_ms(
    pulse_audio: PulseAudio,
    pulse_env: dict[str, str],
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
) -> None:
    speech_service.always(Behaviour.continuous())
    capture = Capture.open()
    session = ContinuousRecognizer(fake_azure).start(capture, Events())
    pulse_audio.wait_for_capture(5)
    start = time.monotonic()
    session.cancel()
    returned = time.monotonic() - start
    gone = wait_for(lambda: not pulse_audio.capture_streams(), 2, "no capture stream", 0.005)
    closed = time.monotonic() - start
    assert gone
    assert returned < 0.1
    assert closed < 0.1 + 0.1  # + pactl's own round trip, ~10-60 ms here


@pytest.mark.audio
def test_device_selection_between_two_sources(
    pulse_audio: PulseAudio,
    pulse_env: dict[str, str],
    second_mic: tuple[str, str],
    speech_wavs: SpeechWavs,
) -> None:
    sink, source = second_mic
    devices = list_devices()
    names = {d.name: d for d in devices}
    assert names["vt_mic"].is_default and not names[source].is_default
    assert names[source].description == "Second_Mic"
    assert not any(n.endswith(".monitor") for n in names)
    choice = choose(devices, "second_mic")
    assert choice.name == source and not choice.fallback
    pcm = read_pcm(speech_wavs.phrase)

    def record(name: str | None) -> bytes:
        got: list[bytes] = []
        capture = Capture.open(name)
        capture.attach(got.append)
        try:
            player = pulse_audio.play(speech_wavs.phrase, wait_for_capture=5, sink=sink)
            assert player.wait(timeout=15) == 0
            time.sleep(0.2)
        finally:
            capture.close()
        return b"".join(got)

    chosen = record(choice.name)
    assert pcm[BYTES_PER_SECOND : 2 * BYTES_PER_SECOND] in chosen  # from the second mic
    default = record(None)
    assert pcm[BYTES_PER_SECOND : 2 * BYTES_PER_SECOND] not in default  # not the default mic
    missing = choose(devices, "USB Headset")
    assert missing.name is None
    assert missing.fallback == "The microphone “USB Headset” is not connected; using “vt_mic”"


@pytest.mark.audio
def test_a_microphone_that_is_gone_falls_back_to_the_default(
    pulse_audio: PulseAudio, pulse_env: dict[str, str]
) -> None:
    capture, reason = open_microphone("vt_unplugged")
    try:
        assert reason == "The microphone “vt_unplugged” is not available; using the default input"
        wait_for(lambda: capture.captured_bytes > 0, 2, "audio from the default input")
        streams = pulse_audio.capture_streams()
        assert len(streams) == 1
    finally:
        capture.close()
    assert not pulse_audio.capture_streams()
