"""Languages in the real daemon (issue 13), against the fake service and a real text window:
with two languages configured the service identifies German, which the log, ``status`` and
the typed text show; ``voicetype language de-DE`` through the control socket pins German
for the next dictation (the service is asked for German alone), without a restart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from harness.daemon import TEST_CONFIG, RunningDaemon
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import wait_for
from harness.textwin import TextWindow

pytestmark = pytest.mark.desktop

CONFIG = TEST_CONFIG + '\n[azure]\nlanguage = ["en-US", "de-DE"]\n'


def dictate(daemon: RunningDaemon, window: TextWindow, text: str, number: int) -> None:
    window.clear()
    wait_for(lambda: daemon.state() == "idle", 15, "idle", 0.01)
    assert daemon.command("dictate")["outcome"] == "started"
    assert window.wait_for_text(text, timeout=20) == text
    daemon.wait_for_log(f"dictation #{number} (command): typed", 20)


def test_identified_then_chosen_language(
    daemon_factory: Callable[..., RunningDaemon],
    speech_service: FakeSpeechService,
    text_window: TextWindow,
) -> None:
    speech_service.always(
        replace(Behaviour.say("Guten Morgen."), trigger="first_audio").identifying("de-DE")
    )
    daemon = daemon_factory(config=CONFIG)
    text_window.focus()
    assert daemon.cli("language").stdout == "* auto\n  en-US\n  de-DE\n"

    dictate(daemon, text_window, "Guten Morgen.", 1)
    first = speech_service.turns[0]
    assert first.candidate_languages == ["en-US", "de-DE"]
    assert first.languages_answered == ["de-DE"]
    daemon.wait_for_log("language identified: de-DE")
    status = daemon.command("status")["status"]
    assert status["language"] == "de-DE (identified; automatic among en-US, de-DE)"

    chosen = daemon.cli("language", "de-DE")
    assert (chosen.returncode, chosen.stdout) == (0, "the next dictation uses de-DE\n")
    assert daemon.cli("language").stdout == "  auto\n  en-US\n* de-DE\n"
    dictate(daemon, text_window, "Guten Morgen.", 2)
    pinned = speech_service.connections[-1]
    assert pinned.query.get("language") == "de-DE"
    assert pinned.turns[0].candidate_languages == []  # no identification: German alone

    refused = daemon.cli("language", "fr-FR")
    assert refused.returncode == 1
    assert "fr-FR is not one of the configured languages (en-US, de-DE)" in refused.stderr
    assert daemon.command("status")["status"]["language"].startswith("de-DE (chosen")
