"""The one command table: every command a user can give voicetype, where it is offered
(the command line, the control socket, the tray menu), whether it needs the running
daemon, its help, and how the daemon carries it out.

The CLI builds its sub-commands from ``COMMANDS`` (those that need the daemon are sent
over the control socket); the control server accepts exactly ``socket_commands()``; the
daemon's tray menu rows and the control socket both run ``run``.

Handlers run on the thread that received the command (a control worker, the tray loop,
a signal handler) and only enqueue work or read the controller's ``Status``. With a
deadline (``Request.deadline``, ``time.monotonic()``) a handler may wait for the answer
until then; without one (the tray) it returns at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from voicetype import inbox
from voicetype.dictation import PressOutcome
from voicetype.state import State

if TYPE_CHECKING:
    from voicetype.controller import Controller


class Daemon(Protocol):
    """What command handlers may ask of the running daemon (``voicetype.app.Daemon``).
    Every method may be called from any thread and returns at once."""

    @property
    def controller(self) -> Controller: ...

    @property
    def config_path(self) -> Path: ...

    def facts(self) -> dict[str, object]:
        """The daemon's own lines for ``status`` (pid, version, config, log)."""
        ...

    def reload(self, done: Callable[[bool, str], None] | None = None) -> None:
        """Re-read the configuration; ``done(reloaded, message)`` once it is applied."""
        ...

    def quit(self) -> None: ...

    def flip_autostart(self) -> None: ...

    def open_config(self) -> None: ...

    def languages(self) -> tuple[tuple[str, ...], str]:
        """(choices, current) of the run-time language switch (``LanguageSwitch``)."""
        ...

    def choose_language(self, code: str) -> None:
        """Switch the next dictations to ``code`` (or back to automatic); raises
        ``UnknownLanguage`` for a language that is not configured."""
        ...

    def language_detail(self) -> str:
        """The language in words (chosen or identified), for ``status`` and the tooltip."""
        ...


@dataclass(frozen=True)
class Request:
    source: str  # "command" (control socket), "menu" (tray)
    deadline: float | None = None  # answer by then; None: answer at once, wait for nothing
    argument: str = ""  # the command's argument ("" when none)


Reply = dict[str, object]
Handler = Callable[[Daemon, Request], Reply]

#: How long ``voicetype dictate`` waits for the controller to take the press.
DICTATE_WAIT = 0.8


def _left(request: Request, cap: float | None = None) -> float:
    assert request.deadline is not None
    left = request.deadline - time.monotonic()
    return left if cap is None else min(cap, left)


_DONE = {
    PressOutcome.STARTED: "dictation started",
    PressOutcome.STOPPED: "listening stopped; the text follows",
    PressOutcome.CANCELLED: "dictation cancelled; nothing is typed",
}


def _press(daemon: Daemon, request: Request, edge: str) -> Reply:
    press = daemon.controller.press(request.source, edge)
    if request.deadline is None:
        return {"message": "dictation requested"}
    outcome = press.wait(_left(request, DICTATE_WAIT))
    if outcome in _DONE:
        return {"message": _DONE[outcome], "outcome": outcome.value}
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
        PressOutcome.NOT_CONFIGURED: daemon.controller.not_configured_message().as_text(),
        PressOutcome.NOT_LISTENING: "no dictation is under way",
    }
    return {"ok": False, "error": errors[outcome], "outcome": outcome.value}


def dictate(daemon: Daemon, request: Request) -> Reply:
    """A tap: starts a dictation (in auto mode one utterance), or stops the one listening."""
    return _press(daemon, request, inbox.TAP)


def start(daemon: Daemon, request: Request) -> Reply:
    """The hotkey going down (sway's ``bindsym``): hold-to-talk starts."""
    return _press(daemon, request, inbox.DOWN)


def stop(daemon: Daemon, request: Request) -> Reply:
    """The hotkey coming up (sway's ``bindsym --release``): hold-to-talk types."""
    return _press(daemon, request, inbox.UP)


def cancel(daemon: Daemon, request: Request) -> Reply:
    """End the dictation under way; nothing is typed and the microphone closes."""
    return _press(daemon, request, inbox.CANCEL)


def status(daemon: Daemon, request: Request) -> Reply:
    now = daemon.controller.status
    reason = {"reason": now.detail} if now.state is State.ERROR else {}
    facts = daemon.facts()
    return {
        "status": {
            "state": now.state.value,
            **reason,
            "enabled": now.enabled,
            "pid": facts["pid"],
            "version": facts["version"],
            **dict(now.backends),
            "language": daemon.language_detail(),
            "config": facts["config"],
            "log": facts["log"],
            "last dictation": now.last_outcome or "none yet",
        }
    }


def toggle(daemon: Daemon, request: Request) -> Reply:
    """Flip (never read-then-set: two quick toggles cancel out); answers the new value."""
    answered = threading.Event()
    result: list[bool] = []

    def answer(enabled: bool) -> None:
        result.append(enabled)
        answered.set()

    daemon.controller.flip_enabled(answer)
    if request.deadline is None:
        return {}
    if not answered.wait(max(0.0, _left(request))):
        return {
            "ok": False,
            "error": "voicetype did not answer in time; the switch happens when it is free",
            "outcome": "no_answer",
        }
    return {"message": "enabled" if result[0] else "disabled", "enabled": result[0]}


def quit_(daemon: Daemon, request: Request) -> Reply:
    daemon.quit()
    return {"message": "voicetype is quitting"}


def reload(daemon: Daemon, request: Request) -> Reply:
    """Reload, and answer once it is applied (``status`` then shows the new state), or
    say that it is applied after the dictation under way."""
    finished = threading.Event()
    result: list[tuple[bool, str]] = []

    def done(reloaded: bool, message: str) -> None:
        result.append((reloaded, message))
        finished.set()

    daemon.reload(done)
    if request.deadline is None:
        return {}
    if not finished.wait(max(0.0, _left(request))):
        return {
            "message": f"still reloading {daemon.config_path} (voicetype is busy, e.g. "
            "with a dictation); the result is shown as a notification",
            "outcome": "queued",
        }
    reloaded, message = result[0]
    if reloaded:
        return {"message": message, "outcome": "reloaded"}
    return {"ok": False, "error": message, "outcome": "not_reloaded"}


def history(daemon: Daemon, request: Request) -> Reply:
    """The last dictations, newest first (memory only; never a password field's)."""
    stage = daemon.controller.parts.text
    entries = stage.history.entries() if stage is not None else ()
    return {"history": [{"at": e.at, "text": e.text, "language": e.language} for e in entries]}


def language(daemon: Daemon, request: Request) -> Reply:
    """Without an argument: the configured languages and the current choice. With one:
    the next dictations use that language (one of the configured ones, or "auto"); no
    restart, nothing written to the configuration file."""
    from voicetype.recognition.language import UnknownLanguage

    if request.argument:
        try:
            daemon.choose_language(request.argument)
        except UnknownLanguage as exc:
            return {"ok": False, "error": f"{exc.message}. Fix: {exc.fix}", "outcome": "unknown"}
    choices, current = daemon.languages()
    reply: Reply = {"languages": list(choices), "current": current}
    if request.argument:
        reply["message"] = f"the next dictation uses {current}"
    return reply


def type_last(daemon: Daemon, request: Request) -> Reply:
    daemon.controller.submit_type_last(request.source)
    return {}


def retype(daemon: Daemon, request: Request) -> Reply:
    """The last dictation again, into the window focused when it is handled: the text
    kept after a failure, else the newest of the history (``type-last`` without the
    history)."""
    controller = daemon.controller
    stage = controller.parts.text
    newest = stage.history.last() if stage is not None else None
    if controller.status.kept_text:
        controller.submit_type_last(request.source)
    elif newest is not None:
        controller.submit_type_last(request.source, newest.text)
    else:
        return {"ok": False, "error": "there is no dictation to type again", "outcome": "none"}
    return {"message": "typing the last dictation into the focused window"}


def flip_autostart(daemon: Daemon, request: Request) -> Reply:
    daemon.flip_autostart()
    return {}


def open_config(daemon: Daemon, request: Request) -> Reply:
    daemon.open_config()
    return {}


CLI, SOCKET, MENU = "cli", "socket", "menu"


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    #: The CLI sends it to the running daemon (over the control socket).
    needs_daemon: bool
    offered: frozenset[str]  # CLI, SOCKET, MENU
    #: How the daemon carries it out (socket and menu); None: the CLI runs it itself.
    handler: Handler | None = None


def _cmd(name: str, help: str, *where: str, handler: Handler | None = None) -> Command:
    return Command(name, help, SOCKET in where, frozenset(where), handler)


#: In the order ``voicetype --help`` lists them.
COMMANDS: tuple[Command, ...] = (
    _cmd("run", "start the daemon (the default)", CLI),
    _cmd("once", "recognize one utterance now", CLI),
    _cmd(
        "dictate",
        "start a dictation in the running daemon (bind this to a desktop shortcut)",
        CLI,
        SOCKET,
        MENU,
        handler=dictate,
    ),
    _cmd(
        "start",
        "start listening as if the hotkey went down (bind to a key press)",
        CLI,
        SOCKET,
        handler=start,
    ),
    _cmd(
        "stop",
        "stop listening and type, as if the hotkey came up (bind to a key release)",
        CLI,
        SOCKET,
        MENU,
        handler=stop,
    ),
    _cmd(
        "cancel",
        "cancel the dictation under way: nothing is typed, the microphone closes",
        CLI,
        SOCKET,
        MENU,
        handler=cancel,
    ),
    _cmd("devices", "list the microphones ([audio] device), the default marked", CLI),
    _cmd(
        "status",
        "show the running daemon's state, backends, config and log paths",
        CLI,
        SOCKET,
        handler=status,
    ),
    _cmd("toggle", "turn the running daemon's hotkey on or off", CLI, SOCKET, MENU, handler=toggle),
    _cmd("quit", "stop the running daemon", CLI, SOCKET, MENU, handler=quit_),
    _cmd(
        "reload",
        "re-read the configuration file in the running daemon (like SIGHUP)",
        CLI,
        SOCKET,
        handler=reload,
    ),
    _cmd(
        "history",
        "print the running daemon's last dictations, newest first (kept in memory only)",
        CLI,
        SOCKET,
        handler=history,
    ),
    _cmd(
        "language",
        "show the configured languages, or switch the next dictations to one (or auto)",
        CLI,
        SOCKET,
        handler=language,
    ),
    _cmd("type-last", "type the kept text of the last dictation", MENU, handler=type_last),
    _cmd(
        "retype",
        "type the last dictation again into the focused window",
        CLI,
        SOCKET,
        MENU,
        handler=retype,
    ),
    _cmd("open-config", "open the configuration file", MENU, handler=open_config),
    _cmd("doctor", "check configuration, service, microphone, desktop; show fixes", CLI),
    _cmd(
        "autostart",
        "start voicetype at login: enable, disable or show status",
        CLI,
        MENU,
        handler=flip_autostart,
    ),
    _cmd("config", "create, locate or check the configuration file", CLI),
    _cmd(
        "shortcut",
        "print the desktop key binding that runs voicetype (Wayland, or any desktop)",
        CLI,
    ),
)

BY_NAME = {c.name: c for c in COMMANDS}


def socket_commands() -> tuple[str, ...]:
    return tuple(c.name for c in COMMANDS if SOCKET in c.offered)


def run(daemon: Daemon, name: str, request: Request) -> Reply:
    """Carry out command ``name`` in the daemon. Raises ``KeyError`` for a command the
    daemon does not carry out (the control server accepts only ``socket_commands()``)."""
    handler = BY_NAME[name].handler
    if handler is None:
        raise KeyError(name)
    return handler(daemon, request)
