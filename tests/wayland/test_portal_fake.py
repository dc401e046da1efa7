"""The RemoteDesktop portal inserter against a fake portal on a private bus that follows
the published version-2 interface (what Debian 12's portals lack): call order, the
restore token kept 0600 and reused, refusal, a Start that never answers, line breaks,
and the paste path (clipboard + primary hold the text at the chord, then come back) on a
real sway clipboard."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
from harness.fake_portal import FakePortal, unwrap
from harness.procs import wait_for
from harness.sway import Sway

from voicetype.dictation import nothing_typed
from voicetype.insertion import InsertionError, NothingPasted
from voicetype.insertion.portal import (
    KEYSYM_BACKSPACE,
    KEYSYM_INSERT,
    KEYSYM_RETURN,
    KEYSYM_SHIFT_L,
    PortalInserter,
    PortalRefused,
)

pytestmark = pytest.mark.desktop


def typed(keys: list[tuple[int, int]]) -> str:
    """The text the recorded key presses type (Shift presses are not text)."""
    out = ""
    for keysym, state in keys:
        if state != 1 or keysym == KEYSYM_SHIFT_L:
            continue
        out += "\n" if keysym == KEYSYM_RETURN else chr(keysym)
    return out


def test_call_order_and_restore_token_reused(fake_portal: FakePortal, tmp_path: Path) -> None:
    state = tmp_path / "state" / "voicetype"
    first = PortalInserter(fake_portal.env, state)
    first.check()
    first.insert("Hello, World!", None)
    first.insert("again", None)
    first.close()
    members = [m for m in fake_portal.members() if m not in ("Get", "AddMatch", "RemoveMatch")]
    assert members[:3] == ["CreateSession", "SelectDevices", "Start"]
    assert members[-1] == "Close" and members.count("Start") == 1  # one consent per inserter
    select = next(c for c in fake_portal.calls if c.member == "SelectDevices")
    options = unwrap(select.body[1])
    assert options["types"] == 1 and options["persist_mode"] == 2
    assert "restore_token" not in options
    assert typed(fake_portal.keys()) == "Hello, World!again"
    assert fake_portal.keys()[:2] == [(KEYSYM_SHIFT_L, 1), (KEYSYM_SHIFT_L, 0)]
    token = state / "portal-restore-token"
    assert token.read_text() == "token-1\n"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600

    fake_portal.clear()
    second = PortalInserter(fake_portal.env, state)
    second.insert("x", None)
    second.close()
    select = next(c for c in fake_portal.calls if c.member == "SelectDevices")
    assert unwrap(select.body[1])["restore_token"] == "token-1"
    assert token.read_text() == "token-2\n"


def test_version_1_portal_gets_no_persist_options(fake_portal: FakePortal, tmp_path: Path) -> None:
    fake_portal.version = 1
    inserter = PortalInserter(fake_portal.env, tmp_path / "state")
    inserter.insert("ok", None)
    inserter.close()
    select = next(c for c in fake_portal.calls if c.member == "SelectDevices")
    assert set(unwrap(select.body[1])) == {"types", "handle_token"}
    assert not (tmp_path / "state" / "portal-restore-token").exists()


def test_refusal_types_nothing(fake_portal: FakePortal, tmp_path: Path) -> None:
    fake_portal.start = "deny"
    inserter = PortalInserter(fake_portal.env, tmp_path / "state")
    with pytest.raises(PortalRefused) as err:
        inserter.insert("secret text", None)
    inserter.close()
    assert "declined" in err.value.message and "kept" in err.value.message
    assert fake_portal.keys() == []


def test_start_that_never_answers_is_bounded(fake_portal: FakePortal, tmp_path: Path) -> None:
    fake_portal.start = "silent"
    inserter = PortalInserter(fake_portal.env, tmp_path / "state", consent_timeout=1.0)
    began = time.monotonic()
    with pytest.raises(InsertionError) as err:
        inserter.insert("text", None)
    elapsed = time.monotonic() - began
    inserter.close()
    print(f"Start never answered: InsertionError after {elapsed:.2f} s")
    assert 0.9 < elapsed < 3.0
    assert "did not answer" in err.value.message
    wait_for(
        lambda: any(c.member == "Close" and "/request/" in c.path for c in fake_portal.calls),
        2,
        "the unanswered Request to be closed",
    )
    assert fake_portal.keys() == []


def test_line_breaks_are_spaces_unless_the_window_is_known_not_a_terminal(
    fake_portal: FakePortal, tmp_path: Path
) -> None:
    unknown = PortalInserter(fake_portal.env, tmp_path / "state")
    unknown.insert("ls\nrm x\n", None)
    unknown.close()
    assert typed(fake_portal.keys()) == "ls rm x "
    fake_portal.clear()
    editor = PortalInserter(fake_portal.env, tmp_path / "state", is_terminal=lambda: False)
    editor.insert("one\ntwo", None)
    editor.close()
    assert typed(fake_portal.keys()) == "one\ntwo"


def wl(sway: Sway, *argv: str, data: str | None = None) -> str:
    env = {**os.environ, **sway.env}
    if argv[0] == "wl-copy":  # it forks a server that would hold a captured pipe open
        subprocess.run(argv, env=env, input=data, text=True, timeout=5, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        return ""
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=5, check=False)
    return out.stdout


def test_text_outside_the_layout_is_pasted_and_clipboards_restored(
    fake_portal: FakePortal, sway: Sway, tmp_path: Path
) -> None:
    wl(sway, "wl-copy", data="SENTINEL clipboard")
    wl(sway, "wl-copy", "--primary", data="SENTINEL primary")
    seen: list[tuple[str, str]] = []

    def on_key(keysym: int, state: int) -> None:
        if keysym == KEYSYM_INSERT and state == 1:
            seen.append((wl(sway, "wl-paste", "-n"), wl(sway, "wl-paste", "-n", "--primary")))

    fake_portal.on_key = on_key
    text = "Grüße 日本 👩‍💻 🇫🇷"
    inserter = PortalInserter({**fake_portal.env, **sway.env}, tmp_path / "state")
    inserter.insert(text, None)
    inserter.close()
    assert inserter.last_method == "pasted"
    assert seen == [(text, text)]
    keys = [k for k in fake_portal.keys()[2:]]  # after the session's Shift warm-up
    assert keys == [
        (KEYSYM_SHIFT_L, 1),
        (KEYSYM_INSERT, 1),
        (KEYSYM_INSERT, 0),
        (KEYSYM_SHIFT_L, 0),
    ]
    assert wl(sway, "wl-paste", "-n") == "SENTINEL clipboard"
    assert wl(sway, "wl-paste", "-n", "--primary") == "SENTINEL primary"


def test_a_window_slow_to_fetch_gets_the_text_not_the_old_clipboard(
    fake_portal: FakePortal, sway: Sway, tmp_path: Path
) -> None:
    """The clipboard is given back only after the window fetched the text (it used to be
    given back a fixed 0.5 s after the chord: a slower window pasted the old clipboard)."""
    wl(sway, "wl-copy", data="SENTINEL clipboard")
    wl(sway, "wl-copy", "--primary", data="SENTINEL primary")
    seen: list[str] = []

    def fetch_late() -> None:
        time.sleep(1.2)  # a window busy for 1.2 s before it handles Shift+Insert
        seen.append(wl(sway, "wl-paste", "-n"))

    def on_key(keysym: int, state: int) -> None:
        if keysym == KEYSYM_INSERT and state == 1:
            threading.Thread(target=fetch_late, daemon=True).start()

    fake_portal.on_key = on_key
    text = "Grüße 日本 👩‍💻 🇫🇷"
    inserter = PortalInserter({**fake_portal.env, **sway.env}, tmp_path / "state")
    try:
        inserter.insert(text, None)
    finally:
        inserter.close()
    assert seen == [text]
    assert wl(sway, "wl-paste", "-n") == "SENTINEL clipboard"
    assert wl(sway, "wl-paste", "-n", "--primary") == "SENTINEL primary"


def test_a_paste_nobody_fetches_is_said_and_the_text_kept(
    fake_portal: FakePortal, sway: Sway, tmp_path: Path
) -> None:
    wl(sway, "wl-copy", data="SENTINEL clipboard")
    inserter = PortalInserter(
        {**fake_portal.env, **sway.env}, tmp_path / "state", fetch_timeout=1.0
    )
    began = time.monotonic()
    try:
        with pytest.raises(NothingPasted) as err:
            inserter.insert("Grüße 日本", None)
    finally:
        inserter.close()
    elapsed = time.monotonic() - began
    assert elapsed < 4.0
    assert "did not take the pasted text" in err.value.message
    assert nothing_typed(err.value)  # so the text is kept for Type last dictation
    assert wl(sway, "wl-paste", "-n") == "SENTINEL clipboard"


def test_backspace_is_pressed_and_return_only_where_no_terminal_can_be(
    fake_portal: FakePortal, tmp_path: Path
) -> None:
    unknown = PortalInserter(fake_portal.env, tmp_path / "state")
    try:
        unknown.press("BackSpace", 3, None)
        with pytest.raises(InsertionError, match="not a terminal"):
            unknown.press("Return", 1, None)
    finally:
        unknown.close()
    assert fake_portal.keys()[2:] == [(KEYSYM_BACKSPACE, 1), (KEYSYM_BACKSPACE, 0)] * 3
    fake_portal.clear()
    editor = PortalInserter(fake_portal.env, tmp_path / "state", is_terminal=lambda: False)
    try:
        editor.press("Return", 2, None)
    finally:
        editor.close()
    assert fake_portal.keys()[2:] == [(KEYSYM_RETURN, 1), (KEYSYM_RETURN, 0)] * 2
