"""How fast the focused window takes in typed text: the figures behind ``apps.RATES``.

Start the application on an X display, put the caret in an empty text field, then::

    DISPLAY=:N .venv/bin/python bench/typing_rates.py [--chars 1000] [--repeats 3]
        [--copy ctrl+a,ctrl+c] [--clear ctrl+a,BackSpace] [--file PATH]

Each repeat clears the field, types ``--chars`` ASCII characters with ``X11Inserter``,
then presses the ``--copy`` keys through the same key queue and waits until the clipboard
holds the whole text: the window has then handled every typed key (what the user sees,
not just what was sent). For terminals running ``cat > PATH`` pass ``--file PATH``
instead (the file is truncated, then watched). Prints one line per repeat and the median.
Needs xdotool and xclip. Emacs: ``--copy ctrl+x,h,alt+w --clear ctrl+x,h,Delete``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

from voicetype.insertion.x11 import X11Inserter

SENTENCE = "The quick brown fox jumps over the lazy dog. "  # stable under autocorrect


def keys(spec: str) -> None:
    subprocess.run(["xdotool", "key", *spec.split(",")], check=True, timeout=10)


def clipboard() -> str:
    return subprocess.run(
        ["xclip", "-o", "-selection", "clipboard"], capture_output=True, text=True, timeout=5
    ).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--copy", default="ctrl+a,ctrl+c")
    ap.add_argument("--clear", default="ctrl+a,BackSpace")
    ap.add_argument("--file")
    args = ap.parse_args()
    text = (SENTENCE * (args.chars // len(SENTENCE) + 1))[: args.chars]
    typer = X11Inserter(os.environ.get("DISPLAY"))
    target = typer.focused_target()
    assert target is not None, "no window has the focus"
    rates = []
    try:
        for _ in range(args.repeats):
            if args.file:
                open(args.file, "w").close()
            else:
                keys(args.clear)
            time.sleep(0.5)
            t0 = time.monotonic()
            typer.insert(text, target)
            if not args.file:
                keys(args.copy)
            while True:
                if args.file:
                    with open(args.file, encoding="utf-8") as f:
                        got = f.read()
                else:
                    got = clipboard().rstrip("\n")
                if got == text:
                    break
                if time.monotonic() - t0 > 60:
                    raise SystemExit(f"the text did not arrive within 60 s ({len(got)} chars)")
                time.sleep(0.01)
            elapsed = time.monotonic() - t0
            rates.append(args.chars / elapsed)
            print(f"{args.chars} chars in the window after {elapsed:.3f} s: {rates[-1]:.0f}/s")
    finally:
        name = typer.session.wm_class(target.window) if target else None
        typer.close()
    print(f"{name}: median {statistics.median(rates):.0f} chars/s (min {min(rates):.0f})")


if __name__ == "__main__":
    main()
