"""Table tests for the text pipeline: each row is what the user sees in the window.

A row gives the text before (and after) the caret, the phrases the service returned and
the settings; it asserts the exact keystrokes: Backspaces first, then the inserted text,
and the resulting window content where the before-text is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from voicetype.text import (
    CaretContext,
    CommandSettings,
    Phrase,
    Previous,
    TextPipeline,
    TextSettings,
    Typed,
)
from voicetype.text.replacements import compile_rule

WINDOW = 7
NO_PREVIOUS = Previous()
NOW = 1000.0


@dataclass(frozen=True)
class Row:
    name: str
    before: str | None
    phrases: tuple[Phrase, ...]
    expected: str  # the inserted text
    after: str | None = None
    backspaces: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    previous: Previous = NO_PREVIOUS


def P(display: str, lexical: str = "", itn: str = "", language: str = "") -> Phrase:
    return Phrase(display=display, lexical=lexical, itn=itn, language=language)


def typed(text: str, age: float = 5.0, window: int = WINDOW, erased: str = "") -> Typed:
    return Typed(window=window, text=text, at=NOW - age, erased=erased)


def rules(**pairs: str) -> tuple[Any, ...]:
    return tuple(compile_rule(k.replace("_", " "), v) for k, v in pairs.items())


DE = "de-DE"

ROWS = [
    # ---- joining: spaces
    Row(
        "two dictations join with one space", "Hello world.", (P("How are you?"),), " How are you?"
    ),
    Row("field start: no space, capital", "", (P("hello there."),), "Hello there."),
    Row("after a line break: no space, capital", "Dear Ana,\n", (P("thanks."),), "Thanks."),
    Row("after an indented line start: no space", "list:\n  ", (P("milk"),), "Milk"),
    Row("after a paragraph break", "End.\n\n", (P("Next part.", "next part"),), "Next part."),
    Row("never a double space", "Hello world. ", (P("How are you?"),), "How are you?"),
    Row("before is a tab", "Note:\t", (P("Buy milk.", "buy milk"),), "buy milk."),
    Row("no space before a comma", "Hello", (P(","),), ","),
    Row("no space before a question mark", "Really", (P("?"),), "?"),
    Row("no space before a period", "Done", (P("."),), "."),
    Row("no space before a colon", "Note", (P(":"),), ":"),
    Row("no space before a semicolon", "First", (P(";"),), ";"),
    Row("no space before an exclamation mark", "Wow", (P("!"),), "!"),
    Row(
        "no space after an opening bracket", "See (", (P("Page four.", "page four"),), "page four."
    ),
    Row("no space after an opening quote", 'He said "', (P("Yes.", "yes"),), "yes."),
    Row("a closing quote then sentence", 'He said "yes."', (P("Then left."),), " Then left."),
    Row("unknown context: exactly as recognized", None, (P("Hello world."),), "Hello world."),
    Row("unknown context keeps a lower case start", None, (P("iPhone sales."),), "iPhone sales."),
    # ---- capitals
    Row("mid-sentence: capital undone", "I went to the", (P("Store."),), " store."),
    Row("mid-sentence: 'I' keeps its capital", "Yesterday", (P("I left.", "i left"),), " I left."),
    Row("mid-sentence: I'm keeps its capital", "and", (P("I'm here."),), " I'm here."),
    Row("mid-sentence: acronym kept", "we met at", (P("NASA today."),), " NASA today."),
    Row("mid-sentence: mixed case kept", "lunch at", (P("McDonald's."),), " McDonald's."),
    Row("mid-sentence: weekday kept", "see you on", (P("Monday."),), " Monday."),
    Row(
        "mid-sentence: a name the ITN form writes capitalised is kept",
        "I flew to",
        (P("Paris today.", "paris today", itn="Paris today"),),
        " Paris today.",
    ),
    Row(
        "mid-sentence: a name repeated later with its capital is kept",
        "so",
        (P("Paris is big and Paris is old."),),
        " Paris is big and Paris is old.",
    ),
    Row(
        "mid-sentence: a vocabulary word is kept",
        "we deploy with",
        (P("Kubernetes now."),),
        " Kubernetes now.",
        settings={"vocabulary": ("Kubernetes",)},
    ),
    Row(
        "mid-sentence: MaskedITN with the display's capital proves nothing",
        "and",
        (Phrase("This is it.", lexical="this is it", itn="this is it", masked_itn="This is it"),),
        " this is it.",
    ),
    Row("after a sentence end: capital", "It rained.", (P("we stayed in."),), " We stayed in."),
    Row("after a question mark: capital", "Why?", (P("because."),), " Because."),
    Row("after an ellipsis: capital", "Well…", (P("maybe."),), " Maybe."),
    Row("after a comma: small letter", "Hello,", (P("How are you?"),), " how are you?"),
    Row("after an abbreviation: no new sentence", "Fruit, e.g.", (P("Apples."),), " apples."),
    Row("after Dr. a name keeps its capital", "Ask Dr.", (P("Smith.", itn="Smith"),), " Smith."),
    Row(
        "de: after z.B. no new sentence",
        "Obst, z.B.",
        (P("Und Äpfel.", language=DE),),
        " und Äpfel.",
    ),
    Row("quoted first word lowered", "he said", (P('"Stop" twice.'),), ' "stop" twice.'),
    Row("a number start is left alone", "it costs", (P("20 dollars."),), " 20 dollars."),
    Row("capital at start after a quote", "", (P('"hi," she said.'),), '"Hi," she said.'),
    # ---- end punctuation
    Row(
        "auto: the period of a pause is dropped when the next dictation continues",
        None,
        (P("Store."),),
        " store.",
        backspaces=1,
        previous=Previous(typed("I went to the.")),
    ),
    Row(
        "auto: the same with the caret text read through AT-SPI",
        "I went to the.",
        (P("Store."),),
        " store.",
        backspaces=1,
        previous=Previous(typed("I went to the.")),
    ),
    Row(
        "keep: the period stays and starts a sentence",
        None,
        (P("Store."),),
        " Store.",
        settings={"end_punctuation": "keep"},
        previous=Previous(typed("I went to the.")),
    ),
    Row(
        "auto: a real sentence end is not touched",
        None,
        (P("How are you?"),),
        " How are you?",
        previous=Previous(typed("Hello world.")),
    ),
    Row(
        "auto: no period dropped when the user typed since",
        None,
        (P("Store."),),
        "Store.",
        previous=Previous(typed("I went to the."), keys_since=True),
    ),
    Row(
        "auto: no period dropped after join_seconds",
        None,
        (P("Store."),),
        "Store.",
        previous=Previous(typed("I went to the.", age=121)),
    ),
    Row(
        "auto: no period dropped for another window",
        None,
        (P("Store."),),
        "Store.",
        previous=Previous(typed("I went to the.", window=99)),
    ),
    Row(
        "memory joins within join_seconds",
        None,
        (P("How are you?"),),
        " How are you?",
        previous=Previous(typed("Hello world.", age=119)),
    ),
    Row(
        "caret text wins over memory when it changed",
        "Something else",
        (P("Store."),),
        " store.",
        previous=Previous(typed("I went to the.")),
    ),
    Row(
        "inside a line: no period before following words, and a space",
        "I went to the",
        (P("Big store."),),
        " big store ",
        after="and back.",
    ),
    Row(
        "inside a line: following space already there",
        "I went to the",
        (P("Store."),),
        " store",
        after=" and back.",
    ),
    Row("caret before a line break: period kept", "I went", (P("Home."),), " home.", after="\nx"),
    Row("caret before a comma: no period", "I went", (P("Home."),), " home", after=", then"),
    Row(
        "keep: inside a line the period stays",
        "I went to the",
        (P("Store."),),
        " store. ",
        after="and back.",
        settings={"end_punctuation": "keep"},
    ),
    # ---- commands
    Row("new line", "First line", (P("New line."),), "\n"),
    Row("new paragraph", "First line.", (P("New paragraph."),), "\n\n"),
    Row(
        "after new line the next phrase starts a line",
        "x",
        (P("New line."), P("hello.")),
        "\nHello.",
    ),
    Row(
        "terminal: new line is a space", "ls", (P("New line."),), " ", context={"is_terminal": True}
    ),
    Row(
        "terminal: new line after a space adds nothing",
        "ls ",
        (P("New line."),),
        "",
        context={"is_terminal": True},
    ),
    Row(
        "terminal: no line break survives a replacement",
        "echo",
        (P("Two lines."),),
        " two lines.",
        settings={"replacements": rules(two_lines="two\nlines")},
        context={"is_terminal": True},
    ),
    Row(
        "a command only as a whole phrase",
        "We need",
        (P("A new line of products."),),
        " a new line of products.",
    ),
    Row(
        "'a period of time' stays text", "It took", (P("A period of time."),), " a period of time."
    ),
    Row("command matched on the lexical form", "x", (P("New Line!", "new line"),), "\n"),
    Row(
        "commands can be turned off",
        "x",
        (P("New line."),),
        " new line.",
        settings={"commands": CommandSettings(enabled=False)},
    ),
    Row(
        "a configured command word replaces the default",
        "x",
        (P("Next line."),),
        "\n",
        settings={"commands": CommandSettings(words={"new_line": ("next line",)})},
    ),
    Row(
        "a command turned off one by one is text",
        "x",
        (P("New line."),),
        " new line.",
        settings={"commands": CommandSettings(words={"new_line": ()})},
    ),
    Row(
        "scratch that removes the previous dictation exactly",
        None,
        (P("Scratch that."),),
        "",
        backspaces=len(" Hello there."),
        previous=Previous(typed(" Hello there.")),
    ),
    Row(
        "delete that also removes it",
        " Hello there.",
        (P("Delete that."),),
        "",
        backspaces=len(" Hello there."),
        previous=Previous(typed(" Hello there.")),
    ),
    Row(
        "scratch that counts an emoji with skin tone as one character",
        None,
        (P("Scratch that."),),
        "",
        backspaces=5,  # space, thumbs up with its skin tone, space, o, k
        previous=Previous(typed(" 👍🏽 ok")),
    ),
    Row(
        "scratch that restores the period the dictation had removed",
        None,
        (P("Scratch that."),),
        ".",
        backspaces=len(" store."),
        previous=Previous(typed(" store.", erased=".")),
    ),
    Row(
        "scratch that inside one dictation drops the phrase before it",
        "Hi.",
        (P("One."), P("Scratch that."), P("Two.")),
        " Two.",
    ),
    Row(
        "scratch then new words join to what is left",
        "Hi. Wrong words.",
        (P("Scratch that."), P("right words.")),
        " Right words.",
        backspaces=len(" Wrong words."),
        previous=Previous(typed(" Wrong words.")),
    ),
    # ---- spoken punctuation
    Row("spoken punctuation is off by default", "x", (P("Grace period."),), " grace period."),
    Row(
        "spoken punctuation on: comma and period",
        "",
        (P("Hello comma world period"),),
        "Hello, world.",
        settings={"spoken_punctuation": True},
    ),
    Row(
        "spoken punctuation on: the service's own marks are not doubled",
        "",
        (P("Hello, comma, world period."),),
        "Hello, world.",
        settings={"spoken_punctuation": True},
    ),
    Row(
        "spoken punctuation on: a sentence mark capitalises the next word",
        "",
        (P("done period next question mark"),),
        "Done. Next?",
        settings={"spoken_punctuation": True},
    ),
    Row(
        "spoken punctuation on: brackets attach",
        "",
        (P("see open paren page two close paren"),),
        "See (page two)",
        settings={"spoken_punctuation": True},
    ),
    Row(
        "spoken punctuation alone joins without a space",
        "Hello",
        (P("Comma."),),
        ",",
        settings={"spoken_punctuation": True},
    ),
    # ---- replacements
    Row(
        "literal replacement, whole words",
        "",
        (P("teh cat and tehran."),),
        "The cat and tehran.",
        settings={"replacements": rules(teh="the")},
    ),
    Row(
        "literal replacement keeps a capital for plain words",
        "Well.",
        (P("Teh end."),),
        " The end.",
        settings={"replacements": rules(teh="the")},
    ),
    Row(
        "replacement text is inserted exactly as written",
        "",
        (P("My email."),),
        "ana@example.com.",
        settings={"replacements": rules(my_email="ana@example.com")},
    ),
    Row(
        "regular-expression replacement with a group",
        "",
        (P("Ticket 42 done."),),
        "Ticket #42 done.",
        settings={"replacements": (compile_rule(r"re:(?i)\bticket (\d+)", r"Ticket #\1"),)},
    ),
    Row(
        "a replacement that removes a word leaves no double space",
        "",
        (P("So um we left."),),
        "So we left.",
        settings={"replacements": rules(um="")},
    ),
    Row(
        "a replacement that empties the dictation types nothing",
        "x",
        (P("Um."),),
        "",
        settings={"replacements": (compile_rule(r"re:(?i)^um\.$", ""),)},
    ),
    Row("mid-sentence: I’m with a curly apostrophe kept", "and", (P("I’m here."),), " I’m here."),
    # ---- form
    Row(
        "lexical form: lower case, no punctuation",
        "",
        (P("Hello, world.", "hello world"),),
        "hello world",
        settings={"form": "lexical"},
    ),
    Row(
        "lexical form joins with one space",
        "cd",
        (P("Temp.", "temp"),),
        " temp",
        settings={"form": "lexical"},
    ),
    # ---- password fields
    Row(
        "password field: no joining, nothing changed",
        "",
        (P("Secret words."),),
        "Secret words.",
        context={"is_password": True},
    ),
    Row(
        "password field: never joined to memory",
        None,
        (P("Store."),),
        "Store.",
        context={"is_password": True},
        previous=Previous(typed("I went to the.")),
    ),
    # ---- several phrases in one dictation
    Row(
        "two phrases join with one space",
        "",
        (P("Hello world."), P("How are you?")),
        "Hello world. How are you?",
    ),
    Row("empty phrases are skipped", "x.", (P(""), P("   "), P("Fine.")), " Fine."),
    # ---- German
    Row("de: two dictations join", "Hallo Welt.", (P("Wie geht's?", language=DE),), " Wie geht's?"),
    Row(
        "de: mid-sentence small word lowered",
        "Ich ging",
        (P("Und dann heim.", language=DE),),
        " und dann heim.",
    ),
    Row(
        "de: mid-sentence noun keeps its capital",
        "Wir kaufen",
        (P("Brot.", language=DE),),
        " Brot.",
    ),
    Row(
        "de: ich is lowered mid-sentence",
        "Gestern war",
        (P("Ich müde.", language=DE),),
        " ich müde.",
    ),
    Row("de: new line", "Zeile", (P("Neue Zeile.", language=DE),), "\n"),
    Row(
        "de: scratch that",
        None,
        (P("Streich das.", language=DE),),
        "",
        backspaces=len(" Falsch."),
        previous=Previous(typed(" Falsch.")),
    ),
    Row(
        "de: spoken punctuation",
        "",
        (P("Hallo Komma Welt Punkt", language=DE),),
        "Hallo, Welt.",
        settings={"spoken_punctuation": True},
    ),
    Row(
        "de: auto drops the pause period after an article",
        None,
        (P("Laden.", language=DE),),
        " Laden.",
        backspaces=1,
        previous=Previous(typed("Ich ging in den.")),
    ),
    Row("de: English command words do nothing", "x", (P("New line.", language=DE),), " New line."),
    # ---- languages without spaces
    Row(
        "zh: no space between Chinese sentences",
        "你好。",
        (P("谢谢。", language="zh-CN"),),
        "谢谢。",
    ),
    Row(
        "ja: no space after Japanese text", "こんにちは", (P("世界。", language="ja-JP"),), "世界。"
    ),
    Row("Latin after CJK gets no space either", "你好", (P("OK."),), "OK."),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_pipeline_row(row: Row) -> None:
    settings = replace(TextSettings(), **row.settings)
    context = CaretContext(before=row.before, after=row.after, **row.context)
    outcome = TextPipeline(settings).process(row.phrases, context, row.previous, WINDOW, NOW)
    assert (outcome.backspaces, outcome.text) == (row.backspaces, row.expected)
    assert outcome.notice is None
    if row.before is not None:
        kept = row.before[: len(row.before) - len(outcome.erase)]
        assert not (kept + outcome.text).count("  ") > row.before.count("  ")


def test_there_are_at_least_sixty_rows_in_two_languages() -> None:
    assert len(ROWS) >= 60
    assert sum(1 for r in ROWS if any(p.language == DE for p in r.phrases)) >= 8


def test_any_text_and_context_gives_a_well_formed_outcome() -> None:
    """Seeded random dictations: the pipeline never raises, never adds a space at a field
    start or next to one, and erases only what voicetype typed."""
    import random

    rng = random.Random(13)
    pieces = [
        "Hello",
        "world.",
        "I",
        "the",
        "NASA",
        "é",
        "👍🏽",
        "你好。",
        ",",
        "?",
        "(",
        '"',
        "\n",
        " ",
        "new line",
        "scratch that",
        "comma",
        "e.g.",
        "Und",
        "",
    ]

    def text(n: int) -> str:
        return "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(n))

    settings = [
        TextSettings(),
        TextSettings(spoken_punctuation=True, end_punctuation="keep"),
        TextSettings(form="lexical", replacements=rules(the="THE", um="")),
    ]
    for _ in range(3000):
        before = rng.choice([None, "", text(rng.randrange(4))])
        typed_text = text(rng.randrange(1, 3))
        previous = rng.choice(
            [Previous(), Previous(typed(typed_text)), Previous(typed("I went to the."))]
        )
        context = CaretContext(
            before=before,
            after=rng.choice([None, "", text(2)]),
            is_password=rng.random() < 0.1,
            is_terminal=rng.random() < 0.2,
        )
        phrases = tuple(
            Phrase(text(rng.randrange(1, 4)), language=rng.choice(["", "de-DE", "ja-JP"]))
            for _ in range(rng.randrange(1, 3))
        )
        pipeline = TextPipeline(rng.choice(settings))
        outcome = pipeline.process(phrases, context, previous, WINDOW, NOW)
        if outcome.backspaces:
            assert previous.typed is not None
            assert outcome.erase in (previous.typed.text, ".")
        if context.is_terminal:
            assert "\n" not in outcome.text
        at_start_or_after_space = before == "" or (before or "x").endswith((" ", "\n"))
        if at_start_or_after_space and not outcome.erase and not context.is_password:
            assert not outcome.text.startswith(" "), (before, phrases, outcome)
