"""``TextSettings``: the validated ``[text]``, ``[commands]`` and ``[replacements]`` values
(built by ``voicetype.text.config.text_settings``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from voicetype.text.replacements import Replacement

END_PUNCTUATION = ("auto", "keep")
FORMS = ("display", "lexical")
COMMAND_NAMES = ("new_line", "new_paragraph", "scratch_that")


@dataclass(frozen=True)
class CommandSettings:
    """``enabled = false`` turns every spoken command off. ``words`` maps a command name
    to the phrases the user configured for it (replacing the language's own words for
    every language); a name mapped to ``()`` is off; a name absent uses the language's
    words."""

    enabled: bool = True
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class TextSettings:
    end_punctuation: str = "auto"  # "auto" | "keep"
    join_seconds: float = 120.0  # how long voicetype's own last dictation guides joining
    spoken_punctuation: bool = False
    form: str = "display"  # "display" | "lexical"
    language: str = "en-US"  # for phrases that do not say their language
    commands: CommandSettings = field(default_factory=CommandSettings)
    replacements: tuple[Replacement, ...] = ()
    vocabulary: tuple[str, ...] = ()  # words to recognise better and keep as written
    history_size: int = 10
