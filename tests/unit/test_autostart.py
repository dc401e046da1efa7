"""Autostart per platform: XDG files for real; the Windows registry and macOS plist with fakes."""

from __future__ import annotations

import os
import plistlib
import stat
import sys
from pathlib import Path

import pytest

from voicetype.autostart import launch_command
from voicetype.autostart.macos import MacAutostart
from voicetype.autostart.windows import RUN_KEY, VALUE_NAME, WindowsAutostart
from voicetype.autostart.xdg import XdgAutostart, exec_line, parse_exec, read_entry
from voicetype.errors import VoicetypeError

AWKWARD = [
    "/opt/my apps/voice type/bin/voicetype",
    'C:\\odd "quoted" dir\\x',
    "/home/a$b/`tick`/100%/back\\slash",
    "plain",
    "with=equals",
    "",
]


@pytest.mark.parametrize("arg", AWKWARD)
def test_exec_quoting_round_trips(arg: str) -> None:
    argv = [arg, "--config", "/tmp/c d.toml"]
    assert parse_exec(exec_line(argv)) == argv


def test_exec_quoting_matches_the_spec_examples() -> None:
    assert exec_line(["/usr/bin/voicetype"]) == "/usr/bin/voicetype"
    assert exec_line(["/a b/voicetype"]) == '"/a b/voicetype"'
    assert exec_line(["/a\\b"]) == '"/a\\\\\\\\b"'  # four backslashes in the file
    assert exec_line(["50%"]) == "50%%"
    assert exec_line(['say "hi"']) == '"say \\\\"hi\\\\""'


def test_enable_writes_a_valid_entry_and_disable_removes_it(tmp_path: Path) -> None:
    command = ["/opt/voice type/bin/voicetype"]
    auto = XdgAutostart(command, {"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert auto.path == tmp_path / "cfg" / "autostart" / "voicetype.desktop"
    assert auto.state() == "disabled"
    auto.set_enabled(True)
    assert auto.is_enabled()
    entry = read_entry(auto.path)
    assert entry["Type"] == "Application"
    assert parse_exec(entry["Exec"]) == command
    auto.set_enabled(False)
    assert not auto.path.exists()
    assert auto.state() == "disabled"
    auto.set_enabled(False)  # idempotent


def test_home_default_when_xdg_config_home_unset(tmp_path: Path) -> None:
    auto = XdgAutostart(["voicetype"], {"HOME": str(tmp_path)})
    assert auto.path == tmp_path / ".config" / "autostart" / "voicetype.desktop"


@pytest.mark.parametrize("line", ["Hidden=true", "X-GNOME-Autostart-enabled=false"])
def test_user_disabled_entry_is_noticed(tmp_path: Path, line: str) -> None:
    auto = XdgAutostart(["voicetype"], {"XDG_CONFIG_HOME": str(tmp_path)})
    auto.set_enabled(True)
    text = auto.path.read_text().replace("X-GNOME-Autostart-enabled=true\n", "")
    auto.path.write_text(text + line + "\n")
    assert auto.state() == "disabled-by-user"
    assert not auto.is_enabled()
    auto.set_enabled(True)  # re-enabling rewrites our entry
    assert auto.state() == "enabled"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "cfg"
    if os.geteuid() == 0:  # root ignores permissions: block with a file instead
        blocker.write_text("a file where the directory should be")
    else:
        blocker.mkdir()
        blocker.chmod(stat.S_IRUSR | stat.S_IXUSR)
    auto = XdgAutostart(["voicetype"], {"XDG_CONFIG_HOME": str(blocker)})
    with pytest.raises(VoicetypeError) as info:
        auto.set_enabled(True)
    assert str(auto.path) in info.value.message
    assert "writable" in info.value.fix


def test_launch_command_uses_the_installed_entry_point() -> None:
    command = launch_command()
    script = Path(sys.executable).parent / "voicetype"
    if script.is_file():
        assert command == [str(script)]
    else:
        assert command == [sys.executable, "-m", "voicetype"]


class FakeRunKey:
    def __init__(self, fail: bool = False) -> None:
        self.values: dict[str, str] = {}
        self.fail = fail

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        if self.fail:
            raise PermissionError("Access is denied")
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


def test_windows_run_value_points_at_the_gui_entry_point() -> None:
    key = FakeRunKey()
    auto = WindowsAutostart([r"C:\Program Files\Py\Scripts\voicetype-gui.exe"], key)
    assert not auto.is_enabled()
    assert (auto.state(), auto.location) == ("disabled", f"HKCU\\{RUN_KEY}")
    auto.set_enabled(True)
    assert auto.state() == "enabled"
    assert key.values == {VALUE_NAME: r'"C:\Program Files\Py\Scripts\voicetype-gui.exe"'}
    assert auto.is_enabled()
    auto.set_enabled(False)
    assert key.values == {}
    assert not auto.is_enabled()


def test_windows_failure_names_the_key() -> None:
    auto = WindowsAutostart(["voicetype-gui.exe"], FakeRunKey(fail=True))
    with pytest.raises(VoicetypeError) as info:
        auto.set_enabled(True)
    assert RUN_KEY in info.value.message


def test_macos_launch_agent_plist(tmp_path: Path) -> None:
    auto = MacAutostart(["/Users/a b/venv/bin/voicetype"], home=tmp_path)
    assert not auto.is_enabled()
    assert auto.state() == "disabled"
    auto.set_enabled(True)
    assert (auto.state(), auto.location) == ("enabled", str(auto.path))
    assert auto.path.parent == tmp_path / "Library" / "LaunchAgents"
    with auto.path.open("rb") as f:
        data = plistlib.load(f)
    assert data["ProgramArguments"] == ["/Users/a b/venv/bin/voicetype"]
    assert data["RunAtLoad"] is True
    assert data["Label"] == auto.path.stem
    assert auto.is_enabled()
    auto.set_enabled(False)
    assert not auto.path.exists()
