"""The focused window from AT-SPI on a real headless KDE (KWin 5.27 + its RemoteDesktop
portal, the session's own accessibility bus; the first case on GNOME 43 too): voicetype's
text stage, wired as the daemon wires it, presses Return for "new line" in a GTK3 text
view, takes the pause period and "scratch that" back there; in a window AT-SPI does not
know (like foot or kitty, which have no accessibility) a line break becomes a space and
"scratch that" is refused; a VTE terminal (role "terminal") never gets Return. On sway
the container sway names keys the memory instead (joining; erasing needs the text read)."""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.procs import wait_for
from harness.sway import Sway, TextTarget
from harness.wl_desktop import KWIN, PORTAL_KDE, SETPRIV, Desktop, DesktopText, KWin, Mutter

from voicetype.context import NoCaretReader
from voicetype.context.keywatch import NoKeyWatch
from voicetype.dictation import Inserted
from voicetype.insertion.sway_ipc import SwayIpc
from voicetype.insertion.wayland_vk import VirtualKeyboardInserter
from voicetype.text import DictationMemory, History, Phrase, TextSettings
from voicetype.typing_stage import TextStage

pytestmark = pytest.mark.desktop

TESTS_DIR = Path(__file__).resolve().parent.parent
PYTHON = str(TESTS_DIR.parent / ".venv" / "bin" / "python")


@pytest.fixture(scope="module")
def kwin_a11y() -> Iterator[KWin]:
    if not Path(KWIN).exists() or not Path(PORTAL_KDE).exists():
        pytest.fail("kwin-wayland / xdg-desktop-portal-kde missing; run scripts/test.sh")
    root = Path(tempfile.mkdtemp(prefix="voicetype-kwin-a11y-"))
    session = KWin(root)
    try:
        session.start_a11y()
        yield session
    finally:
        session.stop()
        shutil.rmtree(root, ignore_errors=True)


class Dictator:
    """``harness.wl_text_client`` as the session's user: one dictation at a time, each
    followed by a wait for the window to show its result (a user pauses between them; the
    portal's keys arrive asynchronously)."""

    def __init__(self, kwin: Desktop, consent: Callable[[], None] | None = None) -> None:
        """``consent``: answers the desktop's permission dialog (GNOME) meanwhile."""
        env = {**kwin.client_env, "PYTHONPATH": str(TESTS_DIR)}
        self.proc = subprocess.Popen(
            [*SETPRIV, PYTHON, "-m", "harness.wl_text_client", str(kwin.workdir / "state")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.results: list[dict[str, Any]] = []
        if consent is not None:
            consent()
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        assert ready, "the text client did not answer in 30 s"
        line = self.proc.stdout.readline().strip()
        assert line, self.proc.stderr.read()[-2000:] if self.proc.stderr else "no output"
        return line

    def say(self, window: DesktopText, expected: str | None, *displays: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps([phrase(d) for d in displays]) + "\n")
        self.proc.stdin.flush()
        result: dict[str, Any] = json.loads(self._line())
        self.results.append(result)
        assert result.get("error") is None, result
        if expected is not None:
            window.wait_for_text(expected)
        return result

    def focused_app(self) -> str | None:
        assert self.proc.stdin is not None
        self.proc.stdin.write('"focus"\n')
        self.proc.stdin.flush()
        app: str | None = json.loads(self._line())["app"]
        return app

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def phrase(display: str) -> list[str]:
    return [display, display.lower().rstrip(".?!").replace(",", "")]


def test_new_line_pause_period_and_scratch_that_in_a_gtk3_text_view(
    kwin_a11y: KWin, artifacts: Path
) -> None:
    window = kwin_a11y.gtk_window(accessible=True)
    client = Dictator(kwin_a11y)
    try:
        first = client.say(window, "Hello world.", "Hello world.")
        assert (first["app"], first["role"]) == ("gtk_textview.py", "text")
        client.say(window, "Hello world.\n", "New line.")  # Return pressed
        client.say(window, "Hello world.\nHow are you?", "How are you?")
        scratch = client.say(window, "Hello world.\n", "Scratch that.")
        assert (scratch["erased"], scratch["notice"]) == (12, None)
        client.say(window, "Hello world.\nI went to the.", "I went to the.")
        later = client.say(window, "Hello world.\nI went to the store.", "Store.")
        assert later["erased"] == 1  # the pause period, taken back
        assert [r["notice"] for r in client.results] == [None] * 6
        report(artifacts, "GTK3 text view", client.results)
    finally:
        client.close()
        window.close()


def test_unknown_window_gets_a_space_for_new_line_and_refuses_scratch_that(
    kwin_a11y: KWin, artifacts: Path
) -> None:
    known = kwin_a11y.gtk_window(accessible=True)  # AT-SPI saw its focus first …
    unknown = kwin_a11y.gtk_window(accessible=False)  # … then this one took it
    client = Dictator(kwin_a11y)
    try:
        said = client.say(unknown, "Hello there. Next.", "Hello there.", "New line.", "Next.")
        assert said["app"] is None
        scratch = client.say(unknown, "Hello there. Next.", "Scratch that.")
        assert scratch["erased"] == 0
        assert scratch["notice"] == "Nothing was deleted: there is no dictation to take back"
        assert known.content() == ""
        report(artifacts, "window without AT-SPI", client.results)
    finally:
        client.close()
        unknown.close()
        known.close()


def test_new_line_in_a_vte_terminal_is_a_space_never_return(
    kwin_a11y: KWin, artifacts: Path
) -> None:
    """xfce4-terminal (VTE: AT-SPI role "terminal") running ``cat``: a Return would show
    as a line break in the file; a space is typed instead, also for a final "new line"."""
    path = kwin_a11y.workdir / "terminal.txt"
    env = {k: v for k, v in kwin_a11y.client_env.items() if k != "NO_AT_BRIDGE"}
    proc = kwin_a11y._start(
        [*SETPRIV, "xfce4-terminal", "--disable-server", "-x", "sh", "-c",
         f"stty -icanon -echo; exec cat >> {path}"],
        env,
        "xfce4-terminal",
    )  # fmt: skip
    terminal = DesktopText(proc, path)
    wait_for(path.exists, 20, "xfce4-terminal's cat")
    client = Dictator(kwin_a11y)
    try:
        wait_for(lambda: client.focused_app() == "xfce4-terminal", 20, "the terminal's focus")
        # (the capital at the start depends on whether VTE's text was read in time)
        said = client.say(terminal, None, "echo one", "New line.", "two")
        assert (said["app"], said["role"]) == ("xfce4-terminal", "terminal")
        wait_for(lambda: terminal.content().lower() == "echo one two", 10, "the text")
        ended = client.say(terminal, None, "New line.")  # at the end: a space at most
        assert ended["typed"] in ("", " "), ended
        client.say(terminal, None, "Done.")
        wait_for(lambda: terminal.content().lower().endswith("done."), 10, "the last text")
        assert "\n" not in terminal.content()
        assert [r["notice"] for r in client.results] == [None, None, None]
        report(artifacts, "xfce4-terminal (VTE)", client.results)
    finally:
        client.close()
        terminal.close()


def test_gnome_new_line_and_scratch_that_in_a_gtk3_text_view(
    mutter: Mutter, artifacts: Path
) -> None:
    """The same on GNOME 43 (mutter + xdg-desktop-portal-gnome, consent answered)."""
    client = Dictator(mutter, consent=mutter.consent)
    window = mutter.gtk_window(accessible=True)
    try:
        wait_for(lambda: client.focused_app() == "gtk_textview.py", 20, "the window's focus")
        client.say(window, "Hello world.", "Hello world.")
        client.say(window, "Hello world.\n", "New line.")  # Return pressed
        client.say(window, "Hello world.\nHow are you?", "How are you?")
        scratch = client.say(window, "Hello world.\n", "Scratch that.")
        assert (scratch["erased"], scratch["notice"]) == (12, None)
        report(artifacts, "GNOME 43, GTK3 text view", client.results, "mutter 43")
    finally:
        client.close()
        window.close()


def test_sway_joins_by_container_and_never_erases_unread_text(
    sway: Sway, sway_gtk: TextTarget, sway_foot: TextTarget
) -> None:
    """sway names the window (its container): the memory is keyed by it, so a dictation
    joins the last one in the same window; with no key watcher on Wayland and the text
    not read (no AT-SPI here), "scratch that" erases nothing; a final "new line" in foot
    (a terminal sway names) is a space."""
    inserter = VirtualKeyboardInserter(sway.env)
    stage = TextStage(TextSettings(), NoCaretReader(), DictationMemory(), History(5), NoKeyWatch())
    clock = iter(range(100, 200))

    def say(*displays: str) -> Inserted:
        target = inserter.focused_target()
        phrases = [Phrase(d, phrase(d)[1]) for d in displays]
        return stage.deliver(inserter, phrases, target, lambda: float(next(clock)))

    try:
        sway.ipc(f"[con_id={sway_gtk.con_id}] focus")
        wait_for(lambda: _focused(sway) == sway_gtk.con_id, 5, "the GTK3 window's focus")
        say("Hello world.")
        say("How are you?")
        sway_gtk.wait_for_text("Hello world. How are you?")
        refused = say("Scratch that.")
        assert refused.erased == 0 and refused.notice is not None
        assert sway_gtk.content() == "Hello world. How are you?"
        sway.ipc(f"[con_id={sway_foot.con_id}] focus")
        wait_for(lambda: _focused(sway) == sway_foot.con_id, 5, "foot's focus")
        say("Elsewhere.")
        ended = say("New line.")  # foot, named by sway: a space, never Return
        assert ended.error is None and ended.typed == " "
        sway_foot.wait_for_text("Elsewhere. ")
    finally:
        inserter.close()


def _focused(sway: Sway) -> int | None:
    ipc = SwayIpc.find(sway.env)
    window = ipc.focused() if ipc is not None else None
    return int(window.id) if window is not None else None


def report(
    artifacts: Path, where: str, results: list[dict[str, Any]], desktop: str = "KWin 5.27"
) -> None:
    focus = [r["focus_ms"] for r in results]
    line = (
        f"{desktop} + AT-SPI, {where}: focus query {min(focus):.1f}-{max(focus):.1f} ms"
        f" (median {sorted(focus)[len(focus) // 2]:.1f}), dictations "
        + ", ".join(f"{r['ms']:.0f}" for r in results)
        + " ms"
    )
    print(line)
    with (artifacts / "wayland_atspi_focus.txt").open("a") as f:
        f.write(line + "\n")
