"""The inputs the *Microphone* submenu offers, listed off the tray's loop.

Listing asks the sound server (``voicetype.audio.devices.list_devices``: pactl, ~10–20 ms
here, bounded at ~4 s when the server hangs), which must never run on the tray's loop
(the menu would freeze). ``MicrophoneList`` answers from its last list at once and lists
again on a thread of its own when that list is older than ``max_age`` (the menu reads it
at each opening and state change, so it follows a microphone plugged in); a new list that
differs calls ``on_change`` (the daemon refreshes the menu then).

Threading: every method from any thread; ``on_change`` runs on the listing thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from voicetype.audio.devices import DevicesUnavailable, InputDevice, choose

log = logging.getLogger(__name__)

#: A list older than this (s) is listed again when next read.
MAX_AGE = 5.0


def menu_labels(devices: Sequence[InputDevice]) -> tuple[tuple[str, str], ...]:
    """(source name, label) per input: the description sound settings show, with the
    source name added where two inputs share a description (or there is none)."""
    seen: dict[str, int] = {}
    for d in devices:
        seen[d.description] = seen.get(d.description, 0) + 1
    return tuple(
        (d.name, d.description if d.description and seen[d.description] == 1 else d.label)
        for d in devices
    )


class MicrophoneList:
    def __init__(
        self,
        list_inputs: Callable[[], list[InputDevice]],
        *,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._list, self._max_age, self._clock = list_inputs, max_age, clock
        self._lock = threading.Lock()
        self._devices: tuple[InputDevice, ...] | None = None  # None: never listed yet
        self._listed_at: float | None = None
        self._listing = False
        self._listed = threading.Event()
        #: Called (listing thread) when a new list differs from the previous one.
        self.on_change: Callable[[], None] = lambda: None

    def devices(self) -> tuple[InputDevice, ...] | None:
        """The last list (None before the first one arrived); lists again in the
        background when it is older than ``max_age``. Never blocks on the sound server."""
        with self._lock:
            devices, listed_at = self._devices, self._listed_at
            stale = listed_at is None or self._clock() - listed_at >= self._max_age
        if stale:
            self.refresh()
        return devices

    def list_once(self) -> None:
        """Start a first listing if there was none yet (never blocks)."""
        with self._lock:
            listed = self._listed_at is not None
        if not listed:
            self.refresh()

    def refresh(self) -> None:
        """List again now, on a thread of its own (unless a listing is under way)."""
        with self._lock:
            if self._listing:
                return
            self._listing = True
        threading.Thread(target=self._refresh, name="tray-microphones", daemon=True).start()

    def wait_listed(self, timeout: float) -> bool:
        """Until a first list arrived (for tests); False after ``timeout`` s."""
        return self._listed.wait(timeout)

    def _refresh(self) -> None:
        try:
            devices = tuple(self._list())
        except DevicesUnavailable as exc:
            log.info("no microphones to offer in the tray: %s", exc.message)
            devices = ()
        except Exception:
            log.exception("listing the microphones failed")
            devices = ()
        with self._lock:
            changed = devices != self._devices
            self._devices, self._listed_at, self._listing = devices, self._clock(), False
        self._listed.set()
        if changed:
            try:
                self.on_change()
            except Exception:
                log.exception("refreshing the tray menu failed")

    def chosen(self, wanted: str) -> str:
        """The source name ``[audio] device = wanted`` picks from the last list (a name or
        a description); "" for the default or when it is not listed."""
        devices = self._devices
        if not wanted or not devices:
            return ""
        return choose(devices, wanted).name or ""

    def label(self, source: str | None) -> str:
        """The name the user knows ``source`` by (None: the default input), for "no sound
        from …"."""
        devices = self._devices or ()
        for d in devices:
            if (d.name == source) if source else d.is_default:
                return d.description or d.name
        return source or "the default microphone"
