"""Engine benchmark: the pure engine's steps/s, and completed REST-triggered executions/s.

Everything is measured side by side in one run: the pure engine on a 10-widget flow
(``bench/engine_core.py``: one core, no I/O); then ``python -m flowyard serve`` on SQLite and
on PostgreSQL taking ``POST /v2/Flows/{FW}/Executions`` under concurrent load, each execution
running a whole 10-widget flow to its end with one message to the local outbox, under 16 wrk
connections per server process. The create
request answers before the flow runs (as on Studio), so what is counted is executions ended
per second, from the database, until the last one ended; then a paced run at half that rate
for the create request's p99. Beside them the bare Starlette + sqlite3 fetch of
``bench/api.py``, the machine's ceiling for one small request.

    python bench/engine.py [--quick] [--duration S] [--connections N] [--no-postgres]
                           [--workers 1,2] [--rounds N]

Each backend is measured with every worker count of ``--workers`` (``flowyard serve
--workers N``; default one and two processes), each on a fresh database; ``--rounds N`` does
it all N times, configuration after configuration, and the table shows medians with their
ranges (single runs on a shared machine move by a third). "server CPU" is the
flowyard processes' own (not the database server's) per completed execution. Needs ``wrk``
(apt-get install -y wrk). Targets: pure engine >= 20,000 steps/s; >= 1,000 completed/s on
SQLite with one process and >= 1,200/s on PostgreSQL with two; create p99 <= 20 ms at half rate.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api  # bench/api.py: servers, accounts, the bare app, wrk parsing
import engine_core  # bench/engine_core.py: the pure engine's own measurement

ENGINE_TARGET = 20_000
HALF_RATE_P99 = 20.0  # ms, the create request at half the maximum rate
PER_PROCESS = 16  # wrk connections per server process
NUMBER = "+15559990000"


def _state(name: str, kind: str, transitions: list[dict[str, Any]], **props: Any) -> dict:
    return {
        "name": name,
        "type": kind,
        "transitions": transitions,
        "properties": {"offset": {"x": 0, "y": 0}, **props},
    }


def _match(target: str, kind: str, arg: str, value: str) -> dict[str, Any]:
    return {
        "event": "match",
        "next": target,
        "conditions": [{"friendly_name": kind, "arguments": [arg], "type": kind, "value": value}],
    }


def ten_widget_flow() -> dict[str, Any]:
    """Trigger + 10 widgets: variables, splits with Liquid, a message; every path ends."""
    return {
        "description": "engine benchmark",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            _state("Trigger", "trigger", [{"event": "incomingRequest", "next": "init"}]),
            _state(
                "init",
                "set-variables",
                [{"event": "next", "next": "tier"}],
                variables=[
                    {"key": "count", "value": "{{flow.data.n | default: 3}}"},
                    {"key": "name", "value": "{{flow.data.name | upcase}}"},
                ],
            ),
            _state(
                "tier",
                "split-based-on",
                [
                    {"event": "noMatch", "next": "basic"},
                    _match("gold", "greater_than", "{{flow.variables.count}}", "2"),
                ],
                input="{{flow.variables.count}}",
            ),
            _state(
                "gold",
                "set-variables",
                [{"event": "next", "next": "greet"}],
                variables=[{"key": "tier", "value": "gold"}],
            ),
            _state(
                "basic",
                "set-variables",
                [{"event": "next", "next": "greet"}],
                variables=[{"key": "tier", "value": "basic"}],
            ),
            _state(
                "greet",
                "set-variables",
                [{"event": "next", "next": "lang"}],
                variables=[
                    {
                        "key": "greeting",
                        "value": "Hello {{flow.variables.name}}, {{flow.variables.tier}} member",
                    },
                ],
            ),
            _state(
                "lang",
                "split-based-on",
                [
                    {"event": "noMatch", "next": "english"},
                    _match("other", "matches_any_of", "{{flow.data.lang}}", "fr, es, de"),
                ],
                input="{{flow.data.lang}}",
            ),
            _state(
                "english",
                "set-variables",
                [{"event": "next", "next": "loop"}],
                variables=[{"key": "suffix", "value": "Have a nice day"}],
            ),
            _state(
                "other",
                "set-variables",
                [{"event": "next", "next": "loop"}],
                variables=[{"key": "suffix", "value": "Bonne journée"}],
            ),
            _state(
                "loop",
                "set-variables",
                [{"event": "next", "next": "send"}],
                variables=[
                    {
                        "key": "items",
                        "value": "{% for i in (1..flow.variables.count) %}{{i}} {% endfor %}",
                    },
                ],
            ),
            _state(
                "send",
                "send-message",
                [{"event": "sent"}, {"event": "failed"}],
                body="{{flow.variables.greeting}}. {{flow.variables.suffix}}",
                to="{{contact.channel.address}}",
                **{"from": "{{flow.channel.address}}"},
            ),
        ],
    }


_WRK = """
wrk.method = "POST"
wrk.headers["Authorization"] = "{authorization}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local n = 0
delay = function() return {delay_ms} end
local params = "&From=%2B15559990000&Parameters=" ..
  "%7B%22n%22%3A3%2C%22name%22%3A%22ann%22%7D"
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format("To=%%2B1{prefix}%07d", n) .. params)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {{\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %.0f, "
    .. "\\"p99_us\\": %.0f, \\"errors\\": %d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def create_load(
    server: api.Server,
    flow_sid: str,
    account: api.Account,
    prefix: str,
    duration: float,
    connections: int,
    tmp: Path,
    delay_ms: float = 0,
) -> api.Result:
    """One wrk run creating executions, each for a new contact; ``delay_ms`` paces each
    connection (a lower, steady rate)."""
    script = tmp / f"create-{prefix}.lua"
    script.write_text(
        _WRK.format(authorization=account.authorization, prefix=prefix, delay_ms=round(delay_ms))
    )
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"{server.base}/v2/Flows/{flow_sid}/Executions",
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    data = orjson.loads(line.removeprefix("WRKJSON "))
    return api.Result(
        data["requests"] / (data["duration_us"] / 1e6),
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
        data["requests"],
        data["errors"],
    )


@contextlib.contextmanager
def _engine(url: str) -> Iterator[sa.Engine]:
    db = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        yield db
    finally:
        db.dispose()


def _counts(db: sa.Engine) -> tuple[int, int]:
    """Executions ended and still active, counted in the database."""
    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, count(*) FROM executions GROUP BY status"))
        counts = dict(rows.all())
    return counts.get("ended", 0), counts.get("active", 0)


def pace(
    server: api.Server,
    db: sa.Engine,
    flow_sid: str,
    account: api.Account,
    rate: float,
    connections: int,
    tmp: Path,
) -> float:
    """The delay (ms) each connection leaves between a response and its next request for
    ``rate`` requests/s in all. A connection's cycle is that delay plus the request's own
    time: a one-second probe measures the latter at about that rate (the saturated latency
    would overshoot the rate by far)."""
    delay = connections / rate * 1000
    probe = create_load(server, flow_sid, account, f"p{round(rate)}", 1.0, connections, tmp, delay)
    deadline = time.monotonic() + 30
    while _counts(db)[1] and time.monotonic() < deadline:  # the probe's executions end first
        time.sleep(0.05)
    return max(0.0, delay - probe.p50)


def completed_load(
    server: api.Server,
    db: sa.Engine,
    flow_sid: str,
    account: api.Account,
    prefix: str,
    options: argparse.Namespace,
    tmp: Path,
    delay_ms: float = 0,
) -> tuple[api.Result, float, float]:
    """Create under load for the run's duration, then wait until every execution ended.
    The create requests' figures, completed executions/s (create to end, counted in the
    database, over the whole time) and the server CPU per completed execution."""
    ended_before, _ = _counts(db)
    cpu_before = api.cpu_seconds(server.pid)
    began = time.monotonic()
    result = create_load(
        server, flow_sid, account, prefix, options.duration, options.connections, tmp, delay_ms
    )
    seen = -1
    while True:
        # Requests wrk left in flight still create executions after it stopped: done when
        # nothing is active and nothing new appeared since the last look.
        ended, active = _counts(db)
        if (not active and ended == seen) or time.monotonic() - began > options.duration + 120:
            break
        seen = ended
        time.sleep(0.05)
    took = time.monotonic() - began
    cpu_after = api.cpu_seconds(server.pid)
    completed = ended - ended_before
    cpu_us = 0.0
    if cpu_before is not None and cpu_after is not None and completed:
        cpu_us = (cpu_after - cpu_before) / completed * 1e6
    result.errors += active  # never ended: counted as failures
    return result, completed / took, cpu_us


def end_to_end(
    backend: str,
    url: str,
    account: api.Account,
    options: argparse.Namespace,
    tmp: Path,
    workers: int = 1,
) -> tuple[Run, int, dict[str, Any]]:
    """Completed executions/s on one backend; also checks that the executions really ran."""
    # 16 connections per server process unless told: each process groups the commits of
    # its own connections, so two processes sharing 16 wait on their commits, not the CPU.
    per_run = options.connections or PER_PROCESS * workers
    options = argparse.Namespace(**{**vars(options), "connections": per_run})
    log = tmp / f"{backend}-{workers}.log"
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(api.serve_flowyard(backend, url, account, log, workers))
        auth = (account.sid, account.token)
        created = httpx.post(
            f"{server.base}/v2/Flows",
            auth=auth,
            data={
                "FriendlyName": "bench",
                "Status": "published",
                "Definition": orjson.dumps(ten_widget_flow()).decode(),
            },
        )
        created.raise_for_status()
        flow_sid = created.json()["sid"]
        db = stack.enter_context(_engine(url))
        create_load(server, flow_sid, account, "1", 1.0, options.connections, tmp)  # warm-up
        result, completed, cpu_us = completed_load(server, db, flow_sid, account, "2", options, tmp)
        # Half the maximum rate, paced: the create request's latency when not saturated.
        delay = pace(server, db, flow_sid, account, completed / 2, options.connections, tmp)
        half, half_completed, _ = completed_load(
            server, db, flow_sid, account, "3", options, tmp, delay_ms=delay
        )
        listing = httpx.get(
            f"{server.base}/v2/Flows/{flow_sid}/Executions", params={"status": "active"}, auth=auth
        ).json()
        assert listing["executions"] == [], "every benchmark execution should have ended"
        one = httpx.get(
            f"{server.base}/v2/Flows/{flow_sid}/Executions", params={"PageSize": 1}, auth=auth
        ).json()["executions"][0]
        steps = httpx.get(one["links"]["steps"], auth=auth).json()["steps"]
        fetched = httpx.get(f"{server.base}/v2/Flows/{flow_sid}", auth=auth).json()
    return Run(result, completed, cpu_us, half, half_completed), len(steps), fetched


def bare_ceiling(
    flow: dict[str, Any], account: api.Account, options: argparse.Namespace, tmp: Path
) -> api.Result:
    """The bare Starlette + sqlite3 fetch of bench/api.py, serving the benchmark's flow."""
    with api.serve_bare(flow, account, tmp) as bare:
        load = api.Load("bare fetch", bare, f"/v2/Flows/{flow['sid']}", account.authorization)
        connections = options.connections or PER_PROCESS  # one process
        api.wrk_load(load, 1.0, connections, 1, tmp)
        return api.wrk_load(load, options.duration, connections, 1, tmp)


@dataclass
class Run:
    """One backend and worker count: the create requests at full load, completed
    executions/s and server CPU per completed execution, and the create requests at half
    that rate."""

    create: api.Result
    completed: float
    cpu_us: float
    half: api.Result
    half_completed: float


def _worker_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts are positive integers, e.g. 1,2")
    return counts


def _plural(n: int) -> str:
    return f"{n} worker" + ("" if n == 1 else "s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, help="seconds per load run (default 5)")
    parser.add_argument(
        "--connections", type=int, help=f"wrk connections (default {PER_PROCESS} per process)"
    )
    parser.add_argument("--quick", action="store_true", help="2 s runs")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--postgres-url", default=api.POSTGRES_ADMIN_URL)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure everything this many times, interleaved; the table shows medians",
    )
    parser.add_argument(
        "--workers",
        type=_worker_counts,
        default=[1, 2],
        help="server worker processes to measure, comma-separated (default 1,2)",
    )
    options = parser.parse_args(argv)
    options.duration = options.duration or (2.0 if options.quick else 5.0)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    account = api.Account("AC" + uuid.uuid4().hex, uuid.uuid4().hex)
    steps_per_s, _ = engine_core.measure(options.duration)
    print(f"pure engine: {steps_per_s:,.0f} steps/s", flush=True)
    results: dict[tuple[str, int], list[Run]] = {}
    bares: list[api.Result] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        backends = [] if options.no_sqlite else ["sqlite"]
        backends += [] if options.no_postgres else ["postgresql"]
        flow: dict[str, Any] = {}
        # Rounds go through every configuration in turn, so that a slow spell of a shared
        # machine falls on all of them rather than on one.
        for round_ in range(options.rounds):
            for backend in backends:
                for workers in options.workers:
                    # A fresh database for every run: no run works on another's rows.
                    with contextlib.ExitStack() as stack:
                        if backend == "sqlite":
                            url = f"sqlite:///{tmp / f'engine-{workers}-{round_}.db'}"
                        else:
                            url = stack.enter_context(api.postgres_database(options.postgres_url))
                        result, steps, flow = end_to_end(
                            backend, url, account, options, tmp, workers
                        )
                    results.setdefault((backend, workers), []).append(result)
                    print(
                        f"{backend}, {_plural(workers)}: {result.completed:,.0f} completed/s "
                        f"({result.create.rps:,.0f} creates/s), create p50 "
                        f"{result.create.p50:.1f} ms p99 {result.create.p99:.1f} ms; at half "
                        f"rate ({result.half.rps:,.0f} creates/s) p99 {result.half.p99:.1f} ms; "
                        f"{result.cpu_us:,.0f} us server CPU each, "
                        f"{result.create.errors} errors, {steps} steps each",
                        flush=True,
                    )
            bares.append(bare_ceiling(flow, account, options, tmp))
            print(f"bare fetch ceiling: {bares[-1].rps:,.0f} req/s", flush=True)
    print_table(steps_per_s, bares, results, options.workers)
    runs = [run for rounds in results.values() for run in rounds]
    return 1 if any(r.create.errors or r.half.errors for r in runs) else 0


def _target(backend: str, workers: int) -> float | None:
    """Completed executions/s the issue asks for (1 process on SQLite, 2 on PostgreSQL)."""
    return {("sqlite", 1): 1_000, ("postgresql", 2): 1_200}.get((backend, workers))


def _median(values: list[float], digits: str = ",.0f") -> tuple[float, str]:
    """The median of ``values`` and how it is shown: alone, or with the range of a round."""
    middle = statistics.median(values)
    shown = format(middle, digits)
    if len(values) > 1:
        shown += f" ({format(min(values), digits)}-{format(max(values), digits)})"
    return middle, shown


def print_table(
    steps_per_s: float,
    bares: list[api.Result],
    results: dict[tuple[str, int], list[Run]],
    worker_counts: list[int],
) -> None:
    bare, bare_shown = _median([b.rps for b in bares])
    bare_p99 = statistics.median(b.p99 for b in bares)
    print()
    print(
        f"pure engine, 10-widget flow: {steps_per_s:,.0f} steps/s (>= {ENGINE_TARGET:,}: "
        f"{'PASS' if steps_per_s >= ENGINE_TARGET else 'FAIL'})"
    )
    print(f"bare Starlette+sqlite3 fetch: {bare_shown} req/s, p99 {bare_p99:.1f} ms (ceiling)")
    if len(bares) > 1:
        print(f"medians of {len(bares)} rounds (range in brackets)")
    print()
    print(
        f"{'completed executions':<22} {'per s':>17} {'x bare':>6} {'CPU us':>7} "
        f"{'create p99':>10} {'half-rate p99':>17}  target"
    )
    single = min(worker_counts)
    completed = {key: statistics.median(r.completed for r in runs) for key, runs in results.items()}
    for (backend, workers), runs in results.items():
        rate, rate_shown = _median([r.completed for r in runs])
        half, half_shown = _median([r.half.p99 for r in runs], ".1f")
        cpu = statistics.median(r.cpu_us for r in runs)
        create_p99 = statistics.median(r.create.p99 for r in runs)
        scale = ""
        if workers != single and (backend, single) in completed:
            scale = f", {rate / completed[backend, single]:.2f}x {_plural(single)}"
        target = _target(backend, workers)
        verdicts = [
            f"half-rate p99 <= {HALF_RATE_P99} ms: " + ("PASS" if half <= HALF_RATE_P99 else "FAIL")
        ]
        if target:
            verdicts.insert(0, f">= {target:,}/s: " + ("PASS" if rate >= target else "FAIL"))
        print(
            f"{backend + ', ' + _plural(workers):<22} {rate_shown:>17} {rate / bare:>6.2f} "
            f"{cpu:>7,.0f} {create_p99:>10.1f} {half_shown:>17}  " + "; ".join(verdicts) + scale
        )


if __name__ == "__main__":
    sys.exit(main())
