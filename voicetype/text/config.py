"""Validation of the ``[text]``, ``[commands]`` and ``[replacements]`` sections.

Pure (no I/O): ``text_settings`` takes the parsed TOML document (the dict ``tomllib``
returns, other sections ignored) and returns ``TextSettings`` or raises ``ConfigError``
naming the file, the line, the key and what is allowed. ``voicetype.config.load_config``
calls it with its own line locator.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from voicetype.errors import ConfigError
from voicetype.text.replacements import ReplacementError, compile_rule
from voicetype.text.settings import (
    COMMAND_NAMES,
    END_PUNCTUATION,
    FORMS,
    CommandSettings,
    TextSettings,
)

SECTIONS = ("text", "commands", "replacements")
TEXT_KEYS = (
    "end_punctuation",
    "join_seconds",
    "spoken_punctuation",
    "form",
    "vocabulary",
    "history_size",
)
COMMAND_KEYS = ("enabled", *COMMAND_NAMES)
MAX_VOCABULARY = 500  # the Speech SDK's phrase list takes up to 500 phrases
MAX_REPLACEMENTS = 1000
MAX_PHRASE_CHARS = 200

LineOf = Callable[[str, str | None], int | None]


def text_settings(
    data: Mapping[str, Any],
    path: Path,
    line: LineOf | None = None,
    language: str = "en-US",
) -> TextSettings:
    """``TextSettings`` from the document ``data`` read from ``path``; ``line(table,
    key)`` gives the line of a key (or of the table header when key is None) for errors;
    ``language`` is the configured ``[azure] language``."""
    where = _Where(path, line or (lambda table, key: None))
    text = _table(data, "text", where)
    commands = _table(data, "commands", where)
    replacements = _table(data, "replacements", where)
    _known_keys(text, "text", TEXT_KEYS, where)
    _known_keys(commands, "commands", COMMAND_KEYS, where)
    d = TextSettings()

    end = text.get("end_punctuation", d.end_punctuation)
    if end not in END_PUNCTUATION:
        raise ConfigError(
            f"{where('text', 'end_punctuation')}: [text] end_punctuation = {_shown(end)} "
            "is not allowed" + _did_you_mean(end, END_PUNCTUATION),
            'use "auto" (drop the period of a dictation that the next one continues) or "keep"',
        )
    form = text.get("form", d.form)
    if form not in FORMS:
        raise ConfigError(
            f"{where('text', 'form')}: [text] form = {_shown(form)} is not allowed"
            + _did_you_mean(form, FORMS),
            'use "display" (punctuation and capitals) or "lexical" (lower case, no punctuation)',
        )
    join = text.get("join_seconds", d.join_seconds)
    if not _number(join) or not 0 <= float(join) <= 3600:
        raise ConfigError(
            f"{where('text', 'join_seconds')}: [text] join_seconds = {_shown(join)}",
            "use a number of seconds from 0 to 3600 (default 120; 0 turns joining from memory off)",
        )
    spoken = text.get("spoken_punctuation", d.spoken_punctuation)
    if not isinstance(spoken, bool):
        raise ConfigError(
            f"{where('text', 'spoken_punctuation')}: [text] spoken_punctuation = "
            f"{_shown(spoken)} has the wrong type",
            "use true or false",
        )
    size = text.get("history_size", d.history_size)
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= 100:
        raise ConfigError(
            f"{where('text', 'history_size')}: [text] history_size = {_shown(size)}",
            "use a whole number from 0 to 100 (default 10; 0 keeps no history)",
        )
    vocabulary = _phrases(text.get("vocabulary", []), where("text", "vocabulary"), "vocabulary")
    if len(vocabulary) > MAX_VOCABULARY:
        raise ConfigError(
            f"{where('text', 'vocabulary')}: [text] vocabulary has {len(vocabulary)} phrases",
            f"keep at most {MAX_VOCABULARY} (the speech service's limit)",
        )

    enabled = commands.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(
            f"{where('commands', 'enabled')}: [commands] enabled = {_shown(enabled)} has "
            "the wrong type",
            "use true or false",
        )
    words: dict[str, tuple[str, ...]] = {}
    for name in COMMAND_NAMES:
        if name in commands:
            value = commands[name]
            words[name] = _phrases(
                [value] if isinstance(value, str) else value,
                where("commands", name),
                f"[commands] {name}",
            )

    if len(replacements) > MAX_REPLACEMENTS:
        raise ConfigError(
            f"{where('replacements', None)}: [replacements] has {len(replacements)} rules",
            f"keep at most {MAX_REPLACEMENTS}",
        )
    rules = []
    for key, value in replacements.items():
        if not isinstance(value, str):
            raise ConfigError(
                f"{where('replacements', key)}: [replacements] {_shown(key)} = "
                f"{_shown(value)} has the wrong type",
                'write the replacement as a string, e.g. "teh" = "the"',
            )
        try:
            rules.append(compile_rule(key, value))
        except ReplacementError as exc:
            raise ConfigError(
                f"{where('replacements', key)}: [replacements] {_shown(key)}: {exc}",
                'write a phrase ("teh" = "the") or "re:" and a Python regular expression '
                '("re:\\\\bfoo(\\\\d+)" = "bar\\\\1")',
            ) from exc

    return TextSettings(
        end_punctuation=end,
        join_seconds=float(join),
        spoken_punctuation=spoken,
        form=form,
        language=language,
        commands=CommandSettings(enabled=enabled, words=words),
        replacements=tuple(rules),
        vocabulary=vocabulary,
        history_size=size,
    )


class _Where:
    def __init__(self, path: Path, line: LineOf) -> None:
        self._path, self._line = path, line

    def __call__(self, table: str, key: str | None) -> str:
        number = self._line(table, key)
        return f"{self._path}, line {number}" if number else str(self._path)


def _table(data: Mapping[str, Any], name: str, where: _Where) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where('', name)}: `{name}` must be a section [{name}]",
            f"write it as [{name}] followed by its keys",
        )
    return value


def _known_keys(
    table: Mapping[str, Any], name: str, allowed: tuple[str, ...], where: _Where
) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(
                f"{where(name, key)}: unknown key `{key}` in [{name}]"
                + _did_you_mean(key, allowed),
                f"keys allowed in [{name}]: {', '.join(allowed)}",
            )


def _phrases(value: Any, origin: str, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"{origin}: {what} must be a list of strings",
            f'write it as {what.split()[-1]} = ["first phrase", "second phrase"]',
        )
    result: list[str] = []
    for phrase in value:
        phrase = " ".join(phrase.split())
        if len(phrase) > MAX_PHRASE_CHARS:
            raise ConfigError(
                f"{origin}: {what} holds a phrase of {len(phrase)} characters",
                f"keep each phrase under {MAX_PHRASE_CHARS} characters",
            )
        if phrase and phrase not in result:
            result.append(phrase)
    return tuple(result)


def _number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _did_you_mean(word: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
