"""``[text]``, ``[commands]``, ``[replacements]`` validation; history; the recognizer's
phrase list; user-perceived characters."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from voicetype.config import load_config
from voicetype.errors import ConfigError
from voicetype.text import History, Outcome, TextSettings
from voicetype.text.config import text_settings
from voicetype.text.graphemes import clusters, count
from voicetype.text.settings import CommandSettings
from voicetype.text.vocabulary import recognizer_phrases

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PATH = Path("/home/ana/.config/voicetype/config.toml")


def load(text: str) -> TextSettings:
    lines = text.splitlines()

    def line(table: str, key: str | None) -> int | None:
        current = ""
        for number, content in enumerate(lines, start=1):
            stripped = content.strip()
            if stripped.startswith("["):
                current = stripped.strip("[]")
                if key is None and current == table:
                    return number
            elif current == table and key and stripped.split("=")[0].strip().strip('"') == key:
                return number
        return None

    return text_settings(tomllib.loads(text), PATH, line)


def test_defaults() -> None:
    settings = load("")
    assert settings == TextSettings()
    assert (settings.end_punctuation, settings.join_seconds, settings.spoken_punctuation) == (
        "auto",
        120.0,
        False,
    )
    assert (settings.form, settings.history_size) == ("display", 10)


def test_every_key_read() -> None:
    settings = load(
        """
[text]
end_punctuation = "keep"
join_seconds = 30
spoken_punctuation = true
form = "lexical"
vocabulary = ["Kubernetes", "  voicetype  ", "Kubernetes"]
history_size = 3

[commands]
new_line = "next line"
new_paragraph = []
scratch_that = ["undo that", "scratch that"]

[replacements]
"teh" = "the"
"re:\\\\bfoo(\\\\d+)" = "bar\\\\1"
"""
    )
    assert settings.end_punctuation == "keep"
    assert settings.join_seconds == 30.0
    assert settings.spoken_punctuation is True
    assert settings.form == "lexical"
    assert settings.vocabulary == ("Kubernetes", "voicetype")
    assert settings.history_size == 3
    assert settings.commands == CommandSettings(
        enabled=True,
        words={
            "new_line": ("next line",),
            "new_paragraph": (),
            "scratch_that": ("undo that", "scratch that"),
        },
    )
    assert [r.apply("teh foo12") for r in settings.replacements] == ["the foo12", "teh bar12"]


@pytest.mark.parametrize(
    ("toml", "message", "fix"),
    [
        (
            '[text]\nend_punctuation = "kep"',
            f"{PATH}, line 2: [text] end_punctuation = 'kep' is not allowed (did you mean `keep`?)",
            '"auto"',
        ),
        ('[text]\nform = "lexcal"', "(did you mean `lexical`?)", '"display"'),
        ("[text]\njoin_seconds = -1", f"{PATH}, line 2: [text] join_seconds = -1", "0 to 3600"),
        ("[text]\njoin_seconds = nan", "join_seconds = nan", "0 to 3600"),
        ('[text]\njoin_seconds = "60"', "join_seconds = '60'", "0 to 3600"),
        ("[text]\nspoken_punctuation = 1", "spoken_punctuation = 1 has the wrong type", "true"),
        ("[text]\nhistory_size = 1000", "history_size = 1000", "0 to 100"),
        ("[text]\nvocabulary = 'Kubernetes'", "vocabulary must be a list of strings", "["),
        (
            "[text]\nvocabulary = [" + ", ".join(f'"w{n}"' for n in range(501)) + "]",
            "vocabulary has 501 phrases",
            "at most 500",
        ),
        (
            "[text]\njoin_second = 5",
            f"{PATH}, line 2: unknown key `join_second` in [text] (did you mean `join_seconds`?)",
            "keys allowed in [text]",
        ),
        ("[commands]\nenabled = 'no'", "[commands] enabled = 'no' has the wrong type", "true"),
        ("[commands]\nnew_line = 5", "[commands] new_line must be a list of strings", "new_line ="),
        ("[commands]\nnewline = 'x'", "unknown key `newline` in [commands]", "new_line"),
        ('[replacements]\n"teh" = 5', "[replacements] 'teh' = 5 has the wrong type", "string"),
        (
            '[replacements]\n"re:(" = "x"',
            f"{PATH}, line 2: [replacements] 're:(': invalid regular expression",
            "re:",
        ),
        ('[replacements]\n"re:a*" = "x"', "matches empty text", "re:"),
        ('[replacements]\n"re:(a)" = "\\\\2"', "invalid regular expression", "re:"),
        ('[replacements]\n"  " = "x"', "the phrase to replace is empty", "re:"),
        ("text = 5", "`text` must be a section [text]", "[text]"),
    ],
)
def test_errors_name_the_file_line_key_and_what_is_allowed(
    toml: str, message: str, fix: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(toml)
    assert message in caught.value.message
    assert fix in caught.value.fix


def test_commands_turned_off() -> None:
    assert load("[commands]\nenabled = false").commands.enabled is False


def test_language_is_passed_through() -> None:
    assert text_settings({}, PATH, language="de-DE").language == "de-DE"


# ---------------------------------------------------------------- history


def test_history_keeps_the_last_n_newest_first() -> None:
    history = History(capacity=3)
    for n in range(5):
        history.add(f" dictation {n}.", at=float(n))
    assert [e.text for e in history.entries()] == [
        "dictation 4.",
        "dictation 3.",
        "dictation 2.",
    ]
    last = history.last()
    assert last is not None and last.text == "dictation 4."
    assert len(history) == 3
    history.clear()
    assert history.last() is None


def test_history_never_keeps_passwords_scratches_or_blank_text() -> None:
    history = History()
    history.add_outcome(Outcome(text="hunter2", private=True), 1.0)
    history.add_outcome(Outcome(backspaces=3, erase="abc", scratch=True), 2.0)
    history.add_outcome(Outcome(text="\n\n"), 3.0)
    history.add_outcome(Outcome(text=" Hello.", language="en-US"), 4.0)
    assert [(e.text, e.language) for e in history.entries()] == [("Hello.", "en-US")]


def test_a_text_typed_again_moves_to_the_front_instead_of_a_copy() -> None:
    history = History(capacity=3)
    for n, text in enumerate(["one.", "two.", "three.", " two."]):
        history.add(text, at=float(n))
    assert [(e.text, e.at) for e in history.entries()] == [
        ("two.", 3.0),
        ("three.", 2.0),
        ("one.", 0.0),
    ]


def test_history_of_size_zero_keeps_nothing() -> None:
    history = History(capacity=0)
    history.add("x", 1.0)
    assert history.entries() == ()


# ---------------------------------------------------------------- phrase list


def test_recognizer_phrases_vocabulary_first_then_command_words_without_duplicates() -> None:
    settings = TextSettings(vocabulary=("Kubernetes", "scratch that"))
    assert recognizer_phrases(settings) == (
        "Kubernetes",
        "scratch that",
        "new line",
        "new paragraph",
        "delete that",
    )
    both = recognizer_phrases(settings, ("en-US", "de-DE"))
    assert "neue zeile" in both and "streich das" in both


def test_recognizer_phrases_at_most_500() -> None:
    settings = TextSettings(vocabulary=tuple(f"word{n}" for n in range(500)))
    phrases = recognizer_phrases(settings)
    assert len(phrases) == 500 and phrases[-1] == "word499"


def test_recognizer_phrases_without_commands() -> None:
    settings = TextSettings(commands=CommandSettings(enabled=False))
    assert recognizer_phrases(settings) == ()


# ---------------------------------------------------------------- graphemes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", 3),
        ("e\u0301", 1),  # e + combining acute
        ("👍🏽", 1),  # skin tone
        ("👨‍👩‍👧", 1),  # ZWJ family
        ("🇩🇪🇫🇷", 2),  # two flags
        ("❤️", 1),  # heart + VS16
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", 1),  # subdivision flag (tags)
        ("\r\n", 1),
        ("你好", 2),
        ("", 0),
    ],
)
def test_backspaces_per_user_perceived_character(text: str, expected: int) -> None:
    assert count(text) == expected
    assert "".join(clusters(text)) == text


# ---------------------------------------------------------------- through load_config


def test_load_config_reads_the_text_sections_with_file_and_line(tmp_path: Path) -> None:
    from voicetype.config import load_config

    path = tmp_path / "config.toml"
    path.write_text(
        '[azure]\nlanguage = "de-DE"\n\n[text]\njoin_seconds = 30\n\n'
        '[replacements]\n"teh" = "the"\n'
    )
    path.chmod(0o600)
    config = load_config(path, {})
    assert config.text.join_seconds == 30.0
    assert config.text.language == "de-DE"
    assert [r.apply("teh") for r in config.text.replacements] == ["the"]

    path.write_text('[text]\n\nform = "lexcal"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert caught.value.message.startswith(f"{path}, line 3: [text] form = 'lexcal'")

    path.write_text("[txet]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert "(did you mean `text`?)" in caught.value.message
    assert "[text], [commands], [replacements]" in caught.value.fix


def test_the_example_file_gives_the_defaults() -> None:
    from voicetype.config import load_config

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    assert load_config(example, {}).text == TextSettings()


def test_the_phrase_list_is_the_vocabulary_then_the_command_words(tmp_path: Path) -> None:
    """Issue 13: ``[text] vocabulary`` and the command words reach the recognizer's phrase
    list through ``AzureConfig.phrases``, so a change to either rebuilds it on reload."""
    path = tmp_path / "config.toml"
    path.write_text('[text]\nvocabulary = ["Kubernetes", "Ana"]\n', encoding="utf-8")
    phrases = load_config(path, {}).azure.phrases
    assert phrases[:2] == ("Kubernetes", "Ana")
    assert "scratch that" in phrases and "new line" in phrases
