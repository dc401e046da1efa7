"""``voicetype once`` gives the text the daemon would type (issue 13): the service's words
through the text pipeline — spoken commands and ``[replacements]`` — printed with
``--print``, as a subprocess against the fake speech service."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.speech import SpeechWavs

CONFIG = """
[azure]
timeout_seconds = 2

[replacements]
"teh" = "the"
"my email" = "ana@example.com"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def once_print(
    user_env: dict[str, str], service: FakeSpeechService, config: Path, wav: Path
) -> subprocess.CompletedProcess[str]:
    args = ["--config", str(config), "once", "--file", str(wav), "--print"]
    return subprocess.run(
        [sys.executable, "-m", "voicetype", *args],
        env={**user_env, **service.env(), "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("said", "printed"),
    [
        ("Teh report goes to my email.", "The report goes to ana@example.com.\n"),
        ("New line.", "\n\n"),  # the command: a line break (then print's own)
        ("A new line of products.", "A new line of products.\n"),  # not a whole phrase
    ],
)
def test_once_prints_what_the_daemon_would_type(
    user_env: dict[str, str],
    speech_service: FakeSpeechService,
    speech_wavs: SpeechWavs,
    config_file: Path,
    said: str,
    printed: str,
) -> None:
    speech_service.always(Behaviour.say(said))
    run = once_print(user_env, speech_service, config_file, speech_wavs.phrase)
    assert (run.returncode, run.stdout, run.stderr) == (0, printed, "")


def test_once_scratch_that_alone_says_there_is_nothing_to_take_back(
    user_env: dict[str, str],
    speech_service: FakeSpeechService,
    speech_wavs: SpeechWavs,
    config_file: Path,
) -> None:
    speech_service.always(Behaviour.say("Scratch that."))
    run = once_print(user_env, speech_service, config_file, speech_wavs.phrase)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr.startswith(
        "voicetype: Nothing was deleted: there is no dictation to take back"
    )
