"""A fake Azure speech service: a websocket server on 127.0.0.1 speaking the SDK's USP protocol.

The real ``azure-cognitiveservices-speech`` SDK reaches it through
``SpeechConfig(host="ws://127.0.0.1:PORT", subscription=KEY)`` (in voicetype: the
``AZURE_AI_SPEECH_HOST`` / ``AZURE_AI_SPEECH_KEY`` environment variables, see ``env()``).

What the SDK does on the wire (SDK 1.53): ``GET /speech/recognition/<mode>/cognitiveservices/v1
?language=…`` with ``Sec-WebSocket-Protocol: USP`` and the key in ``Ocp-Apim-Subscription-Key``;
text frames ``speech.config`` and ``speech.context`` (``Name:value`` CRLF header lines, a blank
line, JSON); binary audio frames (2-byte big-endian header length, CRLF header lines with
``Path:audio`` and ``X-RequestId``, payload: a 44-byte RIFF header first, then 16 kHz mono 16-bit
PCM); an empty payload ends the audio. The answer is text frames ``turn.start``,
``speech.phrase``, ``turn.end`` carrying the client's ``X-RequestId`` with CRLF line ends.

What the fake reads from the request (recorded on ``Turn``): the phrase list (speech.context
``dgi`` groups: ``Turn.phrase_list``); language identification (speech.context ``languageId``
with ``languages`` and ``mode`` "DetectAtAudioStart"/"DetectContinuous", plus ``lidEnabled``
in the URL): the answer then carries ``PrimaryLanguage`` naming one of the candidates
(``Behaviour.languages``, else the first); profanity (speech.context ``phraseDetection.
enrichment.profanity``, also ``profanity=`` in the URL): the words of ``PROFANE_WORDS`` are
masked with ``*`` (the service's default), removed, or kept raw; ``format=detailed`` adds
``NBest`` with Lexical/ITN/MaskedITN/Display.

Scripting: every *attempt* the SDK makes consumes one ``Behaviour`` from the queue given to
``script()`` (falling back to ``default``). An attempt is a websocket upgrade that the behaviour
rejects with an HTTP status, or else one turn (one utterance) on an accepted connection. The
SDK retries service errors and lost connections (5 times, ~0.3 s apart), so a test that wants
"fails once, then works" scripts ``script(Behaviour.status("Error"), Behaviour.say("hi"))``.

Threading: the server runs its own asyncio loop in a daemon thread. Every public method and
the records may be used from any thread; records are snapshots (copies) taken under a lock,
and the ``wait_*`` methods block the caller for at most their timeout (``TimeoutError``).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

T = TypeVar("T")

KEY_HEADER = "Ocp-Apim-Subscription-Key"
BYTES_PER_SECOND = 32_000  # 16 kHz mono 16-bit, what the SDK sends
_RIFF_HEADER = 44
_HNS_PER_BYTE = 10_000_000 / BYTES_PER_SECOND  # Offset/Duration are in 100-ns units

Mode = Literal["answer", "http", "silent", "drop", "raw", "endless", "continuous"]
Trigger = Literal["end_of_audio", "first_audio"]

# RecognitionStatus values the SDK understands (Success gives text, the next three NoMatch,
# the rest Canceled with the matching CancellationErrorCode).
RECOGNITION_STATUSES = (
    "Success",
    "NoMatch",
    "InitialSilenceTimeout",
    "BabbleTimeout",
    "Error",
    "TooManyRequests",
    "BadRequest",
    "Forbidden",
    "ServiceUnavailable",
)


@dataclass(frozen=True)
class Behaviour:
    """What the fake does for one attempt. Build with the class methods, adjust with ``replace``.

    ``delay``: seconds to wait after the trigger before answering (or closing).
    ``answer_after``: answer once this many seconds of PCM have arrived, even without an
    end-of-audio frame (the SDK never ends microphone audio by itself: the service decides
    when the utterance is over); ``None`` waits for ``trigger``.
    ``progress_every``: while waiting, send ``speech.startDetected`` and then a
    ``speech.hypothesis`` per this many seconds of audio received, as the real service does
    while someone speaks (the SDK fires ``speech_start_detected`` / ``recognizing``).
    """

    mode: Mode = "answer"
    text: str = ""
    recognition_status: str = "Success"
    hypotheses: tuple[str, ...] = ()
    hypothesis_interval: float = 0.0
    delay: float = 0.0
    trigger: Trigger = "end_of_audio"
    answer_after: float | None = None
    progress_every: float | None = None
    http_status: int = 0
    http_body: str = ""
    send_turn_start: bool = True
    send_turn_end: bool = True
    drop_after_bytes: int = 0
    abrupt: bool = True
    raw_frames: tuple[str | bytes, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    phrases: tuple[str, ...] = ()  # ``continuous``: the text of each phrase, in order
    silence: float = 0.4  # ``continuous``: a pause this long ends a phrase
    energy: int = 300  # ``continuous``: RMS (16-bit) from which a 10 ms frame is speech
    #: Language identification: the language to answer with when the client asked the
    #: service to identify (a ``languageId`` section in speech.context); ``continuous``:
    #: one per phrase (the last one repeats). Empty, or not among the client's candidates:
    #: the first candidate (the real service always answers one of them).
    languages: tuple[str, ...] = ()

    @classmethod
    def say(
        cls,
        text: str,
        *,
        hypotheses: Iterable[str] = (),
        delay: float = 0.0,
        answer_after: float | None = None,
        progress_every: float | None = None,
    ) -> Behaviour:
        """Recognize ``text`` (sent byte-exact as ``DisplayText``), after optional hypotheses."""
        return cls(
            text=text,
            hypotheses=tuple(hypotheses),
            delay=delay,
            answer_after=answer_after,
            progress_every=progress_every,
        )

    def identifying(self, *languages: str) -> Behaviour:
        """This behaviour, answering ``languages`` when asked to identify (see the field)."""
        return replace(self, languages=languages)

    @classmethod
    def status(cls, name: str, *, delay: float = 0.0, **extra: Any) -> Behaviour:
        """Answer with ``RecognitionStatus: name`` (see ``RECOGNITION_STATUSES``); ``extra``
        adds fields to the ``speech.phrase`` JSON."""
        return cls(recognition_status=name, delay=delay, extra=extra)

    @classmethod
    def http(cls, status: int, body: str = "") -> Behaviour:
        """Refuse the websocket upgrade with this HTTP status (401, 403, 429, 500, 503…)."""
        return cls(mode="http", http_status=status, http_body=body)

    @classmethod
    def silent(cls, *, turn_start: bool = False) -> Behaviour:
        """Accept, read everything, never answer (optionally after sending ``turn.start``)."""
        return cls(mode="silent", send_turn_start=turn_start)

    @classmethod
    def drop(cls, *, after_bytes: int = 1, abrupt: bool = True) -> Behaviour:
        """Close the connection once ``after_bytes`` audio bytes arrived (mid-utterance).

        ``abrupt`` resets the TCP connection; otherwise a websocket close frame (1011) is sent.
        """
        return cls(mode="drop", drop_after_bytes=after_bytes, abrupt=abrupt)

    @classmethod
    def endless(cls, text: str = "and then", *, every: float = 0.2) -> Behaviour:
        """Hostile: from the first audio frame on, send a ``speech.hypothesis`` every
        ``every`` seconds (wall clock), each one word longer (the words of ``text`` over and
        over), and never a final answer. Every hypothesis sent is recorded in
        ``Turn.hypotheses_sent``."""
        return cls(mode="endless", text=text, hypothesis_interval=every)

    @classmethod
    def continuous(
        cls,
        *phrases: str,
        silence: float = 0.4,
        delay: float = 0.0,
        progress_every: float | None = 0.5,
        energy: int = 300,
    ) -> Behaviour:
        """Continuous recognition, as the service does it for ``start_continuous_recognition``:
        the audio is cut into phrases by energy (10 ms frames with RMS ≥ ``energy`` are
        speech; ``silence`` seconds below it end a phrase); each phrase gets
        ``speech.startDetected``, a ``speech.hypothesis`` per ``progress_every`` s of its
        speech, and, ``delay`` s after its end, a final ``speech.phrase`` with the next text
        of ``phrases`` (``NoMatch`` once they are used up). At the end of the audio a phrase
        still open is finalized, then ``speech.endDetected`` and ``turn.end``. Every final
        sent is recorded in ``Turn.phrases_sent`` with the time it left."""
        return cls(
            mode="continuous",
            phrases=tuple(phrases),
            silence=silence,
            delay=delay,
            progress_every=progress_every,
            energy=energy,
        )

    @classmethod
    def raw(cls, *frames: str | bytes, delay: float = 0.0) -> Behaviour:
        """Send these frames verbatim at the trigger (for invalid or truncated answers).

        ``{id}`` in a text frame is replaced with the client's X-RequestId.
        """
        return cls(mode="raw", raw_frames=frames, delay=delay)


@dataclass
class Turn:
    """One utterance as the fake saw it. Times are ``time.monotonic()`` (system-wide
    CLOCK_MONOTONIC on Linux, so comparable with other processes' monotonic clocks)."""

    request_id: str
    behaviour: Behaviour
    messages: list[str] = field(default_factory=list)  # Path of every frame received
    audio: bytearray = field(default_factory=bytearray)  # payloads, RIFF header included
    end_of_audio: bool = False
    first_audio_at: float | None = None
    end_of_audio_at: float | None = None
    answered_at: float | None = None  # when the last answer frame left
    hypotheses_sent: list[str] = field(default_factory=list)  # ``Behaviour.endless``
    phrases_sent: list[tuple[str, float]] = field(default_factory=list)  # ``continuous``
    context: dict[str, Any] = field(default_factory=dict)  # the speech.context JSON
    languages_answered: list[str] = field(default_factory=list)  # PrimaryLanguage, in order

    @property
    def phrase_list(self) -> list[str]:
        """The phrase list the SDK sent in speech.context (``dgi`` groups)."""
        groups = self.context.get("dgi", {}).get("Groups", [])
        return [i.get("Text", "") for g in groups for i in g.get("Items", [])]

    @property
    def candidate_languages(self) -> list[str]:
        """The languages the client asked the service to identify among (speech.context
        ``languageId.languages``); empty without identification."""
        return list(self.context.get("languageId", {}).get("languages", []))

    @property
    def language_id_mode(self) -> str:
        """speech.context ``languageId.mode``: "DetectAtAudioStart", "DetectContinuous"."""
        return str(self.context.get("languageId", {}).get("mode", ""))

    @property
    def profanity(self) -> str:
        """What the client asked for profane words (speech.context
        ``phraseDetection.enrichment.profanity``): "masked", "removed", "raw" or ""."""
        enrichment = self.context.get("phraseDetection", {}).get("enrichment", {})
        return str(enrichment.get("profanity", ""))

    @property
    def audio_bytes(self) -> int:
        return len(self.audio)

    @property
    def pcm(self) -> bytes:
        """The audio without the RIFF header the SDK sends first."""
        data = bytes(self.audio)
        return data[_RIFF_HEADER:] if data[:4] == b"RIFF" else data


@dataclass
class Connection:
    """One websocket upgrade request (accepted or refused)."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names as sent; look up with ``header()``
    opened_at: float
    refused_with: int = 0  # HTTP status when the upgrade was refused
    closed_at: float | None = None
    turns: list[Turn] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None


class FakeSpeechService:
    """The server. ``start()`` binds a free port on 127.0.0.1; ``stop()`` closes everything.

    ``key``: the subscription key it accepts; any other key (or none) gets HTTP 401 on the
    upgrade, like Azure. ``default``: the behaviour when the script is empty. ``port``: bind
    this port instead of a free one (a service "coming back" on the address it had).
    """

    def __init__(
        self, key: str | None = None, default: Behaviour | None = None, port: int = 0
    ) -> None:
        self.key = key if key is not None else "fake-" + secrets.token_hex(16)
        self._want_port = port
        self.default = default or Behaviour.say("")
        self._script: deque[Behaviour] = deque()
        self._cond = threading.Condition()
        self._connections: list[Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the fake speech service is not started")
        return self._port

    @property
    def url(self) -> str:
        """The ``host`` to give the SDK: ``ws://127.0.0.1:PORT`` (no path: the SDK adds it)."""
        return f"ws://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables pointing voicetype (e.g. a daemon subprocess) at this fake."""
        return {"AZURE_AI_SPEECH_HOST": self.url, "AZURE_AI_SPEECH_KEY": self.key}

    def start(self, timeout: float = 10.0) -> FakeSpeechService:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(self._serve())
                sock = next(iter(self._server.sockets))
                self._port = int(sock.getsockname()[1])
            except Exception as exc:  # reported to start()'s caller
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-speech", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"fake speech service did not start within {timeout:g} s")
        if errors:
            raise errors[0]
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close the listening socket and every connection; join the thread (bounded)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.wait_for(self._server.wait_closed(), timeout)
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError("fake speech service thread did not stop")

    def __enter__(self) -> FakeSpeechService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ scripting

    def script(self, *behaviours: Behaviour) -> None:
        """Append behaviours, consumed one per attempt (see the module docstring)."""
        with self._cond:
            self._script.extend(behaviours)

    def always(self, behaviour: Behaviour) -> None:
        """Forget the script; every attempt gets ``behaviour``."""
        with self._cond:
            self._script.clear()
            self.default = behaviour

    def _peek(self) -> Behaviour:
        with self._cond:
            return self._script[0] if self._script else self.default

    def _take(self) -> Behaviour:
        with self._cond:
            return self._script.popleft() if self._script else self.default

    # ------------------------------------------------------------ records

    @property
    def connections(self) -> list[Connection]:
        """Snapshot of every upgrade request so far, oldest first."""
        with self._cond:
            return [replace(c, turns=[_copy_turn(t) for t in c.turns]) for c in self._connections]

    @property
    def turns(self) -> list[Turn]:
        """Snapshot of every turn on every connection, oldest first."""
        return [t for c in self.connections for t in c.turns]

    @property
    def last_turn(self) -> Turn:
        turns = self.turns
        if not turns:
            raise AssertionError("the fake speech service saw no turn")
        return turns[-1]

    def wait_until(
        self, predicate: Callable[[FakeSpeechService], T], timeout: float, what: str
    ) -> T:
        """Block until ``predicate(self)`` is truthy (re-checked on every event the fake sees)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
                self._cond.wait(remaining)

    def wait_for_connections(self, count: int = 1, timeout: float = 10.0) -> list[Connection]:
        self.wait_until(lambda s: len(s._connections) >= count, timeout, f"{count} connection(s)")
        return self.connections

    def wait_for_audio(self, nbytes: int = 1, timeout: float = 10.0) -> Turn:
        """Until some turn holds at least ``nbytes`` of audio; returns a snapshot of it."""

        def enough(s: FakeSpeechService) -> bool:
            return any(len(t.audio) >= nbytes for c in s._connections for t in c.turns)

        self.wait_until(enough, timeout, f"{nbytes} audio bytes")
        return next(t for t in self.turns if t.audio_bytes >= nbytes)

    def wait_for_answer(self, timeout: float = 10.0) -> Turn:
        def answered(s: FakeSpeechService) -> bool:
            return any(t.answered_at for c in s._connections for t in c.turns)

        self.wait_until(answered, timeout, "an answer to leave the fake")
        return next(t for t in self.turns if t.answered_at)

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------ server

    async def _serve(self) -> Server:
        return await serve(
            self._handle,
            "127.0.0.1",
            self._want_port,
            process_request=self._process_request,
            select_subprotocol=_select_usp,
            compression=None,
            max_size=None,
            ping_interval=None,
            close_timeout=1,
        )

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        record = Connection(
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers=_headers(request.headers),
            opened_at=time.monotonic(),
        )
        behaviour = self._peek()
        status_code = 0
        if request.headers.get(KEY_HEADER) != self.key:
            status_code = 401
        elif behaviour.mode == "http":
            self._take()
            status_code = behaviour.http_status
        with self._cond:
            record.refused_with = status_code
            if status_code:
                record.closed_at = time.monotonic()
            self._connections.append(record)
            conn.record = record  # type: ignore[attr-defined]
            self._cond.notify_all()
        if status_code:
            body = behaviour.http_body if behaviour.mode == "http" and behaviour.http_body else ""
            return conn.respond(status_code, body or f"fake speech service: {status_code}\n")
        return None

    async def _handle(self, conn: ServerConnection) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        record: Connection = conn.record  # type: ignore[attr-defined]
        session = _Session(self, conn, record)
        try:
            await session.run()
        except (ConnectionClosed, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            await session.cancel_answer()
            with self._cond:
                record.closed_at = time.monotonic()
                self._cond.notify_all()


class _Session:
    """One accepted connection: parses frames, runs the scripted answer for each turn."""

    def __init__(self, service: FakeSpeechService, conn: ServerConnection, record: Connection):
        self.service = service
        self.conn = conn
        self.record = record
        self.turn: Turn | None = None
        self.answer: asyncio.Task[None] | None = None
        self.answered_ids: set[str] = set()
        self.context: dict[str, Any] = {}

    def recognized(self, text: str, turn: Turn | None = None, index: int = 0) -> dict[str, Any]:
        """The fields of a recognized phrase: ``DisplayText``, plus ``NBest`` (Lexical, ITN,
        MaskedITN, Display) when the SDK asked for the detailed format (``format=detailed``
        in the URL), with Lexical/ITN lower case and unpunctuated like Azure's.

        Profanity as the client asked (speech.context, else the URL's ``profanity=``;
        Azure's default is masked): the words of ``PROFANE_WORDS`` get their letters
        replaced by ``*`` ("masked"), are left out ("removed") or kept ("raw");
        ``MaskedITN`` is always masked. With language identification asked for (``turn``
        given), ``PrimaryLanguage`` names one of the candidates (``Behaviour.languages``,
        phrase ``index``)."""
        mode = (turn.profanity if turn else "") or self.record.query.get("profanity", "masked")
        shown = _profanity(text, mode)
        fields: dict[str, Any] = {"DisplayText": shown}
        # A huge text (the bound tests: 50 MB) goes as DisplayText only, one copy, so
        # those tests measure the text, not four more copies of it.
        if self.record.query.get("format", "").lower() == "detailed" and len(text) <= 100_000:
            words = " ".join(_LEXICAL_DROP.sub(" ", shown).lower().split())
            masked = " ".join(_LEXICAL_DROP.sub(" ", _profanity(text, "masked")).lower().split())
            best = {"Confidence": 0.9, "Lexical": words, "ITN": words, "MaskedITN": masked}
            fields["NBest"] = [{**best, "Display": shown}]
        if turn is not None:
            fields.update(self.identified(turn, index))
        return fields

    def identified(self, turn: Turn, index: int = 0) -> dict[str, Any]:
        """``PrimaryLanguage`` for phrase ``index`` when the client asked to identify the
        language (recorded in ``Turn.languages_answered``); nothing otherwise."""
        candidates = turn.candidate_languages
        if not candidates:
            return {}
        scripted = turn.behaviour.languages
        wanted = scripted[min(index, len(scripted) - 1)] if scripted else ""
        language = wanted if wanted in candidates else candidates[0]
        with self.service._cond:
            turn.languages_answered.append(language)
        return {"PrimaryLanguage": {"Language": language, "Confidence": "High"}}

    async def cancel_answer(self) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.cancel()

    async def run(self) -> None:
        async for frame in self.conn:
            if isinstance(frame, str):
                headers, body = _split_text(frame)
                await self.on_text(headers, body)
            else:
                headers, payload = _split_binary(frame)
                await self.on_audio(headers, payload)

    def _turn_for(self, request_id: str) -> Turn:
        if self.turn is None or self.turn.request_id != request_id:
            behaviour = self.service._take()
            self.turn = Turn(request_id=request_id, behaviour=behaviour, context=self.context)
            with self.service._cond:
                self.record.turns.append(self.turn)
        return self.turn

    async def on_text(self, headers: dict[str, str], body: str) -> None:
        path = headers.get("path", "")
        if path == "speech.context":
            try:
                self.context = json.loads(body) if body.strip() else {}
            except ValueError:
                self.context = {"invalid": body}
        request_id = headers.get("x-requestid")
        with self.service._cond:
            if request_id and request_id not in self.answered_ids and path == "speech.context":
                self._turn_for(request_id)
            if self.turn is not None:
                self.turn.messages.append(path)
            self.service._cond.notify_all()

    async def on_audio(self, headers: dict[str, str], payload: bytes) -> None:
        request_id = headers.get("x-requestid", "")
        if request_id in self.answered_ids:
            return  # trailing audio after the answer: the real service ignores it too
        now = time.monotonic()
        with self.service._cond:
            turn = self._turn_for(request_id)
            turn.messages.append(headers.get("path", ""))
            first = turn.first_audio_at is None
            if first:
                turn.first_audio_at = now
            if payload:
                turn.audio.extend(payload)
            elif not turn.end_of_audio:
                turn.end_of_audio = True
                turn.end_of_audio_at = now
            self.service._cond.notify_all()
        b = turn.behaviour
        if first:
            if b.mode not in ("http", "drop") and b.send_turn_start:
                await self.send(turn, "turn.start", {"context": {"serviceTag": "fake"}})
            if b.mode != "silent":
                self.answer = asyncio.create_task(self.respond(turn))
        if b.mode == "drop" and turn.audio_bytes >= b.drop_after_bytes:
            await asyncio.sleep(b.delay)
            if b.abrupt and self.conn.transport is not None:
                self.conn.transport.abort()
            else:
                await self.conn.close(1011, "fake speech service: dropped")
            return

    async def respond(self, turn: Turn) -> None:
        b = turn.behaviour
        if b.mode == "drop":
            return
        if b.mode == "endless":
            await self.endless(turn)
            return
        if b.mode == "continuous":
            await self.continuous(turn)
            return
        await self.service_wait(turn)
        if b.delay:
            await asyncio.sleep(b.delay)
        if b.mode == "raw":
            for frame in b.raw_frames:
                await self.conn.send(
                    frame.replace("{id}", turn.request_id) if isinstance(frame, str) else frame
                )
            self.finish(turn)
            return
        duration = max(1, int(len(turn.pcm) * _HNS_PER_BYTE))
        for i, hyp in enumerate(b.hypotheses):
            if i and b.hypothesis_interval:
                await asyncio.sleep(b.hypothesis_interval)
            await self.send(
                turn, "speech.hypothesis", {"Text": hyp, "Offset": 0, "Duration": duration}
            )
        phrase: dict[str, Any] = {
            "RecognitionStatus": b.recognition_status,
            "Offset": 0,
            "Duration": duration,
        }
        if b.recognition_status == "Success":
            phrase.update(self.recognized(b.text, turn))
        phrase.update(b.extra)
        await self.send(turn, "speech.phrase", phrase)
        if b.send_turn_end:
            await self.send(turn, "turn.end", {})
        self.finish(turn)

    async def endless(self, turn: Turn) -> None:
        """``Behaviour.endless``: hypotheses until the connection closes (this task is
        cancelled then)."""
        b = turn.behaviour
        words = (b.text or "and then").split()
        await self.send(turn, "speech.startDetected", {"Offset": 0})
        count = 0
        while True:
            count += 1
            shown = " ".join(words[i % len(words)] for i in range(count))
            duration = int(len(turn.pcm) * _HNS_PER_BYTE)
            await self.send(
                turn, "speech.hypothesis", {"Text": shown, "Offset": 0, "Duration": duration}
            )
            with self.service._cond:
                turn.hypotheses_sent.append(shown)
                self.service._cond.notify_all()
            await asyncio.sleep(b.hypothesis_interval or 0.2)

    async def continuous(self, turn: Turn) -> None:
        """``Behaviour.continuous``: phrases cut by energy, finals after each pause."""
        b = turn.behaviour
        frame = BYTES_PER_SECOND // 100  # 10 ms
        silence_frames = max(1, round(b.silence * 100))
        texts = deque(b.phrases)
        finals = 0  # phrases finalized so far (their index picks the scripted language)
        pos = 0  # bytes of PCM examined
        start: int | None = None  # byte offset where the open phrase began
        quiet = 0  # silent frames since the last speech frame
        next_hypothesis = 0

        async def final(begin: int, end: int) -> None:
            nonlocal finals
            if b.delay:
                await asyncio.sleep(b.delay)
            offset, duration = int(begin * _HNS_PER_BYTE), int((end - begin) * _HNS_PER_BYTE)
            body: dict[str, Any] = {"Offset": offset, "Duration": max(1, duration)}
            if texts:
                text = texts.popleft()
                body.update(RecognitionStatus="Success", **self.recognized(text, turn, finals))
                finals += 1
            else:
                text = ""
                body.update(RecognitionStatus="NoMatch")
            await self.send(turn, "speech.phrase", body)
            with self.service._cond:
                turn.phrases_sent.append((text, time.monotonic()))
                self.service._cond.notify_all()

        while True:
            audio = turn.audio  # grows on this loop's thread; read in place, no copies
            head = _RIFF_HEADER if audio[:4] == b"RIFF" else 0
            while head + pos + frame <= len(audio):
                loud = _rms16(bytes(audio[head + pos : head + pos + frame])) >= b.energy
                pos += frame
                if loud:
                    quiet = 0
                    if start is None:
                        start = pos - frame
                        next_hypothesis = pos + int((b.progress_every or 0) * BYTES_PER_SECOND)
                        await self.send(
                            turn, "speech.startDetected", {"Offset": int(start * _HNS_PER_BYTE)}
                        )
                    elif b.progress_every and pos >= next_hypothesis:
                        next_hypothesis = pos + int(b.progress_every * BYTES_PER_SECOND)
                        await self.send(
                            turn,
                            "speech.hypothesis",
                            {
                                "Text": texts[0] if texts else "…",
                                "Offset": int(start * _HNS_PER_BYTE),
                                "Duration": int((pos - start) * _HNS_PER_BYTE),
                            },
                        )
                elif start is not None:
                    quiet += 1
                    if quiet >= silence_frames:
                        await final(start, pos - quiet * frame)
                        start, quiet = None, 0
            if turn.end_of_audio and head + pos + frame > len(audio):
                break
            await asyncio.sleep(0.005)
        if start is not None:
            await final(start, pos - quiet * frame)
        await self.send(turn, "speech.endDetected", {"Offset": int(pos * _HNS_PER_BYTE)})
        await self.send(turn, "turn.end", {})
        self.finish(turn)

    async def service_wait(self, turn: Turn) -> None:
        """Wait for the behaviour's trigger, polling the turn on the loop (no extra thread)."""
        b = turn.behaviour
        want = None if b.answer_after is None else int(b.answer_after * BYTES_PER_SECOND)
        step = int(b.progress_every * BYTES_PER_SECOND) if b.progress_every else 0
        next_progress = step
        if step:
            await self.send(turn, "speech.startDetected", {"Offset": 0})
        while True:
            if b.trigger == "first_audio":
                return
            if turn.end_of_audio:
                return
            received = len(turn.pcm)
            if want is not None and received >= want:
                return
            if step and received >= next_progress:
                words = (b.text or "…").split(" ")
                shown = " ".join(words[: 1 + next_progress // step % max(1, len(words))])
                await self.send(
                    turn,
                    "speech.hypothesis",
                    {"Text": shown, "Offset": 0, "Duration": int(received * _HNS_PER_BYTE)},
                )
                next_progress += step
            await asyncio.sleep(0.005)

    def finish(self, turn: Turn) -> None:
        with self.service._cond:
            turn.answered_at = time.monotonic()
            self.answered_ids.add(turn.request_id)
            self.service._cond.notify_all()

    async def send(self, turn: Turn, path: str, body: Mapping[str, Any]) -> None:
        text = (
            f"Path: {path}\r\nX-RequestId: {turn.request_id}\r\n"
            f"X-Timestamp: {_timestamp()}\r\n"
            "Content-Type: application/json; charset=utf-8\r\n\r\n"
            + json.dumps(body, ensure_ascii=False)
        )
        await self.conn.send(text)


#: What Azure's lexical form leaves out of the display text (punctuation, not apostrophes,
#: not the asterisks of a masked word).
_LEXICAL_DROP = re.compile(r"[^\w\s'*]+")

#: The words the fake treats as profane (whole words, any case).
PROFANE_WORDS = ("damn", "crap")
_PROFANE = re.compile(r"\b(?:" + "|".join(PROFANE_WORDS) + r")\b", re.IGNORECASE)


def _profanity(text: str, mode: str) -> str:
    """``text`` with its profane words masked (``*`` per letter), removed, or kept."""
    if mode == "raw":
        return text
    if mode == "removed":
        return " ".join(_PROFANE.sub("", text).split())
    return _PROFANE.sub(lambda m: "*" * len(m.group(0)), text)


def _rms16(block: bytes) -> float:
    samples = array("h")
    samples.frombytes(block[: len(block) & ~1])
    return math.sqrt(sum(v * v for v in samples) / len(samples)) if samples else 0.0


def _select_usp(_conn: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    return Subprotocol("USP") if "USP" in offered else None


def _timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _split_text(frame: str) -> tuple[dict[str, str], str]:
    head, _, body = frame.partition("\r\n\r\n")
    return _parse_headers(head), body


def _split_binary(frame: bytes) -> tuple[dict[str, str], bytes]:
    if len(frame) < 2:
        return {}, b""
    size = int.from_bytes(frame[:2], "big")
    head = frame[2 : 2 + size].decode("utf-8", "replace")
    return _parse_headers(head), frame[2 + size :]


def _parse_headers(head: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in head.split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


def _headers(headers: Headers) -> dict[str, str]:
    return {k: v for k, v in headers.raw_items()}


def _copy_turn(turn: Turn) -> Turn:
    return replace(
        turn,
        messages=list(turn.messages),
        audio=bytearray(turn.audio),
        hypotheses_sent=list(turn.hypotheses_sent),
        phrases_sent=list(turn.phrases_sent),
        languages_answered=list(turn.languages_answered),
    )


@contextmanager
def running(
    key: str | None = None, default: Behaviour | None = None
) -> Iterator[FakeSpeechService]:
    """A started fake, stopped on exit."""
    service = FakeSpeechService(key=key, default=default).start()
    try:
        yield service
    finally:
        service.stop()
