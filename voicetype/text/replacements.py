"""``[replacements]`` rules, applied to the recognized text.

A key is either a literal phrase, matched as whole words regardless of case ("teh" =
"the"), or ``re:`` followed by a Python regular expression whose replacement may use
``\\1``-style groups. A literal match that starts with a capital ("Teh") gets a capital in
its replacement too when the replacement is a plain word or words; anything else
("ana@example.com") is inserted exactly as written. Rules apply in the order written,
each to the result of the one before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REGEX_PREFIX = "re:"
_PLAIN = re.compile(r"^[^\W\d_][\w' -]*$")


class ReplacementError(ValueError):
    """A rule that cannot be compiled; the message says why (the config names the key)."""


@dataclass(frozen=True)
class Replacement:
    key: str  # as written in the config
    value: str
    pattern: re.Pattern[str]
    literal: bool

    def apply(self, text: str) -> str:
        if not self.literal:
            return self.pattern.sub(self.value, text)
        keep_case = bool(_PLAIN.match(self.value)) and self.value[:1].islower()

        def substitute(match: re.Match[str]) -> str:
            if keep_case and match.group(0)[:1].isupper():
                return self.value[:1].upper() + self.value[1:]
            return self.value

        return self.pattern.sub(substitute, text)


def compile_rule(key: str, value: str) -> Replacement:
    """Raises ``ReplacementError`` for an empty key or an invalid regular expression."""
    if key.startswith(REGEX_PREFIX):
        source = key[len(REGEX_PREFIX) :]
        if not source:
            raise ReplacementError("the regular expression after `re:` is empty")
        try:
            pattern = re.compile(source)
            pattern.sub(value, "")  # a bad group reference in the value fails here
        except re.error as exc:
            raise ReplacementError(f"invalid regular expression: {exc}") from exc
        if pattern.match(""):
            raise ReplacementError("the regular expression matches empty text")
        return Replacement(key, value, pattern, literal=False)
    words = key.split()
    if not words:
        raise ReplacementError("the phrase to replace is empty")
    body = r"\s+".join(re.escape(w) for w in words)
    pattern = re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)
    return Replacement(key, value, pattern, literal=True)


def apply_all(rules: tuple[Replacement, ...], text: str) -> str:
    """``text`` after every rule; where a rule changed it, spaces left doubled or at
    the ends by a removed word ("um" = "") are tidied."""
    original = text
    for rule in rules:
        text = rule.apply(text)
    if text != original:
        text = re.sub(r"(?<=\S) {2,}(?=\S)", " ", text).strip(" ")
    return text
