"""``[azure] language`` as a list, ``[azure] profanity``, and the run-time language switch:
pure, no SDK."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from voicetype.config import Config, load_config
from voicetype.errors import ConfigError
from voicetype.recognition.language import AUTOMATIC, LanguageSwitch, UnknownLanguage


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, {})


def error_for(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return info.value


def test_one_language_as_before(tmp_path: Path) -> None:
    azure = load(tmp_path, '[azure]\nlanguage = "de-DE"\n').azure
    assert (azure.languages, azure.language, azure.language_id) == (("de-DE",), "de-DE", "at-start")
    assert azure.profanity == "masked"  # the service's own default


def test_a_list_identifies_at_the_start_and_the_first_leads(tmp_path: Path) -> None:
    config = load(tmp_path, '[azure]\nlanguage = ["en-US", " de-DE"]\n')
    assert config.azure.languages == ("en-US", "de-DE")
    assert config.azure.language == "en-US"
    assert config.azure.language_id == "at-start"
    assert config.text.language == "en-US"  # the text pipeline's language


def test_hands_free_identifies_continuously_among_up_to_ten(tmp_path: Path) -> None:
    ten = ["en-US", "de-DE", "fr-FR", "es-ES", "it-IT", "ja-JP", "zh-CN", "pt-BR", "nl-NL", "pl-PL"]
    listed = ", ".join(f'"{c}"' for c in ten)
    config = load(tmp_path, f'[azure]\nlanguage = [{listed}]\n[dictation]\nmode = "toggle"\n')
    assert config.azure.languages == tuple(ten)
    assert config.azure.language_id == "continuous"
    eleven = error_for(
        tmp_path, f'[azure]\nlanguage = [{listed}, "sv-SE"]\n[dictation]\nmode = "toggle"\n'
    )
    assert "lists 11 languages" in eleven.message and "at most 10" in eleven.message
    assert "line 2" in eleven.message
    assert eleven.fix == "list at most 10"


def test_more_than_four_outside_hands_free_says_how_to_get_ten(tmp_path: Path) -> None:
    five = '["en-US", "de-DE", "fr-FR", "es-ES", "it-IT"]'
    err = error_for(tmp_path, f"[azure]\nlanguage = {five}\n")
    assert err.message.endswith(
        "`language` lists 5 languages; the speech service identifies at the start of each "
        "dictation among at most 4"
    )
    assert 'mode = "toggle"' in err.fix and "up to 10" in err.fix


@pytest.mark.parametrize(
    ("value", "needle", "fix"),
    [
        ("[]", "needs at least one language code", 'language = ["en-US", "de-DE"]'),
        ('["en-US", "english"]', "'english', which is not a language code", "de-DE"),
        ('["en-US", 3]', "3, which is not a language code", "en-US"),
        ('["en-US", "en-us"]', "lists en-us twice", "keep one of them (e.g. en-US)"),
        ('["en-US", "en-GB"]', "lists en-GB after en-US", "keep one of them"),
        ("5", "has the wrong type", "a list such as"),
    ],
)
def test_bad_language_lists(tmp_path: Path, value: str, needle: str, fix: str) -> None:
    err = error_for(tmp_path, f"[azure]\nlanguage = {value}\n")
    assert needle in err.message, err.message
    assert fix in err.fix, err.fix


def test_profanity_values(tmp_path: Path) -> None:
    for value in ("masked", "removed", "raw"):
        assert load(tmp_path, f'[azure]\nprofanity = "{value}"\n').azure.profanity == value
    err = error_for(tmp_path, '[azure]\nprofanity = "rawr"\n')
    assert "profanity = 'rawr' is not allowed (did you mean `raw`?)" in err.message
    assert '"masked"' in err.fix and '"removed"' in err.fix


def test_phrase_list_has_the_command_words_of_every_language(tmp_path: Path) -> None:
    one = load(tmp_path, '[azure]\nlanguage = "en-US"\n').azure.phrases
    two = load(tmp_path, '[azure]\nlanguage = ["en-US", "de-DE"]\n').azure.phrases
    assert set(one) < set(two)


# -- the switch ---------------------------------------------------------------------------


def test_switch_offers_automatic_then_the_configured_languages() -> None:
    switch = LanguageSwitch(("en-US", "de-DE"))
    assert switch.languages() == ((AUTOMATIC, "en-US", "de-DE"), AUTOMATIC)
    assert switch.candidates() == ("en-US", "de-DE")
    assert switch.describe() == "automatic among en-US, de-DE"
    switch.choose_language("DE-de")
    assert switch.languages() == ((AUTOMATIC, "en-US", "de-DE"), "de-DE")
    assert switch.candidates() == ("de-DE",)
    assert switch.describe().startswith("de-DE (chosen")
    switch.choose_language("automatic")
    assert switch.candidates() == ("en-US", "de-DE")


def test_switch_refuses_a_language_that_is_not_configured() -> None:
    switch = LanguageSwitch(("en-US", "de-DE"))
    with pytest.raises(UnknownLanguage) as info:
        switch.choose_language("fr-FR")
    assert info.value.message == "fr-FR is not one of the configured languages (en-US, de-DE)"
    assert "choose one of en-US, de-DE or auto" in info.value.fix
    assert "`voicetype reload`" in info.value.fix
    assert switch.candidates() == ("en-US", "de-DE")  # unchanged


def test_one_language_has_nothing_to_switch() -> None:
    switch = LanguageSwitch(("en-US",))
    assert switch.languages() == (("en-US",), "en-US")
    switch.choose_language("en-US")
    assert switch.candidates() == ("en-US",)
    with pytest.raises(UnknownLanguage):
        switch.choose_language(AUTOMATIC + "x")
    assert switch.describe() == "en-US"


def test_a_reload_keeps_the_choice_while_it_is_configured() -> None:
    switch = LanguageSwitch(("en-US", "de-DE"))
    switch.choose_language("de-DE")
    assert switch.carried_over(("en-US", "de-DE")) is switch
    assert switch.carried_over(("fr-FR", "de-DE")).candidates() == ("de-DE",)
    assert switch.carried_over(("en-US", "fr-FR")).candidates() == ("en-US", "fr-FR")


def test_identified_language_is_shown() -> None:
    switch = LanguageSwitch(("en-US", "de-DE"))
    done = threading.Thread(target=switch.heard, args=("de-DE",))  # an SDK thread
    done.start()
    done.join()
    assert switch.last_heard == "de-DE"
    assert switch.describe() == "de-DE (identified; automatic among en-US, de-DE)"
