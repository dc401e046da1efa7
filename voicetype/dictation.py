"""One dictation's pieces apart from the state machine: presses and their answers, the
parts a dictation uses, its record, the blocking steps the controller's worker runs, and
the words for each outcome.

Pure: no desktop or SDK imports. Threading is stated per class; the controller
(``voicetype.controller``) ties them together.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from voicetype.insertion import (
    Inserter,
    InsertionError,
    Target,
    TargetGone,
    TypingStopped,
    sanitize,
)
from voicetype.modes import ModeSettings
from voicetype.notify import Urgency
from voicetype.recognition import (
    AudioInput,
    ErrorKind,
    Failed,
    Microphone,
    NoMatch,
    NoMatchReason,
    RecognitionResult,
    Recognized,
    Recognizer,
)
from voicetype.recognition.messages import Message, describe_failure, describe_no_match
from voicetype.state import State
from voicetype.text.history import History
from voicetype.text.model import Phrase, Typed

if TYPE_CHECKING:
    from voicetype.listening import Listener

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControllerSettings:
    include_text_in_log: bool = False
    notify_no_match: bool = True
    start_sound: bool = True
    stop_sound: bool = True  # [feedback] stop_sound: a sound when listening ends (modes)
    #: [dictation]: what presses and releases mean (``voicetype.modes``)
    modes: ModeSettings = field(default_factory=ModeSettings)
    #: [azure] timeout_seconds: a single utterance with no word from the service this long
    #: after the microphone opened has failed ("stopped answering")
    service_timeout: float = 8.0
    max_chars: int = 10_000  # longer recognitions are refused whole: nothing typed or kept


class PhraseChain:
    """What one hands-free session typed last (``last``: its tail, in the window it went
    to), so that its next phrase joins it where neither the caret context nor the memory
    can tell (``TextPipeline.process(continues=...)``).

    Threading: made on the controller thread for each session, then read and changed only
    by the worker (``TextStep.deliver``), which types a session's phrases one at a time,
    in order."""

    def __init__(self) -> None:
        self.last: Typed | None = None


class TextStep(Protocol):
    """The typing step with the text pipeline (``voicetype.typing_stage.TextStage``): reads
    the caret context, shapes ``phrases`` into the exact edit, erases and inserts, and
    remembers it. ``deliver`` on the worker thread only; ``history`` from any thread.
    ``chain``: the hands-free session this phrase belongs to (None: a dictation of its
    own); ``deliver`` joins to it and updates it."""

    @property
    def history(self) -> History: ...

    def deliver(
        self,
        inserter: Inserter,
        phrases: Sequence[Phrase],
        target: Target | None,
        clock: Callable[[], float],
        refocus: bool = False,
        chain: PhraseChain | None = None,
    ) -> Inserted: ...


@dataclass(frozen=True)
class DictationParts:
    """What dictations use, built by the composition root and replaced whole by a reload
    (``Controller.apply``); never changed in place."""

    recognizer: Recognizer | None  # None: no key configured; a press explains how to set one
    inserter: Inserter | None  # None: no way to type here; the text goes to the notification
    settings: ControllerSettings = ControllerSettings()
    not_configured: Message | None = None  # what a press says when recognizer is None
    backends: tuple[tuple[str, str], ...] = ()  # for `status`: ("typing", "X11Inserter")…
    #: Own microphone + continuous recognition: dictations follow the recording modes
    #: (``voicetype.live``). None: one ``recognizer.recognize_once`` per press.
    listener: Listener | None = None
    text: TextStep | None = None  # None: the text is typed exactly as recognized


class PressOutcome(enum.Enum):
    """What came of a press (``Press.wait``)."""

    STARTED = "started"  # listening now
    BUSY = "busy"  # a dictation was under way: this press was ignored
    DISABLED = "disabled"  # voicetype is turned off: ignored
    NOT_CONFIGURED = "not_configured"  # no key: the user was told how to set one
    STOPPED = "stopped"  # it stopped the listening under way (the text follows)
    CANCELLED = "cancelled"  # it cancelled the dictation under way: nothing is typed
    NOT_LISTENING = "not_listening"  # stop or cancel with no dictation under way


class Press:
    """One press's answer. The controller answers it; any thread may ``wait`` for it.

    A submitter that stops waiting (``wait`` timed out) abandons the press: if the
    controller had not taken it yet it never will, so a press is never started after its
    submitter reported a failure.
    """

    #: After the controller took the press, its answer follows without any I/O in between.
    CLAIMED_GRACE = 0.2

    def __init__(self, source: str) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._answered = threading.Event()
        self._outcome: PressOutcome | None = None
        self._claimed = False
        self._abandoned = False

    def wait(self, timeout: float) -> PressOutcome | None:
        """The outcome, or None when the controller did not take the press within
        ``timeout`` seconds (it then never will)."""
        if not self._answered.wait(max(0.0, timeout)):
            with self._lock:
                if not self._claimed:
                    self._abandoned = True
                    return None
            self._answered.wait(self.CLAIMED_GRACE)
        return self._outcome

    def claim(self) -> bool:
        """Controller thread: take the press; False when its submitter gave up on it."""
        with self._lock:
            if self._abandoned:
                return False
            self._claimed = True
            return True

    def answer(self, outcome: PressOutcome) -> None:
        """Controller thread, after ``claim``."""
        self._outcome = outcome
        self._answered.set()


#: The tooltip's answer to a press made while a dictation is visibly under way.
BUSY_DETAIL = {
    State.LISTENING: "Already listening — speak, or wait for the text",
    State.RECOGNIZING: "Already recognizing — wait for the text",
    State.TYPING: "Still typing the last dictation — wait for it to finish",
}

#: Told when a dictation could not be typed (window closed, typing failed); the words are
#: kept until "Type last dictation" types them.
KEPT_HINT = (
    "Your words are kept: click where they should go, then choose "
    "“Type last dictation” in the tray menu."
)

#: Told instead of ``KEPT_HINT`` when typing may have stopped part-way: "Type last
#: dictation" types the whole text, so following the usual advice could type part twice.
PARTLY_TYPED_HINT = (
    "Part of the text may be in the window already. Your words are kept: remove that part "
    "before choosing “Type last dictation”, which types them all."
)


@dataclass
class DictationRecord:
    """What the last dictation did, for ``status`` and the log (never the key)."""

    outcome: str = ""
    chars: int = 0
    recognize_ms: float = 0.0
    insert_ms: float = 0.0


@dataclass
class Session:
    """The dictation (or "Type last dictation") under way. Controller thread only; the
    worker's jobs get the parts and the target as arguments, never this object's fields."""

    number: int  # 0 for "Type last dictation"
    source: str  # hotkey, menu, command
    started: float
    parts: DictationParts
    record: DictationRecord = field(default_factory=DictationRecord)


# -- the worker's jobs: blocking calls, no state; each returns what it found -----------


@dataclass(frozen=True)
class Heard:
    target: Target | None  # the window focused at the press
    result: RecognitionResult
    at: float  # clock() when the result was known


def listen(
    parts: DictationParts,
    audio: AudioInput,
    cue: Callable[[], None],
    microphone_check: Callable[[], Failed | None] | None,
    clock: Callable[[], float],
) -> Heard:
    """Worker thread: remember the focused window, play the cue, recognize one utterance."""
    assert parts.recognizer is not None
    target = parts.inserter.focused_target() if parts.inserter else None
    if parts.settings.start_sound:
        try:
            cue()
        except Exception:
            log.debug("start sound failed", exc_info=True)
    result = parts.recognizer.recognize_once(audio)
    at = clock()
    if isinstance(result, Failed):
        result = _blame_microphone(result, audio, microphone_check)
    return Heard(target, result, at)


def _blame_microphone(
    result: Failed, audio: AudioInput, check: Callable[[], Failed | None] | None
) -> Failed:
    """A timeout while the microphone cannot be opened is the microphone's fault: a dead
    audio server starves the service of audio, which otherwise looks like a silent one."""
    if result.kind is not ErrorKind.SERVICE_TIMEOUT or not isinstance(audio, Microphone):
        return result
    if check is None:
        return result
    try:
        problem = check()
    except Exception:
        log.debug("microphone check failed", exc_info=True)
        return result
    if problem is None:
        return result
    log.warning("the microphone stopped during the dictation: %s", problem.detail)
    return Failed(ErrorKind.MICROPHONE_UNAVAILABLE, f"the microphone stopped: {problem.detail}")


@dataclass(frozen=True)
class Inserted:
    error: InsertionError | None  # None: typed
    ms: float
    note: str | None = None  # how it went when not as asked ("pasted instead", "not confirmed")
    # Set by the text stage (``voicetype.typing_stage``): the text it inserted (None: the
    # text as given), the Backspaces it pressed first, what it refused to do (told to the
    # user), and whether the window was a password field (nothing logged or kept).
    typed: str | None = None
    erased: int = 0
    notice: Message | None = None
    private: bool = False


def insert(
    inserter: Inserter,
    text: str,
    target: Target | None,
    clock: Callable[[], float],
    refocus: bool = False,
) -> Inserted:
    """Worker thread: type ``text`` into ``target`` (``refocus``: into the window focused
    now, for "Type last dictation"). Errors other than ``InsertionError`` propagate."""
    if refocus:
        target = inserter.focused_target()
    start = clock()
    try:
        inserter.insert(text, target)
    except InsertionError as exc:
        return Inserted(exc, (clock() - start) * 1000)
    # Only the X11 inserters keep a note (the others always insert as asked).
    note = getattr(inserter, "last_note", None)
    return Inserted(None, (clock() - start) * 1000, note if isinstance(note, str) else None)


def type_phrase(
    parts: DictationParts,
    phrase: Phrase,
    text: str,
    clock: Callable[[], float],
    chain: PhraseChain,
) -> Inserted:
    """Worker thread: one hands-free phrase into the window focused now — ``phrase``
    through the text stage (joined to what the session typed before: ``chain``), or, with
    no text stage, ``text`` as the mode machine gave it (its separating space included).
    Errors other than ``InsertionError`` propagate."""
    assert parts.inserter is not None
    if parts.text is None:
        return insert(parts.inserter, text, None, clock, refocus=True)
    return parts.text.deliver(parts.inserter, (phrase,), None, clock, refocus=True, chain=chain)


def phrases_of(result: RecognitionResult, text: str) -> tuple[Phrase, ...]:
    """The text pipeline's phrases for ``text`` (the display form as ``judge`` gave it),
    with the service's other forms and language when ``result`` has them."""
    if isinstance(result, Recognized):
        return (Phrase(text, result.lexical, result.itn, result.masked_itn, result.language),)
    return (Phrase(text),)


def release(recognizer: Recognizer | None) -> None:
    """Worker thread: after the text is typed (or the user told), free the microphone
    and the connection."""
    if recognizer is None:
        return
    try:
        recognizer.release()
    except Exception:
        log.exception("could not release the recognizer")


def close(part: object) -> None:
    """Worker thread: close a part a reload replaced (a recognizer or an inserter)."""
    closer = getattr(part, "close", None)
    if closer is None:
        return
    try:
        closer()
    except Exception:
        log.debug("error while closing %r", part, exc_info=True)


class Worker:
    """Runs jobs one at a time, in order, on its own thread ("dictation"): the only thread
    that calls the recognizer's and the inserter's methods (but ``Recognizer.cancel``).
    ``submit`` may be called from any thread and never blocks; a job that raises is
    logged and ``failed`` is called with the exception (on the worker thread)."""

    def __init__(self, failed: Callable[[Exception], None]) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._failed = failed
        self._thread = threading.Thread(target=self._run, name="dictation", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def stop(self, timeout: float) -> bool:
        """Stop after the jobs already submitted; False when it did not end in time."""
        self._jobs.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception as exc:
                log.exception("internal error in a dictation step")
                self._failed(exc)


# -- how a dictation ends (pure) ---------------------------------------------------------


@dataclass(frozen=True)
class Ending:
    """How a dictation ends: the record's outcome, what to tell, and the final state."""

    outcome: str
    message: Message | None = None
    urgency: Urgency = Urgency.NORMAL
    error: str | None = None  # not None: the state becomes ERROR with this detail
    keep: bool = False  # keep the text for "Type last dictation"
    dictated: bool = False  # the message holds the dictated text (``Feedback.tell``)


def judge(result: RecognitionResult, settings: ControllerSettings) -> str | Ending:
    """The text to type, or how the dictation ends without typing.

    The text comes back without control characters (``insertion.sanitize``): from here
    it reaches the text pipeline, the notifications, the log, the history and ``voicetype
    history`` in a terminal, none of which cleans it. The inserter cleans what it types
    once more — its own promise to every caller (``once``, retyping) — which costs about
    0.1 µs per character (20 µs for a 200-character dictation): kept on purpose."""
    if isinstance(result, Recognized):
        length, cap = len(result.text), settings.max_chars
        if length > cap:
            return Ending(
                f"not typed (too long: {length} characters, limit {cap})",
                Message(
                    "The recognized text is too long",
                    f"The recognized text is {length:,} characters long, over the {cap:,} "
                    "limit; nothing was typed. To allow longer texts, raise [typing] "
                    "max_chars in config.toml.",
                ),
            )
        text = sanitize(result.text)
        if text.strip():
            return text
        result = NoMatch(NoMatchReason.NOT_RECOGNIZED, "the service returned empty text")
    if isinstance(result, NoMatch):
        message = describe_no_match(result) if settings.notify_no_match else None
        return Ending(f"no match ({result.reason.value})", message, Urgency.LOW)
    if result.detail:
        log.warning("recognition failed: %s (%s)", result.kind.value, result.detail)
    failure = describe_failure(result)
    return Ending(f"failed ({result.kind.value})", failure, error=failure.as_text())


def judge_typing(text: str, inserted: Inserted | None) -> Ending:
    """How typing ``text`` ended (``inserted`` None: nothing can type here)."""
    if inserted is None:
        message = Message("Recognized, but can't type here", f"You said: {text}")
        return Ending("not typed (no typing backend)", message, keep=True, dictated=True)
    error = inserted.error
    if error is None:
        said = [inserted.note] if inserted.note else []
        if inserted.erased:
            said.append(f"{inserted.erased} erased first")
        outcome = f"typed ({'; '.join(said)})" if said else "typed"
        if inserted.notice is None:
            return Ending(outcome)
        if not (inserted.typed or inserted.erased):
            outcome = "refused (nothing changed)"
        return Ending(outcome, inserted.notice, Urgency.LOW)
    if isinstance(error, TypingStopped):  # the user's own Escape: told, not an error
        return Ending(
            f"stopped by Escape ({error.typed} of {error.total} chars typed)",
            Message("Typing stopped", f"{error}; the rest was not typed."),
            Urgency.LOW,
        )
    if inserted.private:  # a password field: nothing is kept, so nothing to retype
        return Ending(
            "typing failed (password field, not kept)",
            Message("Could not type the text", f"{error} Say it again, or type it."),
            error=str(error),
        )
    if isinstance(error, TargetGone):
        message = Message(
            "The window closed before the text arrived", f"Nothing was typed. {KEPT_HINT}"
        )
        return Ending("kept (window closed)", message, keep=True)
    nothing = nothing_typed(error)
    return Ending(
        "typing failed" if nothing else "typing failed (part may be typed)",
        Message(
            "Could not type the text", f"{error} {KEPT_HINT if nothing else PARTLY_TYPED_HINT}"
        ),
        error=str(error),
        keep=True,
    )


#: How every inserter says that an ``InsertionError`` left the window untouched.
_NOTHING_TYPED = ("nothing was typed", "nothing was pasted", "nothing typed")


def nothing_typed(exc: InsertionError) -> bool:
    """Whether the window is known to have received none of the text.

    ``InsertionError`` carries no count yet: the inserters say "nothing was typed" (or
    pasted) in their message when that is known; any other failure may have typed a part.
    """
    return isinstance(exc, TargetGone) or any(p in str(exc).lower() for p in _NOTHING_TYPED)
