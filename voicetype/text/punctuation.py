"""Spoken punctuation: "hello comma world period" → "hello, world.".

Used only when ``[text] spoken_punctuation = true`` (off by default: the service
punctuates by itself, and "grace period" must stay words). Works on the display text:
a spoken mark replaces its words and any punctuation the service attached next to them.
"""

from __future__ import annotations

import re

from voicetype.text.languages import Punct

_EDGE = "\"'.,;:!?()¿¡"
_SERVICE_MARKS = ".,;:!?"


def _core(token: str) -> str:
    return token.strip(_EDGE).casefold()


def convert(text: str, table: dict[str, Punct]) -> str:
    """``text`` with every spoken mark in ``table`` written as the mark itself."""
    if not table or not text.strip():
        return text
    longest = max(len(k.split()) for k in table)
    tokens = text.split()
    cores = [_core(t) for t in tokens]
    out: list[str] = []  # finished tokens
    glue_next = False  # the next token attaches to the last one (after an opening mark)
    capital_next = False
    i = 0
    while i < len(tokens):
        found: Punct | None = None
        size = 0
        for n in range(min(longest, len(tokens) - i), 0, -1):
            words = " ".join(cores[i : i + n])
            if words in table:
                found, size = table[words], n
                break
        if found is None:
            token = tokens[i]
            if capital_next:
                token = _capitalise(token)
                capital_next = False
            if glue_next and out:
                out[-1] += token
            else:
                out.append(token)
            glue_next = False
            i += 1
            continue
        if found.opens:
            if glue_next and out:
                out[-1] += found.mark
            else:
                out.append(found.mark)
            glue_next = True
        else:
            if out:
                out[-1] = out[-1].rstrip(_SERVICE_MARKS) + found.mark
            else:
                out.append(found.mark)
            glue_next = False
            capital_next = found.ends_sentence
        i += size
    return " ".join(out)


def _capitalise(token: str) -> str:
    m = re.search(r"[^\W\d_]", token)
    if not m or token[: m.start()].strip(_EDGE) != "":
        return token
    upper = m.group(0).upper()
    if len(upper) != 1:
        return token
    return token[: m.start()] + upper + token[m.end() :]
