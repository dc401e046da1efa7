"""Fake parts for the daemon's unit tests: every ``voicetype.compose.Makers`` function
with a fake that records what happened. No desktop, no SDK."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicetype.compose import Makers
from voicetype.config import AzureConfig, Config, load_config
from voicetype.context import NoCaretReader
from voicetype.context.keywatch import NoKeyWatch
from voicetype.errors import BackendUnavailable, VoicetypeError
from voicetype.history_store import HistoryStore
from voicetype.hotkeys import Hotkey, HotkeyTaken
from voicetype.live import NoCancelKey
from voicetype.notify import Urgency
from voicetype.recognition import AudioInput, Failed, RecognitionResult, Recognized
from voicetype.state import State
from voicetype.text.history import HistoryEntry


class FakeRecognizer:
    def __init__(self, azure: AzureConfig, on_speech_end: Callable[[], None]) -> None:
        self.azure = azure
        self.on_speech_end = on_speech_end
        self.results: list[RecognitionResult] = []
        self.gate: threading.Event | None = None  # when set, recognize waits on it
        self.started = threading.Event()
        self.closed = False
        self.calls = 0

    def recognize_once(self, audio: AudioInput) -> RecognitionResult:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(5)
        return self.results.pop(0) if self.results else Recognized("hello")

    def release(self) -> None:
        pass

    def cancel(self) -> None:
        if self.gate is not None:
            self.gate.set()

    def close(self) -> None:
        self.closed = True


class ModesRecognizer:
    """The single-utterance recognizer of a daemon whose modes run continuous sessions:
    present (a key is set) but never asked to recognize."""

    def recognize_once(self, audio: object) -> Recognized:
        raise AssertionError("the modes never call recognize_once")

    def release(self) -> None:
        pass

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class FakeInserter:
    typed: list[str] = field(default_factory=list)
    closed: bool = False

    def focused_target(self) -> object:
        return "window"

    def insert(self, text: str, target: object) -> None:
        self.typed.append(text)

    def press(self, key: str, count: int, target: object) -> None:
        self.typed.append(f"<{key} x{count}>")

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeHotkeys:
    hotkey: Hotkey
    on_press: Callable[[], None]
    taken: bool = False
    started: bool = False
    stopped: bool = False

    def start(self) -> None:
        if self.taken:
            raise HotkeyTaken(self.hotkey)
        self.started = True

    def stop(self) -> None:
        self.stopped = True


@dataclass
class Notes:
    delivered: bool = True
    calls: list[tuple[str, str, Urgency]] = field(default_factory=list)

    def notify(self, summary: str, body: str, urgency: Urgency = Urgency.NORMAL) -> bool:
        self.calls.append((summary, body, urgency))
        return self.delivered

    def close(self) -> None:
        pass


class FakeTray:
    """The tray's methods the daemon uses; ``run`` calls ``on_ready`` and then
    ``script`` (on the test's thread), then waits for ``stop``."""

    backend = "fake"
    has_menu = True

    def __init__(self, actions: Any) -> None:
        self.actions = actions
        self.states: list[tuple[State, str]] = []
        self.stopped = threading.Event()
        self.script: Callable[[], None] = lambda: None
        self.refreshed = 0

    def set_state(self, state: State, detail: str = "") -> None:
        self.states.append((state, detail))

    def refresh_menu(self) -> None:
        self.refreshed += 1

    def run(self, on_ready: Callable[[], None]) -> None:
        on_ready()
        self.script()
        assert self.stopped.wait(5), "the daemon never stopped the tray"

    def stop(self) -> None:
        self.stopped.set()


@dataclass
class FakeAutostart:
    enabled: bool = False
    location: str = "fake"

    def state(self) -> str:
        return "enabled" if self.enabled else "disabled"

    def is_enabled(self) -> bool:
        return self.enabled

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled


class FakeControl:
    def __init__(self, handler: Callable[[str, float, str], dict[str, Any]]) -> None:
        self.handler = handler
        self.stopped = False

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self.stopped = True


class FakeHistoryStore(HistoryStore):
    """``[history] keep`` in memory: what was saved, and how often the file was removed."""

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent/history.json"))
        self.saved: list[HistoryEntry] = []
        self.removed = 0

    def load(self) -> list[HistoryEntry]:
        return list(self.saved)

    def save(self, entries: tuple[HistoryEntry, ...]) -> None:
        self.saved = list(entries)

    def remove(self) -> None:
        self.removed += 1
        self.saved = []


@dataclass
class Lab:
    """Records every part the fake makers made, newest last."""

    notes: Notes = field(default_factory=Notes)
    trays: list[FakeTray] = field(default_factory=list)
    recognizers: list[FakeRecognizer] = field(default_factory=list)
    inserters: list[FakeInserter] = field(default_factory=list)
    hotkeys: list[FakeHotkeys] = field(default_factory=list)
    autostart: FakeAutostart = field(default_factory=FakeAutostart)
    no_typing: bool = False  # the inserter maker raises BackendUnavailable
    hotkey_taken: bool = False
    microphone: Failed | None = None
    opened: list[Path] = field(default_factory=list)
    open_fails: bool = False
    history_store: FakeHistoryStore = field(default_factory=FakeHistoryStore)
    input_devices: list[Any] = field(default_factory=list)  # InputDevice for the tray

    def makers(self) -> Makers:
        def tray(actions: Any) -> FakeTray:
            self.trays.append(FakeTray(actions))
            return self.trays[-1]

        def recognizer(azure: AzureConfig, on_end: Callable[[], None], cap: int) -> Any:
            self.recognizers.append(FakeRecognizer(azure, on_end))
            return self.recognizers[-1]

        def inserter(config: Config) -> Any:
            if self.no_typing:
                raise BackendUnavailable("no X display to type into", "run it in your session")
            self.inserters.append(FakeInserter())
            return self.inserters[-1]

        def hotkeys(
            hotkey: Hotkey, on_press: Callable[[], None], _release: Any, _escape: Any
        ) -> Any:
            self.hotkeys.append(FakeHotkeys(hotkey, on_press, taken=self.hotkey_taken))
            return self.hotkeys[-1]

        def open_file(path: Path) -> None:
            if self.open_fails:
                raise VoicetypeError(f"Could not open {path}", "open it in a text editor")
            self.opened.append(path)

        return Makers(
            tray=tray,
            notifier=lambda _tray: self.notes,
            autostart=lambda: self.autostart,
            recognizer=recognizer,
            inserter=inserter,
            hotkeys=hotkeys,
            microphone=lambda: self.microphone,
            cue=lambda: lambda: None,
            stop_cue=lambda: lambda: None,
            listener=lambda config, language: None,  # one recognize_once per press
            cancel_key=lambda on_press: NoCancelKey(),
            menu_fix=lambda: "install PyGObject",
            control=FakeControl,
            load_config=lambda path: load_config(path, {}),  # never the user's keyring
            open_file=open_file,
            caret_reader=NoCaretReader,
            key_watch=lambda _on_key: NoKeyWatch(),
            history_store=lambda: self.history_store,
            input_devices=lambda: list(self.input_devices),
        )


# -- a daemon built from these fakes (tests/unit/test_daemon.py, test_tray_wiring.py) ------

#: A config with credentials (the fakes never reach a service).
KEY = '[azure]\nkey = "k"\nregion = "westeurope"\n'


def clear_azure_env(monkeypatch: Any) -> None:
    """No ``AZURE_AI_SPEECH_*`` of the caller's environment reaches the config."""
    for name in ("AZURE_AI_SPEECH_KEY", "AZURE_AI_SPEECH_REGION", "AZURE_AI_SPEECH_HOST"):
        monkeypatch.delenv(name, raising=False)


def config_file(tmp_path: Path, text: str) -> Config:
    """``text`` as the user's config.toml (mode 0600, as voicetype requires), loaded."""
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    path.chmod(0o600)
    return load_config(path, {})


def settle(daemon: Any) -> None:
    """Wait until the daemon's controller handled everything queued so far."""
    done = threading.Event()
    daemon.controller.submit_call(done.set)
    assert done.wait(5)
