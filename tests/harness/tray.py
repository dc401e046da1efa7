"""A tray host on the test display (``trayer``) and helpers to see and click tray icons.

Fixtures:
- ``tray_host`` (session): a running ``TrayHost`` on ``x_display``. A test that stops it
  (``tray_host.stop()``) must start it again (``tray_host.start()``, in a ``finally``).

``TrayHost`` API (all waits bounded):
- ``start()``, ``stop()``, ``restart()``, ``running``.
- ``icons()`` -> list of ``DockedIcon`` (trayer's sockets larger than 1×1, left to right:
  ``window``, ``x``, ``y``, ``width``, ``height`` in root coordinates, ``name`` = the
  _NET_WM_NAME (else WM_NAME) of the embedded window, i.e. the icon's title on voicetype's
  GTK/AppIndicator trays and its own X icon, ``voicetype.tray.xembed``);
  ``wait_for_icon(title_prefix="voicetype", timeout)``; ``wait_for_title(text, timeout)``.
- ``click_icon(icon, button=1)``: xdotool moves the pointer to its centre and clicks.
- ``find_menu()`` / ``wait_for_menu(rows, timeout)`` -> ``Menu``: the mapped popup-menu
  window (GTK sets ``_NET_WM_WINDOW_TYPE_POPUP_MENU``), its geometry and the rows found
  in its pixels (text bands and separator lines, top to bottom), matched to ``rows``
  (default ``voicetype.tray.MENU_ROWS``).
- ``click_menu_item(menu, label)``: clicks the centre of that row;
  ``wait_for_menu_closed(timeout)``.
- ``open_submenu(menu, label, rows, timeout)`` -> ``Menu``: clicks the row that opens a
  submenu and returns that submenu (another popup-menu window), matched to ``rows``.
- ``screenshot(path)``, ``crop_tray(shot, out, scale)``: whole screen / the tray corner.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image
from Xlib import X, Xatom, display, error

from harness.procs import Proc, require, wait_for
from harness.x11 import screenshot as _screenshot

T = TypeVar("T")


def _wait_showing(
    find: Callable[[], T | None], timeout: float, what: str, seen: Callable[[], str]
) -> T:
    """``wait_for`` polling every 20 ms, whose timeout also says what was there (``seen``)."""
    try:
        found = wait_for(find, timeout, what, 0.02)
    except TimeoutError as e:
        raise TimeoutError(f"{e}{seen()}") from None
    assert found is not None
    return found


TRAY_HEIGHT = 24


@dataclass(frozen=True)
class DockedIcon:
    window: int  # trayer's socket window holding the icon
    x: int
    y: int
    width: int
    height: int
    name: str  # WM_NAME of the embedded (plug) window, "" if none

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


@dataclass(frozen=True)
class MenuRow:
    label: str  # from the expected rows; "-" for a separator
    top: int  # root coordinates
    bottom: int


@dataclass(frozen=True)
class Menu:
    window: int
    x: int
    y: int
    width: int
    height: int
    rows: tuple[MenuRow, ...]

    def row(self, label: str) -> MenuRow:
        for r in self.rows:
            if r.label == label:
                return r
        raise KeyError(f"no menu row {label!r}; rows: {[r.label for r in self.rows]}")


def _menu_bands(image: Image.Image) -> list[tuple[int, int, bool]]:
    """Horizontal bands of a menu image that differ from its background: (top, bottom,
    is_separator), bottom exclusive. A separator is a thin band spanning most of the width;
    text (with check boxes) forms taller bands. The 3 px frame is ignored."""
    grey = image.convert("L")
    w, h = grey.size
    data = grey.tobytes()
    margin = 3
    histogram = grey.crop((margin, margin, w - margin, h - margin)).histogram()
    background = max(range(256), key=lambda v: histogram[v])
    marked: list[int] = []
    for y in range(margin, h - margin):
        marked.append(
            sum(1 for x in range(margin, w - margin) if abs(data[y * w + x] - background) > 12)
        )
    bands: list[tuple[int, int, bool]] = []
    y = 0
    inner_width = w - 2 * margin
    while y < len(marked):
        if marked[y] == 0:
            y += 1
            continue
        start = y
        while y < len(marked) and marked[y] > 0:
            y += 1
        height = y - start
        widest = max(marked[start:y])
        is_separator = height <= 3 and widest > inner_width * 0.5
        bands.append((start + margin, y + margin, is_separator))
    return bands


class TrayHost:
    def __init__(self, display_name: str, logs: Path) -> None:
        self.display_name = display_name
        self.env = {**os.environ, "DISPLAY": display_name}
        self.logs = logs
        self._proc: Proc | None = None
        self._starts = 0
        self._x = display.Display(display_name)

    # -- trayer -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.alive()

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        self._starts += 1
        self._proc = Proc(
            [
                "trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                "--height", str(TRAY_HEIGHT),
            ],
            env=self.env,
            log=self.logs / f"trayer-{self._starts}.log",
        )  # fmt: skip
        wait_for(lambda: self._panel() is not None, timeout, "trayer's panel window", 0.02)
        # trayer owns _NET_SYSTEM_TRAY_S0 once its panel exists; wait for that too
        wait_for(self._owns_selection, timeout, "trayer to own the tray selection", 0.02)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()
            self._proc = None
            wait_for(lambda: not self._owns_selection(), 5, "the tray selection to be free")

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._x.close()

    def _owns_selection(self) -> bool:
        atom = self._x.intern_atom(f"_NET_SYSTEM_TRAY_S{self._x.get_default_screen()}")
        return self._x.get_selection_owner(atom) != X.NONE

    # -- windows ------------------------------------------------------------------------

    def _walk(self, window: Any) -> Iterator[Any]:
        try:
            children = window.query_tree().children
        except error.XError:
            return
        for child in children:
            yield child
            yield from self._walk(child)

    def _panel(self) -> Any | None:
        for w in self._walk(self._x.screen().root):
            try:
                if w.get_wm_name() == "panel" and (w.get_wm_class() or ("",))[-1] == "trayer":
                    return w
            except error.XError:
                continue
        return None

    def _abs_geometry(self, window: Any) -> tuple[int, int, int, int]:
        geom = window.get_geometry()
        root = self._x.screen().root
        pos = root.translate_coords(window, 0, 0)
        return pos.x, pos.y, geom.width, geom.height

    def icons(self) -> list[DockedIcon]:
        panel = self._panel()
        if panel is None:
            return []
        found = []
        try:
            children = panel.query_tree().children
        except error.XError:
            return []
        for socket in children:
            try:
                attrs = socket.get_attributes()
                x, y, w, h = self._abs_geometry(socket)
                if w <= 1 or h <= 1 or attrs.map_state != X.IsViewable:
                    continue
                name = ""
                for plug in socket.query_tree().children:
                    name = self._name(plug) or name
                found.append(DockedIcon(socket.id, x, y, w, h, name))
            except error.XError:
                continue
        return sorted(found, key=lambda i: i.x)

    def _name(self, window: Any) -> str:
        utf8 = self._x.intern_atom("UTF8_STRING")
        prop = window.get_full_property(self._x.intern_atom("_NET_WM_NAME"), utf8)
        if prop is not None and prop.value:
            value = prop.value
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        prop = window.get_full_property(Xatom.WM_NAME, X.AnyPropertyType)
        if prop is None or not prop.value:
            return ""
        value = prop.value
        return value.decode("latin-1") if isinstance(value, bytes) else str(value)

    def wait_for_icon(self, title_prefix: str = "voicetype", timeout: float = 10.0) -> DockedIcon:
        def find() -> DockedIcon | None:
            return next((i for i in self.icons() if i.name.startswith(title_prefix)), None)

        icon = wait_for(find, timeout, f"a docked tray icon titled {title_prefix!r}…", 0.02)
        assert icon is not None
        return icon

    def wait_for_title(self, title: str, timeout: float = 5.0) -> DockedIcon:
        def find() -> DockedIcon | None:
            return next((i for i in self.icons() if i.name == title), None)

        return _wait_showing(
            find,
            timeout,
            f"a docked icon titled {title!r}",
            lambda: f"; docked: {[i.name for i in self.icons()]}",
        )

    # -- pointer ------------------------------------------------------------------------

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=True, timeout=10)

    def click_icon(self, icon: DockedIcon, button: int = 1) -> None:
        x, y = icon.centre
        self.xdotool("mousemove", str(x), str(y), "click", str(button))

    def park_pointer(self) -> None:
        """Move the pointer away from the tray (no hover highlight or tooltip)."""
        self.xdotool("mousemove", "640", "500")

    # -- menus --------------------------------------------------------------------------

    def _menu_windows(self) -> list[Any]:
        """The mapped popup-menu windows, bottom to top (a submenu above its menu)."""
        popup = self._x.intern_atom("_NET_WM_WINDOW_TYPE_POPUP_MENU")
        wtype = self._x.intern_atom("_NET_WM_WINDOW_TYPE")
        found = []
        for w in self._x.screen().root.query_tree().children:
            try:
                if w.get_attributes().map_state != X.IsViewable:
                    continue
                prop = w.get_full_property(wtype, Xatom.ATOM)
                if prop is not None and popup in prop.value:
                    found.append(w)
            except error.XError:
                continue
        return found

    def _menu_window(self) -> Any | None:
        windows = self._menu_windows()
        return windows[0] if windows else None

    def find_menu(self, rows: Sequence[str] | None = None, exclude: int = 0) -> Menu | None:
        """The open menu (not window ``exclude``) with its rows matched to ``rows``, or None
        while there is none or it is not fully drawn (fewer bands than rows)."""
        if rows is None:
            from voicetype.tray import MENU_ROWS

            rows = MENU_ROWS
        for window in self._menu_windows():
            if window.id != exclude:
                menu = self._match_menu(window, rows)
                if menu is not None:
                    return menu
        return None

    def _match_menu(self, window: Any, rows: Sequence[str]) -> Menu | None:
        try:
            x, y, w, h = self._abs_geometry(window)
            screen = self._x.screen()
            w = min(w, screen.width_in_pixels - x)  # a wide menu may run off the screen
            raw = window.get_image(0, 0, w, h, X.ZPixmap, 0xFFFFFFFF)
        except error.XError:
            return None
        image = Image.frombytes("RGB", (w, h), raw.data, "raw", "BGRX")
        bands = _menu_bands(image)
        kinds = [label == "-" for label in rows]
        if [b[2] for b in bands] != kinds:
            return None
        matched = tuple(
            MenuRow(label, y + top, y + bottom)
            for label, (top, bottom, _) in zip(rows, bands, strict=True)
        )
        return Menu(window.id, x, y, w, h, matched)

    def wait_for_menu(self, rows: Sequence[str] | None = None, timeout: float = 5.0) -> Menu:
        return _wait_showing(
            lambda: self.find_menu(rows),
            timeout,
            "the tray menu",
            lambda: f" (popup window mapped: {self._menu_window() is not None})",
        )

    def open_submenu(
        self, menu: Menu, label: str, rows: Sequence[str], timeout: float = 5.0
    ) -> Menu:
        """Click ``menu``'s row ``label`` (GTK opens its submenu on a click) and return the
        submenu, matched to ``rows``."""
        self.click_menu_item(menu, label)

        def submenu() -> Menu | None:
            return self.find_menu(rows, exclude=menu.window)

        return _wait_showing(
            submenu,
            timeout,
            f"the {label!r} submenu",
            lambda: f" (popup windows: {len(self._menu_windows())})",
        )

    def wait_for_menu_closed(self, timeout: float = 5.0) -> None:
        wait_for(lambda: self._menu_window() is None, timeout, "the tray menu to close", 0.02)

    def click_menu_item(self, menu: Menu, label: str) -> None:
        row = menu.row(label)
        x = menu.x + menu.width // 2
        y = (row.top + row.bottom) // 2
        self.xdotool("mousemove", str(x), str(y))
        self.xdotool("click", "1")

    # -- pictures -----------------------------------------------------------------------

    def screenshot(self, path: Path) -> Path:
        return _screenshot(self.display_name, path)

    def crop_tray(
        self, shot: Path, out: Path, width: int = 320, height: int = 240, scale: int = 3
    ) -> Path:
        """The top-right corner of ``shot`` (tray and menu), enlarged for looking at."""
        with Image.open(shot) as image:
            left = image.width - width
            crop = image.crop((left, 0, image.width, height))
            crop.resize((width * scale, height * scale), Image.Resampling.NEAREST).save(out)
        return out


@pytest.fixture(scope="session")
def tray_host(x_display: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrayHost]:
    require("trayer", "xdotool")
    host = TrayHost(x_display, Path(tmp_path_factory.mktemp("trayer")))
    host.start()
    try:
        yield host
    finally:
        host.close()
