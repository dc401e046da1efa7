"""`voicetype shortcut`: the key binding for the running desktop, from the config's hotkey
and mode (press/release commands where a release means something)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicetype.cli import main


def _run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    config: str = "",
) -> str:
    for name in ("XDG_CURRENT_DESKTOP", "SWAYSOCK", "HYPRLAND_INSTANCE_SIGNATURE", "DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "config.toml"
    path.write_text(config, "utf-8")
    path.chmod(0o600)
    assert main(["shortcut", "--config", str(path)]) == 0
    return capsys.readouterr().out


def test_sway_gets_press_and_release_bindings_for_hold_to_talk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run(tmp_path, monkeypatch, capsys, {"WAYLAND_DISPLAY": "w", "SWAYSOCK": "/s"})
    assert out.splitlines() == [
        "# Add to ~/.config/sway/config, then run: swaymsg reload",
        "bindsym --no-repeat Ctrl+Mod1+space exec voicetype start",
        "bindsym --release Ctrl+Mod1+space exec voicetype stop",
    ]


def test_toggle_mode_binds_one_press_to_dictate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = '[dictation]\nmode = "toggle"\n[hotkey]\ndictate = "<super>+<f9>"\n'
    out = _run(tmp_path, monkeypatch, capsys, {"WAYLAND_DISPLAY": "w", "SWAYSOCK": "/s"}, config)
    assert out.splitlines()[1:] == ["bindsym --no-repeat Mod4+F9 exec voicetype dictate"]
