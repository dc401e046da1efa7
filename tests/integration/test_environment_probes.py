"""Probes of this machine's packages, moved out of the unit layer (which runs without
PyGObject: tests/harness/unit_layer.py)."""

from __future__ import annotations

from voicetype.tray import choose_tray_backend


def test_real_probe_finds_pygobject_here() -> None:
    # Debian's python3-gi and gir1.2-ayatanaappindicator3-0.1 are installed for the tests
    assert choose_tray_backend({}, platform="linux") == "appindicator"
