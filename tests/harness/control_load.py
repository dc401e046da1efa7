"""Clients that keep the daemon's control socket busy, for the control-socket tests."""

from __future__ import annotations

import socket
import threading
from pathlib import Path


class Load:
    """Clients that hold the server's attention: ``idle`` connections that never send and
    ``trickling`` ones that send a byte every 0.3 s; each is reopened when the server
    closes it, until ``stop``."""

    def __init__(self, path: Path, idle: int, trickling: int) -> None:
        self.path = path
        self.stopping = threading.Event()
        self.opened = 0
        self.threads = [
            threading.Thread(target=self._hold, args=(trickle,), daemon=True)
            for trickle in [False] * idle + [True] * trickling
        ]
        self.ready = threading.Barrier(len(self.threads) + 1)

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        self.ready.wait(5)  # all connected: queued ahead of whatever the test sends next
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(5)

    def _hold(self, trickle: bool) -> None:
        first = True
        while not self.stopping.is_set():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(str(self.path))
                self.opened += 1
                if first:
                    self.ready.wait(5)
                    first = False
                s.settimeout(0.3)
                payload = b'{"command": "status"'
                sent = 0
                while not self.stopping.is_set():
                    try:
                        if s.recv(4096) == b"":
                            break  # closed by the server
                        break  # answered ("too slow"): reconnect
                    except TimeoutError:
                        pass
                    if trickle:
                        try:
                            s.send(payload[sent % len(payload) :][:1])
                        except OSError:
                            break
                        sent += 1
