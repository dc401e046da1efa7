"""How long a pasted text is served: one rule for every paste path (X11 CLIPBOARD,
wl-clipboard, the Clipboard portal). Pure.

Until a window fetched the text, up to the caller's deadline (then nothing was pasted).
Once one did, serving goes on until no fetch came for ``QUIET`` seconds — some
applications fetch twice (Chromium ~0.1 s apart, xfce4-terminal ~11 ms) — at most
``LINGER`` seconds after the first, and then the previous clipboard is put back.
"""

from __future__ import annotations

#: The window counts as done with the clipboard after this long without a fetch from it.
QUIET = 0.3
#: ...but the text is served at most this long after the first fetch.
LINGER = 3.0


def time_left(now: float, deadline: float, first: float | None, last: float) -> float:
    """Seconds left to serve: until ``deadline`` while nothing was fetched (``first`` is
    None); else until ``QUIET`` after the ``last`` fetch, at most ``LINGER`` after the
    ``first``. Zero or less: stop."""
    if first is None:
        return deadline - now
    return min(last + QUIET, first + LINGER) - now
