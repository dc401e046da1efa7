"""Per-language tables: command words, spoken punctuation, capitalisation hints.

Pure data. A language is looked up by its primary subtag ("en-GB" → "en"); a language
without a table gets the neutral rules (no spoken punctuation, no command words unless
configured, capitals undone mid-sentence).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Punct:
    """A spoken punctuation mark: ``mark`` attaches to the word before it (``, . ? …``),
    or to the word after it when ``opens`` (``(``); ``ends_sentence`` capitalises the
    next word."""

    mark: str
    opens: bool = False
    ends_sentence: bool = False


@dataclass(frozen=True)
class LanguageTable:
    #: command name → the phrases that say it (compared after normalisation)
    commands: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: spoken words (lower case, one space between words) → mark
    punctuation: dict[str, Punct] = field(default_factory=dict)
    #: words written with a capital in every position (compared case-sensitively)
    always_capital: frozenset[str] = frozenset()
    #: True when the language writes many ordinary words (nouns) with a capital: then an
    #: utterance-initial capital is undone only for ``lower_words``
    capitalises_nouns: bool = False
    #: words (lower case) that take a small letter mid-sentence (used with capitalises_nouns)
    lower_words: frozenset[str] = frozenset()
    #: words (lower case) a sentence practically never ends with: a service period after
    #: one of them marks a pause, not a sentence end (``end_punctuation = "auto"``)
    dangling: frozenset[str] = frozenset()
    #: abbreviations (lower case, with their periods) after which a sentence goes on
    abbreviations: frozenset[str] = frozenset()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EN_DAYS_MONTHS = (
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March "
    "April June July August September October November December"
)

ENGLISH = LanguageTable(
    commands={
        "new_line": ("new line",),
        "new_paragraph": ("new paragraph",),
        "scratch_that": ("scratch that", "delete that"),
    },
    punctuation={
        "comma": Punct(","),
        "period": Punct(".", ends_sentence=True),
        "full stop": Punct(".", ends_sentence=True),
        "question mark": Punct("?", ends_sentence=True),
        "exclamation mark": Punct("!", ends_sentence=True),
        "exclamation point": Punct("!", ends_sentence=True),
        "colon": Punct(":"),
        "semicolon": Punct(";"),
        "open parenthesis": Punct("(", opens=True),
        "open paren": Punct("(", opens=True),
        "close parenthesis": Punct(")"),
        "close paren": Punct(")"),
    },
    always_capital=frozenset({"I", "I'm", "I'll", "I've", "I'd", *_words(_EN_DAYS_MONTHS)}),
    dangling=_words(
        "the a an and or but nor of to with from my your our their his its whose "
        "than because although if whether"
    ),
    abbreviations=_words("mr. mrs. ms. dr. prof. st. e.g. i.e. vs. approx. cf."),
)

GERMAN = LanguageTable(
    commands={
        "new_line": ("neue zeile",),
        "new_paragraph": ("neuer absatz",),
        "scratch_that": ("streich das", "lösch das"),
    },
    punctuation={
        "komma": Punct(","),
        "punkt": Punct(".", ends_sentence=True),
        "fragezeichen": Punct("?", ends_sentence=True),
        "ausrufezeichen": Punct("!", ends_sentence=True),
        "doppelpunkt": Punct(":"),
        "semikolon": Punct(";"),
        "klammer auf": Punct("(", opens=True),
        "klammer zu": Punct(")"),
    },
    capitalises_nouns=True,
    lower_words=_words(
        "der die das den dem des ein eine einen einem einer eines und oder aber denn "
        "dann doch ich du er es wir man mein meine dein deine sein seine unser unsere "
        "wenn weil dass ob als wie so auch noch nur schon nicht kein keine keinen im in "
        "am an auf aus bei mit nach von vor zu zum zur für über unter durch gegen ohne "
        "um bis seit wo was wer wann warum hier da dort heute morgen gestern jetzt ja "
        "nein sehr ist sind war waren hat haben hatte wird werden kann können muss "
        "müssen will wollen soll sollen diese dieser dieses jeder jede jedes alle also "
        "danach dabei damit deshalb trotzdem sondern sowie bitte"
    ),
    dangling=_words(
        "der die das den dem des ein eine einen einem einer eines und oder aber zu "
        "mit von für mein meine dein deine unser unsere weil dass ob wenn"
    ),
    abbreviations=_words("z.b. bzw. dr. ca. vgl. nr. d.h. u.a. hr. fr."),
)

NEUTRAL = LanguageTable()

_TABLES: dict[str, LanguageTable] = {"en": ENGLISH, "de": GERMAN}

#: languages written without spaces between words
_NO_SPACES = frozenset({"zh", "ja", "th", "lo", "km", "my"})


def primary(language: str) -> str:
    return language.split("-", 1)[0].lower()


def table_for(language: str) -> LanguageTable:
    return _TABLES.get(primary(language), NEUTRAL)


def writes_spaces(language: str) -> bool:
    return primary(language) not in _NO_SPACES


def known_languages() -> tuple[str, ...]:
    return tuple(_TABLES)
