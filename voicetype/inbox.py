"""The controller's queue and its events: the any-thread side of the controller.

Every method of ``Inbox`` may be called from any thread (hotkey listener, tray loop,
control workers, the SDK's threads, the reload thread) and only puts an event on the
queue: none blocks, none reads or changes the state. The controller thread
(``voicetype.controller.Controller.run``) takes the events one at a time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from voicetype import dictation as d
from voicetype import listening
from voicetype.dictation import DictationParts, Press, Session
from voicetype.listening import Live as Listening
from voicetype.notify import Urgency
from voicetype.recognition.events import SessionEvent
from voicetype.recognition.messages import Message

#: What a press means (``Dictate.edge``): a tap (``voicetype dictate``, the menu), the key
#: going down or up (the hotkey; ``voicetype start`` / ``stop``), or a cancel (Escape while
#: listening, ``voicetype cancel``, the menu).
TAP, DOWN, UP, CANCEL = "tap", "down", "up", "cancel"


@dataclass(frozen=True)
class Dictate:
    press: Press
    edge: str = TAP


@dataclass(frozen=True)
class Recognition:
    """An event of a listening session (SDK or PortAudio thread)."""

    live: Listening
    event: SessionEvent


@dataclass(frozen=True)
class Opened:
    """The worker opened the microphone for ``live`` (or could not)."""

    live: Listening
    opened: listening.Opened


@dataclass(frozen=True)
class PhraseTyped:
    """The worker typed a phrase of a hands-free session (or failed to)."""

    session: Session
    text: str
    inserted: d.Inserted


@dataclass(frozen=True)
class Flip:
    """Turn voicetype off when on, on when off."""

    answer: Callable[[bool], None] | None = None


@dataclass(frozen=True)
class SpeechEnded:
    pass


@dataclass(frozen=True)
class Heard:
    session: Session
    heard: d.Heard


@dataclass(frozen=True)
class Inserted:
    session: Session
    text: str
    inserted: d.Inserted


@dataclass(frozen=True)
class Crashed:
    """A worker job raised (and was logged)."""


@dataclass(frozen=True)
class Tell:
    messages: tuple[Message, ...]
    urgency: Urgency
    problem: str | None = None  # not None: show it as the state's detail (``Inbox.tell``)


@dataclass(frozen=True)
class Apply:
    parts: DictationParts
    tell: Tell | None
    done: Callable[[], None]


@dataclass(frozen=True)
class TypeLast:
    source: str
    text: str | None = None  # a text of the history (the tray's Recent); None: the kept one


@dataclass(frozen=True)
class Call:
    func: Callable[[], None]


@dataclass(frozen=True)
class Quit:
    pass


Event = (
    Dictate | Flip | SpeechEnded | Heard | Inserted | Crashed | Tell | Apply | TypeLast
    | Call | Quit | Recognition | Opened | PhraseTyped
)  # fmt: skip
#: Held while a dictation is under way, handled in order once it ended.
AFTER_SESSION = (Apply, TypeLast, Call)


class Inbox:
    """The any-thread side of the controller (see the module doc)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._quitting = threading.Event()

    def press(self, source: str, edge: str = TAP) -> Press:
        """Submit a press (the controller's module doc says what becomes of it); ``wait``
        on the result for its outcome. ``edge``: ``TAP``, ``DOWN``, ``UP`` or ``CANCEL``."""
        press = Press(source)
        self._queue.put(Dictate(press, edge))
        return press

    def recognition_event(self, live: Listening, event: SessionEvent) -> None:
        """A listening session's event (SDK threads): only enqueues."""
        self._queue.put(Recognition(live, event))

    def flip_enabled(self, answer: Callable[[bool], None] | None = None) -> None:
        """Turn voicetype off when on and on when off, as the controller finds it: two
        flips cancel out. ``answer(enabled)`` runs on the controller thread."""
        self._queue.put(Flip(answer))

    def submit_type_last(self, source: str = "menu", text: str | None = None) -> None:
        """Type the kept text (or ``text``, a dictation of the history) into the window
        focused when this is handled; tells the user when nothing is kept. Never starts a
        recognition."""
        self._queue.put(TypeLast(source, text))

    def speech_ended(self) -> None:
        """The recognizer heard the speech end (SDK thread): "recognizing" while listening."""
        self._queue.put(SpeechEnded())

    def apply(
        self,
        parts: DictationParts,
        told: Message | None = None,
        problem: str | None = None,
        urgency: Urgency = Urgency.LOW,
        done: Callable[[], None] = lambda: None,
    ) -> None:
        """Use ``parts`` from the next dictation on (a reload); the parts they replace are
        closed. Then tell ``told`` (as ``tell``) and call ``done`` on the controller
        thread, so whoever waits for ``done`` finds the new state in ``status``."""
        tell = Tell((told,), urgency, problem) if told is not None else None
        self._queue.put(Apply(parts, tell, done))

    def tell(
        self, messages: tuple[Message, ...], urgency: Urgency, problem: str | None = None
    ) -> None:
        """Tell the user (``Feedback``). With ``problem`` (a startup or reload problem),
        once no dictation is under way, show it as the tooltip's detail (or the message
        when no notification showed it), with the icon in error when no key is set."""
        self._queue.put(Tell(messages, urgency, problem))

    def submit_call(self, func: Callable[[], None]) -> None:
        """Run ``func`` on the controller thread once no dictation is under way."""
        self._queue.put(Call(func))
