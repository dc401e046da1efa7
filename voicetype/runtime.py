"""The per-user runtime directory that holds the control socket and the instance lock.

Where: ``$XDG_RUNTIME_DIR/voicetype`` when the variable is set; when it is unset,
``/run/user/<uid>/voicetype`` if that base is the user's own private directory, else
``<user cache dir>/run`` (``~/.cache/voicetype/run``), which lives in the home directory
where no other user can create it first. Never a shared directory such as ``/tmp``: a
directory another local user created there could stop voicetype from starting or catch
its commands.

What is refused (``RuntimeDirError``, one message with the fix; the CLI exits 1): an
``XDG_RUNTIME_DIR`` that is not an existing directory owned by the user and closed to
everyone else (mode 0700, as the XDG Base Directory spec requires; ``/`` fails this); a
``voicetype`` directory in it owned by another user or not a directory; a directory that
cannot be created or written; a socket path longer than a Unix socket address allows
(107 bytes). Pure apart from the file system; no desktop imports.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from voicetype.errors import VoicetypeError

APP_NAME = "voicetype"
SOCKET_NAME = "control.sock"
MAX_SOCKET_PATH = 107  # bytes: sockaddr_un.sun_path is 108 including the final NUL


class RuntimeDirError(VoicetypeError):
    """The runtime directory cannot be used safely (CLI exit status 1)."""


def _owner(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def base_problem(base: Path, uid: int) -> str | None:
    """Why ``base`` is not a private runtime directory of ``uid`` (None when it is)."""
    if not base.is_absolute():
        return "which is not an absolute path"
    try:
        st = base.stat()
    except OSError as exc:
        return f"which cannot be used ({exc.strerror})"
    if not stat.S_ISDIR(st.st_mode):
        return "which is not a directory"
    if st.st_uid != uid:
        return f"which belongs to {_owner(st.st_uid)}, not to you"
    if st.st_mode & 0o077:
        return f"which other users can access (mode {stat.S_IMODE(st.st_mode):04o}, not 0700)"
    return None


def fallback_dir() -> Path:
    """The runtime directory used when ``XDG_RUNTIME_DIR`` is unset and
    ``/run/user/<uid>`` is not usable: inside the user's cache dir."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "run"


def runtime_dir(env: Mapping[str, str] | None = None, uid: int | None = None) -> Path:
    """The voicetype runtime directory, created 0700 if needed and checked (module doc).

    Raises ``RuntimeDirError``. POSIX only (callers on Windows never get here: there is
    no control socket there).
    """
    env = os.environ if env is None else env
    uid = os.getuid() if uid is None else uid
    xdg = env.get("XDG_RUNTIME_DIR", "")
    if xdg:
        problem = base_problem(Path(xdg), uid)
        if problem is not None:
            raise RuntimeDirError(
                f"XDG_RUNTIME_DIR is {xdg}, {problem}; voicetype keeps its control socket there",
                "unset XDG_RUNTIME_DIR (voicetype then uses a private directory of its own), "
                "or point it at a directory of yours with mode 0700 "
                f"(`mkdir -m 700 DIR`; normally /run/user/{uid}, made by your login)",
            )
        path = Path(xdg) / APP_NAME
        create_parents = False
    else:
        standard = Path(f"/run/user/{uid}")
        if base_problem(standard, uid) is None:
            path, create_parents = standard / APP_NAME, False
        else:
            path, create_parents = fallback_dir(), True
    _check_length(path)
    _ensure_private(path, uid, create_parents)
    return path


def socket_path(env: Mapping[str, str] | None = None, uid: int | None = None) -> Path:
    return runtime_dir(env, uid) / SOCKET_NAME


def _check_length(path: Path) -> None:
    sock = path / SOCKET_NAME
    size = len(os.fsencode(sock))
    if size > MAX_SOCKET_PATH:
        raise RuntimeDirError(
            f"The control socket path {sock} is {size} bytes long; "
            f"a Unix socket path may have at most {MAX_SOCKET_PATH}",
            "set XDG_RUNTIME_DIR to a shorter directory of yours with mode 0700 "
            "(normally /run/user/<your uid>, made by your login)",
        )


def _ensure_private(path: Path, uid: int, create_parents: bool) -> None:
    fix_other = (
        f"remove it (`sudo rm -r {path}`), or set XDG_RUNTIME_DIR to a directory of yours "
        "with mode 0700"
    )
    try:
        if create_parents:
            old = os.umask(0o077)  # parents made here are private too
            try:
                path.mkdir(parents=True, exist_ok=True, mode=0o700)
            finally:
                os.umask(old)
        else:
            path.mkdir(exist_ok=True, mode=0o700)
        st = os.lstat(path)
    except OSError as exc:
        raise RuntimeDirError(
            f"Cannot create voicetype's runtime directory {path} ({exc.strerror})",
            f"make {path.parent} writable by you, or set XDG_RUNTIME_DIR to a directory "
            "of yours with mode 0700",
        ) from exc
    if not stat.S_ISDIR(st.st_mode):
        raise RuntimeDirError(f"{path} is not a directory (voicetype's runtime dir)", fix_other)
    if st.st_uid != uid:
        raise RuntimeDirError(
            f"{path} belongs to {_owner(st.st_uid)}, not to you: "
            "voicetype will not put its control socket there",
            fix_other,
        )
    try:
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(path, 0o700)
    except OSError as exc:
        raise RuntimeDirError(f"Cannot make {path} private ({exc.strerror})", fix_other) from exc
