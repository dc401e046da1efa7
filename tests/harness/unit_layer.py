"""The unit layer (tests/unit) is pure logic: while a unit test module is imported and while
each unit test runs, the Speech SDK (``azure``) and PyGObject (``gi``) cannot be imported and the
desktop's variables are unset. A unit test that needs any of them fails here: it is an
environment probe and belongs in tests/integration or tests/desktop.

Modules already imported by other layers in the same run are hidden for the duration: the
SDK's and PyGObject's own, and voicetype modules holding one of them (the SDK glue).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import sys
from collections.abc import Iterator, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

import pytest

UNIT_DIR = Path(__file__).resolve().parent.parent / "unit"
BLOCKED = ("azure", "gi")
DESKTOP_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")


class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(
                f"{fullname} is not importable in the unit layer (tests/harness/unit_layer.py)",
                name=fullname,
            )
        return None


def _blocked(module: ModuleType) -> bool:
    return getattr(module, "__name__", "").partition(".")[0] in BLOCKED


def _holds_blocked(name: str, module: ModuleType | None) -> bool:
    if module is None:
        return False
    if _blocked(module):
        return True
    return name.startswith("voicetype.") and any(
        isinstance(v, ModuleType) and _blocked(v) for v in vars(module).values()
    )


@contextlib.contextmanager
def unit_layer() -> Iterator[None]:
    """No SDK, no PyGObject, no desktop variables for the duration (restored after)."""
    hidden = {n: m for n, m in list(sys.modules.items()) if _holds_blocked(n, m)}
    for name in hidden:
        del sys.modules[name]
    refuse = _Refuse()
    sys.meta_path.insert(0, refuse)
    saved = {v: os.environ.pop(v) for v in DESKTOP_VARIABLES if v in os.environ}
    try:
        yield
    finally:
        sys.meta_path.remove(refuse)
        for name in [n for n in sys.modules if n.partition(".")[0] in BLOCKED]:
            del sys.modules[name]  # half-imported leftovers of a refused import
        sys.modules.update(hidden)
        for variable in DESKTOP_VARIABLES:
            os.environ.pop(variable, None)
        os.environ.update(saved)


def in_unit_layer(path: Path) -> bool:
    return path.resolve().is_relative_to(UNIT_DIR)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """Importing a unit test module (its top-level imports) happens in the unit layer too."""
    if not isinstance(collector, pytest.Module) or not in_unit_layer(collector.path):
        yield
        return
    with unit_layer():
        yield


@pytest.fixture(autouse=True)
def _unit_layer(request: pytest.FixtureRequest) -> Iterator[None]:
    if not in_unit_layer(request.path):
        yield
        return
    with unit_layer():
        yield
