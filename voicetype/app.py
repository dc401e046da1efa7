"""The daemon: the tray loop on the main thread, the controller on its own thread, the
hotkey listener, the control socket and the reloads, run with the parts the composition
root (``voicetype.compose``) built; ``voicetype.boundary`` is its process-level error
boundary.

Startup problems that leave voicetype usable (no key yet, no tray menu, no typing, no
hotkey, no microphone, a key file others can read, an unwritable log) are told to the user
once — notification, else tooltip; always the log — and the daemon keeps running; only a
tray that cannot start at all ends it.

Reloading: SIGHUP, ``voicetype reload`` and the control command ``reload`` re-read the
configuration file on the reload thread and build the parts whose settings changed; the
controller takes them between dictations (``Controller.apply``) and closes the ones they
replace. A file that does not load leaves every setting as it was and says so
(notification naming the file and line). The control command answers once the new parts
are applied (bounded by its deadline), so a ``status`` sent after it shows the new state.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from voicetype import __version__, boundary, commands
from voicetype.compose import Makers, Parts, Relay, Shell, build, build_shell
from voicetype.config import Config, init_config, log_dir
from voicetype.control import ControlUnavailable, InstanceLock
from voicetype.controller import Controller
from voicetype.errors import ConfigError, VoicetypeError
from voicetype.feedback import Feedback
from voicetype.notify import Urgency
from voicetype.recognition.language import LanguageSwitch
from voicetype.recognition.messages import Message
from voicetype.state import State

log = logging.getLogger(__name__)

_Done = Callable[[bool, str], None]


@dataclass(frozen=True)
class _UseMicrophone:
    """A job for the reload thread: use input ``device`` ("" = the default)."""

    device: str


class _TrayUI:
    """The controller's UI: the tray's icon and tooltip. With several languages
    configured, the tooltip also names the language (``language()``: chosen or last
    identified). Controller thread only (``refresh`` too: run it through the controller)."""

    def __init__(self, tray: Any, language: Callable[[], str] = lambda: "") -> None:
        self._tray = tray
        self._language = language
        self._shown: tuple[State, str] = (State.IDLE, "")

    def show(self, state: State, detail: str = "") -> None:
        self._shown = (state, detail)
        language = self._language()
        if language:
            words = f"Language: {language}"
            detail = f"{detail}\n{words}" if detail else words
        self._tray.set_state(state, detail)

    def refresh(self) -> None:
        """Show the last state again (the language changed)."""
        self.show(*self._shown)


class Daemon:
    """Runs a daemon made of ``shell`` and ``parts`` (see the module doc); implements
    ``commands.Daemon`` for the command table. ``start`` and ``shutdown`` on the main
    thread; the rest from any thread."""

    def __init__(
        self,
        shell: Shell,
        parts: Parts,
        *,
        makers: Makers,
        relay: Relay,
        log_path: Path | None = None,
    ) -> None:
        self._shell, self._parts, self._makers, self._relay = shell, parts, makers, relay
        self.log_path = log_path
        self._cancel_key = makers.cancel_key(relay.cancel_pressed)
        self._ui = _TrayUI(shell.tray, self._tooltip_language)
        self.controller = Controller(
            parts.dictation(shell),
            Feedback(shell.notifier),
            self._ui,
            cue=makers.cue(),  # plays only while settings.start_sound (reload can flip it)
            stop_cue=makers.stop_cue(),  # only while settings.stop_sound
            cancel_key=self._cancel_key,
            microphone_check=makers.microphone,
        )
        self._parts_lock = threading.Lock()  # self._parts: the reload and the hotkey's binding
        self.control: Any = None  # a started voicetype.control.ControlServer
        self._reloads: queue.SimpleQueue[_Done | _UseMicrophone | None] = queue.SimpleQueue()
        #: The microphone chosen in the tray and the file's `[audio] device` then (reload
        #: thread only): a reload keeps the choice while the file's value stays the same.
        self._chosen_microphone: tuple[str, str] | None = None
        self._threads: list[threading.Thread] = []
        self._quit_once = threading.Lock()
        self._stopping = False
        relay.connect(self.controller.press, self.controller.speech_ended, self._hotkey_settled)

    # ------------------------------------------------------------ commands.Daemon

    @property
    def config_path(self) -> Path:
        return self._parts.config.path

    def facts(self) -> dict[str, object]:
        config = self._parts.config
        absent = "" if config.file_exists else " (not present: defaults)"
        return {
            "pid": os.getpid(),
            "version": __version__,
            "config": f"{config.path}{absent}",
            "log": str(self.log_path) if self.log_path else "terminal only",
        }

    def _switch(self) -> LanguageSwitch:
        switch = self._parts.language
        return switch if switch is not None else LanguageSwitch(self._parts.config.azure.languages)

    def languages(self) -> tuple[tuple[str, ...], str]:
        """The tray's Language menu: (choices, current); ``AUTOMATIC`` ("auto") first when
        several languages are configured. Any thread, at once."""
        return self._switch().languages()

    def choose_language(self, code: str) -> None:
        """Pin ``code`` (or ``AUTOMATIC``) for the next dictations; raises
        ``UnknownLanguage`` (message and fix) for one not configured. Any thread (the
        tray's loop, a control worker): it only sets the value the recognizer reads when
        the next session starts, and asks the controller to show it in the tooltip."""
        self._switch().choose_language(code)
        log.info("language: %s", self._switch().describe())
        self.controller.submit_call(self._ui.refresh)

    def language_detail(self) -> str:
        return self._switch().describe()

    def _tooltip_language(self) -> str:
        switch = self._switch()
        return switch.describe() if len(switch.configured) > 1 else ""

    def reload(self, done: _Done | None = None) -> None:
        self._reloads.put(done or (lambda reloaded, message: None))

    @property
    def config(self) -> Config:
        """The settings in use (the file's, with the microphone chosen in the tray)."""
        return self._parts.config

    def choose_microphone(self, device: str) -> None:
        """Use input ``device`` (a source name; "" = the default) from the next dictation
        on, until voicetype quits. The configuration file is not changed; a reload keeps
        the choice unless the file's own `[audio] device` changed. Any thread; returns at
        once (the parts are rebuilt on the reload thread, as for a reload)."""
        self._reloads.put(_UseMicrophone(device))

    def refresh_menu(self) -> None:
        self._shell.tray.refresh_menu()

    def quit(self) -> None:
        """Stop the controller and the tray loop (idempotent)."""
        with self._quit_once:
            if self._stopping:
                return
            self._stopping = True
        self.controller.request_quit()
        self._shell.tray.stop()

    def flip_autostart(self) -> None:
        def apply() -> None:
            try:
                self._shell.autostart.set_enabled(not self._shell.autostart.is_enabled())
            except VoicetypeError as exc:
                self.controller.tell((Message(exc.message, exc.fix),), Urgency.NORMAL)
            self._shell.tray.refresh_menu()

        self.controller.submit_call(apply)

    def is_autostart(self) -> bool:
        try:
            return self._shell.autostart.is_enabled()
        except VoicetypeError:
            return False

    def open_config(self) -> None:
        def apply() -> None:
            path = self.config_path
            try:
                if init_config(path):
                    log.info("wrote starter configuration %s", path)
                self._makers.open_file(path)
            except VoicetypeError as exc:
                self.controller.tell((Message(exc.message, exc.fix),), Urgency.NORMAL)

        self.controller.submit_call(apply)

    def command(
        self, name: str, deadline: float | None, source: str = "command", argument: str = ""
    ) -> commands.Reply:
        """Carry out a command of the table (control worker threads, the tray loop)."""
        return commands.run(self, name, commands.Request(source, deadline, argument))

    # ------------------------------------------------------------ running

    def start(self) -> list[Message]:
        """Start the controller, the reload thread and the control socket; returns the
        problems found (the control socket's)."""
        for target, name in ((self.controller.run, "controller"), (self._reloader, "reload")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        control = self._makers.control(
            lambda command, deadline, argument: self.command(command, deadline, argument=argument)
        )
        try:
            control.start()
        except ControlUnavailable as exc:
            return [Message("Control commands unavailable", str(exc))]
        self.control = control
        return []

    def run(self, problems: list[Message]) -> int:
        """Run until Quit or a signal (main thread); tell ``problems`` once the icon is up."""
        problems = problems + self.start()

        def on_ready() -> None:
            log.info("tray icon is up")
            self.refresh_menu()  # rows that read the daemon (Language): it exists now
            if problems:
                detail = " ".join(p.as_text() for p in problems)
                self.controller.tell(tuple(problems), Urgency.CRITICAL, problem=detail)

        try:
            self._shell.tray.run(on_ready=on_ready)
        finally:
            self.shutdown()
        log.info("voicetype stopped")
        return 0

    def shutdown(self) -> None:
        """Stop every thread (bounded) and close every part, once the tray loop ended."""
        self._stopping = True
        self.controller.request_quit()
        self._reloads.put(None)
        if self.control is not None:
            self.control.stop()
        for thread in self._threads:
            thread.join(timeout=5)
            if thread.is_alive():
                log.warning("the %s thread did not stop within 5 s", thread.name)
        in_use = self.controller.parts  # a reload's parts may not have been applied yet
        parts = self._parts
        if parts.hotkeys is not None:
            parts.hotkeys.stop()
        closed: list[object] = []
        everything = (parts.recognizer, parts.inserter, parts.listener)
        for part in (*everything, in_use.recognizer, in_use.inserter, in_use.listener):
            if part is not None and all(part is not c for c in closed):
                closed.append(part)
                _close(part)
        if parts.text is not None:
            parts.text.close()  # the caret reader's helper process, the key watcher
        _close(self._shell.notifier)
        _close(self._cancel_key)

    # ------------------------------------------------------------ reload thread

    def _reloader(self) -> None:
        while (job := self._reloads.get()) is not None:
            if isinstance(job, _UseMicrophone):
                try:
                    self._use_microphone(job.device)
                except Exception:
                    log.exception("switching the microphone failed")
                continue
            try:
                self._reload(job)
            except Exception:  # the reload thread must survive a failing reload
                log.exception("reload failed")
                message = Message("Configuration not reloaded", "Internal error; see the log file.")
                self.controller.tell((message,), Urgency.NORMAL)
                job(False, message.as_text())

    def _use_microphone(self, device: str) -> None:
        """Reload thread: the parts for ``device``, taken by the controller between
        dictations; the menu shows the choice once they are."""
        with self._parts_lock:
            old = self._parts
            audio = old.config.audio
            chosen = self._chosen_microphone
            self._chosen_microphone = (device, chosen[1] if chosen else audio.device)
            config = replace(old.config, audio=replace(audio, device=device))
            parts, problems = build(config, self._makers, self._relay, previous=old)
            self._parts = parts
        log.info("microphone chosen in the tray: %s", device or "the system default")
        for problem in problems:
            log.info("while switching the microphone: %s", problem.as_text())
        self.controller.apply(parts.dictation(self._shell), done=self.refresh_menu)

    def _with_chosen_microphone(self, config: Config) -> Config:
        """``config`` with the microphone chosen in the tray, unless the file's own
        `[audio] device` changed since (then the file wins and the choice is forgotten)."""
        chosen = self._chosen_microphone
        if chosen is None:
            return config
        device, file_device = chosen
        if config.audio.device != file_device:
            self._chosen_microphone = None
            return config
        return replace(config, audio=replace(config.audio, device=device))

    def _reload(self, done: _Done) -> None:
        """Reload thread. A bad file keeps the running settings and says so once."""
        path = self.config_path
        try:
            new = self._makers.load_config(path)
        except ConfigError as exc:
            message = Message(
                "Configuration not reloaded: voicetype keeps its previous settings",
                f"{exc.message}. Fix: {exc.fix}." if exc.fix else f"{exc.message}.",
            )
            log.info("reload: %s", message.summary)
            self.controller.tell((message,), Urgency.NORMAL)
            done(False, message.as_text())
            return
        if new.azure.key:
            from voicetype.logsetup import scrub_secret

            scrub_secret(new.azure.key)
        new = self._with_chosen_microphone(new)
        with self._parts_lock:
            old = self._parts
            parts, problems = build(new, self._makers, self._relay, previous=old)
            self._parts = parts
        if old.hotkeys is not None and parts.hotkeys is not old.hotkeys:
            old.hotkeys.stop()
        summary = f"Configuration reloaded from {path}"
        body = " ".join(p.as_text() for p in problems)
        log.info("reload: %s%s", summary, f" ({body})" if body else "")
        self.controller.apply(
            parts.dictation(self._shell),
            told=Message(summary, body),
            problem=body,
            urgency=Urgency.CRITICAL if problems else Urgency.LOW,
            done=lambda: done(True, f"{summary}{': ' + body if body else ''}"),
        )

    def _hotkey_settled(self, listener: Any, status: str, problems: list[Message]) -> None:
        """A hotkey bound in the background is live or failed (its thread): `status`
        shows it from now on; a failure is told once, and the next reload tries again."""
        with self._parts_lock:
            if self._parts.hotkeys is not listener:
                return  # replaced by a reload meanwhile
            self._parts = replace(
                self._parts, hotkeys=None if problems else listener, hotkey_status=status
            )
            dictation = self._parts.dictation(self._shell)
        body = " ".join(p.as_text() for p in problems)
        self.controller.apply(
            dictation,
            told=problems[0] if problems else None,
            problem=body or None,
            urgency=Urgency.CRITICAL if problems else Urgency.LOW,
        )


def _install_signal_handlers(daemon: Daemon) -> None:
    """SIGTERM and SIGINT quit, SIGHUP reloads. Main thread; the one owner of signals."""

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: quitting", signum)
        daemon.quit()

    def reload(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: reloading the configuration", signum)
        daemon.reload()

    for name in ("SIGTERM", "SIGINT"):
        signal.signal(getattr(signal, name), handle)
    if hasattr(signal, "SIGHUP"):  # not on Windows
        signal.signal(signal.SIGHUP, reload)


def _close(part: object) -> None:
    close = getattr(part, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            log.debug("error while closing %r", part, exc_info=True)


def _tray_actions(daemon: Callable[[], Daemon], input_devices: Callable[[], list[Any]]) -> Any:
    """The tray menu's rows, each a command of the table run on the daemon made later
    (menu clicks come only once the tray loop runs). The Enabled row flips. Recent reads
    the history (never a password field's dictation); Microphone reads a list made off
    the tray's loop (``voicetype.tray.microphones``)."""
    from voicetype.tray import Level, Microphones, TrayActions
    from voicetype.tray.microphones import MicrophoneList, menu_labels

    def run(name: str) -> Callable[[], None]:
        def click() -> None:
            daemon().command(name, None, "menu")

        return click

    mics = MicrophoneList(input_devices)
    mics.on_change = lambda: daemon().refresh_menu()
    offered = sys.platform not in ("win32", "darwin")  # sources are PulseAudio/PipeWire's

    def microphones() -> Microphones:
        if not offered:
            return Microphones((), offered=False)
        devices = mics.devices()
        inputs = None if devices is None else menu_labels(devices)
        return Microphones(inputs, mics.chosen(daemon().config.audio.device))

    def recent() -> tuple[str, ...]:
        stage = daemon().controller.parts.text
        return tuple(e.text for e in stage.history.entries()) if stage is not None else ()

    def level() -> Level | None:
        read = getattr(daemon().controller.parts.listener, "level", None)
        reading = read() if read is not None else None
        if reading is None:
            return None
        rms, silent_for, source = reading
        mics.list_once()  # the names for "no sound from …" (a tray without a menu)
        return Level(rms, silent_for, mics.label(source))

    return TrayActions(
        dictate=run("dictate"),
        type_last=run("type-last"),
        has_kept_text=lambda: daemon().controller.status.kept_text,
        stop=run("dictate"),  # a tap while listening stops and types (a `stop` is a release)
        cancel=run("cancel"),
        is_listening=lambda: daemon().controller.status.state is State.LISTENING,
        set_enabled=lambda _wanted: run("toggle")(),
        is_enabled=lambda: daemon().controller.status.enabled,
        set_autostart=lambda _wanted: run("autostart")(),
        is_autostart=lambda: daemon().is_autostart(),
        open_config=run("open-config"),
        quit=run("quit"),
        recent=recent,
        type_text=lambda text: daemon().controller.submit_type_last("menu", text),
        microphones=microphones,
        choose_microphone=lambda name: daemon().choose_microphone(name),
        languages=lambda: daemon().languages(),
        choose_language=lambda code: daemon().choose_language(code),
        level=level,
    )


def assemble(
    config: Config, makers: Makers, log_path: Path | None = None
) -> tuple[Daemon, list[Message]]:
    """Build the shell and the parts (``voicetype.compose``) and the daemon that runs
    them; the problems found, in the order they are told. Main thread."""
    made: list[Daemon] = []
    shell, problems = build_shell(makers, _tray_actions(lambda: made[0], makers.input_devices))
    relay = Relay()
    parts, more = build(config, makers, relay)
    made.append(Daemon(shell, parts, makers=makers, relay=relay, log_path=log_path))
    return made[0], problems + more


def main(config: Config, verbose: bool = False, makers: Makers | None = None) -> int:
    """Run the daemon until Quit or a signal; its exit status (0 also when another
    instance runs: it says so)."""
    lock = InstanceLock()
    if not lock.acquire():
        print("voicetype is already running (its icon is in the tray).")
        return 0
    try:
        from voicetype.logsetup import setup_logging

        log_path, log_problem = setup_logging(log_dir(), verbose, config.azure.key)
        log.info("voicetype %s starting (config %s, log %s)", __version__, config.path, log_path)
        problems = [Message("Can't write the log file", log_problem)] if log_problem else []
        daemon, found = assemble(config, makers or Makers(), log_path)
        guard = boundary.guard_display()  # after the tray: GDK installs its own handler
        _install_signal_handlers(daemon)
        code = daemon.run(problems + found)
        del guard
        return code
    finally:
        lock.release()


def run_daemon(config: Config, verbose: bool = False) -> NoReturn:
    """Run the daemon, then end the process with its exit status (``boundary.finish``)."""
    os.environ.setdefault("NO_AT_BRIDGE", "1")
    boundary.finish(main(config, verbose))
