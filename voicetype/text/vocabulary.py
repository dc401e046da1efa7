"""The phrase list for the recognizer: the user's vocabulary plus the command words,
so the service hears "scratch that" and product names as such."""

from __future__ import annotations

from voicetype.text.commands import command_words
from voicetype.text.config import MAX_VOCABULARY
from voicetype.text.settings import TextSettings


def recognizer_phrases(settings: TextSettings, languages: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Phrases for the SDK's ``PhraseListGrammar`` (at most 500, the user's first, no
    duplicates ignoring case). ``languages``: the configured recognition languages
    (default: ``settings.language``)."""
    result: list[str] = []
    seen: set[str] = set()

    def add(phrase: str) -> None:
        key = phrase.casefold()
        if phrase and key not in seen and len(result) < MAX_VOCABULARY:
            seen.add(key)
            result.append(phrase)

    for phrase in settings.vocabulary:
        add(phrase)
    for language in languages or (settings.language,):
        for phrase in command_words(settings.commands, language):
            add(phrase)
    return tuple(result)
