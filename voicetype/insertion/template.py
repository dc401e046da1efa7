"""The ``Inserter.insert`` contract written once; each platform supplies a small ``Port``.

``insert_with(port, text, target)``:

1. sanitize (``insertion.sanitize``), then ``port.clean`` (refuse or drop what the
   platform can't type); an empty text does nothing at all;
2. ``port.wait_modifiers_released()`` (bounded; raises ``InsertionError``);
3. ``port.ensure_focus(target)`` → the window (raises ``TargetGone`` / ``InsertionError``);
4. ``port.shape(text, window)`` (per-window rules; empty: nothing more happens);
5. ``with port.delivery(text, window) as chunks`` — the port prepares (binds keys, takes
   the clipboard, …) and restores on the way out, also on errors; for each chunk:
   ``port.between(typed, total)`` (may raise, e.g. Escape; True when it paused), a focus
   check (``port.focus_is_in``) when the chunk asks for one or the port paused — a lost
   focus raises ``port.focus_lost(typed, total)`` — then ``port.send(chunk.payload, typed,
   total)``.

``insert_clean`` starts at step 1's ``port.clean`` for callers that have sanitized already
(``PerAppInserter``), so a text is sanitized once per path.

Threading: runs on the caller's thread; a port is used from one thread at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from voicetype.insertion import InsertionError, Target, sanitize

P = TypeVar("P")
W = TypeVar("W")


@dataclass(frozen=True)
class Chunk(Generic[P]):
    """One unit of delivery: ``payload`` for ``Port.send``, worth ``chars`` characters;
    ``check_focus``: check that the target still has the focus before sending it."""

    payload: P
    chars: int
    check_focus: bool = True


class Port(Protocol[W, P]):
    """What one platform provides to ``insert_with``; see the module docstring."""

    def clean(self, text: str) -> str: ...

    def wait_modifiers_released(self) -> None: ...

    def ensure_focus(self, target: Target | None) -> W: ...

    def shape(self, text: str, window: W) -> str: ...

    def delivery(self, text: str, window: W) -> AbstractContextManager[Iterator[Chunk[P]]]: ...

    def between(self, typed: int, total: int) -> bool: ...

    def focus_is_in(self, window: W) -> bool: ...

    def focus_lost(self, typed: int, total: int) -> InsertionError: ...

    def send(self, payload: P, typed: int, total: int) -> None: ...


def insert_with(port: Port[Any, Any], text: str, target: Target | None) -> None:
    """Sanitize ``text`` and insert it through ``port`` (module docstring, steps 1–5)."""
    insert_clean(port, sanitize(text), target)


def insert_clean(port: Port[Any, Any], text: str, target: Target | None) -> None:
    """``insert_with`` for a ``text`` that is sanitized already."""
    text = port.clean(text)
    if not text:
        return
    port.wait_modifiers_released()
    window = port.ensure_focus(target)
    text = port.shape(text, window)
    if not text:
        return
    total = len(text)
    typed = 0
    with port.delivery(text, window) as chunks:
        for chunk in chunks:
            paused = port.between(typed, total)
            if (paused or chunk.check_focus) and not port.focus_is_in(window):
                raise port.focus_lost(typed, total)
            port.send(chunk.payload, typed, total)
            typed += chunk.chars
