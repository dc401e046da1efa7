"""Own audio capture and continuous sessions (issue 12): figures printed, nothing asserted.

Starts a private PulseAudio with the virtual microphone (tests/harness/pulse.py) and the fake
speech service, all in this process except PulseAudio, and measures:

- PortAudio load (``sounddevice`` import, once per daemon) and press → capture running:
  ``Capture.open()`` called → it returned, and → the first 10 ms block arrived.
- first words: a speech WAV started into the microphone +0/+50/+100 ms after the press,
  the session attached after a realistic SDK start; the PCM the fake received must contain
  the whole WAV, bit-exact.
- stop: ``ContinuousSession.stop()`` call time and stop → ``SessionStopped`` (the last
  phrase finalized by the fake on end of audio, no added service delay).
- cancel: ``cancel()`` call time and cancel → PulseAudio shows no capture stream
  (polled with pactl: includes its ~5–20 ms round trip).
- CPU while listening: this process's CPU time over 10 s of a session streaming the
  microphone (the fake's thread included: an upper bound).

Run: ``.venv/bin/python bench/capture.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

_BENCH = Path(__file__).resolve().parent
for _p in (str(_BENCH.parent / "tests"), str(_BENCH.parent)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from harness.fake_speech import Behaviour, FakeSpeechService  # noqa: E402
from harness.procs import wait_for  # noqa: E402
from harness.pulse import PulseAudio, start_pulseaudio  # noqa: E402
from harness.speech import make_speech_wav  # noqa: E402

from voicetype.audio.capture import Capture, load_portaudio  # noqa: E402
from voicetype.config import AzureConfig  # noqa: E402
from voicetype.recognition.events import SessionEvent, SessionStopped  # noqa: E402
from voicetype.recognition.session import ContinuousRecognizer  # noqa: E402


def fmt(values: Sequence[float], unit: str = "ms") -> str:
    if not values:
        return "n/a"
    return (
        f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f}) {unit},"
        f" n={len(values)}"
    )


def pcm_of(wav: Path) -> bytes:
    import wave

    with wave.open(str(wav)) as w:
        return w.readframes(w.getnframes())


def until_stopped(q: queue.Queue[SessionEvent], timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while True:
        event = q.get(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(event, SessionStopped):
            return event.t


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args(argv)
    runs: int = args.runs
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="vt-bench-capture-") as tmp:
        base = Path(tmp)
        pulse: PulseAudio = start_pulseaudio(base / "pulse")
        os.environ.update(pulse.env)
        service = FakeSpeechService().start()
        try:
            config = AzureConfig(key=service.key, host=service.url, timeout_seconds=5)
            recognizer = ContinuousRecognizer(config)
            wav = make_speech_wav("the quick brown fox jumps over the lazy dog", base / "p.wav")
            pcm = pcm_of(wav)

            start = time.monotonic()
            load_portaudio()
            rows.append(
                ("PortAudio load (once per daemon)", f"{(time.monotonic() - start) * 1000:.0f} ms")
            )

            for how, lost in (("", None), (", disconnect watch on", lambda d: None)):
                opened, first, closing = [], [], []
                for _ in range(runs * 2):
                    press = time.monotonic()
                    cap = Capture.open(on_lost=lost)  # the daemon opens with the watch
                    opened.append((time.monotonic() - press) * 1000)
                    wait_for(partial(getattr, cap, "first_block_at"), 2, "a first block", 0.001)
                    assert cap.first_block_at is not None
                    first.append((cap.first_block_at - press) * 1000)
                    began = time.monotonic()
                    cap.close()
                    closing.append((time.monotonic() - began) * 1000)
                    wait_for(lambda: not pulse.capture_streams(), 2, "mic closed", 0.005)
                rows.append((f"press → Capture.open() returned{how}", fmt(opened)))
                rows.append((f"press → first block captured{how}", fmt(first)))
                rows.append((f"Capture.close() call{how}", fmt(closing)))

            for offset in (0.0, 0.05, 0.1):
                whole = 0
                for _ in range(max(3, runs // 2)):
                    service.always(Behaviour.continuous("x", delay=0.0))
                    before = len(service.turns)
                    q: queue.Queue[SessionEvent] = queue.Queue()
                    press = time.monotonic()
                    cap = Capture.open()
                    time.sleep(max(0.0, press + offset - time.monotonic()))
                    player = subprocess.Popen(
                        ["paplay", "-d", pulse.sink, str(wav)],
                        env={**os.environ, **pulse.env},
                        stderr=subprocess.DEVNULL,
                    )
                    session = recognizer.start(cap, q.put)
                    player.wait(15)
                    time.sleep(0.3)
                    session.stop()
                    until_stopped(q, 10)
                    if pcm in service.turns[before].pcm:
                        whole += 1
                n = max(3, runs // 2)
                rows.append(
                    (
                        f"first words: WAV started +{offset * 1000:.0f} ms after the press",
                        f"{whole}/{n} arrived whole, bit-exact",
                    )
                )

            stop_call, flush = [], []
            for _ in range(runs):
                service.always(Behaviour.continuous("last words", delay=0.0))
                q = queue.Queue()
                cap = Capture.open()
                session = recognizer.start(cap, q.put)
                player = pulse.play(wav, wait_for_capture=5)
                player.wait(15)
                t = time.monotonic()
                session.stop()
                stop_call.append((time.monotonic() - t) * 1000)
                flush.append((until_stopped(q, 10) - t) * 1000)
                session.released.wait(10)
            rows.append(("stop() call (caller blocked)", fmt(stop_call)))
            rows.append(("stop → SessionStopped (last phrase flushed)", fmt(flush)))

            cancel_call, closed = [], []
            for _ in range(runs):
                service.always(Behaviour.continuous())
                cap = Capture.open()
                session = recognizer.start(cap, lambda e: None)
                pulse.wait_for_capture(5)
                time.sleep(0.2)
                t = time.monotonic()
                session.cancel()
                cancel_call.append((time.monotonic() - t) * 1000)
                wait_for(lambda: not pulse.capture_streams(), 2, "mic closed", 0.002)
                closed.append((time.monotonic() - t) * 1000)
                session.released.wait(10)
            rows.append(("cancel() call (caller blocked)", fmt(cancel_call)))
            rows.append(("cancel → no capture stream in PulseAudio (incl. pactl)", fmt(closed)))

            service.always(Behaviour.continuous())
            cap = Capture.open()
            session = recognizer.start(cap, lambda e: None)
            cpu0, t0 = time.process_time(), time.monotonic()
            time.sleep(10)
            cpu = (time.process_time() - cpu0) / (time.monotonic() - t0) * 100
            session.cancel()
            rows.append(
                ("CPU while listening (process, fake included)", f"{cpu:.1f} % of one core")
            )
        finally:
            service.stop()
            pulse.proc.stop()
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
