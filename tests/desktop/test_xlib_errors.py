"""python-xlib's error table on a real X server: a core BadValue must arrive as an
``XError`` that voicetype's code catches, not as python-xlib's own AttributeError."""

from __future__ import annotations

import pytest

from voicetype.xlib_errors import repair_core_errors

pytestmark = pytest.mark.desktop


def _bad_value(repair: bool, x_display: str) -> BaseException:
    from Xlib import Xatom, display

    d = display.Display(x_display)
    if repair:
        repair_core_errors(d)
    try:
        root = d.screen().root
        atom = d.intern_atom("_VOICETYPE_SHORT")
        root.change_property(atom, Xatom.STRING, 8, b"ab")
        d.sync()
        try:
            # GetProperty past the end of a property (what a reader sees when the
            # property shrank between its two requests): the server answers BadValue.
            root.get_property(atom, Xatom.STRING, 100, 1)
        except Exception as exc:  # the point of the test: which exception it is
            return exc
        raise AssertionError("the server accepted an offset past the property's end")
    finally:
        d.close()


def test_core_bad_value_is_an_xerror_after_the_repair(x_display: str) -> None:
    from Xlib import error

    unrepaired = _bad_value(False, x_display)
    assert isinstance(unrepaired, AttributeError), unrepaired  # python-xlib 0.33's bug
    repaired = _bad_value(True, x_display)
    assert isinstance(repaired, error.BadValue), repaired
