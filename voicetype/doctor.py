"""``voicetype doctor``: a checklist of everything voicetype needs, each ✗ with its fix.

Every check is bounded in time and never raises; the key is only ever shown masked.
"""

from __future__ import annotations

import os
import sys
import tempfile
import wave
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from voicetype.config import Config, TypingConfig, exposed_key_file, load_config, log_dir
from voicetype.errors import BackendUnavailable, ConfigError, VoicetypeError
from voicetype.recognition import ErrorKind, Failed, NoMatch, Recognized, WavFile
from voicetype.recognition.messages import describe_failure


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def render(self) -> str:
        mark = "✓" if self.ok else "✗"
        line = f"{mark} {self.name}: {self.detail}"
        return f"{line}\n    fix: {self.fix}" if self.fix and not self.ok else line


def mask_key(key: str) -> str:
    """Enough of a key to recognize it, never enough to use it."""
    if not key:
        return "(not set)"
    return f"{'*' * 8}{key[-4:]}" if len(key) >= 16 else "*" * 8


def check_config(path: Path) -> tuple[Check, Config | None]:
    from voicetype.keystore import read_key

    try:
        config = load_config(path, keyring=read_key)
    except ConfigError as exc:
        return Check("configuration", False, exc.message, exc.fix), None
    where = str(path) if config.file_exists else f"{path} (not present: defaults apply)"
    return Check("configuration", True, f"{where}, valid"), config


def check_key_file(config: Config) -> Check:
    """A config file holding the key must be readable only by its owner."""
    problem = exposed_key_file(config)
    if problem is not None:
        return Check("key file permissions", False, problem.message, problem.fix)
    if config.azure.key_source == "file":
        return Check("key file permissions", True, f"{config.path} is readable only by you")
    return Check("key file permissions", True, "the key is not in a file")


def check_credentials(config: Config) -> Check:
    a = config.azure
    try:
        a.require_credentials(config.path)
    except ConfigError as exc:
        return Check("Azure key and region", False, exc.message, exc.fix)
    where = f"host {a.host}" if a.host else f"region {a.region}"
    source = f" (from {a.key_source})" if a.key_source else ""
    return Check(
        "Azure key and region", True, f"key {mask_key(a.key)}{source}, {where}, {a.language}"
    )


def _silent_wav(directory: Path) -> Path:
    path = directory / "silence.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 8000)
    return path


def check_service(config: Config) -> Check:
    """A real recognition of half a second of silence: proves reachability and the key."""
    if not config.azure.has_credentials:
        return Check("speech service", False, "not tried: no key", "set the key first (above)")
    from dataclasses import replace

    from voicetype.recognition.azure import AzureRecognizer

    target = config.azure.host or f"Azure region {config.azure.region}"
    azure = replace(config.azure, timeout_seconds=min(config.azure.timeout_seconds, 8.0))
    recognizer = AzureRecognizer(azure)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = recognizer.recognize_once(WavFile(_silent_wav(Path(tmp))))
    finally:
        recognizer.close()
    if isinstance(result, Recognized | NoMatch):
        return Check("speech service", True, f"{target} answered and accepted the key")
    assert isinstance(result, Failed)
    message = describe_failure(result)
    return Check("speech service", False, f"{target}: {message.summary}", message.body)


def check_microphone() -> Check:
    """The daemon's own probe: the SDK opens the default microphone in a child process."""
    from voicetype.recognition.microphone import probe_microphone

    failure = probe_microphone()
    if failure is None:
        return Check("microphone", True, "the default microphone opens")
    message = describe_failure(Failed(ErrorKind.MICROPHONE_UNAVAILABLE, failure.detail))
    return Check("microphone", False, message.summary, message.body)


def check_session(
    env: Mapping[str, str], method: str = TypingConfig.method, platform: str = sys.platform
) -> Check:
    """Can voicetype type here? Asks ``select_inserter`` as the daemon does (an X11 inserter
    opens the display and checks XTEST) and closes what it opened; then says when the X
    display belongs to a Wayland session (typing reaches only its X11 apps)."""
    from voicetype.insertion.select import select_inserter
    from voicetype.insertion.wayland_select import describe, detect_session

    try:
        inserter = select_inserter(method, platform, dict(env))
    except BackendUnavailable as exc:
        return Check("desktop session", False, exc.message, exc.fix)
    x11 = type(inserter).__name__ == "PerAppInserter"  # the X11 path (select.py)
    inserter.close()
    if platform in ("win32", "darwin"):
        return Check("desktop session", True, platform)
    session = detect_session(env)
    if session.kind == "wayland" and x11:
        return Check(
            "desktop session",
            False,
            "Wayland, but its typing path is unavailable: typing goes through XWayland and"
            " reaches only X11 apps (the log says why)",
            "run voicetype inside the Wayland session (WAYLAND_DISPLAY, XDG_RUNTIME_DIR and"
            " DBUS_SESSION_BUS_ADDRESS set)",
        )
    if session.kind == "wayland":
        return Check("desktop session", True, describe(session))
    return Check("desktop session", True, f"X11 on {env.get('DISPLAY', '')}")


def _compositor_binding(env: Mapping[str, str]) -> str | None:
    """Where the hotkey is the compositor's own key binding (sway, GNOME custom
    shortcuts): a line saying that one runs voicetype, or None."""
    import subprocess

    from voicetype.insertion.wayland_select import detect_session
    from voicetype.shortcut import shortcut_is_set

    session = detect_session(env)
    if session.kind != "wayland":
        return None

    def run(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=5, env=dict(env))
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout if done.returncode == 0 else ""

    if shortcut_is_set(session.desktop, run):
        return f"a {session.desktop} key binding runs voicetype"
    return None


def check_hotkey(
    config: Config, env: Mapping[str, str], platform: str = sys.platform
) -> Check | None:
    """Can voicetype take the hotkey? Asks ``choose_listener`` as the daemon does (its
    refusals are the daemon's); then, for the X11 grab, a running daemon that holds the key
    (a probe would find its own grab), else a probe grab and ungrab on a connection of its
    own. None where pynput listens (nothing to probe without starting it).
    """
    from voicetype.hotkeys import HotkeyTaken, choose_listener, uses_x11_grab

    hotkey = config.hotkey.dictate
    try:
        choose_listener(hotkey, _ignore, _ignore, platform, env)  # made, never started
    except BackendUnavailable as exc:
        bound = _compositor_binding(env)
        if bound:
            return Check("hotkey", True, bound)
        return Check("hotkey", False, exc.message, exc.fix)
    if not uses_x11_grab(platform, env):
        return None
    fix_where = f" ({config.path}), then run `voicetype reload`"
    try:
        from voicetype.control import send_command, socket_path

        status = send_command("status", socket_path(), timeout=1.0).get("status", {})
    except (VoicetypeError, OSError):  # no daemon, or no runtime dir to find one in
        status = {}
    held_by = status.get("hotkey")
    if held_by == str(hotkey):
        return Check("hotkey", True, f"{hotkey}, held by the running voicetype")
    if held_by == HotkeyTaken(hotkey).message:
        taken = HotkeyTaken(hotkey)
        return Check("hotkey", False, taken.message, taken.fix + fix_where)
    from voicetype.hotkeys_x11 import probe_grab

    try:
        probe_grab(hotkey, env.get("DISPLAY"))
    except HotkeyTaken as exc:
        return Check("hotkey", False, exc.message, exc.fix + fix_where)
    except VoicetypeError as exc:
        return Check("hotkey", False, exc.message, exc.fix)
    return Check("hotkey", True, f"{hotkey} is free: voicetype can grab it")


def _ignore() -> None:
    pass


def check_tray(env: Mapping[str, str]) -> Check:
    from voicetype.tray import MENU_FIX, choose_tray_backend

    try:
        backend = choose_tray_backend(dict(env))
    except VoicetypeError as exc:
        return Check("tray icon", False, exc.message, exc.fix)
    if backend == "xorg":  # voicetype's own XEmbed icon (voicetype/tray/xembed.py)
        return Check("tray icon", False, "plain X icon: no menu (a left click dictates)", MENU_FIX)
    if backend == "dummy":
        return Check("tray icon", False, "no tray icon (backend dummy)", MENU_FIX)
    return Check("tray icon", True, f"tray backend {backend}, with menu")


def check_notifications(env: Mapping[str, str], platform: str = sys.platform) -> Check:
    """Asks the notifier ``select_notifier`` would choose whether it could show one now."""
    from voicetype.notify.select import probe_notifications

    try:
        detail = probe_notifications(platform=platform, env=env)
    except VoicetypeError as exc:
        return Check("notifications", False, exc.message, exc.fix)
    return Check("notifications", True, detail)


def check_autostart() -> Check:
    from voicetype.autostart import select_autostart

    auto = select_autostart()
    described = auto.state()
    detail = f"{described} ({auto.location})"
    if described == "disabled-by-user":
        return Check(
            "start at login",
            False,
            detail,
            "the entry was disabled in your session settings; "
            "turn it on there or run `voicetype autostart enable`",
        )
    return Check("start at login", True, detail)


def check_log() -> Check:
    directory = log_dir()
    path = directory / "voicetype.log"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    except OSError as exc:
        return Check("log file", False, f"{path}: {exc.strerror}", f"make {directory} writable")
    return Check("log file", True, str(path))


def run_doctor(
    config_path: Path,
    env: Mapping[str, str] | None = None,
    out: Callable[[str], None] = print,
) -> int:
    """Print the checklist; return 0 when every check passed, 1 otherwise."""
    env = os.environ if env is None else env
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        out(check.render())

    config_check, config = check_config(config_path)
    add(config_check)
    if config is not None:
        add(check_credentials(config))
        add(check_key_file(config))
        add(check_service(config))
    add(check_microphone())
    add(check_session(env, config.typing.method if config else TypingConfig.method))
    if config is not None and (hotkey := check_hotkey(config, env)) is not None:
        add(hotkey)
    add(check_tray(env))
    add(check_notifications(env))
    add(check_autostart())
    add(check_log())
    failed = sum(not c.ok for c in checks)
    out("")
    out("All checks passed." if not failed else f"{failed} of {len(checks)} checks failed.")
    return 0 if not failed else 1
