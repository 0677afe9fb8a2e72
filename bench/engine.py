"""Engine benchmark: the pure engine's steps/s, and REST-triggered executions/s end to end.

Everything is measured side by side in one run: the pure engine on a 10-widget flow
(``bench/engine_core.py``: one core, no I/O); then ``python -m flowyard serve`` on SQLite and
on PostgreSQL taking ``POST /v2/Flows/{FW}/Executions`` under concurrent load, each execution
running a whole 10-widget flow to its end with one message to the local outbox; beside them
the bare Starlette + sqlite3 fetch of ``bench/api.py``, the machine's ceiling for one small
request.

    python bench/engine.py [--quick] [--duration S] [--connections N] [--no-postgres]
                           [--workers 1,2]

Each backend is measured with every worker count of ``--workers`` (``flowyard serve
--workers N``; default one and two processes), each on a fresh database, so single- and
multi-process figures stand side by side. "server CPU" is the flowyard processes' own (not
the database server's) per execution. Needs ``wrk`` (apt-get install -y wrk). Targets: pure
engine >= 20,000 steps/s; end to end >= 500 executions/s.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api  # bench/api.py: servers, accounts, the bare app, wrk parsing
import engine_core  # bench/engine_core.py: the pure engine's own measurement

ENGINE_TARGET = 20_000
E2E_TARGET = 500
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
) -> api.Result:
    """One wrk run creating executions, each for a new contact."""
    script = tmp / f"create-{prefix}.lua"
    script.write_text(_WRK.format(authorization=account.authorization, prefix=prefix))
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
    cpu_before = api.cpu_seconds(server.pid)
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    cpu_after = api.cpu_seconds(server.pid)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    data = orjson.loads(line.removeprefix("WRKJSON "))
    result = api.Result(
        data["requests"] / (data["duration_us"] / 1e6),
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
        data["requests"],
        data["errors"],
    )
    if cpu_before is not None and cpu_after is not None and result.requests:
        result.cpu_us = (cpu_after - cpu_before) / result.requests * 1e6
    return result


def end_to_end(
    backend: str,
    url: str,
    account: api.Account,
    options: argparse.Namespace,
    tmp: Path,
    workers: int = 1,
) -> tuple[api.Result, int, dict[str, Any]]:
    """Executions/s on one backend; also checks that the executions really ran."""
    log = tmp / f"{backend}-{workers}.log"
    with api.serve_flowyard(backend, url, account, log, workers) as server:
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
        create_load(server, flow_sid, account, "1", 1.0, options.connections, tmp)  # warm-up
        result = create_load(
            server, flow_sid, account, "2", options.duration, options.connections, tmp
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
    return result, len(steps), fetched


def bare_ceiling(
    flow: dict[str, Any], account: api.Account, options: argparse.Namespace, tmp: Path
) -> api.Result:
    """The bare Starlette + sqlite3 fetch of bench/api.py, serving the benchmark's flow."""
    with api.serve_bare(flow, account, tmp) as bare:
        load = api.Load("bare fetch", bare, f"/v2/Flows/{flow['sid']}", account.authorization)
        api.wrk_load(load, 1.0, options.connections, 1, tmp)
        return api.wrk_load(load, options.duration, options.connections, 1, tmp)


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
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="2 s runs")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--postgres-url", default=api.POSTGRES_ADMIN_URL)
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
    results: dict[tuple[str, int], api.Result] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        backends = ["sqlite"] + ([] if options.no_postgres else ["postgresql"])
        flow: dict[str, Any] = {}
        for backend in backends:
            for workers in options.workers:
                # A fresh database for every run: no run works on another's rows.
                with contextlib.ExitStack() as stack:
                    if backend == "sqlite":
                        url = f"sqlite:///{tmp / f'engine-{workers}.db'}"
                    else:
                        url = stack.enter_context(api.postgres_database(options.postgres_url))
                    result, steps, flow = end_to_end(backend, url, account, options, tmp, workers)
                results[backend, workers] = result
                print(
                    f"{backend}, {_plural(workers)}: {result.rps:,.0f} executions/s, "
                    f"p50 {result.p50:.1f} ms, p99 {result.p99:.1f} ms, "
                    f"{result.cpu_us or 0:,.0f} us server CPU each, "
                    f"{result.errors} errors, {steps} steps each",
                    flush=True,
                )
        bare = bare_ceiling(flow, account, options, tmp)
        print(f"bare fetch ceiling: {bare.rps:,.0f} req/s", flush=True)
    print_table(steps_per_s, bare, results, options.workers)
    return 1 if any(r.errors for r in results.values()) else 0


def print_table(
    steps_per_s: float,
    bare: api.Result,
    results: dict[tuple[str, int], api.Result],
    worker_counts: list[int],
) -> None:
    rows = [
        [
            "pure engine, 10-widget flow",
            f"{steps_per_s:,.0f} steps/s",
            "",
            "",
            "",
            f">= {ENGINE_TARGET:,}",
            "PASS" if steps_per_s >= ENGINE_TARGET else "FAIL",
        ],
        [
            "bare Starlette+sqlite3 fetch",
            f"{bare.rps:,.0f} req/s",
            f"{bare.p50:.1f}",
            f"{bare.p99:.1f}",
            "",
            "ceiling",
            "",
        ],
    ]
    single = min(worker_counts)
    for (backend, workers), result in results.items():
        ratios = f"{result.rps / bare.rps:.2f}x bare"
        if workers != single and (backend, single) in results:
            ratios += f", {result.rps / results[backend, single].rps:.2f}x {_plural(single)}"
        rows.append(
            [
                f"REST executions, {backend}, {_plural(workers)}",
                f"{result.rps:,.0f} exec/s",
                f"{result.p50:.1f}",
                f"{result.p99:.1f}",
                f"{result.cpu_us or 0:,.0f}",
                f">= {E2E_TARGET} ({ratios})",
                "PASS" if result.rps >= E2E_TARGET else "FAIL",
            ]
        )
    print()
    print(
        f"{'measurement':<40} {'throughput':>16} {'p50 ms':>7} {'p99 ms':>7} {'CPU us':>7}  target"
    )
    for row in rows:
        print(f"{row[0]:<40} {row[1]:>16} {row[2]:>7} {row[3]:>7} {row[4]:>7}  {row[5]} {row[6]}")


if __name__ == "__main__":
    sys.exit(main())
