"""A write that waits for another process's lock waits in a thread: the server's other
requests go on meanwhile."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from twilio.rest import Client

from flowyard.store import create_db_engine, write
from tests.conftest import Server
from tests.e2e.helpers import inbound_sms, post_signed, wait_for, webhook_url
from tests.e2e.test_runtime import NUMBER, ask_flow, step_names

CONTACT = "+15550004444"
LOCK = sa.text("SELECT 1 FROM executions WHERE sid = :s FOR UPDATE")
WAITING = """SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'"""


@contextmanager
def row_locked(server: Server, sid: str) -> Iterator[sa.Connection]:
    """The execution's row locked, as another process's transaction would hold it: on SQLite
    the whole database (its one writer's lock)."""
    db = create_db_engine(server.database_url)
    try:
        with write(db) as conn:
            if server.backend == "postgresql":
                conn.execute(LOCK, {"s": sid})
            yield conn
    finally:
        db.dispose()


def wait_blocked(server: Server, conn: sa.Connection, timeout: str) -> None:
    """Until the server's write waits for ``conn``'s lock."""
    if server.backend == "postgresql":
        wait_for(lambda: conn.execute(sa.text(WAITING)).scalar_one() > 0)
    else:
        # SQLite shows no waiters: a request's write is there at once, a timer's once it is
        # due (``timeout`` seconds from the wait, which whole-second dates may round up) and
        # the sweeper (every 0.2 s) took it. Should it not be there yet, the test still
        # holds: it only proves less.
        due = int(timeout) + 1 if int(timeout) < 60 else 0
        time.sleep(0.5 + due)


def reply(server: Server, client: Client, flow_sid: str, _execution_sid: str) -> Any:
    url = webhook_url(server.base_url, client.username, flow_sid)
    params = inbound_sms(CONTACT, NUMBER, "yes", client.username)
    return post_signed(url, client.password, params).status_code


def end(_server: Server, client: Client, flow_sid: str, execution_sid: str) -> Any:
    execution = client.studio.v2.flows(flow_sid).executions(execution_sid)
    return execution.update(status="ended").status


def delivery_failed(server: Server, client: Client, flow_sid: str, execution_sid: str) -> Any:
    (asked,) = client.messages.list(to=CONTACT)
    url = webhook_url(server.base_url, client.username, flow_sid)
    params = {
        "MessageSid": asked.sid,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "AccountSid": client.username,
        "To": CONTACT,
        "From": NUMBER,
    }
    url += f"?executionSid={execution_sid}"
    return post_signed(url, client.password, params).status_code


def timer(_server: Server, client: Client, flow_sid: str, execution_sid: str) -> Any:
    """The sweeper takes the execution whose timer is due."""
    execution = client.studio.v2.flows(flow_sid).executions(execution_sid)
    return wait_for(lambda: execution.fetch().status == "ended", timeout=30)


# What acts, what it answers, the execution's steps after, its Send & Wait timeout.
CASES: dict[str, tuple[Callable[[Server, Client, str, str], Any], Any, list[str], str]] = {
    "reply": (reply, 200, ["incomingRequest", "incomingMessage", "sent"], "3600"),
    "end through the API": (end, "ended", ["incomingRequest"], "3600"),
    "failed delivery": (delivery_failed, 200, ["incomingRequest", "deliveryFailure"], "3600"),
    "timer": (timer, True, ["incomingRequest", "timeout", "sent"], "1"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_write_waiting_for_a_lock_holds_no_other_request(server, client, case):
    act, answer, steps, timeout = CASES[case]
    flow_ = client.studio.v2.flows.create(
        friendly_name="t", status="published", definition=ask_flow(timeout)
    )
    executions = client.studio.v2.flows(flow_.sid).executions
    waiting = executions.create(to=CONTACT, from_=NUMBER).sid
    other = executions.create(to="+15550004445", from_=NUMBER).sid
    wait_for(lambda: executions(waiting).steps.list(limit=1))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        with row_locked(server, waiting) as conn:
            acted = pool.submit(act, server, client, flow_.sid, waiting)
            wait_blocked(server, conn, timeout)
            # The server's write waits for this transaction: its other requests do not.
            auth = (client.username, client.password)
            with httpx.Client(base_url=server.base_url, auth=auth, timeout=10) as http:
                fetched = http.get(f"/v2/Flows/{flow_.sid}/Executions/{other}")
            assert fetched.status_code == 200 and fetched.json()["sid"] == other
            assert not acted.done()
        assert acted.result(timeout=30) == answer
    wait_for(lambda: executions(waiting).fetch().status == "ended")
    assert step_names(executions, waiting) == steps
