"""Noticing that the microphone in use was disconnected, while listening: ``pactl subscribe``.

Why not PortAudio's "stream finished" callback: when a source disappears (a USB headset
unplugged), PulseAudio (≥ 15, observed with 16.1) and PipeWire's PulseAudio server move
its capture streams to the default source, so the stream goes on without a pause and
PortAudio never learns anything — dictation would silently go on from another microphone.
The server does announce it to subscribers: ``Event 'remove' on source #N``.

``SourceWatch`` runs one ``pactl subscribe`` child for one capture (the microphone is open
only while listening, so nothing runs when idle), looks up the index and the description
of the source the capture uses (the one named, or the default), and reads the child's
lines on its own daemon thread (``microphone-watch``); when that source is removed it calls
``on_gone(description)`` once. ``stop`` kills the child (the thread then sees the end of
its output, reaps the child and ends); it never waits for either. Each ``pactl`` look-up is bounded
by ``devices.PACTL_TIMEOUT``. Without ``pactl`` or a server to ask, nothing is watched
(logged).

``parse_event`` and ``find_source`` are pure.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import IO, Any

from voicetype.audio.devices import DevicesUnavailable, _run_pactl

log = logging.getLogger(__name__)

_EVENT = re.compile(r"Event '(?P<kind>[\w-]+)' on (?P<facility>[\w-]+) #(?P<index>\d+)")

Runner = Callable[[list[str], Mapping[str, str]], str]


def parse_event(line: str) -> tuple[str, str, int] | None:
    """``("remove", "source", 4)`` for ``Event 'remove' on source #4``; None otherwise."""
    m = _EVENT.search(line)
    if m is None:
        return None
    return m["kind"], m["facility"], int(m["index"])


def find_source(sources_json: str, name: str) -> tuple[int, str] | None:
    """The index and description (the name when it has none) of source ``name`` in
    ``pactl -f json list sources`` output; None when it is not there or the output is not
    such a list."""
    try:
        data: Any = json.loads(sources_json)
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    for item in data:
        if isinstance(item, dict) and item.get("name") == name:
            index = item.get("index")
            if not isinstance(index, int):
                return None
            description = item.get("description")
            return index, description if isinstance(description, str) and description else name
    return None


class SourceWatch:
    """Watches one source for removal; see the module docstring. Build with ``start``."""

    def __init__(
        self,
        source: str | None,
        on_gone: Callable[[str], None],
        *,
        run: Runner = _run_pactl,
        spawn: Callable[[], Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._source = source
        self._on_gone = on_gone
        self._run = run
        self._env = dict(os.environ if env is None else env)
        self._spawn = spawn or self._spawn_pactl
        self._lock = threading.Lock()
        self._child: Any = None
        self._stopped = False
        self.watching: tuple[int, str] | None = None  # (index, description) once known
        self.thread = threading.Thread(target=self._main, name="microphone-watch", daemon=True)

    @classmethod
    def start(
        cls, source: str | None, on_gone: Callable[[str], None], **kwargs: Any
    ) -> SourceWatch:
        """Start watching ``source`` (None = the default source) on a new thread; returns
        at once."""
        watch = cls(source, on_gone, **kwargs)
        watch.thread.start()
        return watch

    def stop(self) -> None:
        """No ``on_gone`` call starts after this returns; idempotent, any thread, returns
        at once (it kills the child; the watch's thread reaps it)."""
        with self._lock:
            self._stopped = True
            child = self._child
        if child is not None:
            _kill(child)

    # -------------------------------------------------------------- its thread

    def _spawn_pactl(self) -> Any:
        return subprocess.Popen(
            ["pactl", "subscribe"],
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def _main(self) -> None:
        try:
            child = self._spawn()
        except OSError as exc:
            log.info("not watching the microphone for a disconnection: %s", exc)
            return
        with self._lock:
            self._child = child
            stopped = self._stopped
        try:
            if not stopped:
                self._watch(child)
        finally:
            _kill(child)
            try:
                child.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                log.debug("pactl subscribe did not end within 1 s of its kill")
            if child.stdout is not None:
                child.stdout.close()

    def _watch(self, child: Any) -> None:
        # subscribed first, looked up second: a removal in between waits in the pipe
        try:
            name = self._source or self._run(["get-default-source"], self._env).strip()
            found = find_source(self._run(["-f", "json", "list", "sources"], self._env), name)
        except DevicesUnavailable as exc:
            log.info("not watching the microphone for a disconnection: %s", exc.message)
            return
        if found is None:
            self._gone(name)  # it went away before it could be looked up
            return
        self.watching = found
        index, description = found
        log.debug("watching microphone %r (source #%d) for a disconnection", description, index)
        stream: IO[str] = child.stdout
        for line in stream:
            if parse_event(line) == ("remove", "source", index):
                self._gone(description)
                return

    def _gone(self, description: str) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        log.warning("the microphone %r was disconnected", description)
        self._on_gone(description)


def _kill(child: Any) -> None:
    try:
        child.kill()
    except OSError as exc:  # it has ended already
        log.debug("ending pactl subscribe: %s", exc)
