"""The composition root: builds the daemon's parts from the configuration and returns
what it found wrong as values (``Message``s), never by telling anyone itself.

``build_shell`` makes the parts that live as long as the daemon (tray, notifier,
autostart); ``build`` makes the ones a reload replaces (recognizer, inserter, hotkey
listener), reusing those of ``previous`` whose settings did not change. Every part comes
from a ``Makers`` function: the defaults import the real backends lazily, tests pass
fakes, so this module runs without a desktop.

Threading: ``build_shell`` on the main thread (the tray must be made there); ``build`` on
the main thread at start and on the reload thread afterwards, one call at a time.
Neither starts or stops threads of its own beyond what a part's ``start`` does (the
hotkey listener grabs its key in ``build`` so that a taken key is known at once; one
that waits for the desktop binds in the background and reports through the ``Relay``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicetype import inbox
from voicetype.config import AzureConfig, Config, exposed_key_file, load_config
from voicetype.dictation import ControllerSettings, DictationParts
from voicetype.errors import BackendUnavailable, ConfigError
from voicetype.hotkeys import (
    BackgroundStart,
    Hotkey,
    HotkeyListener,
    HotkeyTaken,
    choose_listener,
)
from voicetype.recognition import ErrorKind, Failed
from voicetype.recognition.language import LanguageSwitch
from voicetype.recognition.messages import Message, describe_failure

if TYPE_CHECKING:
    from voicetype.autostart import Autostart
    from voicetype.context import CaretReader
    from voicetype.context.keywatch import KeyMarker
    from voicetype.history_store import HistoryStore
    from voicetype.insertion import Inserter
    from voicetype.listening import Listener
    from voicetype.live import CancelKey
    from voicetype.notify import Notifier
    from voicetype.recognition import Recognizer
    from voicetype.typing_stage import TextStage

log = logging.getLogger(__name__)


def _tray(actions: Any) -> Any:
    from voicetype.tray import Tray  # lazily: a tray backend loads its platform packages

    return Tray(actions)


def _notifier(tray: Any) -> Notifier:
    from voicetype.notify.select import select_notifier

    return select_notifier(tray)


def _autostart() -> Autostart:
    from voicetype.autostart import select_autostart

    return select_autostart()


def _recognizer(
    azure: AzureConfig, on_speech_end: Callable[[], None], max_chars: int
) -> Recognizer:
    from voicetype.recognition.azure import AzureRecognizer

    return AzureRecognizer(azure, on_speech_end=on_speech_end, max_chars=max_chars)


def _listener(config: Config, language: LanguageSwitch) -> Listener:
    from voicetype.listening import MicListener
    from voicetype.recognition.session import ContinuousRecognizer

    recognizer = ContinuousRecognizer(
        config.azure, max_chars=config.typing.max_chars, language=language
    )
    return MicListener(recognizer, config.audio.device)


def _cancel_key(on_press: Callable[[], None]) -> CancelKey:
    import os
    import sys

    from voicetype.hotkeys import uses_x11_grab

    if not uses_x11_grab(sys.platform, os.environ):
        from voicetype.live import NoCancelKey

        return NoCancelKey()
    from voicetype.cancel_key import X11CancelKey

    return X11CancelKey(on_press, os.environ.get("DISPLAY") or None)


def _stop_cue() -> Callable[[], None]:
    from voicetype.cue import make_player

    return make_player("stop.wav")


def _inserter(config: Config) -> Inserter:
    from voicetype.insertion import choose_inserter

    return choose_inserter(config)


def _microphone() -> Failed | None:
    from voicetype.recognition.microphone import probe_microphone

    return probe_microphone()


def _cue() -> Callable[[], None]:
    from voicetype.cue import make_player

    return make_player()


def _control(handler: Callable[[str, float, str], dict[str, Any]]) -> Any:
    from voicetype.control import ControlServer

    return ControlServer(handler)


def _load_config(path: Path) -> Config:
    from voicetype.keystore import read_key

    return load_config(path, keyring=read_key)


def _open_file(path: Path) -> None:
    from voicetype.opener import open_with_default_app

    open_with_default_app(path)


def _caret_reader() -> CaretReader:
    from voicetype.context import caret_reader

    return caret_reader()


def _key_watch(on_user_key: Callable[[], None]) -> KeyMarker:
    from voicetype.context.keywatch import start_key_watch

    return start_key_watch(on_user_key)


def _history_store() -> HistoryStore:
    from voicetype.history_store import HistoryStore

    return HistoryStore()


def _input_devices() -> list[Any]:
    from voicetype.audio.devices import list_devices

    return list(list_devices())


def _menu_fix() -> str:
    from voicetype.tray import menu_fix_hint

    return menu_fix_hint()


@dataclass(frozen=True)
class Makers:
    """How each part is made. Each raises ``BackendUnavailable`` (or ``HotkeyTaken`` for
    the hotkey's ``start``) when it cannot work here; ``build`` turns that into a problem."""

    tray: Callable[[Any], Any] = _tray  # (TrayActions) -> voicetype.tray.Tray
    notifier: Callable[[Any], Notifier] = _notifier  # (tray) -> Notifier
    autostart: Callable[[], Autostart] = _autostart
    recognizer: Callable[[AzureConfig, Callable[[], None], int], Recognizer] = _recognizer
    inserter: Callable[[Config], Inserter] = _inserter
    #: (hotkey, on_press, on_release, on_escape): on_escape is Escape pressed while the
    #: hotkey is held (X11: the hotkey's grab takes every key then).
    hotkeys: Callable[
        [Hotkey, Callable[[], None], Callable[[], None], Callable[[], None]], HotkeyListener
    ] = lambda hotkey, on_press, on_release, on_escape: choose_listener(
        hotkey, on_press, on_release, on_escape=on_escape
    )
    #: Whether the microphone opens (None) or the failure; asked at start and after a
    #: dictation from the microphone timed out.
    microphone: Callable[[], Failed | None] = _microphone
    cue: Callable[[], Callable[[], None]] = _cue
    #: The sound when listening ends ([feedback] stop_sound).
    stop_cue: Callable[[], Callable[[], None]] = _stop_cue
    #: Own microphone + continuous recognition for the recording modes, in the language
    #: the ``LanguageSwitch`` says at each start; a maker returning None keeps one
    #: ``recognize_once`` per press (no modes).
    listener: Callable[[Config, LanguageSwitch], Listener | None] = _listener
    #: (on_press) -> Escape as the cancel key while listening.
    cancel_key: Callable[[Callable[[], None]], CancelKey] = _cancel_key
    #: The text around the caret (AT-SPI); made once, with the daemon. Never raises.
    caret_reader: Callable[[], CaretReader] = _caret_reader
    #: Watches the user's keys, calling its argument for each (resets joining); made once.
    #: Never raises: without a way to watch keys it marks nothing and calls nothing.
    key_watch: Callable[[Callable[[], None]], KeyMarker] = _key_watch
    #: Where ``[history] keep`` saves the history (``remove`` when keep is off).
    history_store: Callable[[], HistoryStore] = _history_store
    #: The microphones for the tray's submenu (``voicetype.audio.devices.InputDevice``s;
    #: blocks up to ~4 s: the tray calls it off its loop). Raises ``DevicesUnavailable``.
    input_devices: Callable[[], list[Any]] = _input_devices
    menu_fix: Callable[[], str] = _menu_fix
    #: Reads the configuration file for a reload (raises ``ConfigError``).
    load_config: Callable[[Path], Config] = _load_config
    #: Opens a file in the desktop's default application (raises ``VoicetypeError``).
    open_file: Callable[[Path], None] = _open_file
    #: (handler) -> a control server (``start`` raises ``ControlUnavailable``, ``stop``)
    control: Callable[[Callable[[str, float, str], dict[str, Any]]], Any] = _control


@dataclass(frozen=True)
class Shell:
    """The parts that live as long as the daemon."""

    tray: Any  # voicetype.tray.Tray (or a fake with the same methods)
    notifier: Notifier
    autostart: Autostart

    def backends(self) -> dict[str, str]:
        menu = "menu" if self.tray.has_menu else "no menu"
        return {
            "tray": f"{self.tray.backend} ({menu})",
            "notifications": type(self.notifier).__name__,
        }


@dataclass(frozen=True)
class Parts:
    """The parts a reload replaces, and the configuration they were built from."""

    config: Config
    recognizer: Recognizer | None
    inserter: Inserter | None
    hotkeys: HotkeyListener | None
    hotkey_status: str  # what `status` says about the hotkey
    listener: Listener | None = None
    text: TextStage | None = None  # the text pipeline's stage; lives as long as the daemon
    #: The run-time language choice among ``[azure] language`` (a reload keeps it while
    #: the chosen language is still configured); the listener reads it at each start.
    language: LanguageSwitch | None = None

    def dictation(self, shell: Shell) -> DictationParts:
        """What the controller uses, with the backends `status` shows (in its order)."""
        fixed = shell.backends()
        backends = (
            ("tray", fixed["tray"]),
            ("typing", type(self.inserter).__name__ if self.inserter else "unavailable"),
            ("notifications", fixed["notifications"]),
            ("hotkey", self.hotkey_status),
        )
        config = self.config
        settings = ControllerSettings(
            include_text_in_log=config.log.include_text,
            notify_no_match=config.feedback.notify_no_match,
            start_sound=config.feedback.start_sound,
            stop_sound=config.feedback.stop_sound,
            modes=config.dictation.settings(),
            service_timeout=config.azure.timeout_seconds,
            max_chars=config.typing.max_chars,
        )
        return DictationParts(
            self.recognizer,
            self.inserter,
            settings,
            not_configured(config),
            backends,
            self.listener if self.recognizer is not None else None,
            self.text,
        )


#: (listener, what `status` says about the hotkey now, problems to tell): a hotkey
#: listener that bound in the background has settled (``hotkeys.BackgroundStart``).
HotkeySettled = Callable[[HotkeyListener, str, list[Message]], None]


@dataclass
class Relay:
    """Hands the hotkey's presses, the recognizer's "speech ended" and the outcome of a
    hotkey bound in the background to the daemon, once it exists (``connect``); a press or
    outcome from before is delivered then, not lost. Any thread."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _press: Callable[[str, str], object] | None = None
    _speech_ended: Callable[[], None] | None = None
    _settled: HotkeySettled | None = None
    _early_presses: int = 0
    _early_settled: list[tuple[HotkeyListener, str, list[Message]]] = field(default_factory=list)

    def connect(
        self,
        press: Callable[[str, str], object],
        speech_ended: Callable[[], None],
        hotkey_settled: HotkeySettled | None = None,
    ) -> None:
        """``press(source, edge)``: ``Inbox.press``. A press made before is delivered as a
        tap (its release is gone)."""
        with self._lock:
            self._press, self._speech_ended = press, speech_ended
            self._settled = hotkey_settled
            early, self._early_presses = self._early_presses, 0
            settled, self._early_settled = self._early_settled, []
        for _ in range(early):
            press("hotkey", inbox.TAP)
        if hotkey_settled is not None:
            for outcome in settled:
                hotkey_settled(*outcome)

    def hotkey_settled(
        self, listener: HotkeyListener, status: str, problems: list[Message]
    ) -> None:
        with self._lock:
            settled = self._settled
            if settled is None:
                self._early_settled.append((listener, status, problems))
                return
        settled(listener, status, problems)

    def hotkey_pressed(self) -> None:
        with self._lock:
            press = self._press
            if press is None:
                self._early_presses += 1
                return
        press("hotkey", inbox.DOWN)

    def hotkey_released(self) -> None:
        press = self._press
        if press is not None:
            press("hotkey", inbox.UP)

    def cancel_pressed(self) -> None:
        """Escape while listening (the cancel key's reader thread)."""
        press = self._press
        if press is not None:
            press("escape", inbox.CANCEL)

    def speech_ended(self) -> None:
        speech_ended = self._speech_ended
        if speech_ended is not None:
            speech_ended()


def not_configured(config: Config) -> Message:
    """What a press says (and the start tells) when no key is configured."""
    return Message(
        "Set your Azure Speech key to start dictating",
        f"Put `key` and `region` (or `host`, for a speech container) under [azure] in "
        f"{config.path} (tray menu → Open configuration), or set AZURE_AI_SPEECH_KEY and "
        "AZURE_AI_SPEECH_REGION, then run `voicetype reload`.",
    )


def build_shell(makers: Makers, actions: Any) -> tuple[Shell, list[Message]]:
    """Make the tray (with ``actions``), the notifier and the autostart manager. Raises
    what the tray raises when it cannot start at all (the daemon then ends)."""
    problems: list[Message] = []
    tray = makers.tray(actions)
    log.info("tray backend: %s (menu: %s)", tray.backend, tray.has_menu)
    if not tray.has_menu:
        problems.append(Message("The tray icon has no menu on this system", makers.menu_fix()))
    return Shell(tray, makers.notifier(tray), makers.autostart()), problems


def build(
    config: Config, makers: Makers, relay: Relay, previous: Parts | None = None
) -> tuple[Parts, list[Message]]:
    """Make the parts for ``config``; with ``previous`` (a reload), keep each of its parts
    whose settings are unchanged (a missing hotkey is tried again). Never closes or stops
    a part of ``previous``: the caller retires those the result does not reuse."""
    problems: list[Message] = []
    exposed = _exposed(config)
    if previous is None and exposed:
        problems.append(exposed)
    old = previous.config if previous else None
    if (
        previous
        and old
        and old.azure == config.azure
        and old.typing.max_chars == config.typing.max_chars
    ):
        recognizer = previous.recognizer
    elif not config.azure.has_credentials:
        recognizer = None
        problems.append(not_configured(config))
    else:
        recognizer = makers.recognizer(config.azure, relay.speech_ended, config.typing.max_chars)
        if previous is None:
            problems += _microphone_problem(makers)
    language = (
        previous.language.carried_over(config.azure.languages)
        if previous is not None and previous.language is not None
        else LanguageSwitch(config.azure.languages)
    )
    listener: Listener | None = None
    if recognizer is not None:
        same = previous is not None and old is not None
        if (
            same
            and old
            and old.azure == config.azure
            and old.audio == config.audio
            and (old.typing.max_chars == config.typing.max_chars)
            and previous is not None
            and previous.language is language
        ):
            listener = previous.listener
        else:
            listener = makers.listener(config, language)
    if previous and old and old.typing == config.typing:
        inserter = previous.inserter
    else:
        inserter, problem = _make_inserter(config, makers)
        problems += problem
    hotkeys: HotkeyListener | None
    if previous and old and old.hotkey == config.hotkey and previous.hotkeys is not None:
        hotkeys, hotkey_status = previous.hotkeys, previous.hotkey_status
    else:
        hotkeys, hotkey_status, problem = _make_hotkeys(config, makers, relay)
        problems += problem
    if previous is not None and exposed:
        problems.append(exposed)
    text = _text_stage(config, makers, previous.text if previous else None)
    _wire_focus(inserter, text)
    parts = Parts(config, recognizer, inserter, hotkeys, hotkey_status, listener, text, language)
    return parts, problems


def _wire_focus(inserter: Inserter | None, text: TextStage) -> None:
    """A Wayland inserter (it has ``is_terminal``: the portal, the virtual keyboard) asks
    the text stage's AT-SPI reader whether the focused window is a terminal where the
    compositor names no window (the portal; no sway or Hyprland IPC, or no answer from it);
    bounded; not known: a terminal."""
    if inserter is not None:
        from voicetype.context.focus import wire

        wire(inserter, text.reader)


def _text_stage(config: Config, makers: Makers, previous: TextStage | None) -> TextStage:
    """The text stage for ``config``: a reload keeps the memory, history, caret reader and
    key watcher of ``previous``; the first build starts the reader and the key watcher."""
    from voicetype.text import DictationMemory, History
    from voicetype.typing_stage import TextStage

    store = makers.history_store()
    if not config.history.keep:
        store.remove()
    kept = store if config.history.keep else None
    if previous is not None:
        if previous.settings == config.text and (previous.store is None) == (kept is None):
            return previous
        return previous.with_settings(config.text, kept)
    memory = DictationMemory()
    history = History(config.text.history_size)
    for entry in reversed(kept.load() if kept else []):
        history.add(entry.text, entry.at, entry.language)
    reader = makers.caret_reader()
    keys = makers.key_watch(memory.user_typed)
    return TextStage(config.text, reader, memory, history, keys, store=kept)


def _exposed(config: Config) -> Message | None:
    exposed: ConfigError | None = exposed_key_file(config)
    return Message(exposed.message, f"Fix: {exposed.fix}.") if exposed else None


def _microphone_problem(makers: Makers) -> list[Message]:
    """Tell at start (not only at the first press) when no microphone opens."""
    failure = makers.microphone()
    if failure is None:
        return []
    log.warning("microphone probe: %s", failure.detail)
    return [describe_failure(Failed(ErrorKind.MICROPHONE_UNAVAILABLE, failure.detail))]


def _make_inserter(config: Config, makers: Makers) -> tuple[Inserter | None, list[Message]]:
    try:
        return makers.inserter(config), []
    except BackendUnavailable as exc:
        return None, [Message("voicetype can't type here", str(exc))]


def _make_hotkeys(
    config: Config, makers: Makers, relay: Relay
) -> tuple[HotkeyListener | None, str, list[Message]]:
    """Grab the configured hotkey: (listener, what `status` says, problems). A listener
    that may wait for the desktop (the GlobalShortcuts portal's dialog) binds in the
    background: its outcome reaches ``relay.hotkey_settled`` later."""
    hotkey = config.hotkey.dictate
    try:
        listener = makers.hotkeys(
            hotkey, relay.hotkey_pressed, relay.hotkey_released, relay.cancel_pressed
        )
        if isinstance(listener, BackgroundStart):
            _start_in_background(listener, listener, hotkey, relay)
            return listener, f"{hotkey}: waiting for the desktop to bind it", []
        listener.start()
    except HotkeyTaken as exc:
        fix = f"{exc.fix} ({config.path}), then run `voicetype reload`"
        return None, exc.message, [Message(exc.message, fix)]
    except BackendUnavailable as exc:
        return None, "unavailable", [Message("The global hotkey is not available", str(exc))]
    log.info("hotkey %s is live", hotkey)
    return listener, str(hotkey), []


def _start_in_background(
    starter: BackgroundStart, listener: HotkeyListener, hotkey: Hotkey, relay: Relay
) -> None:
    def settled(error: BackendUnavailable | None) -> None:
        if error is None:
            trigger = getattr(listener, "trigger", str(hotkey))
            log.info("hotkey %s is live (bound by the desktop as %s)", hotkey, trigger)
            relay.hotkey_settled(listener, f"{trigger} (bound by the desktop)", [])
            return
        log.warning("the global hotkey is not available: %s", error)
        problem = Message("The global hotkey is not available", str(error))
        relay.hotkey_settled(listener, "unavailable", [problem])

    starter.start_in_background(settled)
