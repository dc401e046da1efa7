"""``voicetype once --file WAV --print`` as a subprocess against the fake speech service."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import free_port
from harness.speech import SpeechWavs

from voicetype.recognition import ErrorKind, Failed, NoMatch, NoMatchReason
from voicetype.recognition.messages import describe_failure, describe_no_match


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


def voicetype(env: dict[str, str], *args: str, timeout: float = 30) -> Run:
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "voicetype", *args],
        env=env,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Run(
        out.returncode,
        out.stdout.decode("utf-8"),
        out.stderr.decode("utf-8", "replace"),
        time.monotonic() - start,
    )


@pytest.fixture
def env(user_env: dict[str, str], speech_service: FakeSpeechService) -> dict[str, str]:
    return {**user_env, **speech_service.env(), "PYTHONIOENCODING": "utf-8"}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A config with the short quiet limit the tests use (2 s, the smallest allowed)."""
    path = tmp_path / "config.toml"
    path.write_text("[azure]\ntimeout_seconds = 2\n", encoding="utf-8")
    return path


def once(env: dict[str, str], config: Path, wav: Path, timeout: float = 30) -> Run:
    return voicetype(
        env, "--config", str(config), "once", "--file", str(wav), "--print", timeout=timeout
    )


def assert_no_key(run: Run, key: str) -> None:
    assert key not in run.stdout
    assert key not in run.stderr


TEXT = "Grüße, 你好 & 😀 — “quoted” text"


def test_prints_exactly_the_services_text(
    env: dict[str, str],
    config_file: Path,
    speech_service: FakeSpeechService,
    speech_wavs: SpeechWavs,
) -> None:
    speech_service.always(Behaviour.say(TEXT))
    run = once(env, config_file, speech_wavs.phrase)
    assert (run.code, run.stdout, run.stderr) == (0, TEXT + "\n", "")
    assert speech_service.last_turn.end_of_audio
    assert run.seconds < 10
    assert_no_key(run, speech_service.key)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("NoMatch", NoMatchReason.NOT_RECOGNIZED),
        ("InitialSilenceTimeout", NoMatchReason.INITIAL_SILENCE_TIMEOUT),
        ("BabbleTimeout", NoMatchReason.INITIAL_BABBLE_TIMEOUT),
    ],
)
def test_no_match_exits_3_with_the_reason(
    env: dict[str, str],
    config_file: Path,
    speech_service: FakeSpeechService,
    speech_wavs: SpeechWavs,
    status: str,
    reason: NoMatchReason,
) -> None:
    speech_service.always(Behaviour.status(status))
    run = once(env, config_file, speech_wavs.silence)
    assert run.code == 3, run.stderr
    assert run.stdout == ""
    assert describe_no_match(NoMatch(reason)).as_text() in run.stderr
    assert run.seconds < 10
    assert_no_key(run, speech_service.key)


FAILURES = [
    ("http-401", Behaviour.http(401), ErrorKind.AUTHENTICATION, 5),
    ("http-403", Behaviour.http(403), ErrorKind.FORBIDDEN, 5),
    ("http-429", Behaviour.http(429), ErrorKind.THROTTLED, 6),
    ("http-500", Behaviour.http(500), ErrorKind.SERVICE_ERROR, 6),
    ("http-503", Behaviour.http(503), ErrorKind.SERVICE_UNAVAILABLE, 6),
    ("status-Forbidden", Behaviour.status("Forbidden"), ErrorKind.FORBIDDEN, 7),
    ("status-TooManyRequests", Behaviour.status("TooManyRequests"), ErrorKind.THROTTLED, 7),
    ("status-Error", Behaviour.status("Error"), ErrorKind.SERVICE_ERROR, 7),
    ("dropped", Behaviour.drop(after_bytes=6400), ErrorKind.CONNECTION_FAILURE, 7),
    # Quiet limit 2 s: the process must end soon after, not when the SDK's threads would.
    ("silent", Behaviour.silent(turn_start=True), ErrorKind.SERVICE_TIMEOUT, 6),
]


@pytest.mark.parametrize(
    ("behaviour", "kind", "bound"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES]
)
def test_failures_exit_4_with_cause_and_fix(
    env: dict[str, str],
    config_file: Path,
    speech_service: FakeSpeechService,
    speech_wavs: SpeechWavs,
    behaviour: Behaviour,
    kind: ErrorKind,
    bound: float,
) -> None:
    speech_service.always(behaviour)
    run = once(env, config_file, speech_wavs.phrase)
    assert run.code == 4, run.stderr
    assert run.stdout == ""
    message = describe_failure(Failed(kind))
    assert message.summary in run.stderr
    assert f"Fix: {message.body}" in run.stderr
    assert "Detail: " in run.stderr
    assert "Traceback" not in run.stderr
    assert run.seconds < bound
    assert_no_key(run, speech_service.key)


def test_connection_refused_exits_4(
    env: dict[str, str], config_file: Path, speech_wavs: SpeechWavs
) -> None:
    env = {**env, "AZURE_AI_SPEECH_HOST": f"ws://127.0.0.1:{free_port()}"}
    run = once(env, config_file, speech_wavs.phrase)
    assert run.code == 4, run.stderr
    assert describe_failure(Failed(ErrorKind.CONNECTION_FAILURE)).summary in run.stderr
    assert "refused" in run.stderr.lower()
    assert run.seconds < 6
    assert_no_key(run, env["AZURE_AI_SPEECH_KEY"])


def test_bad_wav_exits_4(
    env: dict[str, str], config_file: Path, tmp_path: Path, speech_service: FakeSpeechService
) -> None:
    wav = tmp_path / "notes.wav"
    wav.write_text("not audio")
    run = once(env, config_file, wav)
    assert run.code == 4, run.stderr
    assert describe_failure(Failed(ErrorKind.AUDIO_FILE)).summary in run.stderr
    assert str(wav) in run.stderr
    assert not speech_service.connections
    assert_no_key(run, speech_service.key)


def test_missing_key_exits_2(
    env: dict[str, str],
    config_file: Path,
    speech_wavs: SpeechWavs,
    speech_service: FakeSpeechService,
) -> None:
    env = {k: v for k, v in env.items() if k != "AZURE_AI_SPEECH_KEY"}
    run = once(env, config_file, speech_wavs.phrase)
    assert run.code == 2, run.stderr
    assert "AZURE_AI_SPEECH_KEY" in run.stderr
    assert "Fix:" in run.stderr
    assert not speech_service.connections


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[azure\nkey = 1\n", "not valid TOML"),
        ('[azure]\nlanguage = "en-US"\ntimout_seconds = 3\n', "did you mean `timeout_seconds`"),
    ],
    ids=["unparsable", "unknown-key"],
)
def test_broken_config_exits_2(
    env: dict[str, str],
    tmp_path: Path,
    speech_wavs: SpeechWavs,
    speech_service: FakeSpeechService,
    text: str,
    expected: str,
) -> None:
    config = tmp_path / "broken.toml"
    config.write_text(text)
    run = once(env, config, speech_wavs.phrase)
    assert run.code == 2, run.stderr
    assert expected in run.stderr
    assert str(config) in run.stderr
    assert not speech_service.connections
    assert_no_key(run, speech_service.key)


@pytest.mark.parametrize(
    "args",
    [["once", "--bogus"], ["once", "--file"], ["no-such-command"], ["once", "--file", "/nope.wav"]],
    ids=["unknown-option", "missing-argument", "unknown-command", "missing-file"],
)
def test_usage_errors_exit_2(
    env: dict[str, str], config_file: Path, args: list[str], speech_service: FakeSpeechService
) -> None:
    run = voicetype(env, "--config", str(config_file), *args)
    assert run.code == 2, run.stderr
    assert run.stderr.strip()
    assert "Traceback" not in run.stderr
    assert not speech_service.connections
