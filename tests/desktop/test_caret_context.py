"""Reading the text before the caret through AT-SPI, in real applications on the headless
desktop: a GTK3 text view, gnome-text-editor (GTK4), mousepad (GTK3) and kwrite (Qt5).

Each test runs on a private session bus (which starts at-spi-bus-launcher on first use)
and asserts what ``AtspiCaretReader.read`` reports for the window the user is in: the text
before and after the caret, a password field as such (its text never read), another
application's pid as unknown, and a frozen application costing at most the deadline.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness.a11y import SYSTEM_PYTHON, GtkWindow, activate
from harness.procs import Proc, require, wait_for
from harness.x11 import screenshot

from voicetype.context.atspi import AtspiCaretReader
from voicetype.text import (
    UNKNOWN,
    CaretContext,
    DictationMemory,
    Outcome,
    Phrase,
    TextPipeline,
    TextSettings,
)
from voicetype.text.commands import normalise

pytestmark = pytest.mark.desktop


@pytest.fixture
def reader(a11y_env: dict[str, str]) -> Iterator[AtspiCaretReader]:
    r = AtspiCaretReader(env=a11y_env)
    r.start()
    assert r.wait_ready(10), r.problem
    try:
        yield r
    finally:
        r.close()


def read_until(
    reader: AtspiCaretReader, pid: int, ok: Callable[[CaretContext], bool], timeout: float = 10
) -> CaretContext:
    """The first reading that satisfies ``ok`` (applications update their accessible
    state after the focus moves, asynchronously)."""
    seen: list[CaretContext | None] = []

    def attempt() -> CaretContext | None:
        context = reader.read(pid, timeout=0.1)
        seen.append(context)
        return context if context is not None and ok(context) else None

    try:
        found = wait_for(attempt, timeout, "the expected caret context", interval=0.05)
    except TimeoutError as exc:
        raise AssertionError(f"last readings: {seen[-3:]}") from exc
    assert found is not None
    return found


def test_gtk3_text_before_and_after_the_caret(
    reader: AtspiCaretReader, gtk_window: GtkWindow
) -> None:
    pid = gtk_window.popen.pid
    gtk_window.send(op="text", text="Hello world. I went to the and back", caret=26)
    context = read_until(reader, pid, lambda c: c.before == "Hello world. I went to the")
    assert context == CaretContext(before="Hello world. I went to the", after=" and back")

    gtk_window.send(op="text", text="", caret=0)
    context = read_until(reader, pid, lambda c: c.before == "")
    assert context.at_field_start and context.after == ""


def test_gtk3_selection_is_what_typing_replaces(
    reader: AtspiCaretReader, gtk_window: GtkWindow
) -> None:
    gtk_window.send(op="text", text="Keep this DROP that", caret=10, end=15)
    context = read_until(reader, gtk_window.popen.pid, lambda c: c.before is not None)
    assert (context.before, context.after) == ("Keep this ", "that")


def test_gtk3_password_field_is_reported_and_never_read(
    reader: AtspiCaretReader, gtk_window: GtkWindow
) -> None:
    gtk_window.send(op="text", text="visible text", caret=12)
    read_until(reader, gtk_window.popen.pid, lambda c: c.before == "visible text")
    gtk_window.send(op="password", text="hunter2")
    context = read_until(reader, gtk_window.popen.pid, lambda c: c.is_password)
    assert context == CaretContext(is_password=True)  # no before/after: nothing read


def test_another_applications_pid_is_unknown(
    reader: AtspiCaretReader, gtk_window: GtkWindow
) -> None:
    gtk_window.send(op="text", text="mine", caret=4)
    read_until(reader, gtk_window.popen.pid, lambda c: c.before == "mine")
    # an application not on the accessibility bus (like xterm): its pid finds nothing
    assert reader.read(os.getpid(), timeout=0.1) is None


def test_a_frozen_application_costs_at_most_the_deadline(
    reader: AtspiCaretReader, gtk_window: GtkWindow
) -> None:
    pid = gtk_window.popen.pid
    gtk_window.send(op="text", text="before freeze", caret=13)
    read_until(reader, pid, lambda c: c.before == "before freeze")
    os.kill(pid, signal.SIGSTOP)
    try:
        took = []
        for _ in range(3):
            start = time.monotonic()
            context = reader.read(pid, timeout=0.1)
            took.append(time.monotonic() - start)
            assert context is None
        print(f"frozen application: reads took {[round(t * 1000) for t in took]} ms")
        assert max(took) < 0.15  # deadline 0.1 s plus scheduling on a loaded machine
    finally:
        os.kill(pid, signal.SIGCONT)
    context = read_until(reader, pid, lambda c: c.before == "before freeze")
    assert context.after == ""


def test_first_read_without_a_focus_event_searches_the_application(
    a11y_env: dict[str, str], gtk_window: GtkWindow
) -> None:
    """A reader started after the window took focus has seen no focus event: it finds
    the focused widget through the application's Collection interface."""
    gtk_window.send(op="text", text="already focused", caret=15)
    late = AtspiCaretReader(env=a11y_env)
    late.start()
    assert late.wait_ready(10), late.problem
    try:
        start = time.monotonic()
        context = read_until(late, gtk_window.popen.pid, lambda c: c.before is not None)
        print(f"first read after start: {(time.monotonic() - start) * 1000:.1f} ms")
        assert context.before == "already focused"
    finally:
        late.close()


def test_the_helper_starts_off_the_readers_path(
    a11y_env: dict[str, str], gtk_window: GtkWindow
) -> None:
    """Starting the helper (~0.1–0.2 s here, up to 5 s on a slow accessibility bus)
    delays nobody: ``start`` returns at once, a read meanwhile returns None at once (the
    memory decides), and the first read once it is ready is as quick as any."""
    gtk_window.send(op="text", text="Hello there", caret=11)
    pid = gtk_window.popen.pid
    reader = AtspiCaretReader(env=a11y_env)
    try:
        began = time.monotonic()
        reader.start()
        start_ms = (time.monotonic() - began) * 1000
        at = time.monotonic()
        assert reader.read(pid, timeout=0.1) is None
        early_ms = (time.monotonic() - at) * 1000
        assert reader.wait_ready(10), reader.problem
        ready_ms = (time.monotonic() - began) * 1000
        at = time.monotonic()
        context = read_until(reader, pid, lambda c: c.before is not None)
        first_ms = (time.monotonic() - at) * 1000
        assert context.before == "Hello there"
        assert start_ms < 50 and early_ms < 20, (start_ms, early_ms)
        print(
            f"start returned in {start_ms:.1f} ms, a read while starting {early_ms:.2f} ms, "
            f"helper ready after {ready_ms:.0f} ms, first read {first_ms:.1f} ms"
        )
    finally:
        reader.close()


APPS = {
    "gnome-text-editor": ["gnome-text-editor", "--standalone"],
    "mousepad": ["mousepad"],
    "kwrite": ["kwrite"],
}


@pytest.mark.parametrize("app", list(APPS))
def test_real_editor_reports_the_text_before_the_caret(
    app: str,
    reader: AtspiCaretReader,
    a11y_env: dict[str, str],
    tmp_path: Path,
    artifacts: Path,
) -> None:
    require(APPS[app][0])
    content = f"Hello from {app}. I went to the"
    document = tmp_path / "note.txt"
    document.write_text(content, encoding="utf-8")
    editor = Proc([*APPS[app], str(document)], env=a11y_env, log=tmp_path / f"{app}.log")
    screenshot_on_failure = True
    try:
        activate(a11y_env, editor.pid)
        subprocess.run(["xdotool", "key", "ctrl+End"], env=a11y_env, check=True, timeout=10)
        context = read_until(
            reader, editor.pid, lambda c: (c.before or "").endswith("I went to the"), timeout=20
        )
        assert context.before == content
        assert context.after in ("", "\n")  # editors may keep a final newline after the caret
        assert not context.is_password and not context.is_terminal
        took = []
        for _ in range(10):
            start = time.monotonic()
            assert reader.read(editor.pid, timeout=0.1) == context
            took.append((time.monotonic() - start) * 1000)
        print(f"{app}: read median {statistics.median(took):.1f} ms, max {max(took):.1f} ms")
        screenshot_on_failure = False
    finally:
        if screenshot_on_failure:
            screenshot(a11y_env["DISPLAY"], artifacts / f"caret-context-{app}-failed.png")
        editor.stop()


def test_system_python_has_atspi() -> None:
    """The desktop tests and the daemon need PyGObject with Atspi (python3-gi,
    gir1.2-atspi-2.0): say so plainly when it is missing."""
    assert shutil.which(SYSTEM_PYTHON)
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('Atspi', '2.0')"],
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr


def test_vte_terminal_is_reported_as_a_terminal(
    reader: AtspiCaretReader, a11y_env: dict[str, str], tmp_path: Path
) -> None:
    require("xfce4-terminal")
    shell = "printf 'user@host:~$ ls'; exec cat"
    terminal = Proc(
        ["xfce4-terminal", "--disable-server", "-T", "caret-terminal", "-x", "sh", "-c", shell],
        env=a11y_env,
        log=tmp_path / "terminal.log",
    )
    try:
        activate(a11y_env, terminal.pid)
        context = read_until(
            reader, terminal.pid, lambda c: (c.before or "").endswith("user@host:~$ ls"), 20
        )
        assert context.is_terminal and not context.is_password
    finally:
        terminal.stop()


def test_xterm_is_not_on_the_bus_and_never_reads_another_window(
    reader: AtspiCaretReader, gtk_window: GtkWindow, a11y_env: dict[str, str], tmp_path: Path
) -> None:
    require("xterm")
    gtk_window.send(op="text", text="the GTK window's text", caret=21)
    read_until(reader, gtk_window.popen.pid, lambda c: c.before == "the GTK window's text")
    xterm = Proc(["xterm", "-e", "cat"], env=a11y_env, log=tmp_path / "xterm.log")
    try:
        activate(a11y_env, xterm.pid)
        assert reader.read(xterm.pid, timeout=0.1) is None
    finally:
        xterm.stop()


# ---------------------------------------------------------------- the pieces together


class Dictation:
    """What the controller will do per dictation, with the real reader, pipeline, memory
    and X11 inserter (erasing with xdotool until the inserter has an erase call)."""

    def __init__(self, reader: AtspiCaretReader, env: dict[str, str], pid: int) -> None:
        from voicetype.insertion.x11 import X11Inserter

        self.reader, self.env, self.pid = reader, env, pid
        self.inserter = X11Inserter(env["DISPLAY"])
        self.pipeline = TextPipeline(TextSettings())
        self.memory = DictationMemory()

    def say(self, *displays: str) -> Outcome:
        target = self.inserter.focused_target()
        window = int(
            subprocess.run(
                ["xdotool", "getactivewindow"], env=self.env, capture_output=True, text=True
            ).stdout
        )
        context = self.reader.read(self.pid, timeout=0.1) or UNKNOWN
        now = time.monotonic()
        phrases = [Phrase(d, lexical=normalise(d)) for d in displays]
        outcome = self.pipeline.process(phrases, context, self.memory.previous(), window, now)
        if outcome.backspaces:
            subprocess.run(
                ["xdotool", "key", "--repeat", str(outcome.backspaces), "BackSpace"],
                env=self.env,
                check=True,
                timeout=10,
            )
        if outcome.text:
            self.inserter.insert(outcome.text, target)
        self.memory.commit(window, outcome, now)
        return outcome

    def close(self) -> None:
        self.inserter.close()


@pytest.fixture
def dictation(
    reader: AtspiCaretReader, a11y_env: dict[str, str], gtk_window: GtkWindow
) -> Iterator[Dictation]:
    d = Dictation(reader, a11y_env, gtk_window.popen.pid)
    try:
        yield d
    finally:
        d.close()


def wait_for_content(window: GtkWindow, expected: str) -> None:
    seen: list[str] = []

    def check() -> bool:
        seen.append(window.content())
        return seen[-1] == expected

    try:
        wait_for(check, 10, f"the text view to hold {expected!r}", interval=0.05)
    except TimeoutError as exc:
        raise AssertionError(f"the text view holds {seen[-1]!r}") from exc


def test_two_dictations_in_gtk3_join_as_one_text(
    dictation: Dictation, gtk_window: GtkWindow
) -> None:
    gtk_window.send(op="text", text="", caret=0)
    read_until(dictation.reader, dictation.pid, lambda c: c.before == "")
    dictation.say("Hello world.")
    wait_for_content(gtk_window, "Hello world.")
    dictation.say("How are you?")
    wait_for_content(gtk_window, "Hello world. How are you?")
    # "scratch that" removes exactly the previous dictation
    outcome = dictation.say("Scratch that.")
    assert outcome.notice is None
    wait_for_content(gtk_window, "Hello world.")


def test_a_mid_sentence_continuation_in_gtk3_is_lowercase_without_a_stray_period(
    dictation: Dictation, gtk_window: GtkWindow
) -> None:
    gtk_window.send(op="text", text="I went to the and back.", caret=13)
    read_until(dictation.reader, dictation.pid, lambda c: c.before == "I went to the")
    dictation.say("Store.")
    wait_for_content(gtk_window, "I went to the store and back.")
