"""A window whose application is busy for a while when a keymap change arrives, as a
loaded browser is: it lists ``_NET_WM_PING`` in ``WM_PROTOCOLS`` and answers pings, but
only once it reads its events again; and it interprets keys as Xlib's XKB code does —
a MappingNotify marks its keymap stale, and the next key fetches the server's mapping
*then*. Every character it takes in is appended to the file given as argument.

Run: ``python busy_client.py OUT_FILE BUSY_SECONDS``; prints the window id on stdout
once mapped. Ends when its window is destroyed or the X server goes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from Xlib import XK, X, display
from Xlib.protocol import event


def char_of(keysym: int) -> str:
    if 0x20 <= keysym <= 0xFF:
        return chr(keysym)
    if keysym >= 0x01000100:
        return chr(keysym - 0x01000000)
    if keysym == XK.XK_Return:
        return "\n"
    return ""  # NoSymbol or a key that types nothing: the character is lost


def main() -> None:
    out, busy = Path(sys.argv[1]), float(sys.argv[2])
    d = display.Display()
    root = d.screen().root
    win = root.create_window(
        0, 0, 400, 200, 0, d.screen().root_depth,
        event_mask=X.KeyPressMask | X.StructureNotifyMask | X.FocusChangeMask,
    )  # fmt: skip
    win.set_wm_name("busy client")
    protocols = d.intern_atom("WM_PROTOCOLS")
    ping = d.intern_atom("_NET_WM_PING")
    win.set_wm_protocols([d.intern_atom("WM_DELETE_WINDOW"), ping])
    win.map()
    d.sync()
    print(win.id, flush=True)
    min_kc = d.display.info.min_keycode
    rows = d.get_keyboard_mapping(min_kc, d.display.info.max_keycode - min_kc + 1)
    stale, was_busy = False, False
    while True:
        ev = d.next_event()
        if ev.type == X.MappingNotify:
            if not was_busy and busy:
                was_busy = True
                time.sleep(busy)  # busy: nothing is read meanwhile (pings neither)
            stale = True
        elif ev.type == X.ClientMessage and ev.client_type == protocols:
            if ev.data[1][0] == ping:
                reply = event.ClientMessage(
                    window=root, client_type=protocols, data=(32, list(ev.data[1]))
                )
                root.send_event(
                    reply, event_mask=X.SubstructureNotifyMask | X.SubstructureRedirectMask
                )
                d.flush()
        elif ev.type == X.KeyPress:
            if stale:  # Xlib's XKB code: fetched at the next key, as the server has it now
                rows = d.get_keyboard_mapping(min_kc, d.display.info.max_keycode - min_kc + 1)
                stale = False
            row = rows[ev.detail - min_kc]
            level = 1 if ev.state & X.ShiftMask else 0
            keysym = row[level] if len(row) > level else 0
            if level and not keysym:
                keysym = row[0]
            if keysym in (XK.XK_Shift_L, XK.XK_Shift_R):
                continue
            with out.open("a", encoding="utf-8") as f:
                f.write(char_of(keysym))
        elif ev.type == X.DestroyNotify:
            return


if __name__ == "__main__":
    main()
