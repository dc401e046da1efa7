"""Does the default microphone open? Asked of the Speech SDK in a short-lived child process.

Opening the microphone loads the system's audio libraries, which print pages of noise (ALSA,
JACK) on file descriptor 2 when there is no audio server, and can block while an audio server
hangs. Silencing fd 2 in the daemon would be process-wide (every other thread's stderr would
vanish meanwhile), and a block would stall the caller; so the probe runs in a child process
whose stderr goes to /dev/null and which is killed after ``timeout`` seconds. It costs one
Python start plus the SDK's import (~0.3 s measured here) and no network connection.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from voicetype.recognition import ErrorKind, Failed

log = logging.getLogger(__name__)

#: How long the child may take (Python start, SDK import, opening the device).
PROBE_TIMEOUT = 15.0


def probe_microphone(timeout: float = PROBE_TIMEOUT) -> Failed | None:
    """None when the SDK can open the default microphone, else why not (a ``Failed``).

    Blocks the calling thread (any thread) for the child's run, at most ``timeout``
    seconds: a child still busy then is killed and the answer is ``MICROPHONE_UNAVAILABLE``
    (the audio system did not open the device in time). A child that fails in any other way
    is logged and the answer is None: the probe could not tell, and the next recognition
    reports the microphone itself. Never raises for what the child does; leaves this
    process's file descriptors alone.
    """
    command = [sys.executable, "-m", "voicetype.recognition.microphone"]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            cwd="/",  # ``-m`` puts the working directory on the child's sys.path
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Failed(
            ErrorKind.MICROPHONE_UNAVAILABLE,
            f"the audio system did not open the default microphone within {timeout:g} s",
        )
    except OSError as exc:
        log.warning("microphone probe not run: %s", exc)
        return None
    try:
        answer = parse_answer(done.stdout.decode("utf-8", "replace"))
    except ValueError as exc:
        log.warning("microphone probe failed (exit status %s): %s", done.returncode, exc)
        return None
    return answer


def parse_answer(text: str) -> Failed | None:
    """The child's one JSON line: ``{}`` (it opens) or ``{"kind": …, "detail": …}``.

    Raises ``ValueError`` for anything else (the child died before answering).
    """
    lines = text.strip().splitlines()
    if not lines:
        raise ValueError("no answer")
    value = json.loads(lines[-1])
    if not isinstance(value, dict):
        raise ValueError(f"not an answer: {lines[-1][:80]!r}")
    if not value:
        return None
    return Failed(ErrorKind(value.get("kind")), str(value.get("detail", "")))


def _main() -> None:
    from voicetype.recognition.azure import open_default_microphone

    failure = open_default_microphone()
    answer = {} if failure is None else {"kind": failure.kind.value, "detail": failure.detail}
    print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    _main()
