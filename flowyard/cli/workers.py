"""``flowyard serve --workers N`` on Linux: N uvicorn servers, each with a listening socket
of its own on the same port (``SO_REUSEPORT``), so the kernel spreads new connections evenly.

uvicorn's own ``--workers`` share one socket: the worker that wakes first accepts every
connection waiting, and a client that opens its connections at once (a load balancer's pool,
wrk) gave one worker 6,318 of 6,463 requests while the other idled. Here a supervisor starts
the workers, restarts one that dies, and on SIGTERM or SIGINT asks each to finish what it
serves (uvicorn's graceful shutdown, which hands the runtime's executions back) before it
exits. A worker killed outright loses the connections still waiting in its own queue (their
clients see a reset); Twilio and the SDKs retry those.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from typing import Any

log = logging.getLogger("flowyard.workers")

APP = "flowyard.api.app:app_from_env"
STARTUP_FAILURE = 3  # uvicorn's exit code for a worker that could not start
GRACE = 30.0  # seconds a worker has to finish after SIGTERM
PR_SET_PDEATHSIG = 1  # prctl(2)


def applies() -> bool:
    """Whether the kernel balances ``SO_REUSEPORT`` sockets (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def serve(host: str, port: int, workers: int, uvicorn_options: dict[str, Any]) -> int:
    """Run ``workers`` servers until SIGTERM or SIGINT; the exit status."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited loop
    stopping = threading.Event()
    failed = False

    def start() -> Any:
        process = context.Process(
            target=_worker, args=(os.getpid(), host, port, uvicorn_options), name="flowyard-worker"
        )
        process.start()
        return process

    def stop(_signum: int, _frame: Any) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    processes = [start() for _ in range(workers)]
    try:
        while not stopping.wait(0.5):
            for index, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    log.error("worker %s could not start; stopping", process.pid)
                    failed = True
                    stopping.set()
                    break
                code = process.exitcode
                log.warning("worker %s exited (%s); starting another", process.pid, code)
                processes[index] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for process in processes:
            process.join(GRACE)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if failed else 0


def bound_socket(host: str, port: int, *, share_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port`` as uvicorn binds one (``SO_REUSEADDR``), and with
    ``SO_REUSEPORT`` for a worker's (``share_port``). Raises ``socket.gaierror`` for a host
    that does not resolve, ``OSError`` for an address in use."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if share_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def _worker(parent: int, host: str, port: int, uvicorn_options: dict[str, Any]) -> None:
    import uvicorn

    _die_with(parent)

    try:
        sock = bound_socket(host, port, share_port=True)
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    sock.listen(2048)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, **uvicorn_options)
    uvicorn.Server(config).run(sockets=[sock])


def _die_with(parent: int) -> None:
    """Have the kernel send this worker SIGTERM when the supervisor dies, even killed
    outright: a worker left behind would go on serving and sweeping for nobody."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above took effect
        sys.exit(0)
