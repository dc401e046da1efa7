"""Keymap planning for XTEST typing, pure (no X connection): which key types each
character, which keycodes are free to borrow, and how a text is cut into batches of
temporary bindings. ``x11.py`` sends what this plans; the contract (two keysyms per spare
keycode, both levels of one keycode before the next, one ChangeKeyboardMapping per run of
consecutive keycodes) is explained in its module docstring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

KEYSYM_RETURN = 0xFF0D
KEYSYM_BACKSPACE = 0xFF08
KEYSYM_TAB = 0xFF09
KEYSYM_SHIFT_L = 0xFFE1
KEYSYM_CAPS_LOCK = 0xFFE5
KEYSYM_NUM_LOCK = 0xFF7F
KEYSYM_CONTROL_L = 0xFFE3
KEYSYM_ESCAPE = 0xFF1B
_KEYPAD_KEYSYMS = range(0xFF80, 0xFFBE)


@dataclass(frozen=True)
class Stroke:
    """One key press and release; ``shift`` holds Shift around it (level 2)."""

    keycode: int
    shift: bool = False


@dataclass
class Batch:
    """Characters typed under one set of temporary bindings.

    ``bindings`` maps spare keycode -> (level 1 keysym, level 2 keysym); empty when the
    batch needs no remap. ``strokes`` has exactly one stroke per character.
    """

    bindings: dict[int, tuple[int, int]] = field(default_factory=dict)
    strokes: list[Stroke] = field(default_factory=list)


def keysym_for_char(ch: str) -> int:
    """The X keysym that types ``ch``: Return/Tab for newline/tab, the code point for
    printable Latin-1, ``0x01000000 + code point`` otherwise. ``ValueError`` for other
    control characters and lone surrogates (they can't be typed as text)."""
    cp = ord(ch)
    if ch == "\n":
        return KEYSYM_RETURN
    if ch == "\t":
        return KEYSYM_TAB
    if cp < 0x20 or 0x7F <= cp < 0xA0 or 0xD800 <= cp <= 0xDFFF:
        raise ValueError(f"U+{cp:04X} is not a typeable character")
    if cp <= 0xFF:
        return cp
    return 0x01000000 + cp


def keymap_strokes(
    rows: Sequence[Sequence[int]], min_keycode: int, skip: Iterable[int] = ()
) -> dict[int, Stroke]:
    """keysym -> stroke for every keysym on level 1 or 2 of group 1 of the core keymap
    ``rows`` (row i is keycode ``min_keycode + i``), preferring level 1 and the lowest
    keycode; keycodes in ``skip`` (modifiers) and keypad keys are left out."""
    skipped = set(skip)
    out: dict[int, Stroke] = {}
    for level in (0, 1):
        for i, row in enumerate(rows):
            keycode = min_keycode + i
            if keycode in skipped or any(ks in _KEYPAD_KEYSYMS for ks in row):
                continue
            ks = row[level] if len(row) > level else 0
            if ks and ks not in out:
                out[ks] = Stroke(keycode, level == 1)
    return out


def spare_keycodes(rows: Sequence[Sequence[int]], min_keycode: int) -> list[int]:
    """Keycodes with no symbol at all: free to borrow."""
    return [min_keycode + i for i, row in enumerate(rows) if not any(row)]


def plan(text: str, keymap: dict[int, Stroke], spare: Sequence[int]) -> list[Batch]:
    """Cut ``text`` into batches, greedily: each batch binds at most ``2 * len(spare)``
    keysyms missing from ``keymap`` (level 1 then 2 of each spare keycode in turn). Raises
    ``ValueError`` for an untypeable character and when a missing keysym exists but no
    keycode is spare."""
    # Both levels of a keycode before the next keycode: every keycode touched costs one
    # ChangeKeyboardMapping and so one MappingNotify to every client (window managers
    # regrab their keys on each), so touch as few as possible.
    slots = [(kc, level) for kc in spare for level in (0, 1)]
    batches = [Batch()]
    assigned: dict[int, Stroke] = {}
    for ch in text:
        ks = keysym_for_char(ch)
        stroke = keymap.get(ks) or assigned.get(ks)
        if stroke is None:
            if not slots:
                raise ValueError(f"no spare keycode to bind {ch!r} (U+{ord(ch):04X}) to")
            if len(assigned) == len(slots):
                batches.append(Batch())
                assigned = {}
            keycode, level = slots[len(assigned)]
            stroke = Stroke(keycode, level == 1)
            assigned[ks] = stroke
            # A lone cased keysym would be expanded by the server to (lower, upper), so a
            # level-1-only slot repeats its keysym on level 2.
            pair = batches[-1].bindings.get(keycode, (ks, ks))
            batches[-1].bindings[keycode] = (ks, ks) if level == 0 else (pair[0], ks)
        batches[-1].strokes.append(stroke)
    return batches


def contiguous_runs(keycodes: Iterable[int]) -> list[list[int]]:
    """Sorted keycodes grouped into runs of consecutive values (one ChangeKeyboardMapping
    request per run, so keycodes between them are never rewritten)."""
    runs: list[list[int]] = []
    for kc in sorted(keycodes):
        if runs and runs[-1][-1] == kc - 1:
            runs[-1].append(kc)
        else:
            runs.append([kc])
    return runs
