"""Flowyard REST API benchmark: fetch, list, create and keyset paging, with a bare-app baseline.

Everything is measured side by side in one run (never against a remembered number): Flowyard
(``python -m flowyard serve``, one worker, a fresh SQLite file; optionally PostgreSQL too) and
``bench/bare_app.py`` (bare Starlette + stdlib sqlite3, same uvicorn settings) run at once, and
the fetch rounds alternate between them. Then the cost of the access log and metrics: the
same Flowyard with each on and off (``bench/overhead.py``), rounds alternating. Load comes from
``wrk`` over 127.0.0.1, or from an asyncio raw-socket client in a separate process when ``wrk``
is missing. See bench/README.md.

    python bench/api.py [--quick] [--duration S] [--connections N] [--flows N] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.client
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import orjson
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import overhead  # bench/overhead.py: access log and metrics on / off

from flowyard.store import accounts, create_db_engine, migrate
from flowyard.store.clock import utcnow
from flowyard.store.tables import flow_revisions, flows

BENCH_DIR = Path(__file__).resolve().parent
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
FETCH_TARGET = 0.60  # fetch(Flowyard) / fetch(bare) must be at least this
PAGING_TARGET = 1.5  # page N latency / page 1 latency must be at most this
LIST_SIZE = 50
PAGE_SIZE = 100
TARGET_PAGE = 1000  # 1-based, as a person counts pages


# --- options -------------------------------------------------------------------------------


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` shrinks every default for a smoke run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, help="seconds per load run (default 5)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--rounds", type=int, help="alternating fetch rounds (default 3)")
    parser.add_argument("--flows", type=int, help="flows bulk-inserted for paging (100000)")
    parser.add_argument("--page-requests", type=int, help="requests per paging target (200)")
    parser.add_argument("--quick", action="store_true", help="2 s runs, 1 round, 10,000 flows")
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL, help="admin database URL")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores: keep 1)")
    options = parser.parse_args(argv)
    quick = options.quick
    options.duration = options.duration or (2.0 if quick else 5.0)
    options.rounds = options.rounds or (1 if quick else 3)
    options.flows = options.flows if options.flows is not None else (10_000 if quick else 100_000)
    options.page_requests = options.page_requests or (50 if quick else 200)
    if options.flows < 2 * PAGE_SIZE:
        parser.error(f"--flows must be at least {2 * PAGE_SIZE}")
    return options


# --- a realistic ~20-widget definition ---------------------------------------------------------


def _state(name: str, kind: str, transitions: list[dict[str, Any]], **props: Any) -> dict:
    spread = sum(map(ord, name))
    x, y = (spread % 9) * 220, (spread % 13) * 180
    return {
        "name": name,
        "type": kind,
        "transitions": transitions,
        "properties": {**props, "offset": {"x": x, "y": y}},
    }


def _go(event: str, target: str | None = None) -> dict[str, Any]:
    return {"event": event, "next": target} if target else {"event": event}


def _match(target: str, label: str, kind: str, arg: str, value: str) -> dict[str, Any]:
    condition = {"friendly_name": label, "arguments": [arg], "type": kind, "value": value}
    return {"event": "match", "next": target, "conditions": [condition]}


def _send(name: str, body: str, after: str | None = None) -> dict:
    return _state(
        name,
        "send-message",
        [_go("sent", after), _go("failed")],
        body=body,
        to="{{contact.channel.address}}",
        **{"from": "{{flow.channel.address}}"},
    )


def _ask(name: str, body: str, reply: str, timeout: str, failed: str) -> dict:
    return _state(
        name,
        "send-and-wait-for-reply",
        [_go("incomingMessage", reply), _go("timeout", timeout), _go("deliveryFailure", failed)],
        body=body,
        timeout="3600",
        **{"from": "{{flow.channel.address}}"},
    )


def _http(name: str, method: str, url: str, ok: str, body: str = "") -> dict:
    return _state(
        name,
        "make-http-request",
        [_go("success", ok), _go("failed", "send_error")],
        method=method,
        url=url,
        content_type="application/json;charset=utf-8",
        body=body,
        parameters=[{"key": "phone", "value": "{{contact.channel.address}}"}],
    )


def _function(name: str, path: str, ok: str) -> dict:
    return _state(
        name,
        "run-function",
        [_go("success", ok), _go("fail", "send_error")],
        url=f"https://support-bot-4821.twil.io/{path}",
        service_sid="ZS" + "3" * 32,
        environment_sid="ZE" + "4" * 32,
        function_sid="ZH" + "5" * 32,
        parameters=[{"key": "customer", "value": "{{flow.variables.customer}}"}],
    )


def realistic_definition() -> dict[str, Any]:
    """A 21-widget customer-support SMS flow, the size and shape of a real Studio export."""
    reply = "{{widgets.greet.inbound.Body | downcase | strip}}"
    more = "{{widgets.ask_more.inbound.Body | downcase}}"
    known = "{{widgets.lookup_customer.parsed.found}}"
    states = [
        _state(
            "Trigger",
            "trigger",
            [
                _go("incomingMessage", "set_context"),
                _go("incomingCall"),
                _go("incomingConversationMessage"),
                _go("incomingRequest", "set_context"),
                _go("incomingParent"),
            ],
        ),
        _state(
            "set_context",
            "set-variables",
            [_go("next", "lookup_customer")],
            variables=[
                {"key": "attempts", "value": "0"},
                {"key": "customer", "value": "{{contact.channel.address}}"},
                {"key": "started", "value": "{{'now' | date: '%Y-%m-%dT%H:%M:%S'}}"},
            ],
        ),
        _http(
            "lookup_customer",
            "GET",
            "https://crm.example.com/api/v2/customers?phone={{contact.channel.address}}",
            "check_known",
        ),
        _state(
            "check_known",
            "split-based-on",
            [_go("noMatch", "greet"), _match("greet", "Known customer", "equal_to", known, "true")],
            input=known,
        ),
        _ask(
            "greet",
            "Hi {{widgets.lookup_customer.parsed.first_name | default: 'there'}}! Reply 1 for "
            "your orders, 2 for your balance or 3 to talk to an agent.",
            "route_menu",
            "send_timeout",
            "send_error",
        ),
        _state(
            "route_menu",
            "split-based-on",
            [
                _go("noMatch", "send_unknown"),
                _match("fetch_orders", "Orders", "matches_any_of", reply, "1,orders,order"),
                _match("fetch_balance", "Balance", "matches_any_of", reply, "2,balance,bill"),
                _match("agent_hours", "Agent", "matches_any_of", reply, "3,agent,human"),
            ],
            input=reply,
        ),
        _function("fetch_orders", "orders/latest", "send_orders"),
        _send(
            "send_orders",
            "Your last order {{widgets.fetch_orders.parsed.order_id}} is "
            "{{widgets.fetch_orders.parsed.status}}; it should arrive on "
            "{{widgets.fetch_orders.parsed.eta | date: '%b %d'}}.",
            "ask_more",
        ),
        _http(
            "fetch_balance",
            "POST",
            "https://billing.example.com/api/balance",
            "send_balance",
            body='{"customer": "{{flow.variables.customer}}", "currency": "USD"}',
        ),
        _send(
            "send_balance",
            "Your balance is ${{widgets.fetch_balance.parsed.balance}}, due on "
            "{{widgets.fetch_balance.parsed.due_date}}.",
            "ask_more",
        ),
        _function("agent_hours", "business-hours", "check_open"),
        _state(
            "check_open",
            "split-based-on",
            [
                _go("noMatch", "send_closed"),
                _match(
                    "to_agent",
                    "Open",
                    "equal_to",
                    "{{widgets.agent_hours.parsed.open}}",
                    "true",
                ),
            ],
            input="{{widgets.agent_hours.parsed.open}}",
        ),
        _state(
            "to_agent",
            "send-to-flex",
            [
                _go("callComplete"),
                _go("failedToEnqueue", "send_error"),
                _go("callFailure", "send_error"),
            ],
            workflow="WW" + "6" * 32,
            channel="TC" + "7" * 32,
            attributes='{"name": "{{trigger.message.ChannelAttributes.from}}", '
            '"channelType": "{{trigger.message.ChannelAttributes.channel_type}}", '
            '"channelSid": "{{trigger.message.ChannelSid}}"}',
        ),
        _send("send_closed", "We're closed right now. An agent will text you at 9am."),
        _ask(
            "ask_more",
            "Anything else I can help with? Reply YES or NO.",
            "check_more",
            "send_goodbye",
            "send_error",
        ),
        _state(
            "check_more",
            "split-based-on",
            [
                _go("noMatch", "send_goodbye"),
                _match("count_attempts", "Yes", "matches_any_of", more, "yes,y,yeah,sure"),
            ],
            input=more,
        ),
        _state(
            "count_attempts",
            "set-variables",
            [_go("next", "greet")],
            variables=[{"key": "attempts", "value": "{{flow.variables.attempts | plus: 1}}"}],
        ),
        _send("send_unknown", "Sorry, I didn't get that. Please reply 1, 2 or 3.", "greet"),
        _send("send_timeout", "We haven't heard back, so we're closing this conversation."),
        _send("send_error", "Something went wrong on our side. Please try again later."),
        _send("send_goodbye", "Thanks for contacting us. Have a great day!"),
    ]
    return {
        "description": "Customer support bot",
        "states": states,
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


MINIMAL_DEFINITION = {
    "description": "A New Flow",
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingMessage"}, {"event": "incomingRequest"}],
            "properties": {"offset": {"x": 0, "y": 0}},
        }
    ],
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
}


# --- databases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """The benchmark's account: Basic credentials for every request."""

    sid: str
    token: str

    @property
    def authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()


def _seed_rows(account: Account, first: int, count: int) -> tuple[list[dict], list[dict]]:
    """``count`` flow rows numbered from ``first`` and their revision-1 rows."""
    now = utcnow()
    definition = orjson.dumps(MINIMAL_DEFINITION).decode()
    common = {"account_sid": account.sid, "status": "published", "commit_message": None}
    common |= {"date_created": now, "date_updated": now}
    flow_rows = [
        {
            **common,
            "sid": f"FW{uuid.uuid4().hex}",
            "friendly_name": f"Bench flow {n:06d}",
            "revision": 1,
            "published_revision": 1,
        }
        for n in range(first, first + count)
    ]
    revision_rows = [
        {
            **common,
            "flow_sid": row["sid"],
            "revision": 1,
            "author_sid": None,
            "friendly_name": row["friendly_name"],
            "definition": definition,
            "valid": True,
            "errors": "[]",
            "warnings": "[]",
        }
        for row in flow_rows
    ]
    return flow_rows, revision_rows


def seed_flows(url: str, account: Account, count: int, batch: int = 10_000) -> float:
    """Migrate, upsert the account, bulk-insert ``count`` flows and their revisions; seconds."""
    started = time.perf_counter()
    db = create_db_engine(url)
    migrate(db)
    with db.begin() as conn:
        accounts.upsert_account(conn, account.sid, account.token)
        for first in range(0, count, batch):
            flow_rows, revision_rows = _seed_rows(account, first, min(batch, count - first))
            conn.execute(flows.insert(), flow_rows)
            conn.execute(flow_revisions.insert(), revision_rows)
    if url.startswith("postgres"):
        with db.begin() as conn:
            conn.exec_driver_sql("ANALYZE")  # fresh statistics, as a long-lived database has
    db.dispose()
    return time.perf_counter() - started


def page_token_key(url: str, account: Account, page_index: int) -> int:
    """The ``flows.id`` of the last row before 0-based page ``page_index`` (what ``PA`` holds)."""
    db = create_db_engine(url)
    with db.connect() as conn:
        key = conn.execute(
            sa.select(flows.c.id)
            .where(flows.c.account_sid == account.sid)
            .order_by(flows.c.id)
            .limit(1)
            .offset(page_index * PAGE_SIZE - 1)
        ).scalar_one()
    db.dispose()
    return key


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the run, dropped afterwards."""
    import psycopg

    name = f"flowyard_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- server processes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A running HTTP server process."""

    name: str
    base: str
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and its live descendants (a server's worker
    processes), from Linux ``/proc``; None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for child in _children(pid):
        total += cpu_seconds(child) or 0.0
    return total


def _children(pid: int) -> list[int]:
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                children += [int(c) for c in (task / "children").read_text().split()]
    return children


@contextlib.contextmanager
def serve(name: str, command: list[str], env: dict[str, str], log: Path) -> Iterator[Server]:
    """Run ``command`` (it must take ``--port``) until the block ends."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        yield Server(name, f"http://127.0.0.1:{port}", proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve_flowyard(
    backend: str,
    url: str,
    account: Account,
    log: Path,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Any:
    """``python -m flowyard serve`` on ``url``, ``workers`` processes (one by default), with
    the benchmark's account; its settings are the defaults but for ``extra_env``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWYARD_")}
    env.update(FLOWYARD_ACCOUNT_SID=account.sid, FLOWYARD_AUTH_TOKEN=account.token)
    env.update(extra_env or {})
    command = [sys.executable, "-m", "flowyard", "serve", "--workers", str(workers)]
    command += ["--database-url", url]
    return serve(f"flowyard {backend}", command, env, log)


def serve_bare(flow: dict[str, Any], account: Account, tmp: Path) -> Any:
    """``bench/bare_app.py`` on its own SQLite file, holding ``flow``."""
    seed = tmp / "bare-seed.json"
    seed.write_bytes(orjson.dumps(flow))
    command = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--db", str(tmp / "bare.db")]
    command += ["--seed", str(seed), "--auth", account.authorization]
    return serve("bare", command, dict(os.environ), tmp / "bare.log")


# --- load generation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One kind of request, repeated on every connection."""

    label: str
    server: Server
    path: str
    authorization: str
    method: str = "GET"
    body: str = ""

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Authorization": self.authorization}
        if self.method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return headers


@dataclass
class Result:
    """Throughput and latency of one load run (milliseconds) and the server's CPU per request."""

    rps: float
    p50: float
    p99: float
    requests: int
    errors: int
    cpu_us: float | None = None


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (need not be sorted)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


_WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = [==[{body}]==]
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {{\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %.0f, "
    .. "\\"p99_us\\": %.0f, \\"errors\\": %d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_load(load: Load, duration: float, connections: int, threads: int, tmp: Path) -> Result:
    """One ``wrk`` run; its Lua ``done`` hook prints the figures as JSON."""
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in load.headers.items())
    script = tmp / "load.lua"
    script.write_text(_WRK_SCRIPT.format(method=load.method, body=load.body, headers=headers))
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}"]
    command += [f"-d{max(1, round(duration))}s", "--timeout", "10s", "-s", str(script)]
    out = subprocess.run(
        [*command, load.server.base + load.path],
        capture_output=True,
        text=True,
        timeout=duration + 60,
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    data = orjson.loads(line.removeprefix("WRKJSON "))
    return Result(
        data["requests"] / (data["duration_us"] / 1e6),
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
        data["requests"],
        data["errors"],
    )


async def _connection(load: Load, request: bytes, deadline: float) -> tuple[list[float], int]:
    """Keep-alive requests on one socket until ``deadline``: latencies (s) and errors."""
    url = urlsplit(load.server.base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    latencies: list[float] = []
    errors = 0
    try:
        while (started := time.perf_counter()) < deadline:
            writer.write(request)
            lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            errors += not 200 <= int(lines[0].split()[1]) < 400
    finally:
        writer.close()
    return latencies, errors


def python_load(load: Load, duration: float, connections: int) -> Result:
    """Raw-socket asyncio load; runs in a child process so it does not share our GIL."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    body = load.body.encode()
    head = [f"{load.method} {load.path} HTTP/1.1", f"Host: {urlsplit(load.server.base).netloc}"]
    head += [f"{k}: {v}" for k, v in load.headers.items()]
    if load.method == "POST":
        head.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body

    async def run() -> tuple[list[tuple[list[float], int]], float]:
        started = time.perf_counter()
        jobs = [_connection(load, request, started + duration) for _ in range(connections)]
        results = await asyncio.gather(*jobs)
        return results, time.perf_counter() - started

    results, elapsed = asyncio.run(run())
    latencies = [x for sample, _ in results for x in sample]
    return Result(
        len(latencies) / elapsed,
        percentile(latencies, 50) * 1000,
        percentile(latencies, 99) * 1000,
        len(latencies),
        sum(errors for _, errors in results),
    )


class LoadGenerator:
    """``wrk`` when installed (or asked for), else the asyncio client in a child process."""

    def __init__(self, options: argparse.Namespace, tmp: Path) -> None:
        self.wrk = options.loadgen != "python" and shutil.which("wrk") is not None
        if options.loadgen == "wrk" and not self.wrk:
            raise SystemExit("wrk is not installed: apt-get install -y wrk (or --loadgen python)")
        self.duration = options.duration
        self.connections = options.connections
        self.threads = options.threads
        self.tmp = tmp
        self._pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))

    def describe(self) -> str:
        if self.wrk:
            return f"wrk, {self.threads} thread(s), {self.connections} connections"
        return (
            f"python asyncio client in a child process, {self.connections} connections "
            "(wrk not found: apt-get install -y wrk; fast targets may be understated)"
        )

    def _run(self, load: Load, duration: float) -> Result:
        if self.wrk:
            return wrk_load(load, duration, self.connections, self.threads, self.tmp)
        future = self._pool.submit(python_load, load, duration, self.connections)
        return future.result(timeout=duration + 60)

    def measure(self, load: Load) -> Result:
        """A one-second warm-up, then the measured run with the server's CPU time around it."""
        self._run(load, 1.0)
        cpu_before = cpu_seconds(load.server.pid)
        result = self._run(load, self.duration)
        cpu_after = cpu_seconds(load.server.pid)
        if cpu_before is not None and cpu_after is not None and result.requests:
            result.cpu_us = (cpu_after - cpu_before) / result.requests * 1e6
        cpu = f"{result.cpu_us:5.0f} us CPU/req" if result.cpu_us else ""
        print(
            f"  {load.label:<18} {result.rps:>8,.0f} req/s  p50 {result.p50:6.2f} ms  "
            f"p99 {result.p99:7.2f} ms  {cpu}  errors {result.errors}",
            flush=True,
        )
        return result

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


# --- sequential paging latency ---------------------------------------------------------------


def sequential_latencies(base: str, paths: list[str], auth: str, count: int) -> list[list[float]]:
    """GET each path ``count`` times on one keep-alive connection, interleaved; ms per path."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    samples: list[list[float]] = [[] for _ in paths]
    warmup = max(5, count // 10)
    try:
        for i in range(warmup + count):
            for path, sample in zip(paths, samples, strict=True):
                started = time.perf_counter()
                conn.request("GET", path, headers={"Authorization": auth})
                response = conn.getresponse()
                response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if response.status != 200:
                    raise RuntimeError(f"GET {path} answered {response.status}")
                if i >= warmup:
                    sample.append(elapsed)
    finally:
        conn.close()
    return samples


def paging_paths(backend: Backend, account: Account, page: int) -> list[str]:
    """Page 1 and page ``page`` (1-based) of ``PageSize=100``, the latter by ``PageToken``."""
    first = f"/v2/Flows?PageSize={PAGE_SIZE}"
    headers = {"Authorization": account.authorization}
    with httpx.Client(base_url=backend.server.base, headers=headers) as client:
        meta = client.get(first).raise_for_status().json()["meta"]
        # The server's own next-page token must be the one built here for page 2.
        token = parse_qs(urlsplit(meta["next_page_url"]).query)["PageToken"][0]
        if token != f"PA{page_token_key(backend.db_url, account, 1)}":
            raise RuntimeError(f"server token {token} is not built as this benchmark builds it")
        key = page_token_key(backend.db_url, account, page - 1)
        query = urlencode({"PageSize": PAGE_SIZE, "Page": page - 1, "PageToken": f"PA{key}"})
        last = f"/v2/Flows?{query}"
        body = client.get(last).raise_for_status().json()
        if len(body["flows"]) != PAGE_SIZE or body["meta"]["page"] != page - 1:
            raise RuntimeError(f"page {page} is not a full page: {body['meta']}")
    return [first, last]


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Backend:
    """One Flowyard server under test and what was measured on it."""

    name: str
    db_url: str
    server: Server = Server("", "", 0)
    flow_sid: str = ""
    fetch: list[Result] = field(default_factory=list)
    listing: Result | None = None
    create: Result | None = None
    page_first: list[float] = field(default_factory=list)
    page_last: list[float] = field(default_factory=list)


def create_form() -> str:
    """The ``POST /v2/Flows`` body: the realistic definition as a JSON string parameter."""
    definition = orjson.dumps(realistic_definition()).decode()
    fields = {"FriendlyName": "Customer support bot", "Status": "published"}
    return urlencode({**fields, "Definition": definition, "CommitMessage": "benchmark"})


def create_fetch_target(backend: Backend, account: Account, form: str) -> dict[str, Any]:
    """POST the realistic flow through the API (checking create works); return it as fetched."""
    headers = {
        "Authorization": account.authorization,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    with httpx.Client(base_url=backend.server.base, headers=headers) as client:
        created = client.post("/v2/Flows", content=form)
        if created.status_code != 201:
            raise RuntimeError(f"create answered {created.status_code}: {created.text}")
        backend.flow_sid = created.json()["sid"]
        return client.get(f"/v2/Flows/{backend.flow_sid}").raise_for_status().json()


def start_backends(
    options: argparse.Namespace, account: Account, tmp: Path, stack: contextlib.ExitStack
) -> list[Backend]:
    """Seed each database with ``--flows`` flows, then start Flowyard on it."""
    backends = [Backend("sqlite", f"sqlite:///{tmp / 'flowyard.db'}")]
    if options.postgres:
        url = stack.enter_context(postgres_database(options.postgres_url))
        backends.append(Backend("postgresql", url))
    for backend in backends:
        seconds = seed_flows(backend.db_url, account, options.flows)
        print(f"seeded {options.flows:,} flows in {backend.name} in {seconds:.1f} s", flush=True)
        log = tmp / f"flowyard-{backend.name}.log"
        backend.server = stack.enter_context(
            serve_flowyard(backend.name, backend.db_url, account, log)
        )
    return backends


def measure_paging(backends: list[Backend], account: Account, page: int, count: int) -> None:
    """Sequential latency of page 1 and page ``page``, interleaved, on each backend."""
    for backend in backends:
        paths = paging_paths(backend, account, page)
        first, last = sequential_latencies(backend.server.base, paths, account.authorization, count)
        backend.page_first, backend.page_last = first, last
        print(
            f"  paging {backend.name}: page 1 p50 {percentile(first, 50):.2f} ms, "
            f"page {page:,} p50 {percentile(last, 50):.2f} ms",
            flush=True,
        )


def median_result(results: list[Result]) -> Result:
    """The run with the median throughput (its latencies come with it)."""
    return sorted(results, key=lambda r: r.rps)[(len(results) - 1) // 2]


def result_row(name: str, result: Result, note: str = "") -> list[str]:
    cpu = f"{result.cpu_us:,.0f}" if result.cpu_us else "-"
    return [
        name,
        f"{result.rps:,.0f}",
        f"{result.p50:.2f}",
        f"{result.p99:.2f}",
        cpu,
        f"{result.requests:,}",
        str(result.errors),
        note,
    ]


def latency_row(name: str, sample: list[float]) -> list[str]:
    p50, p99 = percentile(sample, 50), percentile(sample, 99)
    note = f"1 connection, PageSize={PAGE_SIZE}"
    return [name, "-", f"{p50:.2f}", f"{p99:.2f}", "-", f"{len(sample):,}", "0", note]


def ratio_lines(bare: list[Result], backends: list[Backend], page: int) -> list[list[str]]:
    """Fetch ratios (throughput per round and median; CPU) and paging ratios, with verdicts."""
    lines = []
    for backend in backends:
        per_round = [f.rps / b.rps for f, b in zip(backend.fetch, bare, strict=True)]
        ratio = statistics.median(per_round)
        verdict = f">= {FETCH_TARGET:.2f}  {'PASS' if ratio >= FETCH_TARGET else 'FAIL'}"
        note = "median of rounds " + ", ".join(f"{r:.2f}" for r in per_round)
        if backend.name != "sqlite":
            verdict, note = "information", f"{note} (the bare app reads SQLite)"
        label = f"fetch req/s, flowyard {backend.name} / bare"
        lines.append([label, f"{ratio:.2f}x", verdict, note])
        cpu = [
            b.cpu_us / f.cpu_us
            for f, b in zip(backend.fetch, bare, strict=True)
            if f.cpu_us and b.cpu_us
        ]
        if cpu:
            label = f"fetch CPU/req, bare / flowyard {backend.name}"
            note = "CPU time per request: steadier than req/s on a busy machine"
            lines.append([label, f"{statistics.median(cpu):.2f}x", "information", note])
    for backend in backends:
        ratio = percentile(backend.page_last, 50) / percentile(backend.page_first, 50)
        verdict = f"<= {PAGING_TARGET:.2f}  {'PASS' if ratio <= PAGING_TARGET else 'FAIL'}"
        label = f"paging p50, page {page:,} / page 1, {backend.name}"
        lines.append([label, f"{ratio:.2f}x", verdict, "PageToken keyset paging"])
    return lines


def print_table(rows: list[list[str]], align: str) -> None:
    """Columns aligned per ``align`` (``l``/``r`` each); a rule under the header row."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [
            c.ljust(w) if a == "l" else c.rjust(w)
            for c, w, a in zip(row, widths, align, strict=True)
        ]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def report(title: str, bare: list[Result], backends: list[Backend], page: int) -> int:
    """Print the final tables; return how many requests failed."""
    header = ["measurement", "req/s", "p50 ms", "p99 ms", "CPU us/req", "requests", "errors"]
    rows = [[*header, "note"], result_row("fetch  bare Starlette+sqlite3", median_result(bare))]
    for b in backends:
        assert b.listing is not None and b.create is not None
        rows.append(result_row(f"fetch  flowyard {b.name}", median_result(b.fetch)))
        rows.append(result_row(f"list   flowyard {b.name}", b.listing, f"PageSize={LIST_SIZE}"))
        rows.append(result_row(f"create flowyard {b.name}", b.create, "21 widgets, 8 KB"))
    for b in backends:
        rows.append(latency_row(f"page 1      flowyard {b.name}", b.page_first))
        rows.append(latency_row(f"page {page:<6,} flowyard {b.name}", b.page_last))
    print(f"\n{title}\n")
    print_table(rows, "lrrrrrrl")
    print()
    print_table([["ratio", "value", "target", "note"], *ratio_lines(bare, backends, page)], "lrll")
    results = [*bare, *(r for b in backends for r in (*b.fetch, b.listing, b.create) if r)]
    return sum(r.errors for r in results)


def measure_loads(
    loads: LoadGenerator, rounds: int, bare_fetch: Load, backends: list[Backend], form: str
) -> list[Result]:
    """Fetch rounds alternating bare and Flowyard, then list and create; the bare results."""
    auth = bare_fetch.authorization
    bare: list[Result] = []
    for n in range(rounds):
        print(f"fetch round {n + 1} of {rounds} (alternating)", flush=True)
        bare.append(loads.measure(bare_fetch))
        for b in backends:
            b.fetch.append(
                loads.measure(Load(f"fetch {b.name}", b.server, f"/v2/Flows/{b.flow_sid}", auth))
            )
    for b in backends:
        path = f"/v2/Flows?PageSize={LIST_SIZE}"
        b.listing = loads.measure(Load(f"list {b.name}", b.server, path, auth))
        create = Load(f"create {b.name}", b.server, "/v2/Flows", auth, "POST", form)
        b.create = loads.measure(create)
    return bare


def body_size(server: Server, sid: str, auth: str) -> int:
    """Bytes of one fetch response, to show the two apps answer alike."""
    url = f"{server.base}/v2/Flows/{sid}"
    return len(httpx.get(url, headers={"Authorization": auth}).raise_for_status().content)


def run(options: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> int:
    """Start every server, measure, print the table; exit status 1 when requests failed."""
    account = Account("AC" + uuid.uuid4().hex, uuid.uuid4().hex)
    auth = account.authorization
    backends = start_backends(options, account, tmp, stack)
    form = create_form()
    flow: dict[str, Any] = {}
    for backend in backends:
        flow = create_fetch_target(backend, account, form)
    bare_server = stack.enter_context(serve_bare(flow, account, tmp))
    targets = [(bare_server, flow["sid"])] + [(b.server, b.flow_sid) for b in backends]
    sizes = [f"{server.name} {body_size(server, sid, auth):,}" for server, sid in targets]
    print(f"fetch bodies (bytes): {', '.join(sizes)}", flush=True)

    loads = stack.enter_context(contextlib.closing(LoadGenerator(options, tmp)))
    print(f"load: {loads.describe()}, {options.duration:g} s per run", flush=True)
    bare = measure_loads(
        loads,
        options.rounds,
        Load("fetch bare", bare_server, f"/v2/Flows/{flow['sid']}", auth),
        backends,
        form,
    )
    runs = measure_overhead(options, loads, backends[0], account, tmp, stack)
    page = min(TARGET_PAGE, options.flows // PAGE_SIZE)
    measure_paging(backends, account, page, options.page_requests)
    title = (
        f"Flowyard API benchmark: {loads.describe()}; {options.duration:g} s runs, "
        f"{options.rounds} fetch round(s); {options.flows:,} flows seeded"
    )
    failed = report(title, bare, backends, page)
    rounds = len(runs[0].fetch)
    print(f"\nAccess log and metrics, on / off: {rounds} alternating round(s)\n")
    header = ["measurement", "req/s", "p50 ms", "p99 ms", "CPU us/req", "requests", "errors"]
    print_table([[*header, "note"], *overhead.result_rows(runs, result_row)], "lrrrrrrl")
    print()
    print_table([["ratio", "value", "target", "note"], *overhead.ratio_lines(runs)], "lrll")
    return 1 if failed or overhead.errors(runs) else 0


def measure_overhead(
    options: argparse.Namespace,
    loads: LoadGenerator,
    sqlite: Backend,
    account: Account,
    tmp: Path,
    stack: contextlib.ExitStack,
) -> list[overhead.Variant]:
    """Fetch on SQLite with the access log and metrics each on and off, one server per
    setting on the same file, at least two rounds so the order alternates."""
    runs = overhead.variants()
    for variant in runs:
        log = tmp / f"flowyard-{variant.name.replace(' ', '-')}.log"
        name = f"sqlite, {variant.name}"
        server = serve_flowyard(name, sqlite.db_url, account, log, 1, variant.env)
        variant.server = stack.enter_context(server)
    path = f"/v2/Flows/{sqlite.flow_sid}"

    def fetch(variant: overhead.Variant) -> Result:
        load = Load(f"fetch {variant.name}", variant.server, path, account.authorization)
        return loads.measure(load)

    overhead.measure(runs, fetch, max(2, options.rounds))
    return runs


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark in a temporary directory that is removed afterwards."""
    options = parse_options(argv)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="flowyard-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        status = run(options, Path(tmp), stack)
    print(f"\ntotal {time.monotonic() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
