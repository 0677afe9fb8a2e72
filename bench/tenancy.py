"""Tenancy benchmark: one account's hostile flows must not stall another account.

A fresh ``python -m flowyard serve`` (one worker, SQLite) while account A, in a loop, runs a
template that builds a huge string, a split on a catastrophic regex, and signed inbound
messages claiming thirty million media; account B meanwhile fetches one of its flows over and
over. Printed side by side in one run: B's fetch latency alone and under A's load (p50, p99),
and how long each hostile execution took to fail (created to ended).

    python bench/tenancy.py [--seconds S]

Targets (issue 10): B's p99 <= 100 ms under load; each hostile widget fails within 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api  # bench/api.py: servers, accounts, percentiles

from flowyard.store import accounts, create_db_engine

FETCH_P99_TARGET = 100.0  # ms
FAIL_WITHIN = 1.0  # s
NUMBER = "+15559990000"


def _state(name: str, kind: str, transitions: list[dict[str, Any]], **props: Any) -> dict:
    return {
        "name": name,
        "type": kind,
        "transitions": transitions,
        "properties": {"offset": {"x": 0, "y": 0}, **props},
    }


def _flow(*states: dict[str, Any]) -> dict[str, Any]:
    first = states[0]["name"]
    trigger = _state(
        "Trigger",
        "trigger",
        [
            {"event": "incomingMessage"},
            {"event": "incomingCall"},
            {"event": "incomingRequest", "next": first},
        ],
    )
    return {"description": "tenancy", "initial_state": "Trigger", "states": [trigger, *states]}


HOSTILE = {
    "template": _flow(
        _state(
            "send",
            "send-message",
            [{"event": "sent"}, {"event": "failed"}],
            body="{{ (1..100000000) | join: ',' | size }}",
            to="{{contact.channel.address}}",
            **{"from": NUMBER},
        )
    ),
    "regex": _flow(
        _state(
            "split",
            "split-based-on",
            [
                {"event": "noMatch"},
                {
                    "event": "match",
                    "next": "split",
                    "conditions": [
                        {
                            "friendly_name": "r",
                            "arguments": ["{{flow.data.text}}"],
                            "type": "regex",
                            "value": "(a+)+b",
                        }
                    ],
                },
            ],
            input="{{flow.data.text}}",
        )
    ),
}


def _create_flow(http: httpx.Client, definition: dict[str, Any]) -> str:
    response = http.post(
        "/v2/Flows",
        data={
            "FriendlyName": "tenancy",
            "Status": "published",
            "Definition": orjson.dumps(definition).decode(),
        },
    )
    response.raise_for_status()
    return response.json()["sid"]


def _new_account(url: str) -> api.Account:
    db = create_db_engine(url)
    with db.begin() as conn:
        row = accounts.create_account(conn, "victim")
    db.dispose()
    return api.Account(row.sid, row.auth_token)


def _fetches(http: httpx.Client, path: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        began = time.perf_counter()
        http.get(path).raise_for_status()
        latencies.append((time.perf_counter() - began) * 1000)
    return latencies


def _hostile_loop(
    base: str, account: api.Account, flows: dict[str, str], stop: threading.Event, took: dict
) -> None:
    """Account A's hostile work, round after round, until ``stop``."""
    try:
        _hostile_rounds(base, account, flows, stop, took)
    except httpx.HTTPError as exc:  # the server stalled past the client's patience
        took.setdefault(f"failed: {type(exc).__name__}", []).append(60.0)


def _hostile_rounds(
    base: str, account: api.Account, flows: dict[str, str], stop: threading.Event, took: dict
) -> None:
    http = httpx.Client(base_url=base, auth=(account.sid, account.token), timeout=60)
    validator = RequestValidator(account.token)
    n = 0
    while not stop.is_set():
        n += 1
        for kind, flow_sid in flows.items():
            began = time.monotonic()
            created = http.post(
                f"/v2/Flows/{flow_sid}/Executions",
                data={
                    "To": f"+1555{n:07d}",
                    "From": NUMBER,
                    "Parameters": orjson.dumps({"text": "a" * 25 + "c"}).decode(),
                },
            ).json()
            while (
                http.get(f"/v2/Flows/{flow_sid}/Executions/{created['sid']}").json()["status"]
                == "active"
                and not stop.is_set()
            ):
                time.sleep(0.005)
            took.setdefault(kind, []).append(time.monotonic() - began)
        url = f"{base}/v1/Accounts/{account.sid}/Flows/{flows['template']}"
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": account.sid,
            "From": f"+1666{n:07d}",
            "To": NUMBER,
            "Body": "hi",
            "NumMedia": "30000000",
        }
        began = time.monotonic()
        signature = validator.compute_signature(url, params)
        httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=60)
        took.setdefault("NumMedia webhook", []).append(time.monotonic() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args(argv)
    hostile = api.Account("AC" + uuid.uuid4().hex, uuid.uuid4().hex)
    with tempfile.TemporaryDirectory() as name, contextlib.ExitStack() as stack:
        tmp = Path(name)
        url = f"sqlite:///{tmp / 'tenancy.db'}"
        server = stack.enter_context(api.serve_flowyard("sqlite", url, hostile, tmp / "log"))
        http_a = httpx.Client(base_url=server.base, auth=(hostile.sid, hostile.token), timeout=120)
        flows = {kind: _create_flow(http_a, definition) for kind, definition in HOSTILE.items()}
        victim = _new_account(url)
        http_b = httpx.Client(base_url=server.base, auth=(victim.sid, victim.token), timeout=120)
        path = f"/v2/Flows/{_create_flow(http_b, HOSTILE['regex'])}"
        alone = _fetches(http_b, path, options.seconds)
        stop, took = threading.Event(), {}
        worker = threading.Thread(
            target=_hostile_loop, args=(server.base, hostile, flows, stop, took)
        )
        worker.start()
        try:
            loaded = _fetches(http_b, path, options.seconds)
        finally:
            stop.set()
            worker.join()
    print(f"{'account B fetch':<28} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for label, values in (("alone", alone), ("under A's hostile load", loaded)):
        p50, p99 = api.percentile(values, 50), api.percentile(values, 99)
        print(f"{label:<28} {len(values):>9} {p50:>8.1f} {p99:>8.1f}")
    p99 = api.percentile(loaded, 99)
    verdict = "PASS" if p99 <= FETCH_P99_TARGET else "FAIL"
    print(f"p99 under load {p99:.1f} ms (target <= {FETCH_P99_TARGET:.0f} ms): {verdict}")
    print()
    print(f"{'hostile work (account A)':<28} {'runs':>9} {'max s':>8}  target")
    ok = p99 <= FETCH_P99_TARGET
    for kind, values in took.items():
        worst = max(values)
        ok = ok and worst <= FAIL_WITHIN
        print(
            f"{kind:<28} {len(values):>9} {worst:>8.2f}  <= {FAIL_WITHIN:.0f} s: "
            + ("PASS" if worst <= FAIL_WITHIN else "FAIL")
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
