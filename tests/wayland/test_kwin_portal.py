"""Typing through the real RemoteDesktop portal of a headless KDE (KWin 5.27 +
xdg-desktop-portal-kde) into a GTK3 Wayland window: ASCII typed, other text pasted
exactly, the user's clipboard back afterwards, line breaks as spaces (the portal does
not say whether the window is a terminal)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from harness.corpus import CORPUS
from harness.wl_desktop import SETPRIV, KWin

from voicetype.errors import BackendUnavailable
from voicetype.insertion.portal import PortalInserter
from voicetype.insertion.wayland_select import select_wayland_inserter
from voicetype.insertion.wayland_vk import for_window

pytestmark = pytest.mark.desktop

TESTS_DIR = Path(__file__).resolve().parent.parent
PYTHON = str(Path(__file__).resolve().parent.parent.parent / ".venv" / "bin" / "python")


def as_session_user(kwin: KWin, argv: list[str], data: str | None = None) -> str:
    env = {**kwin.client_env, "PYTHONPATH": str(TESTS_DIR)}
    if argv[0] == "wl-copy":  # it forks a server that would hold a captured pipe open
        subprocess.run([*SETPRIV, *argv], input=data, text=True, env=env, timeout=10,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)  # fmt: skip
        return ""
    out = subprocess.run(
        [*SETPRIV, *argv],
        input=data,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_kwin_portal_types_and_pastes_exactly(kwin: KWin, artifacts: Path) -> None:
    window = kwin.gtk_window()
    try:
        as_session_user(kwin, ["wl-copy"], data="SENTINEL")
        texts = [
            "Hello, World! ~`!@#$%^&*()_+-=[]{}|;:'\",.<>/?",
            " Grüße 5 € 日本語 👩‍💻 🇫🇷",
            " a\nb",
        ]
        state = kwin.workdir / "state"
        answer = as_session_user(
            kwin, [PYTHON, "-m", "harness.portal_client", str(state)], json.dumps(texts)
        )
        ready, result_line = answer.splitlines()  # no consent dialog on KWin: straight on
        assert ready == "ready"
        results = json.loads(result_line)
        assert all(isinstance(r, list) for r in results), results
        assert [r[0] for r in results] == ["typed", "pasted", "typed"], results
        window.wait_for_text("".join(texts).replace("\n", " "))
        assert as_session_user(kwin, ["wl-paste", "-n"]) == "SENTINEL"
        line = "KWin 5.27 RemoteDesktop portal: " + ", ".join(
            f"{m} {len(t)} chars in {s:.2f} s" for t, (m, s, _) in zip(texts, results, strict=True)
        )
        print(line)
        (artifacts / "wayland_kwin_portal.txt").write_text(line + "\n")
    finally:
        window.close()


def test_selector_on_kde_picks_the_portal_and_kwin_has_no_virtual_keyboard(
    kwin: KWin, user_env: dict[str, str]
) -> None:
    env = {**user_env, **kwin.env}
    inserter = select_wayland_inserter(env)
    try:
        assert isinstance(inserter, PortalInserter) and inserter.version >= 1
    finally:
        inserter.close()
    with pytest.raises(BackendUnavailable) as err:
        select_wayland_inserter({**env, "VOICETYPE_WAYLAND_BACKEND": "vk"})
    assert "no virtual keyboard" in err.value.message


def test_kwin_portal_whole_corpus_exact(kwin: KWin, artifacts: Path) -> None:
    """Every corpus text, each its own insert: ASCII typed, the rest pasted, all exact
    (line breaks as spaces: the portal does not say whether the window is a terminal)."""
    window = kwin.gtk_window()
    try:
        as_session_user(kwin, ["wl-copy"], data="SENTINEL")
        texts = [t for t in CORPUS if t.strip()]
        answer = as_session_user(
            kwin,
            [PYTHON, "-m", "harness.portal_client", str(kwin.workdir / "state")],
            json.dumps(texts),
        )
        results = json.loads(answer.splitlines()[-1])
        assert all(isinstance(r, list) for r in results), results[-1]
        expected = "".join(for_window(t, terminal=True) for t in texts)
        window.wait_for_text(expected, timeout=30)
        assert as_session_user(kwin, ["wl-paste", "-n"]) == "SENTINEL"
        pasted = [r for r in results if r[0] == "pasted"]
        typed = [r for r in results if r[0] == "typed"]
        line = (
            f"KWin 5.27 portal, corpus: {len(texts)} texts exact, {len(typed)} typed"
            f" ({sum(r[1] for r in typed):.2f} s), {len(pasted)} pasted"
            f" ({sum(r[1] for r in pasted):.2f} s)"
        )
        print(line)
        (artifacts / "wayland_kwin_corpus.txt").write_text(line + "\n")
    finally:
        window.close()


def test_kwin_portal_presses_backspace_for_scratch_that(kwin: KWin) -> None:
    """BackSpace through the real portal ("scratch that" takes back what was typed); a
    Return is refused there (the portal does not say whether the window is a terminal)."""
    window = kwin.gtk_window()
    try:
        items: list[object] = [
            "Grüße world",
            {"press": "BackSpace", "count": 6},
            {"press": "Return", "count": 1},
        ]
        answer = as_session_user(
            kwin,
            [PYTHON, "-m", "harness.portal_client", str(kwin.workdir / "state")],
            json.dumps(items),
        )
        results = json.loads(answer.splitlines()[-1])
        assert [r[0] if isinstance(r, list) else r for r in results] == [
            "pasted",
            "pressed",
            {"error": "a line break is pressed only where voicetype knows the window is not a"
             " terminal, and the desktop portal does not say which window has focus;"
             " nothing typed"},
        ]  # fmt: skip
        window.wait_for_text("Grüße")
    finally:
        window.close()
