"""What X11 typing (``x11.X11Inserter``) and pasting (``clipboard.ClipboardInserter``)
share as ``template.Port``s: the ``X11Session`` (made here unless one is given; the
subclass closes one it made), its keyboard and focus helpers, and the port steps that only
delegate to them.

Threading: like the session, one thread at a time.
"""

from __future__ import annotations

from voicetype.insertion import Target
from voicetype.insertion.apps import shape_text
from voicetype.insertion.x11_focus import X11Focus
from voicetype.insertion.x11_keys import X11Keyboard
from voicetype.insertion.x11_session import X11Session, X11Target


class X11Port:
    """The shared half of an X11 ``template.Port``; see the module docstring."""

    def __init__(
        self,
        session: X11Session | None,
        display_name: str | None,
        modifier_timeout: float,
        focus_timeout: float,
    ) -> None:
        self._own_session = session is None
        self.session = session if session is not None else X11Session(display_name)
        self.keyboard = X11Keyboard(self.session)
        self.focus = X11Focus(self.session)
        self.modifier_timeout = modifier_timeout
        self.focus_timeout = focus_timeout

    def focused_target(self) -> X11Target | None:
        """The focused top-level client window (``X11Focus.focused_client``)."""
        window = self.focus.focused_client()
        return X11Target(window) if window else None

    def wait_modifiers_released(self) -> None:
        self.keyboard.wait_modifiers_released(self.modifier_timeout)

    def ensure_focus(self, target: Target | None) -> int:
        return self.focus.target_window(target, self.focus_timeout)

    def shape(self, text: str, window: int) -> str:
        return shape_text(text, self.session.window_profile(window))

    def focus_is_in(self, window: int) -> bool:
        return self.focus.focus_is_in(window)
