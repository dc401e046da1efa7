"""Autostart on Linux and other XDG desktops: a Desktop Entry in ``$XDG_CONFIG_HOME/autostart``.

The entry runs the installed voicetype (the console script beside the running
interpreter, else ``python -m voicetype`` with that interpreter), with ``Exec`` quoted per
the Desktop Entry specification so paths with spaces, quotes, ``$`` or ``%`` work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from voicetype.errors import VoicetypeError

ENTRY_NAME = "voicetype.desktop"
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def quote_exec_arg(arg: str) -> str:
    """Quote one argument for ``Exec`` (spec: quoting rules, then string escapes, ``%%``)."""
    if arg and not (_RESERVED & set(arg)):
        quoted = arg
    else:
        inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
        quoted = f'"{inner}"'
    # the general string escape applies on top of the quoting rule: backslashes double
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def exec_line(argv: Sequence[str]) -> str:
    return " ".join(quote_exec_arg(a) for a in argv)


def _unescape_string(value: str) -> str:
    out, i = [], 0
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\", ";": ";"}
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value) and value[i + 1] in escapes:
            out.append(escapes[value[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_exec(line: str) -> list[str]:
    """Split an ``Exec`` value back into arguments (inverse of ``exec_line``)."""
    value = _unescape_string(line).replace("%%", "%")
    args: list[str] = []
    current: list[str] = []
    in_quotes = False
    has_arg = False
    i = 0
    while i < len(value):
        ch = value[i]
        if in_quotes:
            if ch == "\\" and i + 1 < len(value) and value[i + 1] in '"`$\\':
                current.append(value[i + 1])
                i += 1
            elif ch == '"':
                in_quotes = False
            else:
                current.append(ch)
        elif ch == '"':
            in_quotes = has_arg = True
        elif ch == " ":
            if has_arg:
                args.append("".join(current))
                current, has_arg = [], False
        else:
            current.append(ch)
            has_arg = True
        i += 1
    if in_quotes:
        raise ValueError("unterminated quote in Exec")
    if has_arg:
        args.append("".join(current))
    return args


def read_entry(path: Path) -> dict[str, str]:
    """The keys of the ``[Desktop Entry]`` group (raw values, comments skipped)."""
    values: dict[str, str] = {}
    group = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
        elif group == "Desktop Entry" and "=" in line:
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), value.strip())
    return values


class XdgAutostart:
    """Threading: any thread. Errors: ``VoicetypeError`` naming the path and the fix."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        config_home = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")) / ".config")
        self.path = Path(config_home).expanduser() / "autostart" / ENTRY_NAME
        self.command = list(command)

    def entry_text(self) -> str:
        return (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=voicetype\n"
            "Comment=Voice typing: press the hotkey, speak, and the words are typed\n"
            f"Exec={exec_line(self.command)}\n"
            "Icon=audio-input-microphone\n"
            "Terminal=false\n"
            "Categories=Utility;Accessibility;\n"
            "X-GNOME-Autostart-enabled=true\n"
        )

    def state(self) -> str:
        """``"enabled"``, ``"disabled"`` (no entry) or ``"disabled-by-user"`` (Hidden=true, or
        GNOME's X-GNOME-Autostart-enabled=false on our entry)."""
        if not self.path.is_file():
            return "disabled"
        try:
            values = read_entry(self.path)
        except (OSError, UnicodeDecodeError):
            return "disabled-by-user"
        if values.get("Hidden", "").lower() == "true":
            return "disabled-by-user"
        if values.get("X-GNOME-Autostart-enabled", "true").lower() == "false":
            return "disabled-by-user"
        return "enabled"

    @property
    def location(self) -> str:
        return str(self.path)

    def is_enabled(self) -> bool:
        return self.state() == "enabled"

    def set_enabled(self, enabled: bool) -> None:
        try:
            if enabled:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(self.entry_text(), encoding="utf-8")
                tmp.replace(self.path)
            else:
                self.path.unlink(missing_ok=True)
        except OSError as exc:
            action = "create" if enabled else "remove"
            raise VoicetypeError(
                f"Could not {action} the autostart entry {self.path} ({exc.strerror})",
                f"check that {self.path.parent} is writable by you",
            ) from exc
