"""Command line: ``voicetype [run]``, ``once``, ``config``; the one error boundary for commands.

Exit statuses: 0 success; 2 usage or configuration error; 3 nothing recognized (no match);
4 recognition failed; 1 any other failure (with a message, never a traceback), including
an unusable runtime directory; 141 stdout was closed early (``| head -1``): nothing printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicetype import __version__
from voicetype.commands import BY_NAME, CLI, COMMANDS, Command
from voicetype.config import Config, init_config, load_config, resolve_config_path
from voicetype.errors import ConfigError, VoicetypeError

if TYPE_CHECKING:
    from voicetype.context import CaretReader
    from voicetype.recognition import Recognized

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NO_MATCH = 3
EXIT_RECOGNITION_FAILED = 4
EXIT_PIPE_CLOSED = 141  # what a shell reports for a tool stopped by SIGPIPE (`| head -1`)

log = logging.getLogger(__name__)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicetype",
        description="Voice typing for the desktop: press the hotkey, speak, and the words "
        "are typed into the window that has focus. Without a command, starts the daemon.",
        epilog="Exit status: 0 ok, 2 usage or configuration error, 3 nothing recognized, "
        "4 recognition failed, 1 other failure (e.g. an unusable runtime directory), "
        "141 output closed early (| head).",
    )
    parser.add_argument("--version", action="version", version=f"voicetype {__version__}")
    _add_common(parser, None)
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common, argparse.SUPPRESS)  # also accepted after the command
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for command in COMMANDS:
        if CLI in command.offered:
            _SUBCOMMANDS.get(command.name, _add_daemon_command)(sub, common, command)
    return parser


def _add_daemon_command(sub: Any, common: argparse.ArgumentParser, command: Command) -> None:
    text = command.help
    sub.add_parser(
        command.name, parents=[common], help=text, description=text[0].upper() + text[1:] + "."
    )


def _add_run(sub: Any, common: argparse.ArgumentParser, command: Command) -> None:
    sub.add_parser(
        command.name,
        parents=[common],
        help=command.help,
        description="Start the background daemon: tray icon, global hotkey, typing.",
    )


def _add_once(sub: Any, common: argparse.ArgumentParser, command: Command) -> None:
    once = sub.add_parser(
        command.name,
        parents=[common],
        help=command.help,
        description="Recognize one utterance from the default microphone (or a WAV file) "
        "and type it into the focused window, or print it with --print.",
    )
    once.add_argument("--file", metavar="WAV", type=Path, help="recognize this WAV file")
    once.add_argument("--print", action="store_true", help="write the text to stdout")


def _add_doctor(sub: Any, common: argparse.ArgumentParser, command: Command) -> None:
    sub.add_parser(
        command.name,
        parents=[common],
        help=command.help,
        description="Check everything voicetype needs (configuration, key, the speech "
        "service, microphone, desktop session, tray, notifications, autostart, log) and "
        "print a fix for each problem. Exit status 0 when all pass, 1 otherwise.",
    )


def _add_autostart(sub: Any, common: argparse.ArgumentParser, command: Command) -> None:
    autostart = sub.add_parser(
        command.name,
        parents=[common],
        help=command.help,
        description="Manage starting voicetype at login (the same as the tray's 'Start at login').",
    )
    autostart.add_argument("action", choices=("enable", "disable", "status"))


def _add_config(sub: Any, common: argparse.ArgumentParser, command: Command) -> None:
    config = sub.add_parser(
        command.name,
        parents=[common],
        help=command.help,
        description="Manage the configuration file.",
    )
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_sub.add_parser(
        "init",
        parents=[common],
        help="write a commented starter file (never overwrites)",
        description="Write a commented starter config.toml, readable only by you. "
        "An existing file is left untouched.",
    )
    config_sub.add_parser("path", parents=[common], help="print the configuration file's path")
    config_sub.add_parser(
        "set-key",
        parents=[common],
        help="store the Azure key in the OS keyring (asks without echo; or reads stdin)",
        description="Store the Azure Speech key in the OS keyring. It is read without "
        "echo from the terminal, or as one line from standard input when that is not a "
        "terminal. The key is used when neither AZURE_AI_SPEECH_KEY nor `key` in the "
        "configuration file is set.",
    )
    config_sub.add_parser(
        "check",
        parents=[common],
        help="validate the configuration and show the effective settings (key masked)",
    )


def _add_history(sub: Any, common: argparse.ArgumentParser, command: Command) -> None:
    history = sub.add_parser(
        command.name,
        parents=[common],
        help=command.help,
        description="Print the running daemon's last dictations, newest first, one per "
        "line with the time (kept in memory only, never a password field's; how many: "
        "[text] history_size).",
    )
    history.add_argument("-n", "--count", type=int, metavar="N", help="print only the newest N")


def _add_language(sub: Any, common: argparse.ArgumentParser, command: Command) -> None:
    language = sub.add_parser(
        command.name,
        parents=[common],
        help=command.help,
        description="Without CODE: print the languages configured under [azure] language "
        "and the one in use. With CODE (one of them, or auto): the running daemon's next "
        "dictations use it, without a restart and without changing config.toml; auto "
        "lets the service identify the language again.",
    )
    language.add_argument("code", nargs="?", default="", help="e.g. de-DE, or auto")


#: How the commands with arguments of their own add them; the others have none.
_SUBCOMMANDS = {
    "language": _add_language,
    "history": _add_history,
    "run": _add_run,
    "once": _add_once,
    "doctor": _add_doctor,
    "autostart": _add_autostart,
    "config": _add_config,
}


def _add_common(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="configuration file (default: $VOICETYPE_CONFIG, else the user config dir)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=False if default is None else default,
        help="log debug details",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI's one error boundary: every failure becomes one message and an exit status
    (module doc; ``EXIT_PIPE_CLOSED`` when stdout was closed early, silently)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # a reader that went away (`| head -1`) shows here, not at exit
        return code
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_PIPE_CLOSED
    except ConfigError as exc:
        print(f"voicetype: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except VoicetypeError as exc:
        print(f"voicetype: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the boundary: a bug must still end in one line, not a traceback
        log.debug("internal error", exc_info=True)
        print(
            f"voicetype: internal error: {type(exc).__name__}: {str(exc)[:200]}\n"
            "  Fix: run the command again with -v for details, and report it",
            file=sys.stderr,
        )
        return EXIT_FAILURE


def _dispatch(args: argparse.Namespace) -> int:
    path = resolve_config_path(args.config, os.environ)
    if args.command == "config":
        return _config_command(args.config_command, path)
    if args.command and BY_NAME[args.command].needs_daemon:
        return _control(args.command, getattr(args, "count", None), getattr(args, "code", ""))
    if args.command == "doctor":
        from voicetype.doctor import run_doctor

        return run_doctor(path)
    if args.command == "autostart":
        return _autostart(args.action)
    from voicetype.keystore import read_key

    config = load_config(path, keyring=read_key)
    if args.command == "once":
        return _once(config, args.file, args.print)
    if args.command == "shortcut":
        return _shortcut(config)
    if args.command == "devices":
        return _devices(config.audio.device)
    from voicetype.app import run_daemon

    return run_daemon(config, verbose=args.verbose)


def _shortcut(config: Config) -> int:
    """Print the key binding for this desktop (``voicetype.shortcut``): what to add to the
    compositor's config, or the commands to run, for ``[hotkey] dictate``."""
    import subprocess

    from voicetype.insertion.wayland_select import detect_session
    from voicetype.modes import Mode
    from voicetype.shortcut import gnome_custom_keybindings, shortcut_text

    desktop = detect_session(os.environ).desktop

    def run(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout if done.returncode == 0 else ""

    existing = gnome_custom_keybindings(run) if desktop == "gnome" else []
    hold = config.dictation.mode in (Mode.AUTO, Mode.HOLD)  # a key release means something
    print(shortcut_text(desktop, config.hotkey.dictate, hold, gnome_existing=existing))
    return 0


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _autostart(action: str) -> int:
    from voicetype.autostart import select_autostart

    auto = select_autostart()
    if action != "status":
        auto.set_enabled(action == "enable")
    print(f"start at login: {auto.state()} ({auto.location})")
    return EXIT_OK


def _control(command: str, count: int | None = None, argument: str = "") -> int:
    from voicetype.control import ControlUnavailable, send_command

    try:
        reply = send_command(command, argument=argument)
    except ControlUnavailable as exc:
        print(f"voicetype: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if not reply.get("ok"):
        print(f"voicetype: {reply.get('error', 'the daemon refused the command')}", file=sys.stderr)
        # no key (dictate) or a broken file (reload): a configuration error
        config_error = reply.get("outcome") in ("not_configured", "not_reloaded")
        return EXIT_USAGE if config_error else EXIT_FAILURE
    if command == "status":
        for key, value in reply.get("status", {}).items():
            print(f"{key + ':':<14} {value}")
    elif command == "history":
        entries = reply.get("history", [])
        _print_history(entries[: max(0, count)] if count is not None else entries)
    elif command == "language" and not argument:
        current = reply.get("current")
        for code in reply.get("languages", []):
            print(f"{'*' if code == current else ' '} {code}")
    elif reply.get("message"):
        print(reply["message"])
    return EXIT_OK


def _devices(chosen: str) -> int:
    """``voicetype devices``: the microphones, default and chosen marked (errors: boundary)."""
    from voicetype.audio.devices import format_devices, list_devices

    print(format_devices(list_devices(), chosen))
    return EXIT_OK


def _print_history(entries: list[dict[str, object]]) -> None:
    """One line per dictation, newest first: local time, two spaces, the text (line
    breaks shown as ⏎)."""
    if not entries:
        print("No dictations yet (the history is kept in memory until voicetype stops).")
    for entry in entries:
        at = entry.get("at")
        when = time.strftime("%H:%M:%S", time.localtime(at)) if isinstance(at, float) else "?"
        print(f"{when}  {str(entry.get('text', '')).replace(chr(10), '⏎')}")


def _config_command(action: str, path: Path) -> int:
    if action == "path":
        print(path)
        return EXIT_OK
    if action == "init":
        if init_config(path):
            print(f"Wrote {path} (readable only by you). Set your key and region there.")
        else:
            print(f"{path} already exists; left it as it is.")
        return EXIT_OK
    if action == "set-key":
        return _set_key(path)
    from voicetype.keystore import read_key

    config = load_config(path, keyring=read_key)
    print(_describe(config))
    return EXIT_OK


def _read_secret(prompt: str) -> str:
    """From the terminal without echo; else one line from standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    return sys.stdin.readline() if sys.stdin is not None else ""


def _set_key(path: Path) -> int:
    from voicetype.config import ENV_KEY
    from voicetype.keystore import store_key

    key = _read_secret("Azure Speech key (input hidden): ").strip()
    if not key or any(ch.isspace() for ch in key):
        raise ConfigError(
            "That is not an Azure Speech key (empty, or it contains spaces)",
            "copy Key 1 from your Speech resource's Keys and Endpoint page in the Azure portal",
        )
    backend = store_key(key)
    print(f"Stored the key in the keyring ({backend}).")
    if os.environ.get(ENV_KEY):
        print(f"Note: {ENV_KEY} is set and wins over the keyring; unset it to use this key.")
    else:
        try:
            file_key = load_config(path).azure.key_source == "file"
        except ConfigError:
            file_key = False
        if file_key:
            print(f"Note: `key` in {path} wins over the keyring; delete that line to use it.")
    return EXIT_OK


def _describe(config: Config) -> str:
    from voicetype.doctor import mask_key

    a = config.azure
    lines = [
        f"config file: {config.path}" + ("" if config.file_exists else " (not present: defaults)"),
        f"key:         {mask_key(a.key)}" + (f" (from {a.key_source})" if a.key_source else ""),
        f"region:      {a.region or '(not set)'}",
        f"host:        {a.host or '(Azure cloud)'}",
        f"language:    {', '.join(a.languages)}"
        + (f" (identified {a.language_id})" if len(a.languages) > 1 else ""),
        f"profanity:   {a.profanity}",
        f"hotkey:      {config.hotkey.dictate.pynput_string()}",
        f"typing:      {config.typing.method}",
    ]
    return "\n".join(lines)


def _once(config: Config, wav: Path | None, print_text: bool) -> int:
    from voicetype.recognition import Failed, Microphone, NoMatch, Recognized, WavFile
    from voicetype.recognition.messages import describe_failure, describe_no_match

    config.azure.require_credentials(config.path)
    if wav is not None and not wav.is_file():
        raise ConfigError(f"{wav} does not exist or is not a file", "give the path of a WAV file")
    from voicetype.recognition.azure import AzureRecognizer

    recognizer = AzureRecognizer(config.azure, max_chars=config.typing.max_chars)
    reader = None
    if not print_text:  # its helper starts while the words are recognized
        from voicetype.context import caret_reader

        reader = caret_reader()
    try:
        result = recognizer.recognize_once(WavFile(wav) if wav else Microphone())
        if isinstance(result, Recognized):
            return _once_text(config, result, reader)
        if isinstance(result, NoMatch):
            print(f"voicetype: {describe_no_match(result).as_text()}", file=sys.stderr)
            return EXIT_NO_MATCH
        assert isinstance(result, Failed)
        message = describe_failure(result)
        detail = f"\n  Detail: {result.detail}" if result.detail else ""
        print(f"voicetype: {message.summary}\n  Fix: {message.body}{detail}", file=sys.stderr)
        return EXIT_RECOGNITION_FAILED
    finally:  # after the text and the messages: the SDK's release waits ~0.5 s (sdk_release)
        if reader is not None:
            reader.close()
        recognizer.close()


def _once_text(config: Config, result: Recognized, reader: CaretReader | None) -> int:
    """``once``: the text the daemon would type for ``result`` (the text pipeline, with no
    memory of earlier dictations), typed into the focused window (``reader``: its caret
    context), or printed (``reader`` None: no caret context, so the words keep the
    service's capitals; spoken commands and replacements apply)."""
    from voicetype.dictation import phrases_of
    from voicetype.insertion import sanitize

    phrases = phrases_of(result, sanitize(result.text))
    if reader is None:
        from voicetype.text import UNKNOWN, Previous, TextPipeline

        outcome = TextPipeline(config.text).process(phrases, UNKNOWN, Previous(), None, 0.0)
        refused = outcome.notice.as_text() if outcome.notice is not None else None
        if refused is None:
            sys.stdout.write(outcome.text + "\n")
            sys.stdout.flush()
    else:
        from voicetype.insertion import choose_inserter
        from voicetype.typing_stage import type_once

        inserter = choose_inserter(config)
        try:
            inserted = type_once(config.text, inserter, phrases, reader)
        finally:
            inserter.close()
        if inserted.error is not None:
            raise inserted.error
        refused = inserted.notice.as_text() if inserted.notice is not None else None
    if refused is not None:  # "scratch that" alone: nothing to take back
        print(f"voicetype: {refused}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK
