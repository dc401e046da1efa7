"""Run voicetype's text stage over the real RemoteDesktop portal as the session's user
(the portal refuses root callers), with the focused window from AT-SPI wired as the
daemon wires it (``compose._wire_focus``).

Usage: ``python -m harness.wl_text_client STATE_DIR``. Starts the portal session and the
AT-SPI reader, prints ``ready`` (or ``{"error": message}``), then for each stdin line (a
JSON dictation: a list of ``[display, lexical]`` phrases) delivers it into the window
focused now and prints one JSON line ``{"typed", "erased", "notice", "error", "ms",
"focus_ms", "app", "role"}`` (``focus_ms``: one focus query just before it), until
stdin ends; the line ``"focus"`` asks only for ``{"app"}`` of the focused window. The
test waits for the window's text between dictations, as a user pauses.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from voicetype.compose import _wire_focus
from voicetype.context.atspi import AtspiCaretReader
from voicetype.context.keywatch import NoKeyWatch
from voicetype.insertion import InsertionError
from voicetype.insertion.portal import PortalInserter
from voicetype.text import DictationMemory, History, Phrase, TextSettings
from voicetype.typing_stage import TextStage


def main() -> None:
    inserter = PortalInserter(os.environ, Path(sys.argv[1]), consent_timeout=30)
    reader = AtspiCaretReader(env=dict(os.environ))
    reader.start()
    stage = TextStage(TextSettings(), reader, DictationMemory(), History(10), NoKeyWatch())
    _wire_focus(inserter, stage)
    try:
        inserter.prepare()
        if not reader.wait_ready(10):
            print(json.dumps({"error": f"AT-SPI reader not ready: {reader.problem}"}), flush=True)
            return
        print("ready", flush=True)
        for line in sys.stdin:
            phrases = json.loads(line)
            if phrases == "focus":  # which window AT-SPI names now
                focus = reader.focused(0.1)
                print(json.dumps({"app": focus.app if focus else None}), flush=True)
                continue
            start = time.monotonic()
            focus = reader.focused(0.1)
            focus_ms = (time.monotonic() - start) * 1000
            start = time.monotonic()
            done = stage.deliver(
                inserter, [Phrase(d, lexical) for d, lexical in phrases], None, time.monotonic
            )
            result = {
                "typed": done.typed,
                "erased": done.erased,
                "notice": done.notice.summary if done.notice else None,
                "error": done.error.message if done.error else None,
                "ms": (time.monotonic() - start) * 1000,
                "focus_ms": focus_ms,
                "app": focus.app if focus else None,
                "role": focus.role if focus else None,
            }
            print(json.dumps(result), flush=True)
    except InsertionError as exc:
        print(json.dumps({"error": exc.message}), flush=True)
    finally:
        inserter.close()
        reader.close()


if __name__ == "__main__":
    main()
