"""Replies benchmark: contacts replying to executions that wait for them, on SQLite and on
PostgreSQL, beside the creates that made them wait, in one run.

One ``python -m flowyard serve`` per backend and round, on a fresh database. A flow asks
(Send & Wait For Reply) and thanks the contact for the reply (Send Message). ``--executions``
executions are created through the REST API, 16 requests at a time, until each waits; then
every contact replies once, a signed inbound-message webhook as Twilio posts it, 16 at a
time, counted until every execution ended. Printed per backend: creates/s and the server CPU
per execution started; replies/s, the webhook's p50 and p99, executions ended/s and the
server CPU per reply (its webhook and the sprint it resumes); and the ratio of a reply's CPU
to a start's, measured on the same server. The requests come from this process (asyncio,
httpx): each needs its own signature, which wrk cannot compute, and the load generator shares
the machine's cores with the server, so the rates understate a dedicated client's.

    python bench/replies.py [--executions N] [--rounds N] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import orjson
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api  # bench/api.py: servers, accounts, CPU time

NUMBER = "+15559990000"
CONCURRENCY = 16
ASK = {
    "description": "bench: ask, thank",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingRequest", "next": "ask"}],
            "properties": {},
        },
        {
            "name": "ask",
            "type": "send-and-wait-for-reply",
            "transitions": [{"event": "incomingMessage", "next": "thanks"}, {"event": "timeout"},
                            {"event": "deliveryFailure"}],
            "properties": {"body": "Reply please", "from": NUMBER, "timeout": "3600"},
        },
        {
            "name": "thanks",
            "type": "send-message",
            "transitions": [{"event": "sent"}, {"event": "failed"}],
            "properties": {"body": "Thanks for {{widgets.ask.inbound.Body}}", "from": NUMBER,
                           "to": "{{contact.channel.address}}"},
        },
    ],
}  # fmt: skip


async def _requests(calls: list[tuple[str, dict[str, str], dict[str, str]]]) -> list[float]:
    """POST each (url, form, headers), ``CONCURRENCY`` at a time; each one's seconds."""
    took: list[float] = []
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=30) as http:

        async def one(url: str, data: dict[str, str], headers: dict[str, str]) -> None:
            async with gate:
                began = time.perf_counter()
                answer = await http.post(url, data=data, headers=headers)
                took.append(time.perf_counter() - began)
                if answer.status_code >= 300:
                    raise RuntimeError(f"{url}: {answer.status_code} {answer.text}")

        await asyncio.gather(*(one(*call) for call in calls))
    return took


def _until(db: sa.Engine, sql: str, want: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.connect() as conn:
            if conn.execute(sa.text(sql)).scalar_one() == want:
                return
        time.sleep(0.05)
    raise RuntimeError(f"still not {want}: {sql}")


def measure(backend: str, url: str, account: api.Account, n: int, tmp: Path) -> dict[str, float]:
    log = tmp / f"replies-{backend}.log"
    auth = {"Authorization": account.authorization}
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(api.serve_flowyard(backend, url, account, log))
        db = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        stack.callback(db.dispose)
        created = httpx.post(
            f"{server.base}/v2/Flows",
            headers=auth,
            data={
                "FriendlyName": "bench",
                "Status": "published",
                "Definition": orjson.dumps(ASK).decode(),
            },
        )
        created.raise_for_status()
        flow_sid = created.json()["sid"]
        contacts = [f"+1555{i:07d}" for i in range(n)]
        executions = f"{server.base}/v2/Flows/{flow_sid}/Executions"
        cpu = api.cpu_seconds(server.pid) or 0.0
        began = time.monotonic()
        asyncio.run(_requests([(executions, {"To": c, "From": NUMBER}, auth) for c in contacts]))
        _until(db, "SELECT count(*) FROM executions WHERE waiting_for IS NOT NULL", n)
        _until(db, "SELECT count(*) FROM inbox", 0)
        started = n / (time.monotonic() - began)
        waiting_cpu = api.cpu_seconds(server.pid) or 0.0
        start_cpu = waiting_cpu - cpu
        hook = f"{server.base}/v1/Accounts/{account.sid}/Flows/{flow_sid}"
        sign = RequestValidator(account.token).compute_signature
        replies = []
        for contact in contacts:
            sid = "SM" + uuid.uuid4().hex
            form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": account.sid,
                    "From": contact, "To": NUMBER, "Body": "yes", "NumMedia": "0"}  # fmt: skip
            replies.append((hook, form, {"X-Twilio-Signature": sign(hook, form)}))
        began = time.monotonic()
        took = asyncio.run(_requests(replies))
        answered = time.monotonic() - began
        _until(db, "SELECT count(*) FROM executions WHERE status = 'active'", 0)
        ended = time.monotonic() - began
        reply_cpu = (api.cpu_seconds(server.pid) or 0.0) - waiting_cpu
        with db.connect() as conn:
            thanked = conn.execute(
                sa.text("SELECT count(*) FROM messages WHERE body = 'Thanks for yes'")
            ).scalar_one()
    if thanked != n:
        raise RuntimeError(f"{thanked} of {n} executions thanked their contact")
    took.sort()
    return {
        "creates/s": started,
        "start CPU us": start_cpu / n * 1e6,
        "replies/s": n / answered,
        "p50 ms": statistics.median(took) * 1000,
        "p99 ms": took[max(0, round(0.99 * len(took)) - 1)] * 1000,
        "ended/s": n / ended,
        "reply CPU us": reply_cpu / n * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=800, help="per run (default 800)")
    parser.add_argument("--rounds", type=int, default=2, help="runs per backend (default 2)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--postgres-url", default=api.POSTGRES_ADMIN_URL)
    options = parser.parse_args(argv)
    account = api.Account("AC" + uuid.uuid4().hex, uuid.uuid4().hex)
    backends = ["sqlite"] + ([] if options.no_postgres else ["postgresql"])
    runs: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for round_ in range(options.rounds):
            for backend in backends:  # interleaved: a slow spell falls on both
                with contextlib.ExitStack() as stack:
                    if backend == "sqlite":
                        url = f"sqlite:///{tmp / f'replies-{round_}.db'}"
                    else:
                        url = stack.enter_context(api.postgres_database(options.postgres_url))
                    run = measure(backend, url, account, options.executions, tmp)
                runs.setdefault(backend, []).append(run)
                print(backend, ", ".join(f"{k} {v:,.1f}" for k, v in run.items()), flush=True)
    print(f"\nmedians of {options.rounds} runs of {options.executions} executions each\n")
    keys = list(next(iter(runs.values()))[0])
    print(f"{'':12}" + "".join(f"{k:>14}" for k in keys) + f"{'reply / start':>15}")
    for backend, results in runs.items():
        medians = {k: statistics.median(r[k] for r in results) for k in keys}
        ratio = medians["reply CPU us"] / medians["start CPU us"]
        cells = "".join(f"{medians[k]:>14,.1f}" for k in keys)
        print(f"{backend:12}{cells}{ratio:>14.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
