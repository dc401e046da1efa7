"""A dictation never submits a command line: recognized text ending in a line break,
inserted into xterm running bash, must not run (issue 9 item 5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.apps import XTermBash, start_app

from voicetype.insertion.select import select_inserter

pytestmark = [pytest.mark.desktop, pytest.mark.apps]

DICTATED = "echo hi; touch FILE\n"


@pytest.fixture
def bash_xterm(app_env: dict[str, str], x_display: str, tmp_path: Path) -> Iterator[XTermBash]:
    shell = start_app("xterm-bash", x_display, tmp_path / "shell", app_env)
    assert isinstance(shell, XTermBash)
    try:
        yield shell
    finally:
        shell.shutdown()


@pytest.mark.parametrize("method", ["type", "auto"])
def test_dictated_line_break_does_not_run_the_command(
    bash_xterm: XTermBash, x_display: str, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    monkeypatch.setenv("DISPLAY", x_display)
    assert bash_xterm.prompts() == 1  # bash is at its first prompt
    inserter = select_inserter(method)
    try:
        inserter.insert(DICTATED, inserter.focused_target())
    finally:
        inserter.close()

    # bash handles keys in order: once our own marker command has run, any Return the
    # dictation pressed has been handled before it
    marker = bash_xterm.workdir / "MARKER"
    bash_xterm.run_marker(marker)

    assert bash_xterm.alive(), "xterm closed"
    assert not (bash_xterm.workdir / "FILE").exists(), (
        f"the dictated {DICTATED!r} ran as a command (FILE was created)"
    )
    assert bash_xterm.prompts() == 2, "bash ran a command line other than the test's marker"
