"""Joining a dictation to the text before the caret: the separating space and capitals.

Pure functions over strings. The rules:
- at the start of a field, or after a line break: no space, a capital;
- after a sentence end (``. ! ? …`` and their CJK forms, closing quotes or brackets
  allowed after them): one space, a capital;
- mid-sentence: one space, and the service's utterance-initial capital undone unless
  the word is written with a capital anyway ("I", names the caller vouches for, words
  with more capitals than the first, words the language capitalises);
- never a second space, and none before ``, . ; : ! ? )`` or after an opening bracket or
  quote; none between characters of languages written without spaces (Chinese, Japanese…);
- unknown context: the text is left exactly as recognized, with no space.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable

from voicetype.text.languages import LanguageTable

SENTENCE_END = ".!?…。！？｡"
_CLOSERS = "\"'”’»)]}」』"
_OPENERS = "([{“‘«¿¡「『"
_NO_SPACE_BEFORE = ",.;:!?)]}…%、。，；：！？）」』"
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


class Position(enum.Enum):
    UNKNOWN = "unknown"  # nothing known about the text before the caret
    START = "start"  # start of a field, line or paragraph
    SENTENCE = "sentence"  # after a sentence end
    MID = "mid"  # inside a sentence


def position(before: str | None, abbreviations: frozenset[str] = frozenset()) -> Position:
    """Where text typed after ``before`` stands; ``abbreviations`` (lower case, "e.g.")
    end with a period that does not end the sentence."""
    if before is None:
        return Position.UNKNOWN
    line_tail = before.rstrip(" \t")
    if line_tail == "" or line_tail.endswith(("\n", "\r", "\u2029", "\u2028")):
        return Position.START
    tail = before.rstrip().rstrip(_CLOSERS)
    if tail.endswith(tuple(SENTENCE_END)):
        words = tail.split()
        if tail.endswith(".") and words and words[-1].casefold() in abbreviations:
            return Position.MID
        return Position.SENTENCE
    return Position.MID


def is_spaceless(ch: str) -> bool:
    """Characters of scripts written without spaces between words (CJK, kana, Thai…)."""
    if not ch:
        return False
    code = ord(ch)
    if (
        0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x3FFFF
        or 0x0E00 <= code <= 0x0EFF  # Thai, Lao
        or 0x1000 <= code <= 0x109F  # Myanmar
        or 0x1780 <= code <= 0x17FF  # Khmer
    ):
        return True
    return unicodedata.east_asian_width(ch) == "W" and unicodedata.category(ch).startswith("L")


def separator(before: str | None, body: str, writes_spaces: bool = True) -> str:
    """The space to put between ``before`` and ``body``: " " or ""."""
    if not before or not body:
        return ""
    if position(before) is Position.START:
        return ""
    last, first = before[-1], body[0]
    if last.isspace() or first.isspace():
        return ""
    if last in _OPENERS or (last in "\"'" and _opens_quote(before)):
        return ""
    if first in _NO_SPACE_BEFORE:
        return ""
    if not writes_spaces or is_spaceless(last) or is_spaceless(first):
        return ""
    return " "


def _opens_quote(before: str) -> bool:
    """A straight quote opens when it starts the text or follows a space or an opener."""
    return len(before) == 1 or before[-2].isspace() or before[-2] in _OPENERS


def first_word(text: str) -> re.Match[str] | None:
    """The first word when nothing but quotes/brackets comes before it."""
    m = _WORD.search(text)
    if m is None or text[: m.start()].strip(_OPENERS + "\"' ") != "":
        return None
    return m


def capitalise(text: str) -> str:
    m = first_word(text)
    if m is None or not m.group(0)[0].islower():
        return text
    upper = m.group(0)[0].upper()
    if len(upper) != 1:  # e.g. "ß": keep as is rather than change the word's length
        return text
    return text[: m.start()] + upper + text[m.start() + 1 :]


def lower_initial(
    text: str,
    table: LanguageTable,
    keeps_capital: Callable[[str], bool] = lambda word: False,
) -> str:
    """``text`` with the utterance-initial capital undone, where that capital only marks
    the start of an utterance. ``keeps_capital(word)`` lets the caller vouch for a word
    (a detailed result form that wrote it with a capital, the user's vocabulary)."""
    m = first_word(text)
    if m is None:
        return text
    word = m.group(0)
    if not word[0].isupper() or len(word[0].lower()) != 1:
        return text
    if word.replace("’", "'") in table.always_capital or keeps_capital(word):
        return text
    if any(c.isupper() for c in word[1:]):  # NASA, McDonald's: written that way
        return text
    if table.capitalises_nouns and word.casefold() not in table.lower_words:
        return text  # German nouns keep their capital: only known small words change
    # the same word later in the text with its capital is a name ("Paris ... Paris")
    if re.search(rf"(?<!\w)(?<![.!?]\s){re.escape(word)}(?!\w)", text[m.end() :]):
        return text
    return text[: m.start()] + word[0].lower() + text[m.start() + 1 :]


def strip_final_period(text: str) -> str:
    """Remove one trailing service period (never ``?``, ``!`` or an ellipsis)."""
    stripped = text.rstrip()
    if stripped.endswith(".") and not stripped.endswith(("..", "…")):
        return stripped[:-1]
    return text


def last_word(text: str) -> str:
    words = _WORD.findall(text)
    return words[-1].casefold() if words else ""
