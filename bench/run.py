"""voicetype benchmarks: what a user feels, measured on the real parts, printed as a table.

Starts Xvfb + openbox, trayer, a private D-Bus bus with a notification server, PulseAudio
with a virtual default microphone, the fake speech service, a Tk text window and the real
daemon (``python -m voicetype run``) as a subprocess, then measures (see ``bench/stack.py``
for how each moment is observed from outside the daemon):

- end of speech → text complete: the fake answers with a 60-char sentence once it holds
  0.3 s of microphone audio (it decides the utterance is over, like the real service);
  from that answer leaving the fake to the window's content being the sentence.
- press → listening: XTEST key press → the icon's title says Listening, and → a capture
  stream exists on the microphone (PulseAudio's event); also → the SDK's websocket opened
  and → the first audio frame reached the fake.
- no first words lost: a speech WAV played into the microphone 100 ms after the press; the
  PCM the fake received must contain the whole WAV, bit-exact.
- idle cost: CPU seconds per minute, RSS, threads and wake-ups while the daemon idles.
- start-up: ``voicetype run`` spawned → icon docked in trayer and "hotkey is live" logged.
- scaling: RSS and threads after 1/50/200 dictations; insertion time per length and the
  peers (pynput ``type()``, ``xdotool type``) from ``bench/insertion.py`` in the same run.
- SDK connect delay: ``recognize_once`` on a WAV file vs. the microphone, in process.

The daemon sections (start-up, idle, dictation, first words, scaling) run once per tray
path (``--tray gtk plain``, default both, in that order, same run): ``gtk`` is the README's
install (PyGObject visible: AppIndicator tray), ``plain`` a plain ``pip install`` (no
PyGObject: voicetype's own X tray). Rows are prefixed with the path; a path named again
(``--tray gtk plain gtk plain``: alternating rounds, fairer on a busy machine) adds its
values to the same rows.

Figures are medians with (min–max) over the repeats. Nothing is asserted.
Run: ``.venv/bin/python bench/run.py [--quick] [--only SECTION ...] [--tray PATH ...]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

_BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(_BENCH.parent / "tests"))
sys.path.insert(0, str(_BENCH.parent))
sys.path.insert(0, str(_BENCH))

from harness.daemon import RunningDaemon  # noqa: E402
from harness.fake_speech import Behaviour  # noqa: E402
from harness.procs import wait_for  # noqa: E402
from harness.speech import make_speech_wav  # noqa: E402
from stack import (  # noqa: E402
    ROOT,
    TRAY_PATHS,
    CaptureWatch,
    ContentWatch,
    Hotkey,
    Stack,
    TitleWatch,
    play,
    proc_figures,
    stop_daemon,
    thread_switches,
    wait_daemon_ready,
)

SENTENCE = "The quick brown fox jumps over the lazy dog by the old barn."
assert len(SENTENCE) == 60
SECTIONS = ("dictation", "firstwords", "idle", "startup", "scaling", "sdk", "insertion")


@dataclass
class Row:
    figure: str
    values: list[float]  # milliseconds unless unit says otherwise
    unit: str = "ms"
    target: str = ""
    met: Callable[[float], bool] | None = None  # on the median
    note: str = ""

    def cells(self) -> tuple[str, str, str, str]:
        if not self.values:
            return self.figure, "no data", self.target, "—"
        med = statistics.median(self.values)
        fmt = "{:.1f}" if self.unit in ("ms", "s", "MB", "s/min") else "{:.0f}"
        if self.unit == "s":
            fmt = "{:.2f}"
        value = (
            f"{fmt.format(med)} ({fmt.format(min(self.values))}–{fmt.format(max(self.values))})"
            f" {self.unit}, n={len(self.values)}"
        )
        if self.note:
            value += f"; {self.note}"
        verdict = "—" if self.met is None else ("met" if self.met(med) else "MISSED")
        return self.figure, value, self.target, verdict


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    prefix: str = ""  # e.g. "GTK tray: ", put before each row's figure

    def add(self, row: Row) -> None:
        """Add a row; a figure already reported (the same path run again with ``--tray
        gtk plain gtk plain``) gets the new values added to its row."""
        if self.prefix:
            row.figure = self.prefix + row.figure
        same = next((r for r in self.rows if r.figure == row.figure), None)
        if same is not None:
            same.values += row.values
            if row.note:
                same.note = f"{same.note}; {row.note}" if same.note else row.note
            row = same
        else:
            self.rows.append(row)
        figure, value, target, verdict = row.cells()
        print(f"  {figure}: {value} [{target or 'no target'}: {verdict}]", flush=True)

    def table(self) -> str:
        lines = [
            "| figure | median (min–max) | target | |",
            "| --- | --- | --- | --- |",
        ]
        for row in self.rows:
            lines.append("| " + " | ".join(row.cells()) + " |")
        return "\n".join(lines)


def ms(seconds: float) -> float:
    return seconds * 1000.0


# ---------------------------------------------------------------- sections


def dictations(st: Stack, daemon: RunningDaemon, runs: int, report: Report) -> None:
    """Press → listening and end of speech → text complete, on the same dictations."""
    titles = TitleWatch(st.display, st.tray)
    capture = CaptureWatch(st.pulse)
    content = ContentWatch(st.window)
    hotkey = Hotkey(st.display)
    icon, opened, connected, first_audio, text = [], [], [], [], []
    try:
        st.window.focus()
        for i in range(runs):
            st.window.clear()
            content.drain()
            st.speech.always(Behaviour.say(SENTENCE, answer_after=0.3))
            before = len(st.speech.turns)
            before_conn = len(st.speech.connections)
            pressed = hotkey.press()
            icon_at = titles.first_after(pressed, "voicetype — Listening", 10)
            capture_at = capture.first_after(pressed, 10)
            done_at = content.wait_for(SENTENCE, 15)
            turn = st.speech.turns[before]
            connection = st.speech.connections[before_conn]
            assert turn.answered_at is not None and turn.first_audio_at is not None
            icon.append(ms(icon_at - pressed))
            opened.append(ms(capture_at - pressed))
            connected.append(ms(connection.opened_at - pressed))
            first_audio.append(ms(turn.first_audio_at - pressed))
            text.append(ms(done_at - turn.answered_at))
            daemon.wait_for_log(f"dictation #{i + 1} (hotkey): typed", 10)
            titles.first_after(icon_at, "voicetype — Idle", 10)
    finally:
        titles.close()
        capture.close()
        content.close()
        hotkey.close()
    report.add(
        Row(
            "end of speech → text complete (60 chars)",
            text,
            target="median ≤ 50 ms",
            met=lambda v: v <= 50,
        )
    )
    listening = [max(a, b) for a, b in zip(icon, opened, strict=True)]
    report.add(
        Row(
            "press → listening (icon switched and capture open)",
            listening,
            target="median ≤ 50 ms",
            met=lambda v: v <= 50,
        )
    )
    report.add(Row("  press → icon shows Listening", icon))
    report.add(Row("  press → capture stream open (PulseAudio)", opened))
    report.add(Row("  press → SDK websocket opened at the service", connected))
    report.add(Row("  press → first audio frame at the service", first_audio))
    late = sum(c > 300 for c in connected)
    report.texts.append(
        f"SDK connect stall in the daemon's flow (press → websocket > 300 ms): {late} of "
        f"{len(connected)} dictations"
    )


def pcm_of(wav: Path) -> bytes:
    with wave.open(str(wav)) as w:
        return w.readframes(w.getnframes())


def missing_head(fed: bytes, got: bytes) -> int:
    """How many leading bytes of ``fed`` are not in ``got`` (0: all of it arrived)."""
    if fed in got:
        return 0
    lo, hi = 0, len(fed)  # the smallest k with fed[k:] in got, in 10 ms steps
    step = 320
    while hi - lo > step:
        mid = (lo + hi) // 2 // 2 * 2
        if fed[mid:] in got:
            hi = mid
        else:
            lo = mid
    return hi


def first_words(st: Stack, daemon: RunningDaemon, runs: int, report: Report) -> None:
    wav = make_speech_wav("hello, the quick brown fox", st.tmp / "first-words.wav")
    fed = pcm_of(wav)
    seconds = len(fed) / 32_000
    hotkey = Hotkey(st.display)
    content = ContentWatch(st.window)
    whole = 0
    missing: list[float] = []
    try:
        st.window.focus()
        for _ in range(runs):
            st.window.clear()
            content.drain()
            st.speech.always(Behaviour.say("ok", answer_after=seconds + 0.6))
            before = len(st.speech.turns)
            pressed = hotkey.press()
            time.sleep(max(0.0, pressed + 0.1 - time.monotonic()))
            player = play(st.pulse, wav)
            content.wait_for("ok", 20)
            player.wait(10)
            turn = st.speech.turns[before]
            gap = missing_head(fed, turn.pcm)
            whole += gap == 0
            missing.append(ms(gap / 32_000))
    finally:
        hotkey.close()
        content.close()
    report.add(
        Row(
            f"first words: WAV ({seconds:.1f} s) fed 100 ms after the press, audio missing",
            missing,
            target="none lost",
            met=lambda v: v == 0,
            note=f"{whole}/{runs} arrived whole, bit-exact",
        )
    )


def idle(st: Stack, daemon: RunningDaemon, seconds: float, report: Report) -> None:
    pid = daemon.proc.pid
    time.sleep(2.0)  # let start-up work settle
    before, threads_before = proc_figures(pid), thread_switches(pid)
    time.sleep(seconds)
    after, threads_after = proc_figures(pid), thread_switches(pid)
    cpu_per_min = (after["cpu"] - before["cpu"]) * 60 / seconds
    wakeups = (after["switches"] - before["switches"]) / seconds
    busiest = sorted(
        ((threads_after.get(k, 0) - v, k) for k, v in threads_before.items()), reverse=True
    )[:3]
    report.add(
        Row(
            f"idle CPU ({seconds:.0f} s)",
            [cpu_per_min],
            unit="s/min",
            target="≤ 0.3 s per minute",
            met=lambda v: v <= 0.3,
        )
    )
    report.add(
        Row("idle RSS", [after["rss_mb"]], unit="MB", target="≤ 80 MB", met=lambda v: v <= 80)
    )
    report.add(Row("idle threads", [after["threads"]], unit="threads"))
    report.add(
        Row(
            "idle wake-ups (context switches)",
            [wakeups],
            unit="/s",
            target="no busy polling",
            met=lambda v: v < 50,
            note="busiest threads: "
            + ", ".join(f"{name.split('/')[0]} {n / seconds:.1f}/s" for n, name in busiest),
        )
    )


def _logged(daemon: RunningDaemon, needle: str) -> bool:
    return needle in daemon.log()


def startup(st: Stack, runs: int, report: Report, env: dict[str, str]) -> None:
    times: list[float] = []
    for _ in range(runs):
        started = time.monotonic()
        daemon = st.start_daemon(f"startup-{time.monotonic_ns()}", extra_env=env)
        try:
            st.tray.wait_for_icon("voicetype", 30)
            icon_at = time.monotonic()
            wait_for(partial(_logged, daemon, "is live"), 30, "hotkey live", 0.005)
            live_at = time.monotonic()
            times.append(max(icon_at, live_at) - started)
        finally:
            stop_daemon(daemon)
            wait_for(lambda: not st.tray.icons(), 10, "the icon to go", 0.02)
    report.add(
        Row(
            "start-up: spawn → icon docked and hotkey live",
            times,
            unit="s",
            target="≤ 1.5 s",
            met=lambda v: v <= 1.5,
        )
    )


def _typed(daemon: RunningDaemon, count: int) -> bool:
    return daemon.count_log("(hotkey): typed") >= count


def scaling(st: Stack, daemon: RunningDaemon, counts: Sequence[int], report: Report) -> None:
    hotkey = Hotkey(st.display)
    content = ContentWatch(st.window)
    pid = daemon.proc.pid
    done = daemon.count_log("(hotkey): typed")
    figures: dict[int, dict[str, float]] = {}
    try:
        st.window.focus()
        st.speech.always(Behaviour.say("ok", answer_after=0.05))
        n = 0
        for target in counts:
            while n < target:
                st.window.clear()
                content.drain()
                hotkey.press()
                content.wait_for("ok", 15)
                n += 1
                wait_for(partial(_typed, daemon, done + n), 10, "the log line", 0.005)
            time.sleep(1.0)  # SDK objects released in the background
            figures[target] = proc_figures(pid)
    finally:
        hotkey.close()
        content.close()
    rss = ", ".join(f"{c}: {figures[c]['rss_mb']:.1f}" for c in counts)
    threads = ", ".join(f"{c}: {figures[c]['threads']:.0f}" for c in counts)
    growth = figures[counts[-1]]["rss_mb"] - figures[counts[0]]["rss_mb"]
    report.add(
        Row(
            f"RSS after {'/'.join(map(str, counts))} dictations",
            [figures[c]["rss_mb"] for c in counts],
            unit="MB",
            target="flat in count",
            met=lambda _v: growth < 10,
            note=f"{rss} MB (growth {growth:+.1f} MB)",
        )
    )
    tgrowth = figures[counts[-1]]["threads"] - figures[counts[0]]["threads"]
    report.add(
        Row(
            f"threads after {'/'.join(map(str, counts))} dictations",
            [figures[c]["threads"] for c in counts],
            unit="threads",
            target="flat in count",
            met=lambda _v: tgrowth <= 2,
            note=threads,
        )
    )


_SDK_PROBE = r"""
import sys, threading, time, wave
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
from harness.fake_speech import Behaviour, FakeSpeechService
from voicetype.config import AzureConfig
from voicetype.recognition import Microphone, WavFile
from voicetype.recognition.azure import AzureRecognizer
wav, runs, kind = sys.argv[2], int(sys.argv[3]), sys.argv[4]
service = FakeSpeechService().start()
service.always(Behaviour.say("x", answer_after=0.3))
recognizer = AzureRecognizer(AzureConfig(key=service.key, host=service.url, timeout_seconds=8))
for i in range(runs):
    start = time.monotonic()
    result = recognizer.recognize_once(WavFile(wav) if kind == "file" else Microphone())
    end = time.monotonic()
    conn = service.connections[-1]
    print(f"{(conn.opened_at - start) * 1000:.1f} {(end - start) * 1000:.1f}", flush=True)
recognizer.close()
service.stop()
"""


def sdk_connect(st: Stack, runs: int, report: Report) -> None:
    """In process, as ``voicetype once`` does: how long until the SDK connects."""
    wav = make_speech_wav("the quick brown fox jumps over the lazy dog", st.tmp / "sdk.wav")
    for kind in ("file", "microphone"):
        out = subprocess.run(
            [sys.executable, "-c", _SDK_PROBE, str(ROOT), str(wav), str(runs), kind],
            env={**os.environ, **st.pulse.env},
            capture_output=True,
            text=True,
            timeout=60 + 15 * runs,
        )
        if out.returncode != 0:
            report.texts.append(f"SDK probe ({kind}) failed: {out.stderr[-500:]}")
            continue
        pairs = [tuple(map(float, ln.split())) for ln in out.stdout.split("\n") if ln.strip()]
        connects = [p[0] for p in pairs]
        late = sum(c > 300 for c in connects)
        report.add(
            Row(
                f"SDK: recognize_once start → websocket open ({kind})",
                connects,
                note=f"{late}/{len(connects)} runs > 300 ms; whole call "
                f"{statistics.median(p[1] for p in pairs):.0f} ms median",
            )
        )


def insertion(repeats: int, report: Report) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "insertion.py"), "--repeats", str(repeats)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    text = out.stdout + (out.stderr[-2000:] if out.returncode else "")
    print(text, flush=True)
    report.texts.append(f"Insertion (bench/insertion.py, same run):\n\n```\n{text.strip()}\n```")


# ---------------------------------------------------------------- main


def _backend(daemon: RunningDaemon) -> str:
    line = daemon.wait_for_log("tray backend:", 10)
    return line.split("tray backend:", 1)[1].strip()


def daemon_sections(
    st: Stack, path: str, only: set[str], quick: bool, n: int, report: Report
) -> None:
    """The sections that run the daemon, on one tray path (see ``TRAY_PATHS``)."""
    env = st.tray_env(path)
    report.prefix = f"{TRAY_PATHS[path]}: "
    print(f"== {TRAY_PATHS[path]}", flush=True)
    if "startup" in only:
        print("start-up…", flush=True)
        startup(st, 3 if quick else 10, report, env)
    if only & {"dictation", "firstwords", "idle"}:
        daemon = st.start_daemon(f"daemon-{path}-{time.monotonic_ns()}", extra_env=env)
        try:
            wait_daemon_ready(daemon)
            report.texts.append(f"{TRAY_PATHS[path]}: the daemon used {_backend(daemon)}")
            if "idle" in only:
                print("idle…", flush=True)
                idle(st, daemon, 10.0 if quick else 60.0, report)
            if "dictation" in only:
                print("dictations…", flush=True)
                dictations(st, daemon, n, report)
            if "firstwords" in only:
                print("first words…", flush=True)
                first_words(st, daemon, 3 if quick else 10, report)
        finally:
            stop_daemon(daemon)
    if "scaling" in only:
        print("scaling…", flush=True)
        daemon = st.start_daemon(f"scaling-{time.monotonic_ns()}", extra_env=env)  # fresh
        try:
            wait_daemon_ready(daemon)
            scaling(st, daemon, (1, 10, 30) if quick else (1, 50, 200), report)
        finally:
            stop_daemon(daemon)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import azure.cognitiveservices.speech as speechsdk  # type: ignore[import-untyped]

    return (
        f"{platform.node()}: {cpu}, {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}, Speech SDK {speechsdk.__version__}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 10 s idle")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument(
        "--tray",
        nargs="+",
        choices=tuple(TRAY_PATHS),
        default=list(TRAY_PATHS),
        help="tray paths to run the daemon sections on (default: all, in this order)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    quick = args.quick
    only = set(args.only or SECTIONS)
    n = 5 if quick else 20
    report = Report()
    started = time.strftime("%Y-%m-%d %H:%M")
    print(f"voicetype benchmarks, {started}{' (quick)' if quick else ''}\n{machine()}\n")
    with Stack() as st:
        for path in args.tray:
            daemon_sections(st, path, only, quick, n, report)
        report.prefix = ""
        if "sdk" in only:
            print("SDK connect…", flush=True)
            sdk_connect(st, 5 if quick else 20, report)
    if "insertion" in only:
        print("insertion (bench/insertion.py)…", flush=True)
        insertion(1 if quick else 3, report)
    table = report.table()
    print("\n" + table + "\n")
    for text in report.texts:
        print(text + "\n")
    if args.markdown:
        args.markdown.write_text(
            f"Run {started}{' (quick)' if quick else ''} on {machine()}\n\n{table}\n\n"
            + "\n\n".join(report.texts)
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
