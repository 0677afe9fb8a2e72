"""Timers that survive restarts and several nodes, and resumes that never interleave."""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from tests.conftest import BACKENDS, _database_url, _drop_database, start_server
from tests.e2e.helpers import (
    inbound_sms,
    post_signed,
    wait_ended,
    wait_for,
    wait_steps,
    webhook_url,
)
from tests.flows import flow, go, state

NUMBER = "+15559990000"


def waiting_flow(timeout: str) -> dict:
    return flow(
        state(
            "ask",
            "send-and-wait-for-reply",
            [go("incomingMessage", "got"), go("timeout", "late"), go("deliveryFailure")],
            body="Reply please",
            timeout=timeout,
            **{"from": NUMBER},
        ),
        state(
            "got",
            "set-variables",
            [go("next")],
            variables=[{"key": "reply", "value": "{{widgets.ask.inbound.Body}}"}],
        ),
        state("late", "set-variables", [go("next")], variables=[{"key": "late", "value": "yes"}]),
        rest="ask",
    )


def stop(proc) -> None:
    proc.terminate()
    proc.wait(10)


def test_a_timer_fires_after_a_restart(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'restart.db'}"
    server, proc = start_server(database_url, "sqlite")
    client = server.client()
    flow_ = client.studio.v2.flows.create(
        friendly_name="t", status="published", definition=waiting_flow("2")
    )
    execution = client.studio.v2.flows(flow_.sid).executions.create(to="+15550001", from_=NUMBER)
    wait_steps(client, flow_.sid, execution.sid, 1)  # the timer is set
    stop(proc)  # down before the timer is due
    time.sleep(2.5)
    env = {"FLOWYARD_ACCOUNT_SID": server.account_sid, "FLOWYARD_AUTH_TOKEN": server.auth_token}
    server, proc = start_server(database_url, "sqlite", env)
    try:
        client = server.client()
        wait_ended(client, flow_.sid, execution.sid)
        steps = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()
        assert [s.name for s in reversed(steps)] == ["incomingRequest", "timeout", "next"]
    finally:
        stop(proc)


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL is not under test")
def test_two_nodes_fire_each_timer_once(tmp_path):
    database_url, name = _database_url("postgresql", tmp_path)
    first, proc1 = start_server(database_url, "postgresql")
    env = {"FLOWYARD_ACCOUNT_SID": first.account_sid, "FLOWYARD_AUTH_TOKEN": first.auth_token}
    second, proc2 = start_server(database_url, "postgresql", env)
    try:
        client = first.client()
        flow_ = client.studio.v2.flows.create(
            friendly_name="t", status="published", definition=waiting_flow("1")
        )
        executions = client.studio.v2.flows(flow_.sid).executions
        # Half the executions start on each node; either node may fire any timer.
        nodes = [executions, second.client().studio.v2.flows(flow_.sid).executions]
        sids = [nodes[i % 2].create(to=f"+1555000{i:04d}", from_=NUMBER).sid for i in range(40)]
        wait_for(lambda: not executions.list(status="active"), timeout=30)
        for sid in sids:
            names = [s.name for s in executions(sid).steps.list()]
            assert sorted(names) == ["incomingRequest", "next", "timeout"], sid
    finally:
        stop(proc1)
        stop(proc2)
        _drop_database(name)


def test_simultaneous_replies_resume_once(server, client):
    flow_ = client.studio.v2.flows.create(
        friendly_name="t", status="published", definition=waiting_flow("3600")
    )
    contact = "+15550007777"
    execution = client.studio.v2.flows(flow_.sid).executions.create(to=contact, from_=NUMBER)
    wait_steps(client, flow_.sid, execution.sid, 1)  # it waits for the reply
    url = webhook_url(server.base_url, client.username, flow_.sid)
    replies = [inbound_sms(contact, NUMBER, f"answer {i}", client.username) for i in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda p: post_signed(url, client.password, p).status_code, replies))
    assert codes == [200] * 8
    wait_ended(client, flow_.sid, execution.sid)
    steps = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()
    assert [s.name for s in reversed(steps)] == ["incomingRequest", "incomingMessage", "next"]
    ctx = client.studio.v2.flows(flow_.sid).executions(execution.sid).execution_context().fetch()
    assert ctx.context["flow"]["variables"]["reply"] in {p["Body"] for p in replies}
    # Every inbound message is on record, the ones that resumed nothing included.
    inbound = [m for m in client.messages.list(from_=contact) if m.direction == "inbound"]
    assert len(inbound) == 8
