"""The recording modes wired into the controller (issue 12): figures printed, nothing asserted.

The real controller (mode machine, worker, queue) and the real Speech SDK talk to the fake
speech service doing continuous recognition (finals at pauses, no added service delay); the
audio is a speech WAV fed at real time through a push stream (``harness.audio_feed``, in
place of the microphone), and the inserter records when ``insert`` is called (typing itself
is measured by ``bench/insertion.py``). Measured, side by side in one run:

- hold: release → the text handed to the inserter, and the service's last final → the same
  (the last phrase is still open at the release: the end of audio finalizes it);
- toggle: each phrase's final sent by the service → that phrase handed to the inserter.

Run: ``.venv/bin/python bench/modes.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

_BENCH = Path(__file__).resolve().parent
for _p in (str(_BENCH.parent / "tests"), str(_BENCH.parent)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from harness.audio_feed import WavFeed, read_pcm  # noqa: E402
from harness.fake_speech import Behaviour, FakeSpeechService  # noqa: E402
from harness.fakes import Notes  # noqa: E402
from harness.procs import wait_for  # noqa: E402
from harness.speech import make_silence_wav, make_speech_wav  # noqa: E402

from voicetype import inbox  # noqa: E402
from voicetype.config import AzureConfig  # noqa: E402
from voicetype.controller import Controller, ControllerSettings, DictationParts  # noqa: E402
from voicetype.feedback import Feedback  # noqa: E402
from voicetype.listening import OnEvent, Running  # noqa: E402
from voicetype.modes import Mode, ModeSettings  # noqa: E402
from voicetype.recognition.session import ContinuousRecognizer  # noqa: E402
from voicetype.state import State  # noqa: E402

PHRASES = ("Hello world.", "How are you today?", "Goodbye for now.")


class WavListener:
    """A ``Listener`` whose microphone is a WAV played at real time."""

    def __init__(self, recognizer: ContinuousRecognizer, pcm: bytes) -> None:
        self.recognizer, self.pcm = recognizer, pcm
        self.feed: WavFeed | None = None

    def start(self, on_event: OnEvent) -> tuple[Running, str]:
        self.feed = WavFeed(self.pcm, speed=1.0)
        return self.recognizer.start(self.feed, on_event), ""

    def close(self) -> None:
        pass


class Inserter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def focused_target(self) -> object:
        return "window"

    def insert(self, text: str, target: object) -> None:
        self.calls.append((text, time.monotonic()))

    def close(self) -> None:
        pass


class UI:
    def show(self, state: State, detail: str = "") -> None:
        pass


class NoRecognizer:  # a key is set; the modes never call it
    def recognize_once(self, audio: object) -> object:
        raise AssertionError

    def release(self) -> None:
        pass

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        pass


def run_controller(
    mode: Mode, listener: WavListener, inserter: Inserter
) -> tuple[Controller, threading.Thread]:
    settings = ControllerSettings(
        start_sound=False, stop_sound=False, modes=ModeSettings(mode=mode, hold_threshold_ms=100)
    )
    parts = DictationParts(NoRecognizer(), inserter, settings, listener=listener)  # type: ignore[arg-type]
    controller = Controller(parts, Feedback(Notes()), UI())
    thread = threading.Thread(target=controller.run, daemon=True)
    thread.start()
    return controller, thread


def fed(listener: WavListener) -> bool:
    return listener.feed is not None and listener.feed.done.is_set()


def inserted(inserter: Inserter, n: int) -> bool:
    return len(inserter.calls) >= n


def fmt(values: Sequence[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms "
        f"({min(values):.1f}–{max(values):.1f}), n={len(values)}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        parts = []
        gap = make_silence_wav(base / "gap.wav", 1.0)
        for i, text in enumerate(("hello world", "how are you today", "goodbye for now")):
            if i:
                parts.append(str(gap))
            parts.append(str(make_speech_wav(text, base / f"p{i}.wav")))
        wav = base / "three.wav"
        subprocess.run(["sox", *parts, str(wav)], check=True, timeout=60)
        pcm = read_pcm(wav)
        service = FakeSpeechService().start()
        try:
            config = AzureConfig(key=service.key, host=service.url, timeout_seconds=5)
            recognizer = ContinuousRecognizer(config)
            release_to_typed: list[float] = []
            final_to_typed: list[float] = []
            toggle_final_to_typed: list[float] = []
            for _ in range(args.runs):
                # hold: release right after the audio ends (the last phrase still open)
                service.always(Behaviour.continuous(*PHRASES, silence=0.4, delay=0.0))
                before = len(service.turns)
                listener, inserter = WavListener(recognizer, pcm), Inserter()
                controller, thread = run_controller(Mode.HOLD, listener, inserter)
                controller.press("hotkey", inbox.DOWN)
                wait_for(partial(fed, listener), 30, "the WAV fed")
                released = time.monotonic()
                controller.press("hotkey", inbox.UP)
                wait_for(partial(inserted, inserter, 1), 15, "the text")
                text, typed_at = inserter.calls[0]
                assert text == " ".join(PHRASES), text
                last_final = max(t for turn in service.turns[before:] for _, t in turn.phrases_sent)
                release_to_typed.append((typed_at - released) * 1000)
                final_to_typed.append((typed_at - last_final) * 1000)
                controller.request_quit()
                thread.join(5)
                # toggle: each final → typed
                service.always(Behaviour.continuous(*PHRASES, silence=0.4, delay=0.0))
                before = len(service.turns)
                listener, inserter = WavListener(recognizer, pcm), Inserter()
                controller, thread = run_controller(Mode.TOGGLE, listener, inserter)
                controller.press("hotkey", inbox.TAP)
                wait_for(partial(inserted, inserter, 2), 30, "two live phrases")
                sent = [t for turn in service.turns[before:] for _, t in turn.phrases_sent]
                for (_, at), final in zip(inserter.calls, sent, strict=False):
                    toggle_final_to_typed.append((at - final) * 1000)
                controller.request_quit()
                thread.join(5)
            print(f"hold: release → text to the inserter:        {fmt(release_to_typed)}")
            print(f"hold: service's last final → text inserted:  {fmt(final_to_typed)}")
            print(f"toggle: phrase final → phrase inserted:      {fmt(toggle_final_to_typed)}")
        finally:
            service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
