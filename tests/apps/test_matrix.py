"""Real applications × six texts × the three ``[typing] method`` values.

Each cell inserts one text in process, exactly as the daemon does
(``select_inserter(method)``, one inserter per method kept for the whole application,
``insert(text, focused_target())``) into a freshly started application (see
harness/apps.py), then checks what a user would see:

- the text read back from the application equals ``expected_for(app, text)``;
- the clipboard after the insertion serves the sentinel the user had put there before
  the cell — at once, or within 3 s for an inserter that gives it back once the target
  stopped asking (checked before the read-back, which copies);
- the window is still open and no dialog appeared;
- no error was raised — except where a method truly cannot apply (``paste`` into
  xterm/urxvt, which have no key that pastes the CLIPBOARD): there either the text arrived
  exactly (voicetype chose to type instead) or voicetype refused with a message and
  inserted nothing; both pass.

Every cell is recorded in ``compat_report``; the session writes the table to
``test-artifacts/compatibility.md`` (and ``docs/compatibility.md`` with
``VOICETYPE_WRITE_COMPAT=1``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from harness.apps import APP_NAMES, NO_PASTE_KEY, Cell, Clipboard, CompatReport, RealApp
from harness.x11 import screenshot

from voicetype.errors import VoicetypeError
from voicetype.insertion import Inserter
from voicetype.insertion.select import select_inserter

pytestmark = [pytest.mark.desktop, pytest.mark.apps]

PARAGRAPH = (
    "Voice typing should feel like a keyboard that listens. When the user presses the hotkey"
    " and speaks, the words must appear exactly where the cursor was, with every comma,"
    " capital and accent intact. Nothing else may happen: no shortcut may fire, no menu may"
    " open and no command may run. The clipboard must hold what the user put there before,"
    " and the window must stay open afterwards. Long texts are the hardest case, because"
    " typing them takes time and pasting them borrows the clipboard. This paragraph is long"
    " enough to make the automatic method choose between the two, so each application sees"
    " both."
)
assert len(PARAGRAPH) == 600

TEXTS = {
    "ascii": "The quick brown fox jumps over the lazy dog.",
    "latin": "Grüße, naïve café — €12.50",
    "cjk": "こんにちは世界 你好",
    "emoji": "👩‍💻 and 🇫🇷 ok",
    "paragraph": PARAGRAPH,
    "newline": "first line\nsecond line",
}
METHODS = ("auto", "type", "paste")


def expected_for(app: RealApp, text: str) -> str:
    """What must arrive: trailing line breaks never arrive (a dictation must not press
    Return at its end); in a terminal a line break inside the text arrives as a space,
    so nothing is ever submitted to a shell."""
    text = text.rstrip("\r\n")
    if app.kind == "terminal":
        return text.replace("\r\n", " ").replace("\n", " ")
    return text


@pytest.fixture(scope="module", autouse=True)
def _describe_matrix(compat_report: CompatReport) -> None:
    compat_report.texts.update(TEXTS)
    compat_report.methods = METHODS


@pytest.fixture(scope="module", params=APP_NAMES)
def app(
    request: pytest.FixtureRequest,
    app_launcher: Any,
    compat_report: CompatReport,
) -> Iterator[RealApp]:
    started = app_launcher(request.param)
    try:
        yield started
    finally:
        compat_report.restarts[started.name] = started.restarts
        started.shutdown()


@pytest.fixture(scope="module")
def inserters(app: RealApp, x_display: str) -> Iterator[dict[str, Inserter]]:
    """One inserter per method for the whole application, as the daemon keeps one."""
    made: dict[str, Inserter] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISPLAY", x_display)
        yield made
        for inserter in made.values():
            inserter.close()


@pytest.fixture(scope="module")
def clipboard(x_display: str) -> Iterator[Clipboard]:
    board = Clipboard(x_display)
    yield board
    board.close()


def clipboard_settled(clipboard: Clipboard, sentinel: str, bound: float = 3.0) -> str | None:
    """What the clipboard serves once voicetype has given it back: the sentinel at once,
    or within ``bound`` seconds for an inserter that restores after the target stopped
    asking. Reads back off (0.1 s doubling), so the reads themselves never look like a
    target that keeps asking."""
    after = clipboard.read()
    deadline, pause = time.monotonic() + bound, 0.1
    while after != sentinel and time.monotonic() < deadline:
        time.sleep(pause)
        pause *= 2
        after = clipboard.read()
    return after


def _short(value: str | None, limit: int = 60) -> str:
    if value is None:
        return "nothing"
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"… ({len(value)} chars)"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("text_id", list(TEXTS))
def test_cell(
    app: RealApp,
    inserters: dict[str, Inserter],
    clipboard: Clipboard,
    compat_report: CompatReport,
    artifacts: Path,
    x_display: str,
    text_id: str,
    method: str,
) -> None:
    text = TEXTS[text_id]
    expected = expected_for(app, text)
    problems: list[str] = []
    if app.ensure_running():
        problems.append("(the application had closed in an earlier cell and was restarted)")
    app.focus()
    app.clear()
    sentinel = f"SENTINEL {app.name} {text_id} {method} {uuid.uuid4().hex[:8]}"
    clipboard.own(sentinel)
    if method not in inserters:
        inserters[method] = select_inserter(method)
    inserter = inserters[method]

    error: Exception | None = None
    started = time.monotonic()
    try:
        inserter.insert(text, inserter.focused_target())
    except Exception as e:  # recorded as the cell's outcome, asserted below
        error = e
    seconds = time.monotonic() - started
    after = clipboard_settled(clipboard, sentinel)

    dialogs = app.dismiss_dialogs()
    alive = app.alive()
    got: str | None = None
    arrived: float | None = None
    if alive:
        # after an error, nothing should arrive: don't wait for the text
        # bounded by the text's length: a busy machine may need seconds for 600 keys
        patience = 3.0 + len(expected) / 200 if error is None else 0.3
        got = app.read_back(expected if error is None else "", patience)
        if got == expected and expected:
            arrived = time.monotonic() - started
        dialogs += app.dismiss_dialogs()
        alive = app.alive()
    if text_id == "emoji" and method == "type" and app.kind == "editor":  # fonts rendered?
        screenshot(x_display, artifacts / "apps" / f"{app.name}-emoji-typed.png")

    refusal_allowed = method == "paste" and app.name in NO_PASTE_KEY
    if not alive:
        problems.append("the window closed")
    if error is not None:
        kind = "" if isinstance(error, VoicetypeError) else " (not a VoicetypeError: a bug)"
        message = " ".join(str(error).split())
        problems.append(f"raised {type(error).__name__}{kind}: {message}")
    if got is not None and got != expected:
        if "SENTINEL" in got:
            problems.append(f"the user's previous clipboard was pasted: got {_short(got)}")
        elif got == "":
            problems.append("nothing arrived")
        else:
            problems.append(f"got {_short(got)}")
    if after != sentinel:
        problems.append(f"clipboard afterwards was {_short(after)}, not the user's")
    problems += [f"a dialog appeared: {title!r}" for title in dialogs]

    exact = error is None and got == expected and after == sentinel and alive and not dialogs
    refused = (
        refusal_allowed
        and isinstance(error, VoicetypeError)
        and bool(str(error))
        and got == ""
        and after == sentinel
        and alive
        and not dialogs
    )
    verdict: Literal["ok", "refused", "fail"] = "ok" if exact else "refused" if refused else "fail"
    compat_report.record(Cell(app.name, text_id, method, verdict, problems, seconds, arrived))
    assert verdict != "fail", (
        f"{app.name} × {text_id} × {method}: "
        + "; ".join(problems)
        + f"\nexpected {_short(expected)}"
    )
