"""Spoken commands: a phrase that is, as a whole, one of the command phrases.

"new line" alone is a command; "a new line of products" is text. Matching ignores case,
punctuation the service added and extra spaces, and uses the lexical form when given.
"""

from __future__ import annotations

import enum
import re

from voicetype.text.languages import table_for
from voicetype.text.model import Phrase
from voicetype.text.settings import COMMAND_NAMES, CommandSettings

_PUNCT = re.compile(r"[^\w\s'’-]")


class Command(enum.Enum):
    NEW_LINE = "new_line"
    NEW_PARAGRAPH = "new_paragraph"
    SCRATCH_THAT = "scratch_that"


assert tuple(c.value for c in Command) == COMMAND_NAMES


def normalise(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text).casefold().split())


def command_words(settings: CommandSettings, language: str) -> dict[str, Command]:
    """Normalised phrase → command, for ``language`` under ``settings``."""
    if not settings.enabled:
        return {}
    own = table_for(language).commands
    result: dict[str, Command] = {}
    for command in Command:
        phrases = settings.words.get(command.value, own.get(command.value, ()))
        for phrase in phrases:
            key = normalise(phrase)
            if key:
                result.setdefault(key, command)
    return result


def match(phrase: Phrase, settings: CommandSettings, language: str) -> Command | None:
    words = command_words(settings, language)
    if not words:
        return None
    for form in (phrase.lexical, phrase.display):
        if form.strip():
            return words.get(normalise(form))
    return None
