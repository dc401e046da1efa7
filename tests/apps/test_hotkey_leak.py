"""The hotkey belongs to voicetype: pressed in a real application while the daemon runs,
it starts a dictation and the application receives no key event for it (issue 9 item 4).

The daemon runs for real (``daemon_factory``); the fake service answers "no speech" so
nothing is typed. After the daemon logged the dictation, the test types one marker key
itself and waits until the application has it: applications handle keys in order, so by
then any key the hotkey leaked has been handled too.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from harness.apps import Emacs, GtkKeys, RealApp, XTerm, start_app
from harness.daemon import RunningDaemon
from harness.fake_speech import Behaviour, FakeSpeechService
from harness.procs import wait_for

pytestmark = [pytest.mark.desktop, pytest.mark.apps]

HOTKEY = "ctrl+alt+space"  # the default [hotkey] dictate


@pytest.fixture
def launch(
    app_env: dict[str, str], x_display: str, tmp_path: Path
) -> Iterator[Callable[[str], RealApp]]:
    started: list[RealApp] = []

    def start(name: str) -> RealApp:
        app = start_app(name, x_display, tmp_path / name, app_env)
        started.append(app)
        return app

    yield start
    for app in started:
        app.shutdown()


def press_hotkey_in(
    app: RealApp,
    daemon: RunningDaemon,
    x_display: str,
) -> None:
    """Focus ``app``, press the hotkey as a keyboard would (XTEST) and wait until the
    daemon has finished the dictation it started (no match: nothing typed)."""
    app.focus()
    subprocess.run(
        ["xdotool", "key", "--clearmodifiers", HOTKEY],
        env={**os.environ, "DISPLAY": x_display},
        check=True,
        timeout=10,
    )
    daemon.wait_for_log("dictation #1 (hotkey): no match", timeout=20)


def type_marker(app: RealApp, key: str = "z") -> None:
    app.focus()
    app.keys(key)


@pytest.fixture
def daemon(
    daemon_factory: Callable[..., RunningDaemon], speech_service: FakeSpeechService
) -> RunningDaemon:
    speech_service.always(replace(Behaviour.status("InitialSilenceTimeout"), trigger="first_audio"))
    return daemon_factory()


def test_hotkey_sends_nothing_to_a_terminal(
    daemon: RunningDaemon, launch: Callable[[str], RealApp], x_display: str
) -> None:
    xterm = launch("xterm")
    assert isinstance(xterm, XTerm)
    press_hotkey_in(xterm, daemon, x_display)
    type_marker(xterm)
    wait_for(lambda: b"z" in xterm.raw(), 10, "the marker key in xterm")
    assert xterm.raw() == b"z", f"xterm received bytes for the hotkey: {xterm.raw()!r}"


def test_hotkey_runs_no_command_in_emacs(
    daemon: RunningDaemon, launch: Callable[[str], RealApp], x_display: str
) -> None:
    emacs = launch("emacs")
    assert isinstance(emacs, Emacs)
    emacs.eval("(clear-this-command-keys)")  # forget the keys of the harness's start checks
    press_hotkey_in(emacs, daemon, x_display)
    type_marker(emacs)
    wait_for(lambda: emacs.read_once() == "z", 10, "the marker key in Emacs")
    keys = emacs.eval("(key-description (recent-keys))")
    assert "C-M-SPC" not in keys, f"Emacs received the hotkey (runs mark-sexp): {keys}"
    assert emacs.eval('(with-current-buffer "document.txt" (mark t))') == "nil", "mark was set"


def test_hotkey_reaches_no_gtk_window(
    daemon: RunningDaemon, launch: Callable[[str], RealApp], x_display: str
) -> None:
    gtk = launch("gtk-keys")
    assert isinstance(gtk, GtkKeys)
    gtk.clear()
    press_hotkey_in(gtk, daemon, x_display)
    type_marker(gtk)
    wait_for(lambda: "press z 0x0" in gtk.events(), 10, "the marker key in the GTK window")
    # the modifiers alone may pass (they do nothing); the hotkey's own key must not
    leaked = [e for e in gtk.events() if e.split()[1] == "space"]
    assert leaked == [], f"the GTK window received the hotkey: {gtk.events()}"
