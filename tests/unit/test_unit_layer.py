"""The unit layer runs with no Speech SDK, no PyGObject and no desktop
(tests/harness/unit_layer.py): a unit test needing one of them fails instead of passing
only on a fully equipped machine."""

from __future__ import annotations

import importlib
import os

import pytest


@pytest.mark.parametrize(
    "module",
    ["azure.cognitiveservices.speech", "gi", "voicetype.recognition.azure"],
)
def test_the_sdk_and_pygobject_cannot_be_imported(module: str) -> None:
    with pytest.raises(ModuleNotFoundError, match="not importable in the unit layer"):
        importlib.import_module(module)


def test_there_is_no_desktop() -> None:
    for variable in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        assert variable not in os.environ


def test_the_pure_recognition_modules_import() -> None:
    for module in ("azure_results", "messages", "microphone"):
        importlib.import_module(f"voicetype.recognition.{module}")
