"""Wayland typing benchmark: chars/s and exactness into native Wayland windows on a
headless sway (foot running ``cat >> FILE``, and a GTK3 TextView), our virtual keyboard
against ``wtype`` (the Debian tool peers use; ``-s 50`` so its first key is not lost).

Times each method from the call until the whole text is in the window, over a few
repeats, for ASCII and mixed text (line breaks left out: foot is a terminal, where they
become spaces). Prints medians with min/max and whether every run was exact. Figures
only; no assertion. Run as root (sway runs as uid 65534):
``.venv/bin/python bench/wayland_typing.py [--repeats N] [--chars N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness.sway import _GTK_APP, Sway, TextTarget  # noqa: E402

from voicetype.insertion.wayland_vk import VirtualKeyboardInserter  # noqa: E402

ASCII_LINE = "The quick brown fox jumps over the lazy dog, then naps; 0123456789!? "
MIXED_LINE = "Grüße 5 € Straße, naïve café; 日本語 😀👍🏽 👩‍👩‍👧 🇫🇷 שלום ok "


def text_of(line: str, n: int) -> str:
    return (line * (n // len(line) + 1))[:n]


@contextmanager
def target(sway: Sway, kind: str) -> Iterator[TextTarget]:
    title = f"bench-{kind}-{time.monotonic_ns()}"
    path = sway.workdir / f"{title}.txt"
    if kind == "foot":
        path.touch()
        path.chmod(0o666)
        command = f"foot -T {title} sh -c 'stty -icanon -echo; exec cat >> {path}'"
    else:
        script = sway.workdir / "gtk_textview.py"
        script.write_text(_GTK_APP)
        script.chmod(0o644)
        command = f"env GDK_BACKEND=wayland /usr/bin/python3 {script} {path} {title}"
    win = TextTarget(sway, title, path, command)
    try:
        yield win
    finally:
        win.close()


def timed(
    insert: Callable[[str], None], win: TextTarget, text: str, before: str
) -> tuple[float, bool]:
    start = time.perf_counter()
    insert(text)
    deadline = time.monotonic() + 60
    while win.content() != before + text and time.monotonic() < deadline:
        time.sleep(0.002)
    return time.perf_counter() - start, win.content() == before + text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chars", type=int, default=500)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="voicetype-bench-sway-"))
    sway = Sway(root)
    env = {**os.environ, **sway.env}
    vk = VirtualKeyboardInserter(sway.env)

    def ours(text: str) -> None:
        vk.insert(text, vk.focused_target())

    def wtype(text: str) -> None:
        subprocess.run(["wtype", "-s", "50", "-"], input=text.encode(), env=env, check=True)

    methods = {"voicetype virtual keyboard": ours, "wtype -s 50": wtype}
    try:
        print(f"| window | method | ASCII chars/s | mixed chars/s | exact |  ({args.chars} chars)")
        print("| --- | --- | --- | --- | --- |")
        for kind in ("foot", "gtk3"):
            with target(sway, kind) as win:
                ours("warm-up ")
                time.sleep(0.3)
                for name, method in methods.items():
                    cells, exact = [], []
                    for line in (ASCII_LINE, MIXED_LINE):
                        text = text_of(line, args.chars)
                        rates = []
                        for _ in range(args.repeats):
                            seconds, ok = timed(method, win, text, win.content())
                            rates.append(len(text) / seconds)
                            exact.append(ok)
                        med = statistics.median(rates)
                        cells.append(f"{med:,.0f} ({min(rates):,.0f}–{max(rates):,.0f})")
                    print(
                        f"| {kind} | {name} | {cells[0]} | {cells[1]} | {sum(exact)}/{len(exact)} |"
                    )
    finally:
        vk.close()
        sway.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
