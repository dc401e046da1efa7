"""The daemon: builds the collaborators from the config, runs the tray loop on the main
thread and the controller on its own thread; the one error boundary for the daemon.

Startup problems that leave voicetype usable (no key yet, no tray menu, no typing, no
hotkey, no microphone, a key file others can read, an unwritable log) are told to the user
once — notification, tooltip and log — and the daemon keeps running; only a tray that
cannot start at all ends it.

Reloading: SIGHUP, ``voicetype reload`` and the control command ``reload`` re-read the
configuration file on the controller thread, between dictations. A file that does not
load leaves every setting as it was and says so (notification naming the file and line);
a good one replaces the recognizer, the inserter, the hotkey and the feedback settings.
The control command answers once the reload is over (bounded by its deadline), so a
``status`` sent after it shows the new state.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

from voicetype import __version__
from voicetype.autostart import Autostart, select_autostart
from voicetype.config import Config, exposed_key_file, init_config, load_config, log_dir
from voicetype.control import ControlServer, ControlUnavailable, InstanceLock
from voicetype.controller import Controller, ControllerSettings, PressOutcome, State
from voicetype.errors import BackendUnavailable, ConfigError, VoicetypeError
from voicetype.hotkeys import HotkeyListener, HotkeyTaken, choose_listener
from voicetype.insertion import Inserter
from voicetype.logsetup import setup_logging
from voicetype.notify import Notifier, Urgency
from voicetype.recognition import Failed, Recognizer
from voicetype.recognition.messages import Message

log = logging.getLogger(__name__)


@dataclass
class _TrayUI:
    """Adapts controller states to the tray; remembers the last problem for the tooltip."""

    tray: object  # voicetype.tray.Tray (imported lazily: pystray chooses its backend on import)

    def show(self, state: State, detail: str = "") -> None:
        self.tray.set_state(state, detail)  # type: ignore[attr-defined]


class Daemon:
    """Owns every collaborator of a running daemon and their shutdown order."""

    def __init__(self, config: Config, verbose: bool = False) -> None:
        self.config = config
        self.verbose = verbose
        self._startup_notes: list[Message] = []
        self._quit_once = threading.Lock()
        self._stopping = False
        self.controller: Controller
        self.hotkeys: HotkeyListener | None = None
        self._hotkey_status = "unavailable"  # what `status` says about the hotkey
        self.control: ControlServer | None = None
        self.log_path: Path | None = None
        self.backends: dict[str, str] = {}

    def run(self) -> int:
        lock = InstanceLock()
        if not lock.acquire():
            print("voicetype is already running (its icon is in the tray).")
            return 0
        try:
            return self._run_locked()
        finally:
            lock.release()

    def _run_locked(self) -> int:
        config = self.config
        log_path, log_problem = setup_logging(log_dir(), self.verbose, config.azure.key)
        self.log_path = log_path
        log.info("voicetype %s starting (config %s, log %s)", __version__, config.path, log_path)
        if log_problem:
            self._startup_notes.append(Message("Can't write the log file", log_problem))

        from voicetype.notify.select import select_notifier
        from voicetype.tray import Tray, TrayActions, menu_fix_hint

        self.autostart: Autostart = select_autostart()
        actions = TrayActions(
            dictate=lambda: self.controller.submit_dictate("menu"),
            type_last=lambda: self.controller.submit_type_last("menu"),
            has_kept_text=lambda: self.controller.has_kept_text,
            set_enabled=lambda on: self.controller.submit_enabled(on),
            is_enabled=lambda: self.controller.enabled,
            set_autostart=self._set_autostart,
            is_autostart=self._is_autostart,
            open_config=self._open_config,
            quit=self.quit,
        )
        self.tray = Tray(actions)
        self._display_watch = _exit_when_display_lost()
        log.info("tray backend: %s (menu: %s)", self.tray.backend, self.tray.has_menu)
        if not self.tray.has_menu:
            self._startup_notes.append(
                Message("The tray icon has no menu on this system", menu_fix_hint())
            )
        self.notifier: Notifier = select_notifier(self.tray)
        exposed = exposed_key_file(config)
        if exposed is not None:
            self._startup_notes.append(Message(exposed.message, f"Fix: {exposed.fix}."))
        recognizer = self._make_recognizer()
        if recognizer is not None:
            self._probe_microphone()
        inserter = self._make_inserter()
        from voicetype.cue import make_player

        self.controller = Controller(
            recognizer=recognizer,
            inserter=inserter,
            notifier=self.notifier,
            ui=_TrayUI(self.tray),
            settings=_settings(config),
            not_configured=self._not_configured_message(),
            cue=make_player(),  # plays only while settings.start_sound (reload can flip it)
            microphone_check=_microphone_check,
        )
        self.hotkeys = self._make_hotkeys()
        self.backends = {
            "tray": f"{self.tray.backend} ({'menu' if self.tray.has_menu else 'no menu'})",
            "typing": _backend_name(inserter),
            "notifications": type(self.notifier).__name__,
            "hotkey": self._hotkey_status,
        }
        self.control = ControlServer(self._control_command)
        try:
            self.control.start()
        except ControlUnavailable as exc:
            self._startup_notes.append(Message("Control commands unavailable", str(exc)))
            self.control = None
        worker = threading.Thread(target=self.controller.run, name="controller", daemon=True)
        worker.start()
        self._install_signal_handlers()
        try:
            self.tray.run(on_ready=self._on_ready)
        finally:
            self._shutdown(worker, recognizer, inserter)
        log.info("voicetype stopped")
        return 0

    # ---------------------------------------------------------------- construction

    def _not_configured_message(self) -> Message:
        path = self.config.path
        return Message(
            "Set your Azure Speech key to start dictating",
            f"Put `key` and `region` (or `host`, for a speech container) under [azure] in "
            f"{path} (tray menu → Open configuration), or set AZURE_AI_SPEECH_KEY and "
            "AZURE_AI_SPEECH_REGION, then run `voicetype reload`.",
        )

    def _make_recognizer(self) -> Recognizer | None:
        if not self.config.azure.has_credentials:
            self._startup_notes.append(self._not_configured_message())
            return None
        from voicetype.recognition.azure import AzureRecognizer

        return AzureRecognizer(
            self.config.azure,
            on_speech_end=self._speech_ended,
            max_chars=self.config.typing.max_chars,
        )

    def _make_inserter(self) -> Inserter | None:
        from voicetype.insertion import choose_inserter

        try:
            return choose_inserter(self.config)
        except BackendUnavailable as exc:
            self._startup_notes.append(Message("voicetype can't type here", str(exc)))
            return None

    def _make_hotkeys(self) -> HotkeyListener | None:
        """Grab the configured hotkey; a problem becomes a startup note and None."""
        hotkey = self.config.hotkey.dictate
        try:
            listener = choose_listener(
                hotkey,
                on_press=lambda: self.controller.submit_dictate("hotkey"),
                on_release=lambda: None,  # hold-to-talk (recording modes) will use it
            )
            listener.start()
        except HotkeyTaken as exc:
            self._hotkey_status = exc.message
            fix = f"{exc.fix} ({self.config.path}), then run `voicetype reload`"
            self._startup_notes.append(Message(exc.message, fix))
            return None
        except BackendUnavailable as exc:
            self._hotkey_status = "unavailable"
            self._startup_notes.append(Message("The global hotkey is not available", str(exc)))
            return None
        self._hotkey_status = str(hotkey)
        log.info("hotkey %s is live", hotkey)
        return listener

    def _probe_microphone(self) -> None:
        """Tell at startup (not only at the first press) when no microphone opens."""
        from voicetype.recognition import ErrorKind, Failed
        from voicetype.recognition.messages import describe_failure
        from voicetype.recognition.microphone import probe_microphone

        failure = probe_microphone()
        if failure is not None:
            log.warning("microphone probe: %s", failure.detail)
            self._startup_notes.append(
                describe_failure(Failed(ErrorKind.MICROPHONE_UNAVAILABLE, failure.detail))
            )

    # ---------------------------------------------------------------- reload

    def reload(self, done: Callable[[bool, str], None] | None = None) -> None:
        """Any thread: re-read the configuration between dictations (see the module doc);
        ``done(reloaded, message)`` is called on the controller thread once it is over."""
        self.controller.submit_call(lambda: self._reload(done or (lambda ok, text: None)))

    def _reload(self, done: Callable[[bool, str], None]) -> None:
        """Controller thread. A bad file keeps the running settings and says so once."""
        from voicetype.keystore import read_key

        path = self.config.path
        try:
            new = load_config(path, keyring=read_key)
        except ConfigError as exc:
            message = Message(
                "Configuration not reloaded: voicetype keeps its previous settings",
                f"{exc.message}. Fix: {exc.fix}." if exc.fix else f"{exc.message}.",
            )
            delivered = self.notifier.notify(message.summary, message.body, Urgency.NORMAL)
            log.warning("reload: %s", message.as_text())
            self.controller.show_note(message, delivered)
            done(False, message.as_text())
            return
        old, self.config = self.config, new
        self._startup_notes = []  # what building the new parts finds wrong goes here
        controller = self.controller
        controller.settings = _settings(new)
        if new.azure != old.azure or new.typing.max_chars != old.typing.max_chars:
            from voicetype.logsetup import scrub_secret

            scrub_secret(new.azure.key)
            if controller.recognizer is not None:
                controller.recognizer.close()
            controller.recognizer = self._make_recognizer()
        if new.typing != old.typing:
            if controller.inserter is not None:
                controller.inserter.close()
            controller.inserter = self._make_inserter()
            self.backends["typing"] = _backend_name(controller.inserter)
        if new.hotkey != old.hotkey or self.hotkeys is None:  # None: try again (taken?)
            if self.hotkeys is not None:
                self.hotkeys.stop()
            self.hotkeys = self._make_hotkeys()
            self.backends["hotkey"] = self._hotkey_status
        notes, self._startup_notes = self._startup_notes, []
        exposed = exposed_key_file(new)
        if exposed is not None:
            notes.append(Message(exposed.message, f"Fix: {exposed.fix}."))
        summary = f"Configuration reloaded from {path}"
        body = " ".join(n.as_text() for n in notes)
        delivered = self.notifier.notify(summary, body, Urgency.CRITICAL if notes else Urgency.LOW)
        log.info("reload: %s%s", summary, f" ({body})" if body else "")
        controller.show_problem(body or ("" if delivered else summary))
        done(True, f"{summary}{': ' + body if body else ''}")

    def _speech_ended(self) -> None:
        self.controller.speech_ended()

    def _install_signal_handlers(self) -> None:
        def handle(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d: quitting", signum)
            self.quit()

        def reload(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d: reloading the configuration", signum)
            self.reload()

        for name in ("SIGTERM", "SIGINT"):
            signal.signal(getattr(signal, name), handle)
        if hasattr(signal, "SIGHUP"):  # not on Windows
            signal.signal(signal.SIGHUP, reload)

    # ---------------------------------------------------------------- tray callbacks

    def _on_ready(self) -> None:
        log.info("tray icon is up")
        if not self._startup_notes:
            return
        detail = " ".join(n.as_text() for n in self._startup_notes)

        def tell() -> None:
            for note in self._startup_notes:
                self.notifier.notify(note.summary, note.body, Urgency.CRITICAL)
                log.warning("%s", note.as_text())
            self.controller.show_problem(detail)

        self.controller.submit_call(tell)

    def _is_autostart(self) -> bool:
        try:
            return self.autostart.is_enabled()
        except VoicetypeError:
            return False

    def _set_autostart(self, enabled: bool) -> None:
        def apply() -> None:
            try:
                self.autostart.set_enabled(enabled)
            except VoicetypeError as exc:
                self.notifier.notify(exc.message, exc.fix, Urgency.NORMAL)
                log.warning("autostart: %s", exc)
            self.tray.refresh_menu()

        self.controller.submit_call(apply)

    def _open_config(self) -> None:
        def apply() -> None:
            from voicetype.opener import open_with_default_app

            path = self.config.path
            try:
                if init_config(path):
                    log.info("wrote starter configuration %s", path)
                open_with_default_app(path)
            except VoicetypeError as exc:
                self.notifier.notify(exc.message, exc.fix, Urgency.NORMAL)
                log.warning("open configuration: %s", exc)

        self.controller.submit_call(apply)

    def _control_command(self, command: str, deadline: float) -> dict[str, object]:
        """Runs on a control worker thread; returns by ``deadline`` (``time.monotonic()``)."""
        controller = self.controller
        if command == "dictate":
            press = controller.press("command")
            outcome = press.wait(min(DICTATE_WAIT, deadline - time.monotonic()))
            return self._press_reply(outcome)
        if command == "toggle":
            enabled = not controller.enabled
            controller.submit_enabled(enabled)
            return {"message": "enabled" if enabled else "disabled", "enabled": enabled}
        if command == "quit":
            self.quit()
            return {"message": "voicetype is quitting"}
        if command == "reload":
            return self._reload_reply(deadline)
        reason = {"reason": controller.detail} if controller.state is State.ERROR else {}
        return {
            "status": {
                "state": controller.state.value,
                **reason,
                "enabled": controller.enabled,
                "pid": os.getpid(),
                "version": __version__,
                **self.backends,
                "config": str(self.config.path)
                + ("" if self.config.file_exists else " (not present: defaults)"),
                "log": str(self.log_path) if self.log_path else "terminal only",
                "last dictation": controller.last.outcome or "none yet",
            }
        }

    def _press_reply(self, outcome: PressOutcome | None) -> dict[str, object]:
        if outcome is PressOutcome.STARTED:
            return {"message": "dictation started", "outcome": outcome.value}
        if outcome is None:
            error = (
                "voicetype did not take the press in time (it was busy, e.g. reloading); "
                "nothing was started"
            )
            return {"ok": False, "error": error, "outcome": "no_answer"}
        errors = {
            PressOutcome.BUSY: "a dictation is already under way; this press was ignored",
            PressOutcome.DISABLED: "voicetype is turned off (disabled); turn it on with "
            "`voicetype toggle` or the tray menu",
            PressOutcome.NOT_CONFIGURED: self.controller.not_configured_message().as_text(),
        }
        return {"ok": False, "error": errors[outcome], "outcome": outcome.value}

    def _reload_reply(self, deadline: float) -> dict[str, object]:
        """Reload, and answer once it is over (``status`` then shows the new state), or
        say that it runs after the dictation under way."""
        finished = threading.Event()
        result: list[tuple[bool, str]] = []

        def done(reloaded: bool, message: str) -> None:
            result.append((reloaded, message))
            finished.set()

        self.reload(done)
        if not finished.wait(max(0.0, deadline - time.monotonic())):
            return {
                "message": f"still reloading {self.config.path} (voicetype is busy, e.g. "
                "with a dictation); the result is shown as a notification",
                "outcome": "queued",
            }
        reloaded, message = result[0]
        if reloaded:
            return {"message": message, "outcome": "reloaded"}
        return {"ok": False, "error": message, "outcome": "not_reloaded"}

    def quit(self) -> None:
        """Any thread: stop the controller and the tray loop (idempotent)."""
        with self._quit_once:
            if self._stopping:
                return
            self._stopping = True
        self.controller.request_quit()
        self.tray.stop()

    def _shutdown(self, worker: threading.Thread, recognizer: object, inserter: object) -> None:
        self._stopping = True
        self.controller.request_quit()
        if self.hotkeys is not None:
            self.hotkeys.stop()
        if self.control is not None:
            self.control.stop()
        worker.join(timeout=5)
        if worker.is_alive():
            log.warning("the controller did not stop within 5 s")
        # reloads may have replaced them: close the ones in use now
        recognizer = self.controller.recognizer or recognizer
        inserter = self.controller.inserter or inserter
        for part in (recognizer, inserter, self.notifier):
            close = getattr(part, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.debug("error while closing %r", part, exc_info=True)


EXIT_DISPLAY_LOST = 1


def _exit_when_display_lost() -> object | None:
    """Make losing the X server a clean exit: one log line, then status 1.

    libX11 calls its fatal I/O error handler when the display connection breaks (the X
    server died, the session ended); GDK's handler exits silently, and the other threads
    holding X connections (hotkey listener, typing) would each print a traceback. This
    replaces the handler (process-wide, for every libX11 connection; GDK installed its own
    when the tray started) with one that logs once and ends the process without running
    anything that could touch the display again. Threads that see the display vanish
    through python-xlib log one debug line (``_quiet_thread_exceptions``). Returns the
    handler, which must stay referenced, or None where libX11 is not loaded.
    """
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    if not name:
        return None
    try:
        libx11 = ctypes.CDLL(name)
    except OSError:
        return None
    handler_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)

    def lost(_display: int | None) -> int:
        log.error("the X display %s went away; voicetype stops", os.environ.get("DISPLAY", ""))
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(EXIT_DISPLAY_LOST)

    callback = handler_type(lost)
    libx11.XSetIOErrorHandler.argtypes = [handler_type]
    libx11.XSetIOErrorHandler.restype = ctypes.c_void_p
    libx11.XSetIOErrorHandler(callback)
    _quiet_thread_exceptions()
    return callback


def _quiet_thread_exceptions() -> None:
    """A thread ending because the display connection closed logs one debug line; any
    other uncaught thread exception is logged with its traceback (key scrubbed)."""

    def hook(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread else "?"
        if type(args.exc_value).__name__ in ("ConnectionClosedError", "DisplayConnectionError"):
            log.debug("thread %s: the X display connection closed", name)
            return
        log.error("thread %s failed", name, exc_info=args.exc_value)

    threading.excepthook = hook


def _microphone_check() -> Failed | None:
    from voicetype.recognition.microphone import probe_microphone

    return probe_microphone()


def _settings(config: Config) -> ControllerSettings:
    return ControllerSettings(
        include_text_in_log=config.log.include_text,
        notify_no_match=config.feedback.notify_no_match,
        start_sound=config.feedback.start_sound,
        max_chars=config.typing.max_chars,
    )


def _backend_name(inserter: Inserter | None) -> str:
    return type(inserter).__name__ if inserter is not None else "unavailable"


#: How long ``voicetype dictate`` waits for the controller to take the press (it is only
#: ever busy between dictations: releasing the last one's recognizer, a reload).
DICTATE_WAIT = 0.8


def run_daemon(config: Config, verbose: bool = False) -> NoReturn:
    """Run the daemon until Quit or a signal, then end the process with its exit status
    (never returns: see the comment at the end)."""
    os.environ.setdefault("NO_AT_BRIDGE", "1")
    code = Daemon(config, verbose).run()
    # Everything is closed and logged; end the process here rather than in the
    # interpreter's finalization, where native Speech SDK / ALSA threads still blocked on
    # an audio server that died were seen to hang the exit for good.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
