"""Answer xdg-desktop-portal-gnome's remote-desktop dialog through AT-SPI: switch on
"Allow remote interaction", then press "Share". Run with Debian's /usr/bin/python3
(python3-gi, gir1.2-atspi-2.0) as the session user, on the session whose accessibility
bus ``at-spi-bus-launcher`` provides. Exit status 0 when both actions were done, 1 when
the dialog did not appear within the timeout (argv[1], seconds).

Deterministic where keys are not: the dialog's initial focus varies, and a space that
lands on Cancel declines.
"""

import sys
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402


def walk(node, depth=0):
    if node is None or depth > 30:
        return
    yield node
    for i in range(node.get_child_count()):
        yield from walk(node.get_child_at_index(i), depth + 1)


def find_dialog_controls():
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is None or "portal" not in (app.get_name() or "").lower():
            continue
        switch = share = None
        for node in walk(app):
            role = (node.get_role_name() or "").lower()
            words = (node.get_name() or "").replace("_", "").split()
            if switch is None and role in ("switch", "toggle button", "check box"):
                switch = node
            if share is None and role in ("push button", "button") and "Share" in words:
                share = node
        if switch is not None and share is not None:
            return switch, share
    return None


def main() -> int:
    deadline = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < deadline:
        found = find_dialog_controls()
        if found is not None:
            switch, share = found
            switch.do_action(0)
            end = time.monotonic() + 5
            while time.monotonic() < end:
                if share.get_state_set().contains(Atspi.StateType.SENSITIVE):
                    share.do_action(0)
                    return 0
                time.sleep(0.05)
            return 1
        time.sleep(0.2)
    return 1


sys.exit(main())
