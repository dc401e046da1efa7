"""Insertion benchmark: chars/s and exactness per method into one Tk text window.

Starts its own Xvfb + openbox + the test harness's Tk window, then for ASCII and mixed text
times each method from the call until the last character is in the window, over a few
repeats: ours ("type": XTEST typing; "paste": clipboard), ``xdotool type`` (default delay
and ``--delay 0``) and pynput's ``Controller.type()``. Prints medians with min/max, whether
every run was exact, and our typing time at 100/1,000/5,000 characters. Figures only; no
assertion. Run: ``.venv/bin/python bench/insertion.py [--repeats N]``.

``--targets tk,xterm,urxvt`` instead times only our typing (ASCII and mixed; line breaks
as spaces in terminals, which get no Return; "mixed" binds its characters anew each time,
"mixed*" is typed right after the previous text and reuses its bindings) into each of
those windows — Tk and xterm do not list ``_NET_WM_PING``, so they show the cost of the
keymap changes' waits (urxvt lists it) — read back from the Tk widget or the file the
terminal's ``cat`` writes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness.procs import wait_for  # noqa: E402
from harness.textwin import TextWindow  # noqa: E402
from harness.x11 import _start_desktop  # noqa: E402

ASCII_LINE = "The quick brown fox jumps over the lazy dog, then naps; 0123456789!?\n"
MIXED_LINE = "Grüße 5 € Straße, naïve café; 日本語 😀👍🏽 👩‍👩‍👧 🇫🇷 שלום ok\n"


def text_of(line: str, n: int) -> str:
    return (line * (n // len(line) + 1))[:n]


def run(method: Callable[[str], None], win: TextWindow, text: str) -> tuple[float, bool]:
    win.clear()
    t0 = time.perf_counter()
    method(text)
    try:
        wait_for(lambda: win.content() == text, 20 + len(text) / 50, "text", interval=0.002)
        return time.perf_counter() - t0, True
    except TimeoutError:
        return time.perf_counter() - t0, False


def arrived(read: Callable[[], str], text: str) -> Callable[[], bool]:
    return lambda: read() == text


def typing_into_targets(targets: list[str], repeats: int, chars: int) -> None:
    """Our typing only, into a Tk window and real terminals (none advertises a ping)."""
    from harness.apps import app_environment, start_app

    from voicetype.insertion.x11 import X11Inserter

    tmp = Path(tempfile.mkdtemp(prefix="vt-bench-"))
    xvfb, wm, display = _start_desktop(tmp)
    try:
        os.environ["DISPLAY"] = display
        typer = X11Inserter(display)
        print(f"our typing under Xvfb + openbox, display {display}, {repeats} repeats")
        print(f"{'window':8} {'text':6} {'chars':>5} {'chars/s median (min–max)':>28} exact")
        for name in targets:
            if name == "tk":
                win = TextWindow(display, tmp / "win", "bench")
                read, clear, stop = win.content, win.clear, win.close
                win.focus()
            else:
                env = app_environment(tmp / name, display, "unix:path=/nonexistent")
                app = start_app(name, display, tmp / name, env)
                read, clear, stop = app.read_once, app.clear, app.shutdown
                app.focus()
            target = typer.focused_target()
            settle = getattr(typer, "settle", lambda: True)  # older code restored at once
            rows = (("ASCII", ASCII_LINE, True), ("mixed", MIXED_LINE, True))
            try:
                for label, line, fresh in (*rows, ("mixed*", MIXED_LINE, False)):
                    if name != "tk":  # a terminal gets no Return (apps.shape_text)
                        line = line.replace("\n", " ")
                    text = text_of(line, chars).strip()
                    rates, exact = [], 0
                    for _ in range(repeats):
                        if fresh:
                            settle()  # no binding left from the last text: bound anew
                        clear()
                        t0 = time.perf_counter()
                        typer.insert(text, target)
                        try:
                            wait_for(arrived(read, text), 20 + len(text) / 50, "text", 0.002)
                            exact += 1
                        except TimeoutError:
                            pass
                        rates.append(len(text) / (time.perf_counter() - t0))
                    print(
                        f"{name:8} {label:6} {len(text):5} {statistics.median(rates):10.0f} "
                        f"({min(rates):.0f}–{max(rates):.0f}){'':8} {exact}/{repeats}"
                    )
            finally:
                stop()
        typer.close()
    finally:
        wm.stop()
        xvfb.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chars", type=int, default=500)
    parser.add_argument("--targets", default="", help="e.g. tk,xterm,urxvt: our typing only")
    args = parser.parse_args()
    if args.targets:
        typing_into_targets(args.targets.split(","), args.repeats, args.chars)
        return
    tmp = Path(tempfile.mkdtemp(prefix="vt-bench-"))
    # a random free display, like the tests (Xvfb -displayfd picked :0 here although
    # another session's server answered there, and the benchmark then typed into it)
    xvfb, wm, display = _start_desktop(tmp)
    win = None
    try:
        env = {**os.environ, "DISPLAY": display}
        os.environ["DISPLAY"] = display
        win = TextWindow(display, tmp / "win", "bench")
        win.focus()

        from pynput.keyboard import Controller

        from voicetype.insertion.clipboard import ClipboardInserter
        from voicetype.insertion.x11 import X11Inserter

        typer = X11Inserter(display)
        paster = ClipboardInserter(typer.session, display)
        pyn = Controller()
        target = typer.focused_target()
        keymap_before = subprocess.run(
            ["xkbcomp", "-xkb", display, "-"], capture_output=True, text=True
        ).stdout

        def xdotool(delay: list[str]) -> Callable[[str], None]:
            def go(t: str) -> None:
                subprocess.run(["xdotool", "type", *delay, t], env=env, check=True)

            return go

        methods: list[tuple[str, Callable[[str], None], int]] = [
            ("voicetype type", lambda t: typer.insert(t, target), args.chars),
            ("voicetype paste", lambda t: paster.insert(t, target), args.chars),
            ("xdotool type (default 12 ms)", xdotool([]), min(args.chars, 150)),
            ("xdotool type --delay 0", xdotool(["--delay", "0"]), args.chars),
            ("pynput Controller.type()", pyn.type, args.chars),
        ]
        print(f"Tk Text window under Xvfb + openbox, display {display}, {args.repeats} repeats")
        print(f"{'method':30} {'text':6} {'chars':>5} {'chars/s median (min–max)':>28} exact")
        for name, method, n in methods:
            for label, line in (("ASCII", ASCII_LINE), ("mixed", MIXED_LINE)):
                text = text_of(line, n)
                results = [run(method, win, text) for _ in range(args.repeats)]
                rates = [len(text) / t for t, _ in results]
                exact = sum(ok for _, ok in results)
                print(
                    f"{name:30} {label:6} {n:5} {statistics.median(rates):10.0f} "
                    f"({min(rates):.0f}–{max(rates):.0f}){'':8} {exact}/{len(results)}"
                )
                # pynput leaves its keymap changes behind; later rows must not profit
                subprocess.run(["xkbcomp", "-", display], input=keymap_before, text=True,
                               capture_output=True, env=env)  # fmt: skip
        print("\nscaling (voicetype, mixed text; seconds until the last character is in)")
        for how, method in (("type", methods[0][1]), ("paste", methods[1][1])):
            for n in (100, 1000, 5000):
                text = text_of(MIXED_LINE, n)
                times = [run(method, win, text) for _ in range(args.repeats)]
                secs = [t for t, _ in times]
                print(
                    f"  {how:5} {n:5} chars: {statistics.median(secs):.3f} s "
                    f"({min(secs):.3f}–{max(secs):.3f}), exact {sum(ok for _, ok in times)}"
                    f"/{len(times)}"
                )
        paster.close()
        typer.close()
    finally:
        if win is not None:
            win.close()
        wm.stop()
        xvfb.stop()


if __name__ == "__main__":
    main()
