"""Text pipeline benchmark: time per dictation (target ≤ 2 ms), printed, never asserted.

Runs ``TextPipeline.process`` on typical dictations — a 60-character sentence joined
mid-sentence, after a sentence end, with the caret context from memory, "scratch that", a
hands-free phrase joined to its session, a hold of five phrases,
spoken punctuation on, and 50 replacement rules (25 literal, 25 regular expressions) —
and prints the median and maximum per case. Run: ``.venv/bin/python bench/text_pipeline.py``.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from voicetype.text import (
    CaretContext,
    Phrase,
    Previous,
    TextPipeline,
    TextSettings,
    Typed,
)
from voicetype.text.replacements import compile_rule

SENTENCE = Phrase(
    "The quick brown fox jumps over the lazy dog near Paris today.",
    lexical="the quick brown fox jumps over the lazy dog near paris today",
)
RULES = tuple(compile_rule(f"word{n}", f"replacement {n}") for n in range(25)) + tuple(
    compile_rule(rf"re:\bterm{n}(\d+)", rf"T{n}-\1") for n in range(25)
)
BEFORE = "Some earlier text in the document, quite a lot of it. " * 4


def measure(
    name: str,
    pipeline: TextPipeline,
    phrases: list[Phrase],
    context: CaretContext,
    previous: Previous,
    repeats: int = 2000,
    continues: Typed | None = None,
    window: int | None = 1,
) -> None:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pipeline.process(phrases, context, previous, window, 100.0, continues)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{name:<48} median {statistics.median(times):.3f} ms   max {max(times):.3f} ms")


def main() -> None:
    plain = TextPipeline(TextSettings())
    heavy = TextPipeline(replace(TextSettings(), replacements=RULES, spoken_punctuation=True))
    nothing = Previous()
    measure(
        "mid-sentence, caret read", plain, [SENTENCE], CaretContext(before=BEFORE[:-2]), nothing
    )
    measure(
        "after a sentence end, caret read", plain, [SENTENCE], CaretContext(before=BEFORE), nothing
    )
    memory = Previous(Typed(1, "I went to the.", 99.0))
    measure("continuation from memory (period erased)", plain, [SENTENCE], CaretContext(), memory)
    measure("scratch that", plain, [Phrase("Scratch that.")], CaretContext(), memory)
    chain = Typed(None, "Hello world. I went to the shop, and", 99.0)
    measure(
        "hands-free phrase joined to its session (no window)",
        plain,
        [SENTENCE],
        CaretContext(),
        nothing,
        continues=chain,
        window=None,
    )
    measure(
        "hold: 5 phrases, pause periods",
        plain,
        [Phrase("I went to the."), SENTENCE] * 2 + [SENTENCE],
        CaretContext(),
        nothing,
    )
    measure(
        "50 replacements + spoken punctuation",
        heavy,
        [SENTENCE],
        CaretContext(before=BEFORE),
        nothing,
    )
    measure(
        "5 phrases (continuous dictation)",
        heavy,
        [SENTENCE] * 5,
        CaretContext(before=BEFORE),
        nothing,
    )


if __name__ == "__main__":
    main()
