"""A repair for python-xlib 0.33's error table, applied to every connection voicetype opens.

python-xlib registers the errors of the DAMAGE and RANDR extensions at ``first_error + n``
even when the server reports ``first_error`` 0 for them (Xvfb and Xorg do), which puts
``BadDamageError``, ``BadRRCrtcError`` and ``BadRRModeError`` over the core errors 0, 1
(BadRequest) and 2 (BadValue). Those classes cannot parse a core error: a plain BadValue
(e.g. ``GetProperty`` on a property that shrank between python-xlib's two reads, as a
browser's title does) then raises ``AttributeError`` inside python-xlib instead of an
``XError`` that our code catches. Observed in the application tests (Chromium's title).
"""

from __future__ import annotations

from typing import Any


def repair_core_errors(display: Any) -> Any:
    """Put the core error classes (codes 1–17) back into ``display``'s error table (an
    ``Xlib.display.Display``); returns it. Call right after opening, on the opening thread."""
    from Xlib import error

    table = display.display.error_classes
    table.update(error.xerror_class)
    table.pop(0, None)  # no error has code 0: parse it as a plain XError, not DAMAGE's
    return display
