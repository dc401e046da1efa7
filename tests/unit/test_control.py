"""The control socket and the one-instance lock, with real sockets and real processes."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.control_load import Load
from harness.procs import wait_for

from voicetype.control import (
    MAX_REQUEST,
    REQUEST_DEADLINE,
    ControlServer,
    ControlUnavailable,
    InstanceLock,
    NotRunning,
    send_command,
)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    calls: list[str] = []

    def handler(command: str, deadline: float, argument: str = "") -> dict[str, Any]:
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


def test_idle_and_trickling_clients_do_not_hold_up_commands(server: Any) -> None:
    """Old server: one connection at a time with 2 s per recv — 8 silent clients held
    every command up for ~16 s and a trickling one for as long as it liked."""
    with Load(server.path, idle=8, trickling=1) as load:
        latencies = []
        for _ in range(10):
            at = time.monotonic()
            assert send_command("status", server.path, timeout=2)["ok"] is True
            latencies.append(time.monotonic() - at)
            time.sleep(0.1)
        print(f"status under load: max {max(latencies) * 1000:.1f} ms")
        assert max(latencies) < 0.5, latencies
        assert send_command("dictate", server.path, timeout=2)["message"] == "did dictate"
        # the server answers the slow ones "too slow" after their deadline: they reconnect
        wait_for(lambda: load.opened > 9, REQUEST_DEADLINE + 2, "the slow clients to be closed")
    assert server.calls.count("status") == 10


def test_a_trickling_client_is_answered_too_slow_within_the_deadline(server: Any) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(server.path))
        at = time.monotonic()
        s.settimeout(0.3)
        data = b""
        for byte in b'{"command": "dictate"}':
            try:
                s.send(bytes([byte]))
                data = s.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            if data:
                break
        took = time.monotonic() - at
    assert json.loads(data)["error"] == f"request incomplete after {REQUEST_DEADLINE:g} s"
    assert took < REQUEST_DEADLINE + 0.5
    assert server.calls == []  # never executed


def test_a_burst_of_a_hundred_clients_all_get_answers(server: Any) -> None:
    """Old server: listen(8) and one client at a time — 12+ pending clients got EAGAIN."""
    socks = []
    try:
        for _ in range(100):  # all connected before any is read
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect(str(server.path))
            s.send(json.dumps({"command": "status", "deadline": time.monotonic() + 5}).encode())
            s.send(b"\n")
            socks.append(s)
        replies = []
        for s in socks:
            s.setblocking(True)
            s.settimeout(5)
            replies.append(json.loads(s.makefile("rb").readline()))
    finally:
        for s in socks:
            s.close()
    assert [r["ok"] for r in replies] == [True] * 100
    assert server.calls == ["status"] * 100


def test_an_expired_request_is_never_executed(server: Any) -> None:
    """A request read after its client's deadline (it waited in the backlog) is refused."""
    reply = raw(
        server.path,
        json.dumps({"command": "dictate", "deadline": time.monotonic() - 0.01}).encode() + b"\n",
    )
    assert reply == {"ok": False, "error": "request expired before voicetype could read it"}
    assert server.calls == []


@pytest.fixture
def blocked_server(tmp_path: Path) -> Iterator[tuple[Any, threading.Event, list[str]]]:
    """A server whose handlers all wait for ``release`` (every worker busy)."""
    release = threading.Event()
    calls: list[str] = []

    def handler(command: str, deadline: float, argument: str = "") -> dict[str, Any]:
        calls.append(command)
        if command == "status":
            release.wait(5)
        return {"message": f"did {command}"}

    srv = ControlServer(handler, tmp_path / "control.sock")
    srv.start()
    yield srv, release, calls
    release.set()
    srv.stop()


def test_a_request_that_waited_past_its_client_timeout_is_dropped(
    blocked_server: tuple[Any, threading.Event, list[str]],
) -> None:
    """Every worker is busy: ``dictate`` waits, its client gives up after 0.3 s and
    reports the failure; when a worker frees up the dictate must not run (old code: it
    ran 9–62 s later and typed into whatever had focus then)."""
    srv, release, calls = blocked_server
    busy = [
        threading.Thread(target=send_command, args=("status", srv.path, 6), daemon=True)
        for _ in range(4)
    ]
    for t in busy:
        t.start()
    deadline = time.monotonic() + 5
    while calls.count("status") < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(ControlUnavailable) as info:
        send_command("dictate", srv.path, timeout=0.3)
    assert "was not carried out" in info.value.message
    release.set()
    for t in busy:
        t.join(5)
    assert send_command("toggle", srv.path)["ok"] is True  # the queue has been worked off
    assert "dictate" not in calls


def test_the_handler_gets_the_client_deadline(tmp_path: Path) -> None:
    seen: list[float] = []

    def handler(command: str, deadline: float, argument: str = "") -> dict[str, Any]:
        seen.append(deadline - time.monotonic())
        return {}

    srv = ControlServer(handler, tmp_path / "control.sock")
    srv.start()
    try:
        send_command("status", srv.path, timeout=0.5)
        send_command("status", srv.path, timeout=30)
    finally:
        srv.stop()
    assert 0.3 < seen[0] < 0.5  # the client's own deadline, less the reply's margin
    assert 0.8 < seen[1] <= 1.0  # never more than the server's own bound
