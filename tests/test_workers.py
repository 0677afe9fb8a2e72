"""``flowyard serve --workers 2`` on Linux: a listening socket per worker, so connections
spread across the workers; a worker that dies is replaced; SIGTERM stops them all."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, start_server

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SO_REUSEPORT balancing is Linux's"
)


def _workers(parent: int) -> list[int]:
    """The server processes ``parent`` supervises (not multiprocessing's helpers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"resource_tracker" not in command:
            found.append(int(entry.name))
    return sorted(found)


def _sockets(pid: int, port: int, state: str) -> list[str]:
    """The inodes of the TCP sockets on local ``port`` in ``state`` (01: established, 0A:
    listening) that process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == state and fields[9] in inodes:
            found.append(fields[9])
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for whoever reaps it has stopped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[Server, subprocess.Popen[bytes]]]:
    srv, proc = start_server(f"sqlite:///{tmp_path / 'w.db'}", "sqlite", workers=2)
    try:
        # The server answers once one worker does: wait for the other.
        _until(lambda: srv.output().count("Application startup complete") == 2)
        yield srv, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_connections_spread_across_the_workers(two_workers) -> None:  # type: ignore[no-untyped-def]
    server, proc = two_workers
    port = int(server.base_url.rsplit(":", 1)[1])
    opened = []
    try:
        for _ in range(32):  # at once, as a load balancer's pool or wrk opens them
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            opened.append(sock)
        for sock in opened:
            select.select([], [sock], [], 10)
            sock.setblocking(True)
        for sock in opened:  # each answered, so each was accepted
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: flowyard\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        workers = _workers(proc.pid)
        held = [len(_sockets(pid, port, "01")) for pid in workers]
        listening = [set(_sockets(pid, port, "0A")) for pid in workers]
    finally:
        for sock in opened:
            sock.close()
    assert len(workers) == 2 and sum(held) == 32
    # A listening socket each (uvicorn's workers share one, and whichever wakes first
    # accepts every connection waiting).
    assert all(listening) and not listening[0] & listening[1]
    # The kernel hashes each connection to a socket: 16 each on average, and fewer than 4
    # on one side about once in a million. One shared socket gave one worker nearly all.
    assert min(held) >= 4, held


def test_a_dead_worker_is_replaced_and_sigterm_stops_them_all(two_workers) -> None:  # type: ignore[no-untyped-def]
    server, proc = two_workers
    first = _workers(proc.pid)
    assert len(first) == 2
    os.kill(first[0], signal.SIGKILL)
    _until(lambda: len(now := _workers(proc.pid)) == 2 and first[0] not in now)
    _until(lambda: server.output().count("Application startup complete") == 3)
    with httpx.Client(base_url=server.base_url) as client:  # a new connection each
        for _ in range(20):
            assert client.get("/healthz", headers={"Connection": "close"}).status_code == 200
    replaced = _workers(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert not any(_alive(pid) for pid in replaced)


def test_workers_stop_when_the_supervisor_is_killed(two_workers) -> None:  # type: ignore[no-untyped-def]
    _server, proc = two_workers
    workers = _workers(proc.pid)
    assert len(workers) == 2
    proc.kill()
    proc.wait()
    _until(lambda: not any(_alive(pid) for pid in workers), timeout=60)
