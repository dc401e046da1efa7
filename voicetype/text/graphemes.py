"""User-perceived characters, for erasing text with Backspace.

Editors (GTK, Qt, browsers) delete one grapheme cluster per Backspace for the text a
dictation produces: a letter with its combining accents, an emoji with its skin tone,
variation selector or ZWJ-joined parts, a flag (two regional indicators), CR LF. This is a
close approximation of Unicode's extended grapheme clusters (UAX #29) using only the
standard library; Hangul jamo and Indic conjuncts are counted per code point.
"""

from __future__ import annotations

import unicodedata

_ZWJ = "\u200d"


def _extends(ch: str) -> bool:
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
        or ch == _ZWJ
    )


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def clusters(text: str) -> list[str]:
    """``text`` split into user-perceived characters; ``"".join(result) == text``."""
    out: list[str] = []
    for ch in text:
        if out:
            last = out[-1]
            joins = (
                _extends(ch)
                or last.endswith(_ZWJ)
                or (ch == "\n" and last == "\r")
                or (_regional(ch) and len(last) == 1 and _regional(last))
            )
            if joins:
                out[-1] = last + ch
                continue
        out.append(ch)
    return out


def count(text: str) -> int:
    """How many Backspace presses erase ``text`` when it is just before the caret."""
    return len(clusters(text))
