"""Hardening against hostile local users, hostile services and hostile files, on the real
daemon and CLI: a configuration others can write, configurations that break the TOML
parser, runtime directories that are unsafe or unusable, a closed stdout, old log files
others could read, a 50 MB answer and a service that never ends an utterance."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from harness.daemon import TEST_CONFIG, RunningDaemon, run_voicetype
from harness.fake_speech import Behaviour
from harness.faults import FaultLab
from harness.procs import free_port, wait_for
from harness.textwin import TextWindow

pytestmark = pytest.mark.desktop

OTHER_UID = 65534
NOT_RELOADED = "Configuration not reloaded: voicetype keeps its previous settings"
TOO_LONG = "the service sent a text longer than 10,000 characters; nothing was typed"


def one_message(done: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr as lines; never a traceback."""
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr, done.stderr
    return done.stderr.strip().splitlines()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory now (``VmHWM``: the peak so far) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field}")


def reload_and_wait(lab: FaultLab, daemon: RunningDaemon, refused: bool = True) -> Any:
    """`voicetype reload`, its exit status (2: refused, previous settings kept; 0: applied)
    and the one notification it gives."""
    lab.notifications.clear()
    done = daemon.cli("reload")
    assert done.returncode == (2 if refused else 0), (done.stdout, done.stderr)
    (call,) = lab.notifications.wait_for(1, 15)
    return call


# ---------------------------------------------------------------- item 3: configuration


def test_a_config_file_others_can_write_is_never_used(
    faults: FaultLab, text_window: TextWindow
) -> None:
    """Another user rewrites a group/world-writable config to send the key and audio to
    their own port: reload refuses it (previous settings kept, said so), `config check`
    and `doctor` fail with the chmod, and a start refuses it (exit 2)."""
    daemon = faults.start()
    path = daemon.config_path
    thief = free_port()
    path.write_text(TEST_CONFIG + f'[azure]\nhost = "ws://127.0.0.1:{thief}"\n')
    path.chmod(0o666)
    fix = f"run `chmod go-w {path}`"

    call = reload_and_wait(faults, daemon)
    assert call.summary == NOT_RELOADED
    assert "is writable by its group and others (permissions 0666)" in call.body
    assert fix in call.body, call.body
    faults.prove_dictation(daemon, text_window, 1)  # still the real service, not the thief's
    assert all(c.query for c in faults.service.connections)

    check = daemon.cli("config", "check")
    assert check.returncode == 2
    lines = one_message(check)
    assert lines[0] == (
        f"voicetype: voicetype refuses the configuration file {path}: it is writable by its "
        "group and others (permissions 0666), so another user could change where voicetype "
        "sends your key and audio"
    )
    assert lines[1:] == [f"  Fix: {fix}"]
    doctor = faults.artefact("doctor", daemon.cli("doctor", timeout=90).stdout)
    assert f"✗ configuration: voicetype refuses the configuration file {path}" in doctor
    assert f"fix: {fix}" in doctor, doctor

    assert daemon.quit() == 0
    refused = run_voicetype(daemon.env, "run", timeout=30)
    assert refused.returncode == 2
    assert one_message(refused)[1:] == [f"  Fix: {fix}"]
    path.chmod(0o600)
    assert daemon.cli("config", "check").returncode == 0


def test_a_config_directory_writable_by_its_group_is_refused(faults: FaultLab) -> None:
    daemon = faults.start()
    daemon.config_path.parent.chmod(0o775)
    call = reload_and_wait(faults, daemon)
    assert call.summary == NOT_RELOADED
    assert f"run `chmod go-w {daemon.config_path.parent}`" in call.body


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "is nested too deeply to read"),
        ("[azure]\ntimeout_seconds = " + "9" * 5_000 + "\n", "holds a value too large to read"),
    ],
    ids=["nested-100000-deep", "integer-5000-digits"],
)
def test_configs_that_break_the_parser_are_told_not_tracebacks(
    faults: FaultLab, text_window: TextWindow, text: str, words: str
) -> None:
    daemon = faults.start()
    daemon.config_path.write_text(text)
    call = reload_and_wait(faults, daemon)
    assert call.summary == NOT_RELOADED
    assert f"{daemon.config_path} {words}" in call.body, call.body
    assert daemon.state() == "idle"
    faults.prove_dictation(daemon, text_window, 1)

    check = daemon.cli("config", "check")
    assert check.returncode == 2 and words in one_message(check)[0]
    assert daemon.quit() == 0
    start = run_voicetype(daemon.env, "run", timeout=30)
    assert start.returncode == 2
    lines = one_message(start)
    assert len(lines) == 2 and words in lines[0] and lines[1].startswith("  Fix: ")


# ---------------------------------------------------------------- item 3: the log


def test_log_files_left_readable_by_an_older_version_are_made_private(
    faults: FaultLab, user_env: dict[str, str]
) -> None:
    logs = Path(user_env["XDG_STATE_HOME"]) / "voicetype" / "log"
    logs.mkdir(parents=True)
    logs.chmod(0o755)
    for name in ("voicetype.log", "voicetype.log.1"):
        (logs / name).write_text("12:00 INFO dictation #1: typed 'my bank PIN is 1234'\n")
        (logs / name).chmod(0o644)
    daemon = faults.start()
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    for name in ("voicetype.log", "voicetype.log.1"):
        assert stat.S_IMODE((logs / name).stat().st_mode) == 0o600, name
    assert "starting" in daemon.log()


# ---------------------------------------------------------------- item 6: runtime dir


@pytest.fixture
def runtime_env(user_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return dict(user_env)


def _refused(env: dict[str, str], message: str, fix: str) -> None:
    for command in ("run", "status"):
        done = run_voicetype(env, command, timeout=30)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        lines = one_message(done)
        assert lines[0] == f"voicetype: {message}", (command, lines)
        assert len(lines) == 2 and fix in lines[1], (command, lines)


def test_xdg_runtime_dir_set_to_root_is_refused_with_the_fix(
    runtime_env: dict[str, str],
) -> None:
    _refused(
        {**runtime_env, "XDG_RUNTIME_DIR": "/"},
        "XDG_RUNTIME_DIR is /, which other users can access (mode 0755, not 0700); "
        "voicetype keeps its control socket there",
        "unset XDG_RUNTIME_DIR",
    )


def test_a_socket_path_over_107_bytes_is_refused_with_the_fix(
    runtime_env: dict[str, str], tmp_path: Path
) -> None:
    base = tmp_path / ("r" * (110 - len(str(tmp_path))))
    base.mkdir(mode=0o700)
    sock = base / "voicetype" / "control.sock"
    _refused(
        {**runtime_env, "XDG_RUNTIME_DIR": str(base)},
        f"The control socket path {sock} is {len(str(sock))} bytes long; "
        "a Unix socket path may have at most 107",
        "set XDG_RUNTIME_DIR to a shorter directory",
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root (CI runs as root)")
def test_a_runtime_dir_of_another_user_is_refused(runtime_env: dict[str, str]) -> None:
    squat = Path(runtime_env["XDG_RUNTIME_DIR"]) / "voicetype"
    squat.mkdir()
    squat.chmod(0o777)
    os.chown(squat, OTHER_UID, OTHER_UID)
    _refused(
        runtime_env,
        f"{squat} belongs to nobody (uid {OTHER_UID}), not to you: "
        "voicetype will not put its control socket there",
        f"`sudo rm -r {squat}`",
    )
    assert not (squat / "control.sock").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="setpriv to another uid needs root")
def test_an_unwritable_runtime_dir_is_refused_for_an_ordinary_user() -> None:
    """As uid 65534: XDG_RUNTIME_DIR is theirs and private but read-only, so voicetype/
    cannot be made in it; and XDG_RUNTIME_DIR unset with HOME unwritable."""
    with tempfile.TemporaryDirectory(prefix="vt-ro-") as top:  # reachable by uid 65534
        Path(top).chmod(0o755)
        base = Path(top) / "ro"
        base.mkdir()
        base.chmod(0o500)
        os.chown(base, OTHER_UID, OTHER_UID)
        _unwritable_as_nobody(base)


def _unwritable_as_nobody(base: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "HOME": "/nonexistent",
        "XDG_RUNTIME_DIR": str(base),
    }
    as_nobody = ["setpriv", f"--reuid={OTHER_UID}", f"--regid={OTHER_UID}", "--clear-groups"]
    done = subprocess.run(
        [*as_nobody, sys.executable, "-m", "voicetype", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = one_message(done)
    assert lines[0] == (
        f"voicetype: Cannot create voicetype's runtime directory {base / 'voicetype'} "
        "(Permission denied)"
    ), lines
    env.pop("XDG_RUNTIME_DIR")
    done = subprocess.run(
        [*as_nobody, sys.executable, "-m", "voicetype", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = one_message(done)
    assert lines[0].startswith("voicetype: Cannot create voicetype's runtime directory"), lines
    assert len(lines) == 2


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root (CI runs as root)")
def test_unset_xdg_runtime_dir_and_a_squatted_tmp_runtime_dir_do_not_stop_voicetype(
    faults: FaultLab, text_window: TextWindow, tmp_path: Path
) -> None:
    """Another local user created /tmp/runtime-$UID (here: $TMPDIR/runtime-0): voicetype
    never uses a shared directory, so it starts, and the CLI finds it."""
    tmp = tmp_path / "shared-tmp"
    tmp.mkdir()
    squat = tmp / f"runtime-{os.getuid()}"
    squat.mkdir()
    os.chown(squat, OTHER_UID, OTHER_UID)
    if Path(f"/run/user/{os.getuid()}").is_dir():
        pytest.skip("/run/user/<uid> exists here and would be used")
    env = {"XDG_RUNTIME_DIR": "", "TMPDIR": str(tmp)}
    daemon = faults.start(env=env, wait_ready=False)
    fallback = Path(daemon.env["XDG_CACHE_HOME"]) / "voicetype" / "run"

    def status() -> str | None:
        if not daemon.proc.alive():
            raise AssertionError(daemon.output())
        done = daemon.cli("status")
        return done.stdout if done.returncode == 0 else None

    shown = wait_for(status, 30, "`voicetype status` to answer", 0.1)
    assert shown is not None and "state:" in shown
    assert (fallback / "control.sock").is_socket()
    assert stat.S_IMODE(fallback.stat().st_mode) == 0o700
    assert list(squat.iterdir()) == []
    daemon.icon()
    quit_ = daemon.cli("quit")
    assert quit_.returncode == 0, quit_.stderr
    assert daemon.proc.popen.wait(15) == 0
    daemon.stopped = True
    assert "Traceback" not in daemon.output()


# ---------------------------------------------------------------- item 6: closed stdout


def test_status_into_a_closed_pipe_ends_quietly(faults: FaultLab) -> None:
    daemon = faults.start()
    read, write = os.pipe()
    os.close(read)  # like `voicetype status | head -1` after head has gone
    try:
        done = subprocess.run(
            [sys.executable, "-m", "voicetype", "status"],
            env=daemon.env,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")
    piped = subprocess.run(
        f"'{sys.executable}' -m voicetype status | head -1",
        shell=True,
        env=daemon.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert piped.stdout.startswith("state:") and piped.stdout.count("\n") == 1
    assert piped.stderr == ""


# ---------------------------------------------------------------- item 4: hostile service


def test_a_50_mb_answer_is_refused_and_not_kept(faults: FaultLab, text_window: TextWindow) -> None:
    daemon = faults.start()
    before = rss_mb(daemon.proc.pid)
    faults.service.always(Behaviour.say("x" * 50_000_000, answer_after=0.3))
    text_window.focus()
    at = faults.press()
    call, told = faults.one_notification(daemon, 1, "failed (text_too_long)", timeout=60)
    assert call.summary == "The speech service sent too much text"
    assert call.body.startswith(TOO_LONG + ". "), call.body
    assert text_window.content() == ""
    faults.ready(daemon)
    ready = time.monotonic()
    wait_for(lambda: rss_mb(daemon.proc.pid) - before < 60, 10, "the session's memory freed")
    after, peak = rss_mb(daemon.proc.pid), rss_mb(daemon.proc.pid, "VmHWM")
    took = faults.prove_dictation(daemon, text_window, 2)
    faults.record(
        f"service: 50 MB text (RSS {before:.0f}->{after:.0f}, peak {peak:.0f} MB)",
        told_s=told - at,
        ready_s=ready - at,
        recovered=took > 0,
        notifications=1,
    )
    assert after - before < 60, (before, after)


def test_endless_hypotheses_stop_after_20_s_and_type_the_last_one(
    faults: FaultLab, text_window: TextWindow, pulse_audio: Any
) -> None:
    """Hypotheses every 0.2 s, never a final answer, default settings (timeout_seconds 8):
    the microphone closes ~20 s after the press and the last hypothesis is typed."""
    daemon = faults.start()
    faults.service.always(Behaviour.endless("we keep on talking", every=0.2))
    text_window.focus()
    at = faults.press()
    pulse_audio.wait_for_capture(10)
    line = daemon.wait_for_log("dictation #1 (hotkey): ", 35)
    ended = time.monotonic()
    assert "typed" in line, line
    # the microphone closes at 20 s; the text then waits up to 5 s for a final that never
    # comes (the mode machine's finish timeout), then the last hypothesis is typed
    assert 20 <= ended - at < 26.5, ended - at
    wait_for(lambda: not pulse_audio.capture_streams(), 5, "the microphone to close", 0.05)
    sent = faults.service.last_turn.hypotheses_sent
    typed = text_window.settle()
    assert typed in sent[-3:], (typed, sent[-3:])
    assert len(typed.split()) >= 80
    assert daemon.count_log("stopped listening: still listening after 20 s") == 1
    faults.record(
        "service: endless hypotheses (20 s cap)",
        told_s=ended - at,
        ready_s=ended - at,
        recovered=True,
        notifications=0,
    )


# ---------------------------------------------------------------- item 7: install.sh


def test_install_script_says_no_key_only_when_there_is_none(user_env: dict[str, str]) -> None:
    """The closing hint follows what `voicetype config check` sees (installed, not
    started: VOICETYPE_NO_START=1)."""
    env = {**user_env, "VOICETYPE_NO_START": "1"}
    env.pop("VIRTUAL_ENV", None)
    repo = Path(__file__).resolve().parents[2]

    def install(extra: dict[str, str]) -> list[str]:
        done = subprocess.run(
            ["scripts/install.sh"],
            cwd=repo,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.strip().splitlines()

    without = install({})
    assert without[-1] == (
        "voicetype: no key yet: run `voicetype config init`, set key and region (or host) in "
        "the file it names, then `voicetype reload`"
    )
    with_key = install({"AZURE_AI_SPEECH_KEY": "k" * 32, "AZURE_AI_SPEECH_REGION": "westeurope"})
    assert not any("no key" in line for line in with_key), with_key
    assert with_key[-1] == (
        "voicetype: your key is set: press <ctrl>+<alt>+<space> in any window and speak."
    )
    no_region = install({"AZURE_AI_SPEECH_KEY": "k" * 32})
    assert no_region[-1].startswith("voicetype: the key is set but no region: set region in ")
    with_host = install(
        {"AZURE_AI_SPEECH_KEY": "k" * 32, "AZURE_AI_SPEECH_HOST": "ws://localhost:5"}
    )
    assert with_host[-1].startswith("voicetype: your key is set"), with_host


def test_first_run_says_reload_and_reload_is_enough(
    faults: FaultLab, text_window: TextWindow
) -> None:
    """The first-run notification gives the same instruction as README and install.sh,
    and following it (key in the file, `voicetype reload`) makes dictation work."""
    daemon = faults.start(service=False)
    (call,) = faults.notifications.wait_for(1, 20)
    assert call.summary == "Set your Azure Speech key to start dictating"
    assert call.body.endswith("then run `voicetype reload`."), call.body
    assert "restart" not in call.body
    daemon.config_path.write_text(
        TEST_CONFIG + f'[azure]\nkey = "{faults.service.key}"\nhost = "{faults.service.url}"\n'
    )
    daemon.config_path.chmod(0o600)
    reloaded = reload_and_wait(faults, daemon, refused=False)
    assert reloaded.summary.startswith("Configuration reloaded"), reloaded
    faults.prove_dictation(daemon, text_window, 1)
