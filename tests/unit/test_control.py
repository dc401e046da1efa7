"""The control socket and the one-instance lock, with real sockets and real processes."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from voicetype.control import (
    MAX_REQUEST,
    ControlServer,
    InstanceLock,
    NotRunning,
    send_command,
)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    calls: list[str] = []

    def handler(command: str) -> dict[str, Any]:
        calls.append(command)
        return {"message": f"did {command}"}

    srv = ControlServer(handler, tmp_path / "control.sock")
    srv.start()
    srv.calls = calls  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def raw(path: Path, payload: bytes) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    reply: dict[str, Any] = json.loads(data)
    return reply


def test_commands_reach_the_handler(server: Any) -> None:
    for command in ("dictate", "status", "toggle", "quit"):
        assert send_command(command, server.path) == {"ok": True, "message": f"did {command}"}
    assert server.calls == ["dictate", "status", "toggle", "quit"]


def test_socket_is_user_only(server: Any) -> None:
    assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o600


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"not json\n", "malformed request"),
        (b'{"cmd": "dictate"}\n', "malformed request"),
        (b'["dictate"]\n', "malformed request"),
        (b'{"command": "rm -rf /"}\n', "unknown command"),
        (b'{"command": "type", "text": "ctrl+alt+t"}\n', "unknown command"),
        (b'{"command": ["dictate"]}\n', "unknown command"),
        (b'{"command": "' + b"x" * (MAX_REQUEST + 10) + b'"}\n', "request too large"),
    ],
)
def test_bad_requests_are_refused_and_never_executed(
    server: Any, payload: bytes, error: str
) -> None:
    reply = raw(server.path, payload)
    assert reply["ok"] is False
    assert error in reply["error"]
    assert server.calls == []
    assert send_command("status", server.path)["ok"] is True  # still serving


def test_no_daemon_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotRunning) as info:
        send_command("status", tmp_path / "absent.sock")
    assert "not running" in info.value.message


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_other_users_cannot_connect(server: Any) -> None:
    code = (
        "import os, socket, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n    s.connect(sys.argv[1])\nexcept PermissionError:\n    print('refused')\n"
        "else:\n    print('connected')\n"
    )
    os.chmod(server.path.parent, 0o755)  # let the other user reach the directory
    out = subprocess.run(
        [sys.executable, "-c", code, str(server.path)], capture_output=True, text=True, timeout=20
    )
    assert out.stdout.strip() == "refused", out.stderr
    assert server.calls == []


def test_one_instance_lock_and_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "instance.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from voicetype.control import InstanceLock\n"
            f"assert InstanceLock(__import__('pathlib').Path({str(path)!r})).acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert InstanceLock(path).acquire() is False
        holder.kill()  # SIGKILL: no cleanup runs
        holder.wait(10)
        lock = InstanceLock(path)
        assert lock.acquire() is True
        lock.release()
    finally:
        holder.kill()
        holder.wait(10)


def test_concurrent_lockers_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "instance.lock"
    results: list[bool] = []
    locks = [InstanceLock(path) for _ in range(8)]
    barrier = threading.Barrier(8)

    def take(lock: InstanceLock) -> None:
        barrier.wait(5)
        results.append(lock.acquire())

    threads = [threading.Thread(target=take, args=(lock,)) for lock in locks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(results) == [False] * 7 + [True]
    for lock in locks:
        lock.release()
