"""The AT-SPI helper process: the only user of libatspi (which is not thread-safe and can
block for its whole D-Bus timeout on a frozen application).

Run as ``python -m voicetype.context.atspi_worker CHARS CALL_TIMEOUT_MS ENABLE``. Protocol on
stdin/stdout, one JSON object per line: it first writes ``{"ready": true}`` (or
``{"error": "…"}`` and exits 3 when PyGObject or Atspi is missing); then for every request
``{"id": N, "pid": PID or null}`` it writes one answer ``{"id": N, "found": bool,
"password": bool, "terminal": bool, "before": str or null, "after": str or null}``.
"before"/"after" hold at most CHARS characters each; a password field's text is never
read. It exits when stdin closes. It never writes the text anywhere else.

A request ``{"id": N, "focus": true}`` asks which accessible has the keyboard focus now,
in any application (Wayland: the compositor does not say): the answer is ``{"id": N,
"found": bool, "app": name, "pid": int, "role": role name, "terminal": bool (role
TERMINAL), "window": "bus name + object path of its toplevel"}``; found only when that
toplevel is ACTIVE (a focus event of an application that lost the focus to one without
AT-SPI — foot, kitty — does not count). No text is read for it.

The focused object comes from ``object:state-changed:focused`` events (cheap: ~2 ms per
read), else from a search of the application with that process id: its Collection
interface (GTK3), else a walk of what it shows, bounded by ``WALK_NODES`` and
``WALK_SECONDS`` (GTK4 and Qt, which have no Collection; the result is kept for the next
read). ``pid`` None means: only the object the last focus event named.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

WALK_NODES = 5000
WALK_SECONDS = 0.3


class Worker:
    def __init__(self, atspi: Any, glib: Any, chars: int) -> None:
        self.atspi, self.glib, self.chars = atspi, glib, chars
        self.focused: Any = None
        self.skip_roles = {
            atspi.Role.MENU_BAR,
            atspi.Role.MENU,
            atspi.Role.MENU_ITEM,
            atspi.Role.TOOL_BAR,
            atspi.Role.SCROLL_BAR,
            atspi.Role.STATUS_BAR,
        }

    def on_focus(self, event: Any) -> None:
        if event.detail1:
            self.focused = event.source

    def answer(self, pid: int | None) -> dict[str, Any]:
        try:
            target = self._current(pid)
            if target is None and pid is not None:
                target = self._search(pid)
                if target is not None:
                    self.focused = target  # until the next focus event
            if target is None:
                return {"found": False}
            return self._read(target)
        except self.glib.Error as exc:  # a frozen or vanished application
            return {"found": False, "problem": str(exc.message)[:100]}

    def focus(self) -> dict[str, Any]:
        """The focused accessible of the active window, whatever its application (see the
        module doc): the last focus event's source while it is still focused, else the
        focused object of the application that has an ACTIVE toplevel."""
        try:
            target = self._current(None)
            top = self._toplevel(target) if target is not None else None
            if top is None or not self._active(top):
                target = self._search_active()
                top = self._toplevel(target) if target is not None else None
                if top is None or not self._active(top):  # focused in another window
                    return {"found": False}
                self.focused = target
            app = target.get_application()
            return {
                "found": True,
                "app": str(app.get_name() or "") if app is not None else "",
                "pid": int(target.get_process_id()),
                "role": str(target.get_role_name() or ""),
                "terminal": target.get_role() == self.atspi.Role.TERMINAL,
                "window": f"{_bus_name(top)}{getattr(top, 'path', '') or ''}",
            }
        except self.glib.Error as exc:  # a frozen or vanished application
            return {"found": False, "problem": str(exc.message)[:100]}

    def _active(self, node: Any) -> bool:
        return bool(node.get_state_set().contains(self.atspi.StateType.ACTIVE))

    def _toplevel(self, node: Any) -> Any:
        """The window ``node`` is in: its ancestor whose parent is the application."""
        for _ in range(100):
            parent = node.get_parent()
            if parent is None:
                return None
            if parent.get_role() == self.atspi.Role.APPLICATION:
                return node
            node = parent
        return None

    def _search_active(self) -> Any:
        """The focused object of the application with an ACTIVE toplevel (None: none)."""
        desktop = self.atspi.get_desktop(0)
        deadline = time.monotonic() + WALK_SECONDS
        for index in range(min(desktop.get_child_count(), 200)):
            app = desktop.get_child_at_index(index)
            if app is None:
                continue
            for w in range(min(app.get_child_count(), 50)):
                window = app.get_child_at_index(w)
                if window is None or not self._active(window):
                    continue
                found = self._focused_in(app, deadline)
                if found is not None:
                    return found
            if time.monotonic() > deadline:
                break
        return None

    def _current(self, pid: int | None) -> Any:
        candidate = self.focused
        if candidate is None:
            return None
        if pid is not None and candidate.get_process_id() != pid:
            return None
        if not candidate.get_state_set().contains(self.atspi.StateType.FOCUSED):
            return None
        return candidate

    def _search(self, pid: int) -> Any:
        desktop = self.atspi.get_desktop(0)
        deadline = time.monotonic() + WALK_SECONDS
        for index in range(desktop.get_child_count()):
            app = desktop.get_child_at_index(index)
            if app is None or app.get_process_id() != pid:
                continue
            found = self._focused_in(app, deadline)
            if found is not None:
                return found
        return None

    def _focused_in(self, app: Any, deadline: float) -> Any:
        """The focused object in ``app``: the collection's match, else a walk (None: none)."""
        found = self._collection_search(app)
        return found if found is not None else self._walk(app, deadline)

    @staticmethod
    def _has_text(node: Any) -> bool:
        return "Text" in (node.get_interfaces() or [])

    def _best(self, candidates: list[tuple[int, Any]]) -> Any:
        """The focused object to type into: one with text, else the deepest (Qt marks
        containers focused too)."""
        if not candidates:
            return None
        return max(candidates, key=lambda c: (self._has_text(c[1]), c[0]))[1]

    def _collection_search(self, app: Any) -> Any:
        a = self.atspi
        none = a.CollectionMatchType.NONE
        rule = a.MatchRule.new(
            a.StateSet.new([a.StateType.FOCUSED]),
            a.CollectionMatchType.ALL,
            {},
            none,
            [],
            none,
            [],
            none,
            False,
        )
        try:
            matches = a.Collection.get_matches(app, rule, a.CollectionSortOrder.CANONICAL, 10, True)
        except self.glib.Error:  # the application has no Collection interface
            return None
        return self._best(list(enumerate(matches or [])))

    def _walk(self, app: Any, deadline: float) -> Any:
        """Depth-first through the active window (closed menus, tool bars and scroll bars
        skipped)."""
        a = self.atspi
        windows = [app.get_child_at_index(i) for i in range(min(app.get_child_count(), 50))]
        windows = [w for w in windows if w is not None]
        active = [w for w in windows if w.get_state_set().contains(a.StateType.ACTIVE)]
        stack: list[tuple[Any, int]] = [(w, 1) for w in reversed(active or windows)]
        candidates: list[tuple[int, Any]] = []
        seen = 0
        while stack and seen < WALK_NODES and time.monotonic() < deadline:
            node, depth = stack.pop()
            seen += 1
            if node.get_role() in self.skip_roles:
                continue
            states = node.get_state_set()
            if states.contains(a.StateType.FOCUSED):
                candidates.append((depth, node))
            # GTK4 sets VISIBLE but never SHOWING
            if not (states.contains(a.StateType.SHOWING) or states.contains(a.StateType.VISIBLE)):
                continue
            for child_index in range(min(node.get_child_count(), 500) - 1, -1, -1):
                child = node.get_child_at_index(child_index)
                if child is not None:
                    stack.append((child, depth + 1))
        return self._best(candidates)

    def _read(self, node: Any) -> dict[str, Any]:
        a = self.atspi
        role = node.get_role()
        if role == a.Role.PASSWORD_TEXT:
            return {"found": True, "password": True}
        answer: dict[str, Any] = {
            "found": True,
            "password": False,
            "terminal": role == a.Role.TERMINAL,
            "before": None,
            "after": None,
        }
        if not self._has_text(node):
            return answer
        caret = a.Text.get_caret_offset(node)
        if caret < 0:
            return answer
        start = end = caret
        if a.Text.get_n_selections(node) > 0:  # typing replaces the selection
            selected = a.Text.get_selection(node, 0)
            start = min(selected.start_offset, selected.end_offset)
            end = max(selected.start_offset, selected.end_offset)
        total = a.Text.get_character_count(node)
        answer["before"] = a.Text.get_text(node, max(0, start - self.chars), start)
        answer["after"] = a.Text.get_text(node, end, min(total, end + self.chars))
        return answer


def main(argv: list[str]) -> int:
    chars, call_ms, enable = int(argv[0]), int(argv[1]), argv[2] == "1"
    try:
        import gi

        gi.require_version("Atspi", "2.0")
        from gi.repository import Atspi, Gio, GLib
    except (ImportError, ValueError) as exc:
        _write({"error": f"{type(exc).__name__}: {exc}"})
        return 3
    if enable:
        _enable_accessibility(Gio, GLib)
    if Atspi.init() > 1:  # 0: done, 1: already; anything else failed
        _write({"error": "libatspi could not connect to the accessibility bus"})
        return 3
    Atspi.set_timeout(call_ms, call_ms * 4)
    worker = Worker(Atspi, GLib, chars)
    listener = Atspi.EventListener.new(worker.on_focus)
    listener.register("object:state-changed:focused")
    loop = GLib.MainLoop()

    def on_stdin(_channel: Any, _condition: Any) -> bool:
        line = sys.stdin.buffer.readline()
        if not line:
            loop.quit()
            return False
        try:
            request = json.loads(line)
            pid = request.get("pid")
            if request.get("focus"):
                answer = worker.focus()
            else:
                answer = worker.answer(pid if isinstance(pid, int) else None)
            answer["id"] = request.get("id")
        except (ValueError, AttributeError) as exc:
            answer = {"id": None, "found": False, "problem": type(exc).__name__}
        _write(answer)
        return True

    GLib.io_add_watch(
        GLib.IOChannel.unix_new(sys.stdin.fileno()),
        GLib.PRIORITY_DEFAULT,
        GLib.IOCondition.IN | GLib.IOCondition.HUP,
        on_stdin,
    )
    _write({"ready": True})
    loop.run()
    listener.deregister("object:state-changed:focused")
    return 0


def _bus_name(node: Any) -> str:
    app = getattr(node, "app", None)
    return str(getattr(app, "bus_name", "") or "")


def _write(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _enable_accessibility(gio: Any, glib: Any) -> None:
    """Ask applications to expose their widgets (Firefox waits for this), as screen
    readers do: org.a11y.Status IsEnabled = true on the session's a11y bus object."""
    try:
        bus = gio.bus_get_sync(gio.BusType.SESSION, None)
        bus.call_sync(
            "org.a11y.Bus",
            "/org/a11y/bus",
            "org.freedesktop.DBus.Properties",
            "Set",
            glib.Variant("(ssv)", ("org.a11y.Status", "IsEnabled", glib.Variant("b", True))),
            None,
            gio.DBusCallFlags.NONE,
            500,
            None,
        )
    except glib.Error:
        pass  # no a11y bus service: Atspi.init says so


if __name__ == "__main__":
    os.environ.pop("NO_AT_BRIDGE", None)
    sys.exit(main(sys.argv[1:]))
