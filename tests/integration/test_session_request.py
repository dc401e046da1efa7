"""What a continuous session asks of the service (issue 13): the real Speech SDK against the
fake service. The phrase list and the detailed format, exactly as a single utterance sends
them; language identification among the configured languages (at-start, or continuous for
hands-free), the identified language in the phrase events and the log; a pinned language
(``LanguageSwitch``) sent alone; ``[azure] profanity`` reaching the service."""

from __future__ import annotations

import dataclasses
import logging
import queue
import subprocess
import time
from pathlib import Path

import pytest
from harness.audio_feed import WavFeed, read_pcm
from harness.fake_speech import Behaviour, FakeSpeechService, Turn
from harness.speech import SpeechWavs, make_silence_wav

from voicetype.config import AzureConfig
from voicetype.recognition import Recognized, WavFile
from voicetype.recognition.azure import AzureRecognizer
from voicetype.recognition.events import PhraseRecognized, SessionEvent, SessionStopped
from voicetype.recognition.language import AUTOMATIC, LanguageSwitch
from voicetype.recognition.session import ContinuousRecognizer


def dictate(
    recognizer: ContinuousRecognizer,
    wavs: SpeechWavs,
    timeout: float = 15,
    wav: Path | None = None,
) -> list[PhraseRecognized]:
    """One dictation of ``wav`` (the test phrase): the phrases recognized, once the session
    stopped."""
    events: queue.Queue[SessionEvent] = queue.Queue()
    feed = WavFeed(read_pcm(wav or wavs.phrase), speed=0, trailing_silence=False)
    session = recognizer.start(feed, events.put)
    assert feed.done.wait(10)
    session.stop()
    seen: list[SessionEvent] = []
    deadline = time.monotonic() + timeout
    while not any(isinstance(e, SessionStopped) for e in seen):
        seen.append(events.get(timeout=max(0.01, deadline - time.monotonic())))
    assert session.released.wait(10)
    return [e for e in seen if isinstance(e, PhraseRecognized)]


def first_turn(service: FakeSpeechService) -> Turn:
    return service.turns[0]


def test_the_phrase_list_and_detailed_forms_reach_continuous_sessions(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.continuous("Store it at Contoso, please."))
    config = dataclasses.replace(fake_azure, phrases=("Contoso", "scratch that"))
    (phrase,) = dictate(ContinuousRecognizer(config), speech_wavs)
    turn = first_turn(speech_service)
    assert turn.phrase_list == ["Contoso", "scratch that"]
    assert speech_service.connections[0].query.get("format") == "detailed"
    words = "store it at contoso please"
    assert phrase.recognized == Recognized("Store it at Contoso, please.")
    assert (phrase.lexical, phrase.itn, phrase.masked_itn) == (words, words, words)
    assert phrase.language == "en-US"  # one language: the session's own
    assert turn.candidate_languages == []  # no identification asked for


def test_two_languages_the_service_identifies_german_at_the_start(
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="voicetype.recognition.session")
    speech_service.always(Behaviour.continuous("Guten Morgen.").identifying("de-DE"))
    config = dataclasses.replace(fake_azure, languages=("en-US", "de-DE"))
    recognizer = ContinuousRecognizer(config)
    (phrase,) = dictate(recognizer, speech_wavs)
    turn = first_turn(speech_service)
    assert turn.candidate_languages == ["en-US", "de-DE"]
    assert turn.language_id_mode == "DetectAtAudioStart"
    assert turn.languages_answered == ["de-DE"]
    assert (phrase.text, phrase.language) == ("Guten Morgen.", "de-DE")
    assert phrase.recognized.language == "de-DE"  # what the text pipeline reads
    assert "language identified: de-DE" in caplog.messages
    assert recognizer.language.last_heard == "de-DE"
    assert recognizer.language.describe() == "de-DE (identified; automatic among en-US, de-DE)"


def test_hands_free_identifies_phrase_by_phrase(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.continuous("Bonjour.").identifying("fr-FR"))
    config = dataclasses.replace(
        fake_azure, languages=("en-US", "de-DE", "fr-FR"), language_id="continuous"
    )
    (phrase,) = dictate(ContinuousRecognizer(config), speech_wavs)
    turn = first_turn(speech_service)
    assert turn.language_id_mode == "DetectContinuous"
    assert turn.candidate_languages == ["en-US", "de-DE", "fr-FR"]
    assert phrase.language == "fr-FR"


def test_hands_free_follows_a_change_of_language_between_phrases(
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="voicetype.recognition.session")
    english = speech_wavs.make("lid-en", "good morning everybody")
    german = speech_wavs.make("lid-de", "guten morgen alle zusammen")
    pause = make_silence_wav(speech_wavs.directory / "lid-pause.wav", 1.0)
    both = speech_wavs.directory / "lid-both.wav"
    if not both.exists():
        subprocess.run(["sox", str(english), str(pause), str(german), str(both)], check=True)
    speech_service.always(
        Behaviour.continuous("Good morning everybody.", "Guten Morgen alle zusammen.").identifying(
            "en-US", "de-DE"
        )
    )
    config = dataclasses.replace(fake_azure, languages=("en-US", "de-DE"), language_id="continuous")
    recognizer = ContinuousRecognizer(config)
    phrases = dictate(recognizer, speech_wavs, wav=both)
    assert [(p.text, p.language) for p in phrases] == [
        ("Good morning everybody.", "en-US"),
        ("Guten Morgen alle zusammen.", "de-DE"),
    ]
    assert first_turn(speech_service).language_id_mode == "DetectContinuous"
    identified = [m for m in caplog.messages if m.startswith("language identified")]
    assert identified == ["language identified: en-US", "language identified: de-DE"]
    assert recognizer.language.last_heard == "de-DE"


def test_a_pinned_language_is_sent_alone_until_automatic_again(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    speech_service.always(Behaviour.continuous("Guten Morgen.").identifying("de-DE"))
    config = dataclasses.replace(fake_azure, languages=("en-US", "de-DE"))
    switch = LanguageSwitch(config.languages)
    recognizer = ContinuousRecognizer(config, language=switch)
    switch.choose_language("de-DE")
    (pinned,) = dictate(recognizer, speech_wavs)
    switch.choose_language(AUTOMATIC)
    (automatic,) = dictate(recognizer, speech_wavs)
    one, two = (c.turns[0] for c in speech_service.connections)
    assert (one.candidate_languages, one.languages_answered) == ([], [])
    assert speech_service.connections[0].query.get("language") == "de-DE"
    assert pinned.language == "de-DE"
    assert two.candidate_languages == ["en-US", "de-DE"]
    assert automatic.language == "de-DE"


@pytest.mark.parametrize(
    ("profanity", "typed"),
    [
        ("masked", "That **** printer."),
        ("removed", "That printer."),
        ("raw", "That damn printer."),
    ],
)
def test_profanity_reaches_the_service(
    speech_service: FakeSpeechService,
    fake_azure: AzureConfig,
    speech_wavs: SpeechWavs,
    profanity: str,
    typed: str,
) -> None:
    speech_service.always(Behaviour.continuous("That damn printer."))
    config = dataclasses.replace(fake_azure, profanity=profanity)
    (phrase,) = dictate(ContinuousRecognizer(config), speech_wavs)
    assert speech_service.connections[0].query.get("profanity") == profanity
    assert first_turn(speech_service).profanity == profanity
    assert phrase.text == typed
    assert phrase.masked_itn == "that **** printer"


def test_a_single_utterance_identifies_among_at_most_four_at_its_start(
    speech_service: FakeSpeechService, fake_azure: AzureConfig, speech_wavs: SpeechWavs
) -> None:
    """``voicetype once``: at-start identification even where hands-free dictation would
    identify continuously among more (the service allows no more for one utterance)."""
    speech_service.always(Behaviour.say("That damn printer.").identifying("de-DE"))
    config = dataclasses.replace(
        fake_azure,
        languages=("en-US", "fr-FR", "es-ES", "it-IT", "de-DE"),
        language_id="continuous",
        profanity="removed",
    )
    recognizer = AzureRecognizer(config)
    try:
        result = recognizer.recognize_once(WavFile(speech_wavs.phrase))
    finally:
        recognizer.close()
    turn = first_turn(speech_service)
    assert turn.language_id_mode == "DetectAtAudioStart"
    assert turn.candidate_languages == ["en-US", "fr-FR", "es-ES", "it-IT"]
    assert isinstance(result, Recognized)
    assert (result.text, result.language) == ("That printer.", "en-US")  # de-DE not offered
