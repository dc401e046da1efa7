"""The text pipeline: from recognized phrases to the exact text for the focused window.

Pure (standard library only). Entry points: ``TextPipeline`` (``pipeline.py``),
``DictationMemory`` (``memory.py``), ``History`` (``history.py``), ``text_settings``
(``config.py``) and ``recognizer_phrases`` (``vocabulary.py``).
"""

from voicetype.text.history import History, HistoryEntry
from voicetype.text.memory import DictationMemory
from voicetype.text.model import (
    UNKNOWN,
    CaretContext,
    Notice,
    Outcome,
    Phrase,
    Previous,
    Typed,
)
from voicetype.text.pipeline import TextPipeline
from voicetype.text.settings import CommandSettings, TextSettings

__all__ = [
    "UNKNOWN",
    "CaretContext",
    "CommandSettings",
    "DictationMemory",
    "History",
    "HistoryEntry",
    "Notice",
    "Outcome",
    "Phrase",
    "Previous",
    "TextPipeline",
    "TextSettings",
    "Typed",
]
