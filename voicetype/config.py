"""Configuration: the TOML file, environment overrides, validation and paths.

Pure apart from reading the file: no desktop imports. ``load_config`` either returns a
fully validated ``Config`` or raises ``ConfigError`` naming the file, the line where it can
be found, the key and what is allowed. A missing file is not an error: defaults apply.
A missing Azure key is not a load error either (the daemon must start and explain);
``AzureConfig.require_credentials`` raises when recognition actually needs them.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from voicetype.errors import ConfigError
from voicetype.hotkeys import Hotkey, HotkeyError, parse_hotkey
from voicetype.modes import Mode
from voicetype.modes_config import (
    FEEDBACK_SCHEMA,
    AudioConfig,
    DictationConfig,
    parse_audio,
    parse_dictation,
)
from voicetype.modes_config import SCHEMA as MODES_SCHEMA
from voicetype.text.config import SECTIONS as TEXT_SECTIONS
from voicetype.text.config import text_settings
from voicetype.text.settings import TextSettings
from voicetype.text.vocabulary import recognizer_phrases

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

APP_NAME = "voicetype"
ENV_CONFIG = "VOICETYPE_CONFIG"
ENV_KEY = "AZURE_AI_SPEECH_KEY"
ENV_REGION = "AZURE_AI_SPEECH_REGION"
ENV_HOST = "AZURE_AI_SPEECH_HOST"

DEFAULT_HOTKEY = "<ctrl>+<alt>+<space>"
TYPING_METHODS = ("auto", "type", "paste")

_REGION_RE = re.compile(r"^[a-z][a-z0-9]{2,40}$")
_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")

#: Candidate languages the service identifies among: at the start of each dictation (at
#: most 4), or continuously in hands-free ("toggle") dictation (at most 10).
MAX_LANGUAGES_AT_START = 4
MAX_LANGUAGES_CONTINUOUS = 10
#: ``[azure] profanity``: the SDK's ``ProfanityOption`` (the service masks by default).
PROFANITY = ("masked", "removed", "raw")


@dataclass(frozen=True)
class AzureConfig:
    key: str = field(default="", repr=False)
    region: str = ""
    host: str = ""
    #: ``[azure] language``: one code, or the candidates the service identifies among
    #: (the first is the text pipeline's language and the one used without identification).
    languages: tuple[str, ...] = ("en-US",)
    #: How the service identifies among several ``languages``: "at-start" (once per
    #: dictation) or "continuous" (phrase by phrase: hands-free dictation, ``[dictation]
    #: mode = "toggle"``). Derived from the mode; meaningless with one language.
    language_id: str = "at-start"
    profanity: str = "masked"  # one of PROFANITY
    allow_insecure_host: bool = False
    timeout_seconds: float = 8.0  # the longest the service may stay quiet before we give up
    #: The SDK's PhraseListGrammar: ``[text] vocabulary`` then the command words (≤ 500),
    #: from ``voicetype.text.vocabulary.recognizer_phrases``; a change rebuilds the recognizer.
    phrases: tuple[str, ...] = ()
    key_source: str = ""  # where the key came from: "environment", "file", "keyring" or ""

    def require_credentials(self, config_path: Path) -> None:
        """Raise ``ConfigError`` with the exact fix when the key or the region/host is missing."""
        if not self.key:
            raise ConfigError(
                "No Azure Speech key is configured",
                f"set `key` under [azure] in {config_path} (create it with "
                f"`voicetype config init`), or export {ENV_KEY}=<your key>",
            )
        if not self.region and not self.host:
            raise ConfigError(
                "No Azure region is configured",
                f'set `region` under [azure] in {config_path} (e.g. region = "westeurope"; '
                f"or `host` for a speech container), or export {ENV_REGION}=<region>",
            )

    @property
    def has_credentials(self) -> bool:
        return bool(self.key and (self.region or self.host))

    @property
    def language(self) -> str:
        """The first configured language (the only one without identification)."""
        return self.languages[0]


@dataclass(frozen=True)
class HotkeyConfig:
    dictate: Hotkey = field(default_factory=lambda: parse_hotkey(DEFAULT_HOTKEY))


@dataclass(frozen=True)
class TypingConfig:
    method: str = "auto"
    max_chars: int = 10_000  # a longer recognition is refused whole: nothing typed


@dataclass(frozen=True)
class FeedbackConfig:
    start_sound: bool = True
    stop_sound: bool = True  # a different short sound when listening ends
    notify_no_match: bool = True


@dataclass(frozen=True)
class LogConfig:
    include_text: bool = False  # write recognized text into the log (off: privacy)


@dataclass(frozen=True)
class HistoryConfig:
    keep: bool = False  # also on disk (0600), across restarts; off: memory only


@dataclass(frozen=True)
class Config:
    path: Path
    azure: AzureConfig = field(default_factory=AzureConfig)
    hotkey: HotkeyConfig = field(default_factory=HotkeyConfig)
    typing: TypingConfig = field(default_factory=TypingConfig)
    feedback: FeedbackConfig = field(default_factory=FeedbackConfig)
    log: LogConfig = field(default_factory=LogConfig)
    text: TextSettings = field(default_factory=TextSettings)  # [text] [commands] [replacements]
    dictation: DictationConfig = field(default_factory=DictationConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    file_exists: bool = False


# ---------------------------------------------------------------- paths


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def resolve_config_path(cli_path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    """``--config`` wins, then ``VOICETYPE_CONFIG``, then the platform's config dir."""
    if cli_path:
        return Path(cli_path).expanduser()
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    return default_config_path()


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


# ---------------------------------------------------------------- schema

_Kind = type | tuple[type, ...]
_SCHEMA: dict[str, dict[str, tuple[_Kind, str]]] = {
    "azure": {
        "key": (str, "a string (your Speech resource key)"),
        "region": (str, 'a string such as "westeurope"'),
        "host": (str, 'a string such as "ws://localhost:5000" or "wss://…"'),
        "language": (
            (str, list),
            'a language code such as "en-US", or a list such as ["en-US", "de-DE"]',
        ),
        "profanity": (str, 'one of "masked", "removed", "raw"'),
        "allow_insecure_host": (bool, "true or false"),
        "timeout_seconds": ((int, float), "a number of seconds from 2 to 60"),
    },
    "hotkey": {"dictate": (str, 'a hotkey such as "<ctrl>+<alt>+<space>"')},
    "typing": {
        "method": (str, 'one of "auto", "type", "paste"'),
        "max_chars": (int, "a whole number of characters from 1 to 1000000"),
    },
    "feedback": {
        "start_sound": (bool, "true or false"),
        "notify_no_match": (bool, "true or false"),
        **FEEDBACK_SCHEMA,
    },
    "log": {"include_text": (bool, "true or false")},
    "history": {"keep": (bool, "true or false")},
    **MODES_SCHEMA,
}


class _Locator:
    """Finds the line of ``[table] key = …`` in the TOML text, for error messages."""

    _TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str, str], int] = {}
        self._tables: dict[str, int] = {}
        table = ""
        for number, line in enumerate(text.splitlines(), start=1):
            if m := self._TABLE.match(line):
                table = m.group(1)
                self._tables.setdefault(table, number)
            elif m := self._KEY.match(line):
                self._lines.setdefault((table, m.group(1).strip('"')), number)

    def line(self, table: str, key: str | None = None) -> int | None:
        if key is None:
            return self._tables.get(table)
        return self._lines.get((table, key))


def _where(path: Path, line: int | None) -> str:
    return f"{path}, line {line}" if line else str(path)


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _check_region(region: str, origin: str) -> str:
    if region and not _REGION_RE.match(region):
        suggestion = re.sub(r"[^a-z0-9]", "", region.lower())
        raise ConfigError(
            f"{origin}: `region` is {_shown(region)}, which is not an Azure region name",
            f'use the short lower-case name, e.g. "{suggestion or "westeurope"}"',
        )
    return region


def _check_host(host: str, allow_insecure: bool, origin: str) -> str:
    if not host:
        return host
    parts = urlsplit(host)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ConfigError(
            f"{origin}: `host` is {_shown(host)}, which is not a ws:// or wss:// address",
            'write it as "wss://HOST[:PORT]" (or "ws://localhost:PORT" for a local container)',
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(
            f"{origin}: `host` {_shown(host)} has a path; "
            "the Speech SDK accepts only scheme, host and port",
            f'use "{parts.scheme}://{parts.netloc}"',
        )
    if parts.scheme == "ws" and not allow_insecure and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"{origin}: `host` {_shown(host)} would send your key and audio unencrypted "
            "over the network",
            f'use "wss://{parts.netloc}", or set allow_insecure_host = true under [azure] '
            "if you really mean plain ws://",
        )
    return host.rstrip("/")


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


MAX_CONFIG_BYTES = 1_000_000  # a real configuration is a few hundred bytes


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path} is {size:,} bytes; a voicetype configuration is a few hundred",
                "point --config or VOICETYPE_CONFIG at the right file, "
                "or start again from `voicetype config init`",
            )
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"Cannot read {path}: {exc}", "check the file's permissions and encoding (UTF-8)"
        ) from exc


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    """``tomllib.loads`` with every way it can fail turned into a ``ConfigError``."""
    fix = (
        'fix that line (strings need double quotes: key = "…"), or compare with config.example.toml'
    )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", fix) from exc
    except RecursionError as exc:  # arrays or inline tables nested thousands deep
        raise ConfigError(
            f"{path} is nested too deeply to read",
            "a voicetype configuration needs only [section] headers and key = value lines; "
            "compare with config.example.toml",
        ) from exc
    except ValueError as exc:  # e.g. an integer with more than 4,300 digits
        raise ConfigError(
            f"{path} holds a value too large to read ({str(exc)[:80]})",
            "use numbers of a sensible size; compare with config.example.toml",
        ) from exc


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float: out of every range anyway
        return float("inf")


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, shortened for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_languages(value: object, continuous: bool, origin: str) -> tuple[str, ...]:
    """``[azure] language`` (a code or a list of codes) as a tuple, validated: codes that
    look like BCP-47, no repeats, no two of one language (identification tells languages,
    not regions: "en-US" and "en-GB" are one candidate), at most 4 (10 when
    ``continuous``: hands-free dictation identifies phrase by phrase). ``ConfigError``
    otherwise, naming ``origin`` (file and line)."""
    codes = [value] if isinstance(value, str) else value
    if not isinstance(codes, list) or not codes:
        raise ConfigError(
            f"{origin}: `language` is {_shown(value)}; it needs at least one language code",
            'write language = "en-US", or a list such as language = ["en-US", "de-DE"]',
        )
    result: list[str] = []
    for code in codes:
        if not isinstance(code, str) or not _LANGUAGE_RE.match(code.strip()):
            raise ConfigError(
                f"{origin}: `language` has {_shown(code)}, which is not a language code",
                'use codes such as "en-US", "de-DE" or "zh-CN"',
            )
        code = code.strip()
        base = code.split("-")[0].lower()
        twin = next((c for c in result if c.split("-")[0].lower() == base), None)
        if twin is not None:
            what = "twice" if twin.lower() == code.lower() else f"after {twin}"
            raise ConfigError(
                f"{origin}: `language` lists {code} {what}; language identification tells "
                "languages apart, not regions",
                f"keep one of them (e.g. {twin})",
            )
        result.append(code)
    limit = MAX_LANGUAGES_CONTINUOUS if continuous else MAX_LANGUAGES_AT_START
    if len(result) > limit:
        fix = (
            f"list at most {MAX_LANGUAGES_CONTINUOUS}"
            if continuous
            else f"list at most {MAX_LANGUAGES_AT_START}, or use hands-free dictation "
            f'([dictation] mode = "toggle"), which identifies phrase by phrase among up '
            f"to {MAX_LANGUAGES_CONTINUOUS}"
        )
        how = "phrase by phrase" if continuous else "at the start of each dictation"
        raise ConfigError(
            f"{origin}: `language` lists {len(result)} languages; the speech service "
            f"identifies {how} among at most {limit}",
            fix,
        )
    return tuple(result)


def load_config(
    path: Path,
    env: Mapping[str, str] | None = None,
    keyring: Callable[[], str] | None = None,
) -> Config:
    """Read, validate and merge the config file at ``path`` with the environment.

    Errors: ``ConfigError`` for unsafe, unreadable, oversized or unparsable files (nesting
    or numbers too large for the parser included), unknown tables or keys
    (with a suggestion), wrong types or values. Environment variables
    (``AZURE_AI_SPEECH_KEY``/``_REGION``/``_HOST``) win over the file. The key comes from
    the environment, else the file, else ``keyring()`` (called only then; it returns ""
    when the OS keyring holds none and must not raise); ``AzureConfig.key_source`` says
    which.
    """
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    text = ""
    exists = path.is_file()
    if path.exists() and not exists:
        raise ConfigError(f"{path} is not a file", "point --config or VOICETYPE_CONFIG at a file")
    if exists:
        unsafe = unsafe_config_file(path)
        if unsafe is not None:
            raise unsafe
        text = _read_text(path)
        data = _parse_toml(path, text)
    locate = _Locator(text)
    values: dict[str, dict[str, Any]] = {}
    sections = [*_SCHEMA, *TEXT_SECTIONS]
    for table, content in data.items():
        if table in TEXT_SECTIONS:
            continue  # validated by voicetype.text.config below
        if table not in _SCHEMA:
            raise ConfigError(
                f"{_where(path, locate.line(table))}: unknown section [{table}]"
                + _did_you_mean(table, sections),
                f"allowed sections: {', '.join(f'[{t}]' for t in sections)}",
            )
        if not isinstance(content, dict):
            raise ConfigError(
                f"{_where(path, locate.line('', table))}: `{table}` must be a section [{table}]",
                f"write it as [{table}] followed by its keys",
            )
        schema = _SCHEMA[table]
        for key, value in content.items():
            where = _where(path, locate.line(table, key))
            if key not in schema:
                raise ConfigError(
                    f"{where}: unknown key `{key}` in [{table}]" + _did_you_mean(key, list(schema)),
                    f"keys allowed in [{table}]: {', '.join(schema)}",
                )
            kind, allowed = schema[key]
            ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
            if not ok:
                raise ConfigError(
                    f"{where}: [{table}] {key} = {_shown(value)} has the wrong type",
                    f"`{key}` must be {allowed}",
                )
        values[table] = dict(content)

    def get(table: str, key: str, default: Any) -> Any:
        return values.get(table, {}).get(key, default)

    def origin(table: str, key: str) -> str:
        return _where(path, locate.line(table, key))

    a = AzureConfig()
    key, key_source = env.get(ENV_KEY, "").strip(), "environment"
    if not key:
        key, key_source = get("azure", "key", a.key).strip(), "file"
    if not key and keyring is not None:
        key, key_source = keyring().strip(), "keyring"
    if not key:
        key_source = ""
    region_from_env = bool(env.get(ENV_REGION))
    region = (env.get(ENV_REGION) or get("azure", "region", a.region)).strip()
    region = _check_region(region, ENV_REGION if region_from_env else origin("azure", "region"))
    allow_insecure = get("azure", "allow_insecure_host", a.allow_insecure_host)
    host_from_env = bool(env.get(ENV_HOST))
    host = (env.get(ENV_HOST) or get("azure", "host", a.host)).strip()
    host = _check_host(host, allow_insecure, ENV_HOST if host_from_env else origin("azure", "host"))
    dictation = parse_dictation(get, origin)
    continuous = dictation.mode is Mode.TOGGLE
    languages = check_languages(
        get("azure", "language", a.language), continuous, origin("azure", "language")
    )
    language = languages[0]
    profanity = get("azure", "profanity", a.profanity)
    if profanity not in PROFANITY:
        raise ConfigError(
            f"{origin('azure', 'profanity')}: [azure] profanity = {_shown(profanity)} is not "
            "allowed" + _did_you_mean(str(profanity), list(PROFANITY)),
            'use "masked" (the default: profane words as ***), "removed" or "raw"',
        )
    timeout = _as_float(get("azure", "timeout_seconds", a.timeout_seconds))
    if not 2 <= timeout <= 60:
        raise ConfigError(
            f"{origin('azure', 'timeout_seconds')}: `timeout_seconds` is {timeout:g}",
            "use a number of seconds from 2 to 60",
        )
    azure = AzureConfig(
        key=key,
        key_source=key_source,
        region=region,
        host=host,
        languages=languages,
        language_id="continuous" if continuous and len(languages) > 1 else "at-start",
        profanity=profanity,
        allow_insecure_host=allow_insecure,
        timeout_seconds=timeout,
    )

    hotkey_text = get("hotkey", "dictate", DEFAULT_HOTKEY)
    try:
        hotkey = parse_hotkey(hotkey_text)
    except HotkeyError as exc:
        raise ConfigError(
            f"{origin('hotkey', 'dictate')}: [hotkey] dictate: {exc}",
            f'use pynput syntax, e.g. dictate = "{DEFAULT_HOTKEY}"',
        ) from exc

    method = get("typing", "method", "auto")
    if method not in TYPING_METHODS:
        raise ConfigError(
            f"{origin('typing', 'method')}: [typing] method = {_shown(method)} is not allowed"
            + _did_you_mean(method, list(TYPING_METHODS)),
            'use "auto", "type" or "paste"',
        )

    max_chars = get("typing", "max_chars", TypingConfig.max_chars)
    if not 1 <= max_chars <= 1_000_000:
        raise ConfigError(
            f"{origin('typing', 'max_chars')}: `max_chars` is {max_chars}",
            "use a whole number of characters from 1 to 1000000 (default 10000)",
        )

    text_config = text_settings(data, path, locate.line, language=language)
    azure = replace(azure, phrases=recognizer_phrases(text_config, languages))
    f = FeedbackConfig()
    return Config(
        path=path,
        azure=azure,
        hotkey=HotkeyConfig(dictate=hotkey),
        typing=TypingConfig(method=method, max_chars=max_chars),
        feedback=FeedbackConfig(
            start_sound=get("feedback", "start_sound", f.start_sound),
            stop_sound=get("feedback", "stop_sound", f.stop_sound),
            notify_no_match=get("feedback", "notify_no_match", f.notify_no_match),
        ),
        log=LogConfig(include_text=get("log", "include_text", False)),
        history=HistoryConfig(keep=get("history", "keep", False)),
        text=text_config,
        dictation=dictation,
        audio=parse_audio(get, origin),
        file_exists=exists,
    )


def unsafe_config_file(
    path: Path, uid: int | None = None, home: Path | None = None
) -> ConfigError | None:
    """Why the configuration file at ``path`` must not be used, as OpenSSH judges its own
    files: the file and every directory above it (up to and including ``home``, else up
    to ``/``) must be owned by the user or root and writable by no one else (a
    directory with the sticky bit, such as /tmp, is fine: others cannot replace a file
    they do not own there). Symbolic links are followed and both paths are checked. The returned
    error names the file and the exact ``chmod``/``chown`` to run. None when the file is
    safe, or on systems without POSIX permissions."""
    if os.name != "posix":
        return None
    uid = os.getuid() if uid is None else uid
    try:
        home = (home or Path.home()).resolve()
    except (RuntimeError, OSError):
        home = None
    literal = Path(os.path.abspath(path))
    seen: set[Path] = set()
    for start in (literal, literal.resolve()):
        entry: Path | None = start
        while entry is not None and entry not in seen:
            seen.add(entry)
            problem = _unsafe_entry(path, entry, uid)
            if problem is not None:
                return problem
            entry = None if entry == home or entry.parent == entry else entry.parent
    return None


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _unsafe_entry(config: Path, entry: Path, uid: int) -> ConfigError | None:
    import stat

    try:
        st = entry.lstat()
    except OSError:
        return None  # vanished meanwhile: reading it will say so
    why = "so another user could change where voicetype sends your key and audio"
    if st.st_uid not in (uid, 0):
        what = "it" if entry == Path(os.path.abspath(config)) else str(entry)
        return ConfigError(
            f"voicetype refuses the configuration file {config}: {what} belongs to "
            f"another user ({_user_name(st.st_uid)}), {why}",
            f"run `sudo chown {_user_name(uid)} {entry}` if it is really yours, "
            "or write your own with `voicetype config init`",
        )
    if stat.S_ISLNK(st.st_mode):
        return None  # a link's own mode means nothing; its target is checked too
    if st.st_mode & 0o022 and not (stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX):
        who = {0o022: "its group and others", 0o020: "its group", 0o002: "others"}
        what = "it" if entry == Path(os.path.abspath(config)) else str(entry)
        return ConfigError(
            f"voicetype refuses the configuration file {config}: {what} is writable by "
            f"{who[st.st_mode & 0o022]} (permissions {stat.S_IMODE(st.st_mode):04o}), {why}",
            f"run `chmod go-w {entry}`",
        )
    return None


def exposed_key_file(config: Config) -> ConfigError | None:
    """The problem when the config file holds the key and other users can read it (None
    otherwise, and on systems without POSIX permissions). The error carries the fix."""
    if config.azure.key_source != "file" or os.name != "posix":
        return None
    try:
        mode = config.path.stat().st_mode & 0o777
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return ConfigError(
        f"{config.path} holds your Azure key and other users can read it (permissions {mode:04o})",
        f"run `chmod 600 {config.path}`, or move the key to the keyring with "
        "`voicetype config set-key` and delete `key` from the file",
    )


def starter_text() -> str:
    """The commented starter file (the shipped config.example.toml)."""
    from voicetype.resources import read_text

    return read_text("config.example.toml")


def init_config(path: Path) -> bool:
    """Write the starter file at ``path`` with user-only permissions.

    Returns False (and writes nothing) when a file already exists there; never overwrites.
    Raises ``ConfigError`` when the directory cannot be created or written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConfigError(
            f"Cannot create {path}: {exc.strerror}",
            "check the directory's permissions, or choose another path with --config",
        ) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(starter_text())
    return True
