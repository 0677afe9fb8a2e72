"""Shared fixtures: a real Flowyard server process per storage backend, and SDK clients.

Every test that takes ``server`` runs once on SQLite and once on PostgreSQL. Set
FLOWYARD_TEST_BACKENDS=sqlite to run on SQLite alone (CI runs both), and
FLOWYARD_TEST_POSTGRES_URL to use another PostgreSQL server than 127.0.0.1:5432.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from twilio.rest import Client

from flowyard.store import accounts, create_db_engine

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = (
    Path(__file__).resolve().parent / "data"
)  # the files of ../shared whose license allows a copy
BACKENDS = os.environ.get("FLOWYARD_TEST_BACKENDS", "sqlite,postgresql").split(",")
POSTGRES_ADMIN_URL = os.environ.get(
    "FLOWYARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

# The SDK rewrites hosts when these are set (127.0.0.1 would become 127.us1.0.1).
os.environ.pop("TWILIO_REGION", None)
os.environ.pop("TWILIO_EDGE", None)


def shared_path(*parts: str) -> Path:
    """A file (or folder) from tests/data, else from ../shared, else a one-line skip.

    tests/data holds the files whose license allows a copy (tests/data/README.md); the rest
    (no license found, AGPL) are read from ../shared only."""
    for root in (DATA, SHARED):
        path = root.joinpath(*parts)
        if path.exists():
            return path
    pytest.skip(f"{'/'.join(parts)} is in neither tests/data nor {SHARED} (not copied: license)")


def corpus_flows() -> dict[str, Path]:
    """Every real flow by file name: tests/data/flows first, ../shared/flows for the rest."""
    found: dict[str, Path] = {}
    for root in (DATA, SHARED):
        for path in sorted((root / "flows").glob("*.json")):
            found.setdefault(path.name, path)
    return dict(sorted(found.items()))


# Set by tests/test_fresh_clone.py for the suite it runs in a fresh clone.
FRESH_CLONE_INNER = "FLOWYARD_FRESH_CLONE_INNER"
NOT_IN_FRESH_CLONE = ("tests/test_fresh_clone.py", "tests/test_package.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Inside the fresh-clone run, leave out the tests that would clone again or build the wheel
    again (deselected, not skipped: they are the outer run's)."""
    if not os.environ.get(FRESH_CLONE_INNER):
        return
    dropped = [item for item in items if item.nodeid.startswith(NOT_IN_FRESH_CLONE)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running ``flowyard serve`` and the account it was started with."""

    base_url: str
    database_url: str
    account_sid: str
    auth_token: str
    backend: str
    log_path: Path | None = None  # the server's output (stdout and stderr)

    def output(self) -> str:
        """Everything the server wrote so far."""
        assert self.log_path is not None
        return self.log_path.read_text(errors="replace")

    def client(
        self,
        username: str | None = None,
        password: str | None = None,
        account_sid: str | None = None,
    ) -> Client:
        client = Client(username or self.account_sid, password or self.auth_token, account_sid)
        client.studio.base_url = self.base_url
        client.api.base_url = self.base_url
        client.monitor.base_url = self.base_url
        client.conversations.base_url = self.base_url
        client.events.base_url = self.base_url
        return client

    def new_account(self, name: str = "another") -> tuple[str, str]:
        """A fresh account written straight to the server's database."""
        db = create_db_engine(self.database_url)
        with db.begin() as conn:
            account = accounts.create_account(conn, name)
        db.dispose()
        return account.sid, account.auth_token

    def new_client(self) -> Client:
        """An SDK client on a fresh account, so a test sees only what it creates."""
        sid, token = self.new_account()
        return self.client(sid, token)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, auth=(self.account_sid, self.auth_token))


_POSTGRES_MISSING: list[str] = []  # why PostgreSQL cannot be used, once found out


def require_postgres() -> None:
    """Skip (one line, with the reason) when no PostgreSQL answers at POSTGRES_ADMIN_URL."""
    if not _POSTGRES_MISSING:
        try:
            psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
            _POSTGRES_MISSING.append("")
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _POSTGRES_MISSING.append(f"PostgreSQL is not reachable ({reason})")
    if _POSTGRES_MISSING[0]:
        pytest.skip(f"{_POSTGRES_MISSING[0]}; set FLOWYARD_TEST_POSTGRES_URL or run sqlite only")


def _database_url(backend: str, tmp: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'flowyard.db'}", None
    require_postgres()
    name = f"flowyard_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def _drop_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def twilio_platform(
    api_url: str, account_sid: str = "AC" + "2" * 32, **more: str
) -> dict[str, str]:
    """Settings of a server on the ``twilio`` platform whose Twilio API is the fake at
    ``api_url``; ``more`` settings beside them."""
    return {
        "FLOWYARD_PLATFORM": "twilio",
        "FLOWYARD_TWILIO_ACCOUNT_SID": account_sid,
        "FLOWYARD_TWILIO_AUTH_TOKEN": "real-token",
        "FLOWYARD_TWILIO_API_URL": api_url,
        **more,
    }


def start_server(
    database_url: str,
    backend: str,
    extra_env: dict[str, str] | None = None,
    *,
    workers: int = 1,
    args: list[str] | None = None,
) -> tuple[Server, subprocess.Popen[bytes]]:
    """``flowyard serve`` on ``database_url`` (``workers`` processes, more options in
    ``args``), once it answers."""
    port = free_port()
    extra_env = extra_env or {}
    sid = extra_env.get("FLOWYARD_ACCOUNT_SID") or "AC" + uuid.uuid4().hex
    token = extra_env.get("FLOWYARD_AUTH_TOKEN") or uuid.uuid4().hex
    env = {
        **os.environ,
        "FLOWYARD_TIMER_INTERVAL": "0.2",
        "FLOWYARD_ACCOUNT_SID": sid,
        "FLOWYARD_AUTH_TOKEN": token,
        # The whole suite comes from 127.0.0.1 and fails on purpose a lot; throttling has
        # its own servers (tests/api/test_throttling.py).
        "FLOWYARD_AUTH_FAILURES_PER_ADDRESS": "1000000",
        "FLOWYARD_AUTH_FAILURES_PER_SID": "1000000",
        **extra_env,
    }
    # The server's output goes to a file, never to an unread pipe: a session's server logs
    # enough to fill a pipe's buffer, and then blocks on its next write, mid-request.
    fd, log_name = tempfile.mkstemp(prefix="flowyard-serve-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flowyard",
                "serve",
                "--port",
                str(port),
                "--database-url",
                database_url,
                "--workers",
                str(workers),
                *(args or []),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    # Generous: on a loaded shared 2-core machine a start took over 30 s (migrations, imports).
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {Path(log_name).read_text()}")
        try:
            httpx.get(base + "/v2/Flows", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("server did not start")
    return Server(base, database_url, sid, token, backend, Path(log_name)), proc


@contextlib.contextmanager
def serving_on_twilio(
    fake_api: type[BaseHTTPRequestHandler],
    database: Path,
    account_sid: str = "AC" + "2" * 32,
    **settings: str,
) -> Iterator[Server]:
    """A server on the ``twilio`` platform (SQLite at ``database``) whose Twilio API is
    ``fake_api``, served here; both stopped afterwards."""
    from tests.e2e.stub import serving_http

    with serving_http(fake_api) as port:
        api_url = f"http://127.0.0.1:{port}"
        srv, proc = start_server(
            f"sqlite:///{database}", "sqlite", twilio_platform(api_url, account_sid, **settings)
        )
        try:
            yield srv
        finally:
            proc.terminate()
            proc.wait(10)


@contextlib.contextmanager
def serving(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    extra_env: dict[str, str] | None = None,
    **options: Any,
) -> Iterator[Server]:
    """A server of its own on a fresh database of ``backend``, stopped (and its PostgreSQL
    database dropped) afterwards: for module fixtures that need other settings."""
    database_url, pg_name = _database_url(backend, tmp_path_factory.mktemp(backend))
    srv, proc = start_server(database_url, backend, extra_env, **options)
    try:
        yield srv
    finally:
        proc.terminate()
        proc.wait(10)
        if pg_name:
            _drop_database(pg_name)


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with serving(request.param, tmp_path_factory) as srv:
        yield srv


@pytest.fixture
def client(server: Server) -> Client:
    """An SDK client on a fresh account."""
    return server.new_client()


MINIMAL_DEFINITION = {
    "description": "A New Flow",
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [
                {"event": "incomingMessage"},
                {"event": "incomingCall"},
                {"event": "incomingRequest"},
            ],
            "properties": {"offset": {"x": 0, "y": 0}},
        }
    ],
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
}
