"""``TextPipeline``: from recognized phrases to the exact keystrokes for the focused window.

Pure and stateless (apart from its settings): no desktop imports, no clock, no I/O; safe to
call from any thread. The caller gathers the inputs — the phrases, the caret context
(AT-SPI, see ``voicetype.context``), the memory of the last dictation
(``DictationMemory.previous()``), the focused window and the time — and afterwards hands
the ``Outcome`` to ``DictationMemory.commit`` and, when not private, to ``History``.

Order of work per phrase: spoken command (whole phrase only) → form (display or lexical)
→ spoken punctuation (when on) → capitals from the position → replacements → the
separating space. A phrase that follows another of the same dictation (a hold's phrases)
joins it as a dictation joins the text before it, the service's pause period included.
Then, over the whole dictation: the period before text that continues after the caret,
and the terminal rule (no line breaks in terminals).

A hands-free session types phrase by phrase: each is one dictation, given the phrase the
session typed before it (``continues``) for when nothing else tells the text before the
caret.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from voicetype.text import graphemes, joining, punctuation
from voicetype.text.commands import Command, match, normalise
from voicetype.text.joining import Position
from voicetype.text.languages import table_for, writes_spaces
from voicetype.text.model import CaretContext, Notice, Outcome, Phrase, Previous, Typed
from voicetype.text.replacements import apply_all
from voicetype.text.settings import TextSettings

#: the text before the caret a context reader should supply (characters); a shorter
#: ``before`` that is a tail of voicetype's last dictation counts as complete only if
#: it is at least this long
CONTEXT_CHARS = 200

_UNDO_FIX = "Delete it by hand (Ctrl+Z undoes it in most applications)."

WORDS, BREAK, RESTORED = "words", "break", "restored"  # kinds of pieces of a dictation


class MemoryState(enum.Enum):
    USABLE = "usable"
    NOTHING = "nothing"
    OTHER_WINDOW = "other_window"
    KEYS_SINCE = "keys_since"
    EXPIRED = "expired"
    CHANGED = "changed"  # the text before the caret no longer ends with it
    UNREAD = "unread"  # typed here, but neither the text nor the user's keys can be seen


@dataclass
class _Pieces:
    base: str | None  # the text before the caret after any erasing, None when unknown
    parts: list[tuple[str, str]]  # (text, WORDS | BREAK | RESTORED)

    def before(self) -> str | None:
        typed = "".join(p for p, _ in self.parts)
        if self.base is None:
            return typed or None
        return self.base + typed

    def text(self) -> str:
        return "".join(p for p, _ in self.parts)


class TextPipeline:
    def __init__(self, settings: TextSettings) -> None:
        self.settings = settings
        self._vocabulary = frozenset(w for entry in settings.vocabulary for w in entry.split())

    def memory_state(
        self, previous: Previous, context: CaretContext, window: int | None, now: float
    ) -> MemoryState:
        """Whether voicetype's last dictation still describes the text before the caret."""
        typed = previous.typed
        if typed is None:
            return MemoryState.UNREAD if previous.unread else MemoryState.NOTHING
        if window is None or typed.window != window:
            return MemoryState.OTHER_WINDOW
        if previous.keys_since:
            return MemoryState.KEYS_SINCE
        if now - typed.at > self.settings.join_seconds or now < typed.at:
            return MemoryState.EXPIRED
        if context.before is not None and not _ends_with(context.before, typed.text):
            return MemoryState.CHANGED
        return MemoryState.USABLE

    def process(
        self,
        phrases: Sequence[Phrase],
        context: CaretContext,
        previous: Previous,
        window: int | None,
        now: float,
        continues: Typed | None = None,
    ) -> Outcome:
        """The exact edit for one dictation. Never raises for any text or context.

        ``continues``: the phrase typed just before this one in the same hands-free
        session (None: the dictation starts a session, or is one of its own). When neither
        the caret context nor the memory tells what is before the caret, and this goes
        to the same window (``window`` equal, None included) with no key typed since,
        the text joins that phrase (space, capitals) as a dictation joins the memory —
        but nothing is erased on its word alone (no Backspace for its period, no
        "scratch that"): only the memory, which knows the window kept the focus, allows
        that."""
        s = self.settings
        state = self.memory_state(previous, context, window, now)
        typed = previous.typed if state is MemoryState.USABLE else None
        if context.is_password:
            typed = None
        base = context.before
        if base is None and typed is not None:
            base = typed.text
        elif base is None and self._session_goes_on(continues, previous, window):
            assert continues is not None
            base = continues.text
        if context.is_password:
            base = None  # never joined to, never read
        pieces = _Pieces(base, [])
        erase = ""
        notice: Notice | None = None
        scratch = False
        language = s.language
        for index, phrase in enumerate(phrases):
            language = phrase.language or s.language
            command = None if phrase.shaped else match(phrase, s.commands, language)
            if command is Command.SCRATCH_THAT:
                if pieces.parts and pieces.parts[-1][1] != RESTORED:
                    # said within one dictation: drops the phrase before it
                    pieces.parts.pop()
                elif scratch or typed is None or context.is_password:
                    notice = notice or self._refusal(state, context, scratch)
                else:
                    scratch, erase = True, typed.text
                    self._take_back(pieces, typed, context)
            elif command in (Command.NEW_LINE, Command.NEW_PARAGRAPH):
                pieces.parts.append((self._line_break(command, pieces, context), BREAK))
            else:
                resumes = index == 0 and not erase and self._continues(typed, pieces, language)
                if resumes:
                    erase = "."  # the service's period after a pause: this continues it
                    pieces.base = (pieces.base or "")[:-1]
                kept = list(pieces.parts)
                if not resumes and not context.is_password:
                    self._drop_pause_period(pieces, language)
                piece = self._words(phrase, language, pieces.before(), context.is_password)
                if piece:
                    pieces.parts.append((piece, WORDS))
                else:
                    pieces.parts = kept  # nothing followed: the period stays
        text = pieces.text()
        if not context.is_password:
            text = self._before_following_text(text, pieces, context.after)
        if context.is_terminal:
            text = re.sub(r" {2,}", " ", re.sub(r"\r?\n", " ", text))
        return Outcome(
            text=text,
            backspaces=graphemes.count(erase),
            erase=erase,
            notice=notice,
            scratch=scratch,
            private=context.is_password,
            language=language,
        )

    def _take_back(self, pieces: _Pieces, typed: Typed, context: CaretContext) -> None:
        """ "scratch that": the text before the caret loses ``typed`` and gets back what
        it had erased."""
        if context.before is not None:
            pieces.base = context.before[: len(context.before) - len(typed.text)]
        else:
            pieces.base = None
        if typed.erased:
            pieces.parts.append((typed.erased, RESTORED))

    def _line_break(self, command: Command, pieces: _Pieces, context: CaretContext) -> str:
        if not context.is_terminal:
            return "\n" if command is Command.NEW_LINE else "\n\n"
        before = pieces.before()  # the terminal rule: never Return, a space at most
        return "" if not before or before[-1].isspace() else " "

    def _continues(self, typed: Typed | None, pieces: _Pieces, language: str) -> bool:
        """Whether the last dictation ended with a service period after a word no sentence
        ends with, right before the caret (``end_punctuation = "auto"``)."""
        s = self.settings
        before = pieces.base
        return (
            typed is not None
            and s.end_punctuation == "auto"
            and s.form == "display"
            and before is not None
            and before.endswith(typed.text)
            and joining.strip_final_period(typed.text) != typed.text
            and typed.text.endswith(".")
            and joining.last_word(typed.text) in table_for(language).dangling
        )

    @staticmethod
    def _session_goes_on(continues: Typed | None, previous: Previous, window: int | None) -> bool:
        return continues is not None and continues.window == window and not previous.keys_since

    def _drop_pause_period(self, pieces: _Pieces, language: str) -> None:
        """Within one dictation (phrases of a hold): the service's period after a word no
        sentence ends with, on the phrase before, goes when another phrase follows it
        (``end_punctuation = "auto"``); nothing is typed yet, so nothing is erased."""
        s = self.settings
        if s.end_punctuation != "auto" or s.form != "display" or not pieces.parts:
            return
        last, kind = pieces.parts[-1]
        if kind != WORDS or not last.endswith(".") or joining.strip_final_period(last) == last:
            return
        if joining.last_word(last) in table_for(language).dangling:
            pieces.parts[-1] = (last[:-1], WORDS)

    def _words(self, phrase: Phrase, language: str, before: str | None, private: bool) -> str:
        """One phrase of words, with its capitals and separating space for ``before``."""
        s = self.settings
        table = table_for(language)
        body = self._body(phrase, table.punctuation)
        if not body:
            return ""
        rules = () if phrase.shaped else s.replacements
        if private:  # a password field: as said, words separated, nothing read or joined
            body = apply_all(rules, body)
            return (" " if before and not before[-1].isspace() and body else "") + body
        if s.form == "display":
            where = joining.position(before, table.abbreviations)
            if where in (Position.START, Position.SENTENCE):
                body = joining.capitalise(body)
            elif where is Position.MID:
                body = joining.lower_initial(body, table, partial(self._keeps_capital, phrase))
        body = apply_all(rules, body)
        if not body:
            return ""
        return joining.separator(before, body, writes_spaces(language)) + body

    def _body(self, phrase: Phrase, spoken: dict[str, punctuation.Punct]) -> str:
        if phrase.shaped:
            return phrase.display.strip()
        if self.settings.form == "lexical":
            return (phrase.lexical or normalise(phrase.display)).strip()
        body = phrase.display
        if self.settings.spoken_punctuation:
            body = punctuation.convert(body, spoken)
        return re.sub(r" {2,}", " ", body).strip()

    def _keeps_capital(self, phrase: Phrase, word: str) -> bool:
        if word in self._vocabulary:
            return True
        # Lexical and ITN carry no sentence capitals: a capital there is the word's own.
        # (Azure writes both all in lower case; MaskedITN may carry Display's capitals,
        # so it proves nothing.)
        for form in (phrase.itn, phrase.lexical):
            m = joining.first_word(form)
            if m is not None and m.group(0) == word:
                return True
        return False

    def _before_following_text(self, text: str, pieces: _Pieces, after: str | None) -> str:
        """Inserting inside a line: no service period before the words that follow, and a
        space between."""
        if not after or not text or not pieces.parts or pieces.parts[-1][1] != WORDS:
            return text
        if after[0] in "\r\n":
            return text
        following = after.lstrip(" \t")[:1]
        if not following or following in "\r\n":
            return text
        if self.settings.end_punctuation == "auto" and (following.isalnum() or following in ",.;:"):
            text = joining.strip_final_period(text)
        if not after[0].isspace() and joining.separator(text, after) == " ":
            text += " "
        return text

    def _refusal(self, state: MemoryState, context: CaretContext, again: bool) -> Notice:
        if context.is_password:
            return Notice(
                "Nothing was deleted: voicetype keeps nothing it types into password fields",
                _UNDO_FIX,
            )
        if again:
            return Notice("Only the last dictation can be taken back; nothing more was deleted")
        seconds = f"{self.settings.join_seconds:g}"
        messages = {
            MemoryState.NOTHING: "Nothing was deleted: there is no dictation to take back",
            MemoryState.OTHER_WINDOW: "Nothing was deleted: the last dictation went to "
            "another window",
            MemoryState.KEYS_SINCE: "Nothing was deleted: you typed since the last dictation",
            MemoryState.EXPIRED: "Nothing was deleted: the last dictation is more than "
            f"{seconds} seconds old",
            MemoryState.CHANGED: "Nothing was deleted: the text before the cursor is no "
            "longer what voicetype typed",
            MemoryState.UNREAD: "Nothing was deleted: this application does not let "
            "voicetype read its text, so voicetype cannot check that your last dictation "
            "is still there",
        }
        fix = (
            "Switch back to that window and say it again, or delete the text by hand."
            if state is MemoryState.OTHER_WINDOW
            else _UNDO_FIX
        )
        return Notice(messages.get(state, messages[MemoryState.NOTHING]), fix)


def _ends_with(before: str, typed: str) -> bool:
    if len(before) >= len(typed):
        return before.endswith(typed)
    return len(before) >= CONTEXT_CHARS and typed.endswith(before)


__all__ = ["CONTEXT_CHARS", "MemoryState", "TextPipeline", "Typed"]
