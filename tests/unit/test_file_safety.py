"""Files other users could read, write or own: the runtime directory, the configuration
file, the log; and configuration files that break the TOML parser. Runs as any user; the
cases that need a file owned by someone else chown it and so need root (as in CI)."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicetype.config import load_config, unsafe_config_file
from voicetype.errors import ConfigError
from voicetype.logsetup import LOG_NAME, setup_logging
from voicetype.runtime import RuntimeDirError, runtime_dir

OTHER_UID = 65534  # nobody
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root (CI runs as root)")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def opened(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


# ---------------------------------------------------------------- runtime directory


def test_runtime_dir_under_a_good_xdg_runtime_dir(tmp_path: Path) -> None:
    base = private_dir(tmp_path / "run")
    path = runtime_dir({"XDG_RUNTIME_DIR": str(base)})
    assert path == base / "voicetype" and mode(path) == 0o700


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda t: Path("/"), "which other users can access (mode 0755, not 0700)"),
        (lambda t: opened(t / "open"), "mode 0755"),
        (lambda t: t / "missing", "which cannot be used (No such file or directory)"),
        (lambda t: (t / "file").write_text("") or t / "file", "which is not a directory"),
    ],
    ids=["root", "0755", "missing", "file"],
)
def test_an_unusable_xdg_runtime_dir_is_refused_with_the_fix(
    tmp_path: Path, make: object, words: str
) -> None:
    base = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(RuntimeDirError) as info:
        runtime_dir({"XDG_RUNTIME_DIR": str(base)})
    assert info.value.message.startswith(f"XDG_RUNTIME_DIR is {base}, ")
    assert words in info.value.message
    assert "unset XDG_RUNTIME_DIR" in info.value.fix and "mode 0700" in info.value.fix


def test_an_xdg_runtime_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    base = private_dir(tmp_path / "run")
    with pytest.raises(RuntimeDirError) as info:
        runtime_dir({"XDG_RUNTIME_DIR": str(base)}, uid=os.getuid() + 4242)
    assert f"belongs to {_name(os.getuid())}" in info.value.message


def _name(uid: int) -> str:
    import pwd

    return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"


@needs_root
def test_a_voicetype_dir_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    base = private_dir(tmp_path / "run")
    squat = base / "voicetype"
    squat.mkdir()
    squat.chmod(0o777)
    os.chown(squat, OTHER_UID, OTHER_UID)
    with pytest.raises(RuntimeDirError) as info:
        runtime_dir({"XDG_RUNTIME_DIR": str(base)})
    assert info.value.message == (
        f"{squat} belongs to {_name(OTHER_UID)}, not to you: "
        "voicetype will not put its control socket there"
    )
    assert f"sudo rm -r {squat}" in info.value.fix
    assert mode(squat) == 0o777  # not touched


def test_a_socket_path_over_107_bytes_is_refused_before_anything_is_created(
    tmp_path: Path,
) -> None:
    base = private_dir(tmp_path / ("d" * (120 - len(str(tmp_path)))))
    with pytest.raises(RuntimeDirError) as info:
        runtime_dir({"XDG_RUNTIME_DIR": str(base)})
    sock = base / "voicetype" / "control.sock"
    assert info.value.message == (
        f"The control socket path {sock} is {len(str(sock))} bytes long; "
        "a Unix socket path may have at most 107"
    )
    assert not (base / "voicetype").exists()


@pytest.fixture
def squatted_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """TMPDIR with ``runtime-<uid>`` made by another user (root can chown; others use a
    plain file there, which the old fallback refused just the same)."""
    tmp = private_dir(tmp_path / "tmp")
    squat = tmp / f"runtime-{os.getuid()}"
    if os.geteuid() == 0:
        squat.mkdir(mode=0o755)
        os.chown(squat, OTHER_UID, OTHER_UID)
    else:
        squat.write_text("")
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield squat


def test_unset_xdg_runtime_dir_never_uses_a_shared_tmp(squatted_tmp: Path, tmp_path: Path) -> None:
    """Another user's /tmp/runtime-$UID cannot stop voicetype: the fallback is private."""
    from voicetype.control import runtime_dir as daemon_runtime_dir

    if Path(f"/run/user/{os.getuid()}").is_dir():
        pytest.skip("/run/user/<uid> exists here: it is used instead of the fallback")
    path = daemon_runtime_dir()
    assert path == tmp_path / "cache" / "voicetype" / "run"
    assert mode(path) == 0o700 and mode(path.parent) == 0o700


# ---------------------------------------------------------------- configuration file


def write(path: Path, text: str = '[typing]\nmethod = "type"\n', perms: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(perms)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = private_dir(tmp_path / "home")
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.mark.parametrize(("perms", "who"), [(0o664, "its group"), (0o646, "others")])
def test_a_config_file_others_can_write_is_refused_with_the_chmod(
    home: Path, perms: int, who: str
) -> None:
    path = write(home / ".config" / "voicetype" / "config.toml", perms=perms)
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert info.value.message == (
        f"voicetype refuses the configuration file {path}: it is writable by {who} "
        f"(permissions {perms:04o}), so another user could change where voicetype sends "
        "your key and audio"
    )
    assert info.value.fix == f"run `chmod go-w {path}`"


def test_a_config_directory_others_can_write_is_refused(home: Path) -> None:
    path = write(home / ".config" / "voicetype" / "config.toml")
    path.parent.chmod(0o777)
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert f"{path.parent} is writable by its group and others (permissions 0777)" in str(
        info.value
    )
    assert info.value.fix == f"run `chmod go-w {path.parent}`"
    path.parent.chmod(0o755)
    assert load_config(path, {}).typing.method == "type"


def test_the_walk_stops_at_home_and_sticky_directories_are_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    above = tmp_path / "shared"
    above.mkdir()
    above.chmod(0o777)  # above the home directory: not checked (as OpenSSH)
    home = private_dir(above / "home")
    monkeypatch.setenv("HOME", str(home))
    assert unsafe_config_file(write(home / "config.toml")) is None
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)  # like /tmp: others cannot replace our file
    assert unsafe_config_file(write(sticky / "config.toml")) is None
    assert unsafe_config_file(write(above / "config.toml")) is not None


def test_a_symlink_into_an_unsafe_directory_is_refused(home: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    target = write(shared / "config.toml")
    shared.chmod(0o777)
    link = home / ".config" / "voicetype" / "config.toml"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    problem = unsafe_config_file(link)
    assert problem is not None and f"run `chmod go-w {shared}`" == problem.fix


@needs_root
def test_a_config_file_owned_by_another_user_is_refused(home: Path) -> None:
    path = write(home / ".config" / "voicetype" / "config.toml", perms=0o644)
    os.chown(path, OTHER_UID, OTHER_UID)
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert info.value.message.startswith(
        f"voicetype refuses the configuration file {path}: it belongs to another user (nobody)"
    )
    assert "sudo chown" in info.value.fix


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "is nested too deeply to read"),
        ("[azure]\ntimeout_seconds = " + "9" * 5_000 + "\n", "holds a value too large to read"),
        (
            "[azure]\ntimeout_seconds = " + "9" * 400 + "\n",
            "line 2: `timeout_seconds` is inf",
        ),
        ("[azure]\nlanguage = " + "[1]," * 0 + '"' + "x" * 5000 + '"\n', "not a language code"),
    ],
    ids=["nested-100000", "int-5000-digits", "int-400-digits", "long-string"],
)
def test_config_texts_that_break_the_parser_are_config_errors(
    home: Path, text: str, message: str
) -> None:
    path = write(home / "config.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert message in info.value.message
    assert len(str(info.value)) < 400, "the message must stay one readable line"


def test_a_huge_config_file_is_refused_unread(home: Path) -> None:
    path = write(home / "config.toml", "# " + "x" * 2_000_000 + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert "is 2,000,003 bytes" in info.value.message


# ---------------------------------------------------------------- log files


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_log_directory_0700_and_files_0600_even_when_older_ones_were_open(
    tmp_path: Path, restore_logging: None
) -> None:
    directory = tmp_path / "state" / "voicetype" / "log"
    directory.mkdir(parents=True, mode=0o755)
    directory.chmod(0o755)
    for name in (LOG_NAME, LOG_NAME + ".1"):
        (directory / name).write_text("old dictation text\n")
        (directory / name).chmod(0o644)
    old = os.umask(0o022)
    try:
        path, problem = setup_logging(directory, verbose=False)
        assert path == directory / LOG_NAME and not problem
        assert mode(directory) == 0o700
        assert mode(directory / LOG_NAME) == 0o600
        assert mode(directory / (LOG_NAME + ".1")) == 0o600
        handler = next(
            h for h in logging.getLogger().handlers if getattr(h, "baseFilename", "") == str(path)
        )
        handler.doRollover()  # type: ignore[attr-defined]
        logging.getLogger("t").warning("after the rollover")
        assert mode(directory / LOG_NAME) == 0o600
        assert "after the rollover" in (directory / LOG_NAME).read_text()
    finally:
        os.umask(old)


def test_a_new_log_directory_is_private_all_the_way_down(
    tmp_path: Path, restore_logging: None
) -> None:
    directory = tmp_path / "state" / "voicetype" / "log"
    old = os.umask(0o022)
    try:
        setup_logging(directory, verbose=False)
    finally:
        os.umask(old)
    assert mode(directory) == 0o700 and mode(directory.parent) == 0o700
    assert mode(directory / LOG_NAME) == 0o600


# ---------------------------------------------------------------- the CLI boundary


def test_output_into_a_closed_pipe_ends_quietly_with_141(home: Path) -> None:
    """`voicetype config check | head -0`: no traceback, no "Exception ignored"."""
    env = {**os.environ, "HOME": str(home), "VOICETYPE_CONFIG": str(home / "absent.toml")}
    read, write_end = os.pipe()
    os.close(read)  # the reader is gone before voicetype writes a byte
    try:
        done = subprocess.run(
            [sys.executable, "-m", "voicetype", "config", "check"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141
