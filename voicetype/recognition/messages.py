"""Plain-words messages for recognition outcomes, shared by the CLI and notifications.

Pure: no SDK, no desktop. Each message names the cause and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from voicetype.recognition import ErrorKind, Failed, NoMatch, NoMatchReason


@dataclass(frozen=True)
class Message:
    summary: str  # one short line: what happened
    body: str  # cause and fix, a sentence or two

    def as_text(self) -> str:
        return f"{self.summary}: {self.body}" if self.body else self.summary


_KEY_FIX = (
    "check `key` and `region` in config.toml, or AZURE_AI_SPEECH_KEY and AZURE_AI_SPEECH_REGION"
)

_NO_MATCH = {
    NoMatchReason.NOT_RECOGNIZED: "speech was heard but not understood",
    NoMatchReason.INITIAL_SILENCE_TIMEOUT: "no speech detected",
    NoMatchReason.INITIAL_BABBLE_TIMEOUT: "only noise was heard",
    NoMatchReason.END_SILENCE_TIMEOUT: "no speech detected",
    NoMatchReason.KEYWORD_NOT_RECOGNIZED: "speech was heard but not understood",
}

_FAILED = {
    ErrorKind.AUTHENTICATION: (
        "Azure rejected the key (401)",
        f"The key is wrong or belongs to another region: {_KEY_FIX}.",
    ),
    ErrorKind.FORBIDDEN: (
        "Azure refused the request (403)",
        "The Speech resource is disabled or out of quota: check it in the Azure portal, "
        f"or {_KEY_FIX}.",
    ),
    ErrorKind.THROTTLED: (
        "Azure is throttling requests (429)",
        "Too many requests for this Speech resource: wait a moment and try again, "
        "or move to a higher pricing tier.",
    ),
    ErrorKind.BAD_REQUEST: (
        "Azure refused the request (400)",
        'Check `language` in config.toml (for example "en-US").',
    ),
    ErrorKind.CONNECTION_FAILURE: (
        "Could not reach the speech service",
        "Check the network connection, and `region` (or `host`) in config.toml.",
    ),
    ErrorKind.SERVICE_TIMEOUT: (
        "The speech service stopped answering",
        "It did not reply in time: try again; if it keeps happening, check the network.",
    ),
    ErrorKind.SERVICE_ERROR: (
        "The speech service failed",
        "Azure reported an internal error: try again in a moment.",
    ),
    ErrorKind.SERVICE_UNAVAILABLE: (
        "The speech service is unavailable (503)",
        "Azure is temporarily unavailable: try again in a moment.",
    ),
    ErrorKind.MICROPHONE_UNAVAILABLE: (
        "No microphone available",
        "Connect a microphone and check that it is the default input in the sound settings.",
    ),
    ErrorKind.AUDIO_FILE: (
        "Could not read the audio file",
        "Use a WAV file with 16-bit PCM audio (e.g. `sox in.wav -r 16000 -c 1 -b 16 out.wav`).",
    ),
    ErrorKind.NOT_CONFIGURED: (
        "No Azure Speech key configured",
        "Set `key` and `region` (or `host`) in config.toml (run `voicetype config init`), "
        "or AZURE_AI_SPEECH_KEY and AZURE_AI_SPEECH_REGION, then run `voicetype reload`.",
    ),
    ErrorKind.TEXT_TOO_LONG: (
        "The speech service sent too much text",
        "the service sent a text longer than 10,000 characters; nothing was typed.",
    ),
    ErrorKind.INTERNAL: (
        "Recognition failed",
        "The Speech SDK reported an unexpected error; see the log for details.",
    ),
}


def describe_no_match(result: NoMatch) -> Message:
    return Message("Didn't catch that", f"{_NO_MATCH[result.reason]}.")


def describe_failure(result: Failed) -> Message:
    summary, body = _FAILED[result.kind]
    if result.kind is ErrorKind.TEXT_TOO_LONG and result.detail:
        body = f"{result.detail}. {_TOO_LONG_FIX}"  # the detail names the cap in force
    elif result.kind is ErrorKind.TEXT_TOO_LONG:
        body = f"{body} {_TOO_LONG_FIX}"
    return Message(summary, body)


_TOO_LONG_FIX = (
    "To allow longer texts, raise [typing] max_chars in config.toml; if an ordinary"
    " dictation gives this, check the speech service (`host` in config.toml)."
)


def too_long_detail(max_chars: int) -> str:
    """The words for ``Failed(TEXT_TOO_LONG)``: the cap and that nothing was typed."""
    return f"the service sent a text longer than {max_chars:,} characters; nothing was typed"
