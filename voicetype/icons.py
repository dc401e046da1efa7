"""The tray icons: a microphone on a disc, one look per state, drawn with Pillow.

Each state differs by shape as well as by colour, so the icons stay distinguishable at
22–24 px and for people who do not see the colour difference:

=========== ============ =====================================================
state       disc colour  shape cue
=========== ============ =====================================================
idle        slate        plain disc
listening   red          white "live" ring around the disc
recognizing blue         badge: three dots (thinking)
typing      green        badge: three text lines
disabled    light grey   no disc fill (grey ring), microphone struck through
error       orange       badge: warning triangle with "!"
=========== ============ =====================================================

While listening the icon can also show the microphone's level (``level_step``): the
capsule of the microphone is drawn hollow and filled from the bottom in ``LEVEL_STEPS``
steps, so silence (a muted or wrong microphone) shows as an empty microphone and speech
fills it; the full step is the plain listening icon.

Drawing is deterministic (no fonts), done at four times the size and downsampled, and
cached per (state, size, level). ``python -m voicetype.icons [DIR]`` writes the PNGs that ship in
``assets/icons/`` (a unit test checks that they match this code).
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from voicetype.state import State

#: The size the shipped PNGs and the tray use (desktops scale it down to 16–48 px).
DEFAULT_SIZE = 64
#: The size of the application icon (``voicetype.png``) for .desktop files and notifications.
APP_ICON_SIZE = 256

_SUPERSAMPLE = 4
_GRID = 64.0  # all coordinates below are on a 64×64 grid

RGBA = tuple[int, int, int, int]
_WHITE: RGBA = (255, 255, 255, 255)
_INK: RGBA = (33, 33, 33, 255)
_DISC: dict[State, RGBA] = {
    State.IDLE: (55, 71, 79, 255),  # slate
    State.LISTENING: (211, 47, 47, 255),  # red
    State.RECOGNIZING: (21, 101, 192, 255),  # blue
    State.TYPING: (46, 125, 50, 255),  # green
    State.DISABLED: (189, 189, 189, 255),  # light grey
    State.ERROR: (230, 81, 0, 255),  # orange
}
_AMBER: RGBA = (255, 193, 7, 255)

#: The level steps above silence (0): the capsule is filled a quarter per step.
LEVEL_STEPS = 4
#: The level (dBFS) from which each step 1..4 shows: -60 dBFS is the "no sound" threshold
#: (``voicetype.audio.level``); speech into a headset reads around -30 to -15 dBFS.
_STEP_DBFS = (-60.0, -45.0, -35.0, -25.0)


def file_name(state: State) -> str:
    """The shipped PNG's name under ``assets/icons/``, e.g. ``voicetype-idle.png``."""
    return f"voicetype-{state.value}.png"


def level_file_name(state: State, level: int | None) -> str:
    """A PNG's name for ``state`` at level step ``level`` (None: the plain icon)."""
    if level is None:
        return file_name(state)
    return f"voicetype-{state.value}-level{level}.png"


def level_step(level: float) -> int:
    """The step (0 = silence … ``LEVEL_STEPS``) for an RMS level of 0.0–1.0."""
    db = 20 * math.log10(level) if level > 0 else -math.inf
    return sum(1 for threshold in _STEP_DBFS if db >= threshold)


def icon_image(state: State, size: int = DEFAULT_SIZE, level: int | None = None) -> Image.Image:
    """The RGBA icon for ``state`` at ``size``×``size`` pixels; with ``level`` (0 …
    ``LEVEL_STEPS``, listening only) the microphone shows that level step.

    Cached: callers get the same object for the same arguments and must not modify it
    (copy it first). Thread-safe (``lru_cache``; drawing has no shared state).
    """
    return _drawn(state, size, level)


@functools.lru_cache(maxsize=64)
def _drawn(state: State, size: int, level: int | None) -> Image.Image:
    if size < 8:
        raise ValueError(f"icon size must be at least 8 px, not {size}")
    if level is not None and not (state is State.LISTENING and 0 <= level <= LEVEL_STEPS):
        raise ValueError(f"a level step (0–{LEVEL_STEPS}) is drawn only while listening")
    big = size * _SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    fill = 1.0 if level is None else level / LEVEL_STEPS
    _Painter(image, big / _GRID).paint(state, fill)
    return image.resize((size, size), Image.Resampling.LANCZOS)


class _Painter:
    def __init__(self, image: Image.Image, scale: float) -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.s = scale

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        s = self.s
        return (round(x0 * s), round(y0 * s), round(x1 * s), round(y1 * s))

    def w(self, width: float) -> int:
        return max(1, round(width * self.s))

    def paint(self, state: State, fill: float = 1.0) -> None:
        disc = _DISC[state]
        if state is State.DISABLED:
            self.draw.ellipse(self.box(2, 2, 62, 62), fill=(245, 245, 245, 255))
            self.draw.ellipse(self.box(2, 2, 62, 62), outline=disc, width=self.w(5))
            self.microphone((117, 117, 117, 255))
            self.slash()
            return
        badged = state in (State.RECOGNIZING, State.TYPING, State.ERROR)
        if state is State.LISTENING:
            # disc, white ring, disc: the ring shows on light and on dark panels
            self.draw.ellipse(self.box(0, 0, 64, 64), fill=disc)
            self.draw.ellipse(self.box(3, 3, 61, 61), fill=_WHITE)
            self.draw.ellipse(self.box(8, 8, 56, 56), fill=disc)
        else:
            self.draw.ellipse(self.box(1, 1, 63, 63), fill=disc)
        self.microphone(_WHITE, dx=-4.0 if badged else 0.0, fill=fill)
        if state is State.RECOGNIZING:
            self.badge_dots(disc)
        elif state is State.TYPING:
            self.badge_lines(disc)
        elif state is State.ERROR:
            self.badge_warning()

    def microphone(self, colour: RGBA, dx: float = 0.0, fill: float = 1.0) -> None:
        d = self.draw
        capsule = self.box(23 + dx, 9, 41 + dx, 37)
        radius = round(9 * self.s)
        if fill >= 1.0:
            d.rounded_rectangle(capsule, radius=radius, fill=colour)
        else:  # a level meter: the outline, filled from the bottom up to ``fill``
            d.rounded_rectangle(capsule, radius=radius, outline=colour, width=self.w(3.5))
            if fill > 0:
                mask = Image.new("L", self.image.size, 0)
                ImageDraw.Draw(mask).rounded_rectangle(capsule, radius=radius, fill=255)
                top = round((37 - 28 * fill) * self.s)
                ImageDraw.Draw(mask).rectangle((0, 0, mask.width, top), fill=0)
                self.image.paste(colour, (0, 0), mask)
        # holder: the lower half of a ring around the capsule
        d.arc(self.box(15 + dx, 15, 49 + dx, 45), start=0, end=180, fill=colour, width=self.w(5))
        # stem and base
        d.rectangle(self.box(29.5 + dx, 44, 34.5 + dx, 51), fill=colour)
        d.rounded_rectangle(
            self.box(21 + dx, 49, 43 + dx, 55), radius=round(2 * self.s), fill=colour
        )

    def slash(self) -> None:
        # a dark stroke with a light edge so it reads on the microphone and on the disc
        line = [(12 * self.s, 12 * self.s), (52 * self.s, 52 * self.s)]
        self.draw.line(line, fill=(245, 245, 245, 255), width=self.w(11))
        self.draw.line(line, fill=_INK, width=self.w(6))

    def _badge_disc(self, edge: RGBA) -> None:
        # white badge at the bottom right, ringed in the disc colour to separate it
        self.draw.ellipse(self.box(29, 29, 64, 64), fill=edge)
        self.draw.ellipse(self.box(32.5, 32.5, 60.5, 60.5), fill=_WHITE)

    def badge_dots(self, disc: RGBA) -> None:
        self._badge_disc(disc)
        for cx in (38.5, 46.5, 54.5):
            self.draw.ellipse(self.box(cx - 3.2, 43.3, cx + 3.2, 49.7), fill=_INK)

    def badge_lines(self, disc: RGBA) -> None:
        self._badge_disc(disc)
        for y, x1 in ((39.5, 53), (46.5, 55), (53.5, 48)):
            self.draw.rounded_rectangle(
                self.box(38, y - 2, x1, y + 2), radius=round(2 * self.s), fill=_INK
            )

    def badge_warning(self) -> None:
        d = self.draw
        outer = [(47.0, 24.0), (64.0, 63.0), (30.0, 63.0)]
        inner = [(47.0, 30.5), (60.0, 60.0), (34.0, 60.0)]
        d.polygon([(x * self.s, y * self.s) for x, y in outer], fill=_INK)
        d.polygon([(x * self.s, y * self.s) for x, y in inner], fill=_AMBER)
        d.rounded_rectangle(self.box(45, 38, 49, 51), radius=round(1.8 * self.s), fill=_INK)
        d.ellipse(self.box(44.8, 53, 49.2, 57.4), fill=_INK)


def write_pngs(directory: Path, size: int = DEFAULT_SIZE) -> list[Path]:
    """Write one PNG per state plus the application icon ``voicetype.png``; return the paths.

    The output is deterministic for a given Pillow version (no timestamps in the files).
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for state in State:
        path = directory / file_name(state)
        icon_image(state, size).save(path, "PNG", optimize=True)
        written.append(path)
    app = directory / "voicetype.png"
    icon_image(State.IDLE, APP_ICON_SIZE).save(app, "PNG", optimize=True)
    written.append(app)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    directory = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "assets/icons"
    for path in write_pngs(directory):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
