"""Pasting through the portal's Clipboard interface (what Debian 12's portals lack),
against the fake portal on a private bus following the published
``org.freedesktop.portal.Clipboard`` version 1: the fake plays the focused application
(it fetches on the paste chord, as scripted) and the one that owned the clipboard."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from harness.corpus import CORPUS, long_text
from harness.fake_portal import FakePortal

from voicetype.dictation import nothing_typed
from voicetype.insertion import InsertionError, NothingPasted, sanitize
from voicetype.insertion.portal import (
    KEYSYM_INSERT,
    KEYSYM_RETURN,
    KEYSYM_SHIFT_L,
    KEYSYM_TAB,
    PortalInserter,
)

pytestmark = pytest.mark.desktop

PREVIOUS = "the user's clipboard: naïve café".encode()


@pytest.fixture
def no_wl_clipboard(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every wl-copy/wl-paste voicetype would start (none may be, on this path)."""
    started: list[Any] = []
    real = subprocess.Popen

    def popen(argv: Any, *args: Any, **kwargs: Any) -> Any:
        if str(argv[0]).startswith("wl-"):
            started.append(argv)
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    return started


@pytest.fixture
def portal(fake_portal: FakePortal) -> FakePortal:
    fake_portal.clipboard_version = 1
    fake_portal.copy({"text/plain;charset=utf-8": PREVIOUS, "text/plain": PREVIOUS})
    return fake_portal


def typed(keys: list[tuple[int, int]]) -> str:
    out = ""
    for keysym, state in keys:
        if state != 1 or keysym in (KEYSYM_SHIFT_L, KEYSYM_INSERT):
            continue
        out += {KEYSYM_RETURN: "\n", KEYSYM_TAB: "\t"}.get(keysym) or chr(keysym)
    return out


def test_the_whole_corpus_reaches_the_window_exactly_and_the_clipboard_comes_back(
    portal: FakePortal, tmp_path: Path, no_wl_clipboard: list[Any]
) -> None:
    inserter = PortalInserter(portal.env, tmp_path / "state", is_terminal=lambda: False)
    pasted = 0
    try:
        for text in [*CORPUS, long_text(100_000)]:
            portal.clear()
            before = len(portal.pasted)
            inserter.insert(text, None)
            expected = sanitize(text)
            if inserter.last_method == "pasted":
                pasted += 1
                assert portal.pasted[before:] == [expected.encode()]
            else:
                assert typed(portal.keys()) == expected
            # Another application pasting now gets the user's clipboard back, served
            # by voicetype's session (it owns the selection again).
            assert portal.read_clipboard() == PREVIOUS
            assert portal.read_clipboard("text/plain") == PREVIOUS
        members = [c.member for c in portal.calls]
    finally:
        inserter.close()
    print(f"{pasted} of {len(CORPUS) + 1} texts pasted through the Clipboard portal")
    assert pasted >= 20
    assert "SelectionRead" not in members  # the saved clipboard is voicetype's own now
    assert no_wl_clipboard == []


def test_clipboard_is_requested_before_start_also_for_a_restored_session(
    portal: FakePortal, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    for _ in range(2):  # the second session is restored with the stored token
        portal.clear()
        inserter = PortalInserter(portal.env, state)
        inserter.insert("Grüße", None)
        inserter.close()
        members = [c.member for c in portal.calls]
        assert members.index("RequestClipboard") < members.index("Start")
        assert members.index("SelectionRead") < members.index("SetSelection")
    select = next(c for c in portal.calls if c.member == "SelectDevices")
    assert "restore_token" in {k for k in select.body[1]}
    assert portal.pasted == [b"Gr\xc3\xbc\xc3\x9fe"] * 2


def test_a_window_that_never_fetches_gets_nothing_and_the_clipboard_comes_back(
    portal: FakePortal, tmp_path: Path, no_wl_clipboard: list[Any]
) -> None:
    portal.app_fetches = 0
    inserter = PortalInserter(portal.env, tmp_path / "state", fetch_timeout=1.0)
    try:
        with pytest.raises(NothingPasted) as err:
            inserter.insert("Grüße 日本", None)
        assert portal.read_clipboard() == PREVIOUS
    finally:
        inserter.close()
    assert "did not take the pasted text within 1 s" in err.value.message
    assert nothing_typed(err.value)  # the text is kept for Type last dictation
    assert portal.pasted == []
    assert no_wl_clipboard == []


def test_a_late_window_and_one_fetching_twice_get_the_text_not_the_old_clipboard(
    portal: FakePortal, tmp_path: Path
) -> None:
    portal.app_fetch_delay = 1.2
    inserter = PortalInserter(portal.env, tmp_path / "state")
    try:
        inserter.insert("Grüße 日本", None)
        portal.app_fetch_delay = 0.0
        portal.app_fetches = 2
        inserter.insert("€ 👩‍💻", None)
        assert portal.read_clipboard() == PREVIOUS
    finally:
        inserter.close()
    assert portal.pasted == ["Grüße 日本".encode(), "€ 👩‍💻".encode(), "€ 👩‍💻".encode()]


def test_a_clipboard_another_app_takes_meanwhile_is_not_overwritten(
    portal: FakePortal, tmp_path: Path
) -> None:
    inserter = PortalInserter(portal.env, tmp_path / "state")
    try:
        inserter.insert("Grüße", None)
        portal.copy({"image/png": b"\x89PNG..."})  # the user copies an image
        inserter.insert("日本", None)
        assert portal.read_clipboard("image/png") == b"\x89PNG..."
        assert portal.selection_types == ["image/png"]
    finally:
        inserter.close()
    assert portal.pasted == ["Grüße".encode(), "日本".encode()]


def test_without_the_clipboard_interface_the_wl_clipboard_path_stays(
    fake_portal: FakePortal, tmp_path: Path
) -> None:
    inserter = PortalInserter(fake_portal.env, tmp_path / "state")
    try:
        inserter.insert("ok", None)
    finally:
        inserter.close()
    members = [c.member for c in fake_portal.calls]
    assert "RequestClipboard" not in members
    assert inserter._clipboard is None


def test_a_clipboard_left_out_of_the_dialog_means_the_wl_clipboard_path(
    portal: FakePortal, tmp_path: Path, no_wl_clipboard: list[Any]
) -> None:
    portal.clipboard_grant = False
    inserter = PortalInserter(portal.env, tmp_path / "state")  # no Wayland display here
    try:
        with pytest.raises(InsertionError, match="wl-c"):
            inserter.insert("Grüße", None)
    finally:
        inserter.close()
    members = [c.member for c in portal.calls]
    assert "RequestClipboard" in members and "SetSelection" not in members
    assert [argv[0] for argv in no_wl_clipboard][:1] in (["wl-paste"], ["wl-copy"])


def test_the_fake_refuses_a_clipboard_request_after_start(portal: FakePortal) -> None:
    """The published rule the inserter's call order follows."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg

    conn = open_dbus_connection(portal.bus_address)
    try:
        rd = DBusAddress(
            "/org/freedesktop/portal/desktop",
            bus_name="org.freedesktop.portal.Desktop",
            interface="org.freedesktop.portal.RemoteDesktop",
        )
        session = "/org/freedesktop/portal/desktop/session/x/late"
        unwrap_msg(
            conn.send_and_get_reply(
                new_method_call(rd, "Start", "osa{sv}", (session, "", {})), timeout=5
            )
        )
        clip = DBusAddress(
            rd.object_path, bus_name=rd.bus_name, interface="org.freedesktop.portal.Clipboard"
        )
        msg = new_method_call(clip, "RequestClipboard", "oa{sv}", (session, {}))
        with pytest.raises(DBusErrorResponse, match="Invalid state"):
            unwrap_msg(conn.send_and_get_reply(msg, timeout=5))
    finally:
        conn.close()


def test_typing_waits_little_for_the_clipboard_serving_thread(
    portal: FakePortal, tmp_path: Path
) -> None:
    inserter = PortalInserter(portal.env, tmp_path / "state")
    try:
        inserter.insert("Grüße", None)  # the session starts; the serving thread runs
        waits = []
        for _ in range(20):
            time.sleep(0.013)
            began = time.monotonic()
            inserter.press("BackSpace", 1, None)
            waits.append(time.monotonic() - began)
    finally:
        inserter.close()
    median, most = sorted(waits)[10] * 1000, max(waits) * 1000
    print(f"one key while serving: median {median:.1f} ms, max {most:.1f} ms")
    # The thread holds the connection's lock only to serve (it held it 50 ms at a time
    # while waiting: 40.6 ms median per key).
    assert sorted(waits)[10] < 0.025
