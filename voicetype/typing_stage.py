"""The text stage of a dictation: from recognized phrases to keys in the target window.

For one dictation (or a re-typed one) and its window, ``TextStage.deliver`` reads the
text around the caret (``voicetype.context``: AT-SPI, bounded to ``CARET_TIMEOUT``; when
nothing is read in time the pipeline falls back to voicetype's memory of what it typed
there), runs the ``TextPipeline``, presses the Backspaces it asks for, inserts its text,
then commits the dictation to the ``DictationMemory`` (forgets it after a failure) and adds
it to the ``History``. Where the compositor names no window (Wayland: the portal,
wlroots without sway or Hyprland IPC; the inserter then takes an ``is_terminal`` probe)
the window itself — its identity for the memory, whether it is a terminal — comes from
AT-SPI too, within the
same bound (``_accessible_context``); not known: a terminal with no memory, so "scratch
that" is refused there. No key watcher sees the user's keys on Wayland, so there the
memory erases (the pause period, "scratch that") only when the text before the caret was
read, which shows any typing since; unread, a dictation into the same window still joins
the last one (space, capitals), as a hands-free session's phrases do. A target that says
it is a terminal (sway and Hyprland name foot, kitty…) makes the context a terminal's: a
spoken "new line" there is a space. What the user must be told (a refused "scratch
that") comes back in ``Inserted.notice``: this module
tells no one itself.

Password fields: the reader never reads one (``CaretContext.is_password``); what is typed
there is never remembered, put in the history, returned for the log (``private``), or kept
for "Type last dictation".

Threading: ``deliver`` on the dictation worker only (it calls the inserter and the caret
reader, both single-threaded); the memory and the history are thread-safe (the key watcher
and the control socket use them from other threads). A reload makes a new stage with
``with_settings``; it shares the memory, the history, the reader and the key watcher.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from voicetype.context import CaretReader
from voicetype.context.focus import identity, is_terminal, wire
from voicetype.context.keywatch import KeyMarker, NoKeyWatch
from voicetype.dictation import Inserted, PhraseChain
from voicetype.history_store import HistoryStore
from voicetype.insertion import Inserter, InsertionError, Target
from voicetype.recognition.messages import Message
from voicetype.text import (
    UNKNOWN,
    CaretContext,
    DictationMemory,
    History,
    Outcome,
    Phrase,
    TextPipeline,
    Typed,
)
from voicetype.text.pipeline import CONTEXT_CHARS
from voicetype.text.settings import TextSettings

log = logging.getLogger(__name__)

#: The longest the caret read may take (seconds); then the memory is used instead.
CARET_TIMEOUT = 0.1


class TextStage:
    """The pipeline for one configuration plus the daemon-long memory, history, caret
    reader and key watcher (``keys``). Immutable once made."""

    def __init__(
        self,
        settings: TextSettings,
        reader: CaretReader,
        memory: DictationMemory,
        history: History,
        keys: KeyMarker,
        wall: Callable[[], float] = time.time,
        store: HistoryStore | None = None,
    ) -> None:
        self.settings, self.reader, self.memory = settings, reader, memory
        self.history, self.keys, self.wall = history, keys, wall
        self.store = store  # [history] keep: the history is also saved there
        self.pipeline = TextPipeline(settings)

    def with_settings(self, settings: TextSettings, store: HistoryStore | None) -> TextStage:
        """The stage for a reload: new settings (and history size) and store, the same
        memory, reader and key watcher; the history's entries are kept."""
        history = self.history
        if settings.history_size != self.settings.history_size:
            history = History(settings.history_size)
            for entry in reversed(self.history.entries()):
                history.add(entry.text, entry.at, entry.language)
        return TextStage(settings, self.reader, self.memory, history, self.keys, self.wall, store)

    def deliver(
        self,
        inserter: Inserter,
        phrases: Sequence[Phrase],
        target: Target | None,
        clock: Callable[[], float],
        refocus: bool = False,
        chain: PhraseChain | None = None,
    ) -> Inserted:
        """Worker thread: the whole typing step (see the module doc). ``chain``: the
        hands-free session the phrases belong to; they join what it typed last when
        nothing else tells the text before the caret, and it is updated. Errors other than
        ``InsertionError`` propagate (the memory and the chain are forgotten first)."""
        if refocus:
            target = inserter.focused_target()
        start = clock()
        window = _window_of(target)
        wayland = window is None and getattr(inserter, "is_terminal", None) is not None
        if wayland:
            context, window = self._accessible_context()  # AT-SPI names the window
        else:
            context = self._context(inserter, window)
        if getattr(target, "terminal", None) is True:  # named by sway or Hyprland
            context = replace(context, is_terminal=True)
        previous = self.memory.previous()
        log.debug(
            "memory: %s, keys typed since: %s",
            "a dictation" if previous.typed else "nothing", previous.keys_since,
        )  # fmt: skip
        continues = chain.last if chain is not None else None
        wayland = wayland or (window is not None and hasattr(target, "identity"))
        if wayland and context.before is None and previous.typed is not None:
            # No key watcher on Wayland and the text is unread: the memory may join (one
            # space, capitals) but never erase (no period taken back, no "scratch that").
            last = previous.typed
            fresh = 0 <= start - last.at <= self.settings.join_seconds
            if continues is None and last.window == window and fresh:
                continues = last
            previous = replace(previous, typed=None, unread=last.window == window)
        outcome = self.pipeline.process(phrases, context, previous, window, start, continues)
        notice = None
        if outcome.notice is not None:
            notice = Message(outcome.notice.message, outcome.notice.fix)
        try:
            text, breaks = _final_breaks(outcome.text)
            with self.keys.ours():
                if outcome.backspaces:
                    inserter.press("BackSpace", outcome.backspaces, target)
                if text:
                    inserter.insert(text, target)
                if breaks:
                    inserter.press("Return", breaks, target)
        except InsertionError as exc:
            self.memory.forget()
            if chain is not None:
                chain.last = None
            return Inserted(exc, (clock() - start) * 1000, typed=outcome.text,
                            private=outcome.private)  # fmt: skip
        except Exception:
            self.memory.forget()
            if chain is not None:
                chain.last = None
            raise
        done = clock()
        self.memory.commit(window, outcome, done)
        if chain is not None:
            chain.last = _chained(chain.last, window, outcome, done)
        self.history.add_outcome(outcome, self.wall())
        if self.store is not None and not (outcome.private or outcome.scratch):
            self.store.save(self.history.entries())
        if outcome.private:
            log.info("typed into a password field: not remembered, not in the history")
        note = getattr(inserter, "last_note", None)
        return Inserted(
            None,
            (clock() - start) * 1000,
            note if isinstance(note, str) else None,
            typed=outcome.text,
            erased=outcome.backspaces,
            notice=notice,
            private=outcome.private,
        )

    def _context(self, inserter: Inserter, window: int | None) -> CaretContext:
        """The caret context of ``window``: read through the reader (its process id
        tells the reader which application's focus counts), else ``UNKNOWN``; whether the
        window is a terminal comes from the inserter's per-window profile."""
        terminal = False
        pid: int | None = None
        if window is not None:
            profile = getattr(inserter, "window_profile", None)
            if profile is not None:
                try:
                    terminal = bool(profile(window).terminal)
                    pid = inserter.window_pid(window)  # type: ignore[attr-defined]
                except Exception:
                    log.debug("no profile for window %#x", window, exc_info=True)
        before = time.monotonic()
        context = self.reader.read(pid, CARET_TIMEOUT) if window is not None else None
        ms = (time.monotonic() - before) * 1000
        if context is None:
            log.debug("caret context: not read (%.1f ms); memory decides", ms)
            return replace(UNKNOWN, is_terminal=terminal)
        log.debug("caret context read in %.1f ms (password: %s)", ms, context.is_password)
        return replace(context, is_terminal=terminal or context.is_terminal)

    def _accessible_context(self) -> tuple[CaretContext, int | None]:
        """Where the compositor names no window (the portal; wlroots without sway or Hyprland IPC):
        the focused window as AT-SPI tells it — its identity for the memory, whether it is
        a terminal (not known: treated as one) — and its caret context, all within
        ``CARET_TIMEOUT``."""
        start = time.monotonic()
        focus = self.reader.focused(CARET_TIMEOUT)
        asked = time.monotonic()
        window, terminal = identity(focus), is_terminal(focus)
        log.debug(
            "focused window: %s (%s), terminal: %s, asked in %.1f ms",
            focus.app if focus else "not known", focus.role if focus else "-", terminal,
            (asked - start) * 1000,
        )  # fmt: skip
        left = CARET_TIMEOUT - (asked - start)
        context = None
        if focus is not None and focus.pid is not None and left > 0.005:
            context = self.reader.read(focus.pid, left)
        if context is None:
            return replace(UNKNOWN, is_terminal=terminal), window
        return replace(context, is_terminal=terminal or context.is_terminal), window

    def close(self) -> None:
        """Stop the reader's helper process and the key watcher (daemon exit)."""
        for part in (self.keys, self.reader):
            try:
                part.close()
            except Exception:
                log.debug("error while closing %r", part, exc_info=True)


def type_once(
    settings: TextSettings, inserter: Inserter, phrases: Sequence[Phrase], reader: CaretReader
) -> Inserted:
    """``voicetype once``: the daemon's typing step for one dictation into the window
    focused now, in a process that remembers no earlier dictation — the caret context
    through ``reader`` (bounded as in the daemon), the pipeline, Backspace, insert, Return.
    Nothing is kept. Errors other than ``InsertionError`` propagate."""
    wire(inserter, reader)  # Wayland: is the focused window a terminal? (AT-SPI)
    stage = TextStage(settings, reader, DictationMemory(), History(0), NoKeyWatch())
    return stage.deliver(inserter, phrases, None, time.monotonic, refocus=True)


def _chained(last: Typed | None, window: int | None, outcome: Outcome, now: float) -> Typed | None:
    """What a hands-free session typed last after ``outcome`` went to ``window``: the tail
    of its text there (a password field's or a taken-back dictation's: nothing — the
    memory alone knows what a "scratch that" left)."""
    if outcome.private or outcome.scratch:
        return None
    if not outcome.does_something:
        return last
    tail = last.text if last is not None and last.window == window else ""
    if outcome.erase and tail.endswith(outcome.erase):
        tail = tail[: -len(outcome.erase)]
    return Typed(window, (tail + outcome.text)[-CONTEXT_CHARS:], now)


def _final_breaks(text: str) -> tuple[str, int]:
    """``text`` without the line breaks it ends with, and how many: a spoken "new line"
    at the end of a dictation is pressed as Return, since ``Inserter.insert`` strips final
    line breaks (the service's own). The pipeline never gives a terminal a line break."""
    head = text.rstrip("\n")
    return head, len(text) - len(head)


def _window_of(target: Target | None) -> int | None:
    """The target's window for the memory: ``identity`` (Wayland targets), else
    ``window`` (X11 window ids)."""
    window = getattr(target, "identity", None)
    if not isinstance(window, int):
        window = getattr(target, "window", None)
    return window if isinstance(window, int) else None
