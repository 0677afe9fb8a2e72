"""Event Streams benchmark: server CPU per completed execution with and without a subscribed
webhook sink, side by side in one run on one server.

The same 10-widget flow as bench/engine.py runs under wrk load on one ``flowyard serve``. A
saturated run without a subscription sets the pace; then, at ``--load`` (70 %) of that rate,
``--rounds`` runs with a subscription to every Studio and alert event type on a sink that
asks for batches alternate with runs without one, beginning and ending without. Each batched round's
ratio is to the mean of the runs beside it; the verdict is their median. Last, one run on a
sink taking one event per request. A run with a sink counts until every execution ended
*and* the outbox is empty (every event delivered). The receiver is another process (its CPU
is not the server's). Target: delivery through a batched sink adds at most 15 % CPU per
completed execution.

    python bench/events.py [--duration S] [--connections N] [--rounds N] [--load F]
                           [--postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api  # bench/api.py: servers, accounts, CPU time
import engine  # bench/engine.py: the 10-widget flow and the wrk create load

TARGET = 1.15
TYPES = [
    "com.twilio.studio.flow.execution.started",
    "com.twilio.studio.flow.step.ended",
    "com.twilio.error-logs.error.logged",
    "com.twilio.studio.flow.execution.ended",
]
_RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as any real sink: no connection per request
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


@contextlib.contextmanager
def receiver() -> Iterator[str]:
    port = api.free_port()
    proc = subprocess.Popen([sys.executable, "-c", _RECEIVER, str(port)])
    try:
        for _ in range(100):
            with contextlib.suppress(httpx.TransportError):
                httpx.post(f"http://127.0.0.1:{port}/", timeout=1)
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/events"
    finally:
        proc.terminate()
        proc.wait(10)


def _waiting(db: sa.Engine) -> tuple[int, int, int]:
    """Executions ended, still active, and events not delivered yet."""
    with db.connect() as conn:
        counts = dict(
            conn.execute(sa.text("SELECT status, count(*) FROM executions GROUP BY status")).all()
        )
        events = conn.execute(sa.text("SELECT count(*) FROM event_outbox")).scalar() or 0
    return counts.get("ended", 0), counts.get("active", 0), events


def measure(
    server, db, flow_sid, account, prefix, options, tmp, delay_ms: float = 0
) -> tuple[float, float, float]:
    """Creates/s, completed executions/s, and server CPU (us) per completed execution,
    counted until every execution ended and every event was delivered. ``delay_ms`` paces
    each connection."""
    ended_before, _, _ = _waiting(db)
    cpu_before = api.cpu_seconds(server.pid) or 0.0
    began = time.monotonic()
    load = engine.create_load(
        server, flow_sid, account, prefix, options.duration, options.connections, tmp, delay_ms
    )
    seen = -1
    while time.monotonic() - began < options.duration + 120:
        ended, active, events = _waiting(db)
        if not active and not events and ended == seen:
            break
        seen = ended
        time.sleep(0.05)
    took = time.monotonic() - began
    completed = ended - ended_before
    cpu = (api.cpu_seconds(server.pid) or 0.0) - cpu_before
    return load.rps, completed / took, cpu / max(completed, 1) * 1e6


def unsubscribe(base: str, auth: tuple[str, str]) -> None:
    http = httpx.Client(base_url=base, auth=auth)
    for sub in http.get("/v1/Subscriptions").json()["subscriptions"]:
        http.delete(f"/v1/Subscriptions/{sub['sid']}")
    time.sleep(1.2)  # every process sees it within a second


def _warm_up(options: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(options), "duration": 1.0})


def subscribe(base: str, auth: tuple[str, str], destination: str, batch: bool) -> None:
    unsubscribe(base, auth)
    http = httpx.Client(base_url=base, auth=auth)
    config = json.dumps({"destination": destination, "batch_events": batch})
    sink = http.post(
        "/v1/Sinks",
        data={"Description": "bench", "SinkType": "webhook", "SinkConfiguration": config},
    ).json()
    types = [json.dumps({"type": t}) for t in TYPES]
    created = http.post(
        "/v1/Subscriptions", data={"Description": "bench", "SinkSid": sink["sid"], "Types": types}
    )
    created.raise_for_status()
    time.sleep(1.2)  # every process sees a new subscription within a second


def run(
    backend: str, url: str, options: argparse.Namespace, tmp: Path
) -> list[tuple[str, float, float]]:
    account = api.Account("AC" + uuid.uuid4().hex, uuid.uuid4().hex)
    auth = (account.sid, account.token)
    rows = []
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(
            api.serve_flowyard(backend, url, account, tmp / f"{backend}.log")
        )
        destination = stack.enter_context(receiver())
        created = httpx.post(
            f"{server.base}/v2/Flows",
            auth=auth,
            data={
                "FriendlyName": "bench",
                "Status": "published",
                "Definition": orjson.dumps(engine.ten_widget_flow()).decode(),
            },
        )
        created.raise_for_status()
        flow_sid = created.json()["sid"]
        db = stack.enter_context(engine._engine(url))
        engine.create_load(server, flow_sid, account, "w", 1.0, options.connections, tmp)  # warm-up
        # ...of delivery too: its first statements, connection and imports are paid once per
        # process, not per execution.
        subscribe(server.base, auth, destination, batch=True)
        measure(server, db, flow_sid, account, "v", _warm_up(options), tmp)
        unsubscribe(server.base, auth)
        # The pace: a share (--load) of the saturated rate without a subscription, which the
        # runs with a sink keep up with too, so both sides take the same load. Saturated, the
        # side with a sink would run fewer executions a second, fewer commits would share a
        # transaction, and each execution would cost more for that reason alone; far below
        # saturation, the background loops' fixed cost each second is most of what varies.
        top = measure(server, db, flow_sid, account, "s", options, tmp)
        rows.append(("no subscription, saturated", *top, None))
        rate = top[0] * options.load
        pace = engine.pace(server, db, flow_sid, account, rate, options.connections, tmp)
        # Rounds alternate without and with the batched sink, beginning and ending without:
        # each round's ratio is to the mean of the runs just before and after it, which
        # cancels a drift of the machine or of the growing database.
        plain = [measure(server, db, flow_sid, account, "a0", options, tmp, pace)]
        for n in range(options.rounds):
            subscribe(server.base, auth, destination, batch=True)
            batched = measure(server, db, flow_sid, account, f"b{n}", options, tmp, pace)
            unsubscribe(server.base, auth)
            plain.append(measure(server, db, flow_sid, account, f"a{n + 1}", options, tmp, pace))
            around = (plain[-2][2] + plain[-1][2]) / 2
            rows.append(("no subscription", *plain[-2], None))
            rows.append(("batched sink", *batched, batched[2] / around))
        rows.append(("no subscription", *plain[-1], None))
        subscribe(server.base, auth, destination, batch=False)
        single = measure(server, db, flow_sid, account, "c", options, tmp, pace)
        rows.append(("one event per request", *single, single[2] / plain[-1][2]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=7, help="runs without/with the batched sink")
    parser.add_argument(
        "--load", type=float, default=0.7, help="paced runs' share of the saturated rate"
    )
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--postgres-url", default=api.POSTGRES_ADMIN_URL)
    options = parser.parse_args(argv)
    verdict = True
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        backends = ["sqlite"] + (["postgresql"] if options.postgres else [])
        for backend in backends:
            with contextlib.ExitStack() as stack:
                if backend == "sqlite":
                    url = f"sqlite:///{tmp / 'events.db'}"
                else:
                    url = stack.enter_context(api.postgres_database(options.postgres_url))
                rows = run(backend, url, options, tmp)
            head = f"{'run':<28} {'creates/s':>10} {'completed/s':>12} {'CPU us each':>12}"
            print(f"\n{backend}: {head} {'ratio':>6}")
            for label, creates, rate, cpu, ratio in rows:
                shown = f"{ratio:>6.2f}" if ratio is not None else ""
                print(
                    f"{backend}: {label:<28} {creates:>10,.0f} {rate:>12,.0f} {cpu:>12,.0f} {shown}"
                )
            ratios = [r[4] for r in rows if r[0] == "batched sink"]
            ratio = statistics.median(ratios)
            ok = ratio <= TARGET
            verdict = verdict and ok
            print(
                f"{backend}: batched sink adds {ratio - 1:+.0%} CPU per completed execution "
                f"at {options.load:.0%} of the saturated rate (median of {len(ratios)} rounds, "
                f"each to the mean of the runs around it; {min(ratios):.2f}-{max(ratios):.2f}): "
                f"{'PASS' if ok else 'FAIL'} (target <= {TARGET:.2f})"
            )
    return 0 if verdict else 1


if __name__ == "__main__":
    raise SystemExit(main())
