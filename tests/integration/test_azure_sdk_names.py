"""The installed Speech SDK's enum names are exactly those the pure mapping
(``voicetype.recognition.azure_results``) knows: a new SDK code fails here, not in use."""

from __future__ import annotations

from azure.cognitiveservices import speech as speechsdk

from voicetype.recognition.azure_results import ERROR_CODES, NO_MATCH_REASONS


def test_every_sdk_cancellation_code_is_mapped() -> None:
    assert {c.name for c in speechsdk.CancellationErrorCode} == set(ERROR_CODES)


def test_every_sdk_no_match_reason_is_mapped() -> None:
    assert {r.name for r in speechsdk.NoMatchReason} == set(NO_MATCH_REASONS)


def test_the_reason_names_map_answer_compares_exist() -> None:
    reasons = {r.name for r in speechsdk.ResultReason}
    assert {"RecognizedSpeech", "NoMatch", "Canceled", "RecognizingSpeech"} <= reasons
    assert "EndOfStream" in {r.name for r in speechsdk.CancellationReason}
