"""The production runtime: several server processes on one database, each resume applied
once, Studio's asynchronous start, replayed webhooks, crashes and shutdowns."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from flowyard.store import create_db_engine, tables
from tests.conftest import BACKENDS, Server, _database_url, _drop_database, start_server
from tests.e2e.helpers import inbound_sms, post_signed, wait_for, webhook_url
from tests.flows import flow, go, state

NUMBER = "+15559990000"


def ask_flow(timeout: str = "3600") -> dict:
    """Ask, then answer the reply (or say it is too late): one message each way."""
    return flow(
        state(
            "ask",
            "send-and-wait-for-reply",
            [go("incomingMessage", "thanks"), go("timeout", "late"), go("deliveryFailure")],
            body="Reply please",
            timeout=timeout,
            **{"from": NUMBER},
        ),
        state(
            "thanks",
            "send-message",
            [go("sent"), go("failed")],
            body="Thanks for {{widgets.ask.inbound.Body}}",
            **{"from": NUMBER, "to": "{{contact.channel.address}}"},
        ),
        state(
            "late",
            "send-message",
            [go("sent"), go("failed")],
            body="Too late",
            **{"from": NUMBER, "to": "{{contact.channel.address}}"},
        ),
        rest="ask",
    )


def stop(proc) -> None:
    if proc.poll() is None:
        proc.terminate()
        proc.wait(15)


@pytest.fixture(params=BACKENDS)
def pair(request, tmp_path) -> Iterator[tuple[Server, Server]]:
    """Two ``flowyard serve`` processes on one database, short leases."""
    database_url, name = _database_url(request.param, tmp_path)
    env = {"FLOWYARD_LEASE_SECONDS": "2"}
    first, proc1 = start_server(database_url, request.param, env)
    env |= {"FLOWYARD_ACCOUNT_SID": first.account_sid, "FLOWYARD_AUTH_TOKEN": first.auth_token}
    second, proc2 = start_server(database_url, request.param, env)
    try:
        yield first, second
    finally:
        stop(proc1)
        stop(proc2)
        if name:
            _drop_database(name)


def outbound(client, contact: str) -> list[str]:
    return [m.body for m in client.messages.list(to=contact, limit=100) if m.direction != "inbound"]


def step_names(executions, sid: str) -> list[str]:
    return [s.name for s in reversed(executions(sid).steps.list())]


def test_two_processes_apply_simultaneous_replies_once(pair):
    first, second = pair
    client = first.client()
    flow_ = client.studio.v2.flows.create(
        friendly_name="t", status="published", definition=ask_flow()
    )
    executions = client.studio.v2.flows(flow_.sid).executions
    contacts = [f"+1555100{i:04d}" for i in range(100)]
    sids = {c: executions.create(to=c, from_=NUMBER).sid for c in contacts}
    wait_for(lambda: all(executions(s).steps.list(limit=1) for s in sids.values()), timeout=60)
    urls = [webhook_url(s.base_url, first.account_sid, flow_.sid) for s in (first, second)]
    # Each contact replies twice at the same moment, once to each process.
    posts = [
        (urls[k], inbound_sms(c, NUMBER, f"answer {k}", first.account_sid))
        for c in contacts
        for k in (0, 1)
    ]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(
            pool.map(lambda p: post_signed(p[0], first.auth_token, p[1]).status_code, posts)
        )
    assert codes == [200] * len(posts)
    wait_for(lambda: not executions.list(status="active", limit=1), timeout=60)
    for contact, sid in sids.items():
        assert step_names(executions, sid) == ["incomingRequest", "incomingMessage", "sent"]
        sent = outbound(client, contact)
        assert sorted(sent) in (
            ["Reply please", "Thanks for answer 0"],
            ["Reply please", "Thanks for answer 1"],
        ), (contact, sent)
        inbound = [m for m in client.messages.list(from_=contact) if m.direction == "inbound"]
        assert len(inbound) == 2
    # The reply that came second found its execution ended, and was the contact's next first
    # message, as Studio takes it: a new execution (this flow ends it at once).
    assert len(executions.list(limit=1000)) == 200


def test_replies_racing_a_timer_take_effect_once(pair):
    first, second = pair
    client = first.client()
    flow_ = client.studio.v2.flows.create(
        friendly_name="t", status="published", definition=ask_flow(timeout="2")
    )
    executions = client.studio.v2.flows(flow_.sid).executions
    contacts = [f"+1555200{i:04d}" for i in range(40)]
    sids = {c: executions.create(to=c, from_=NUMBER).sid for c in contacts}
    urls = [webhook_url(s.base_url, first.account_sid, flow_.sid) for s in (first, second)]
    time.sleep(1.8)  # the replies land around the 2 s timeout, some before and some after
    posts = [
        (urls[i % 2], inbound_sms(c, NUMBER, "hi", first.account_sid))
        for i, c in enumerate(contacts)
    ]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: post_signed(p[0], first.auth_token, p[1]), posts))
    wait_for(lambda: not executions.list(status="active", limit=1), timeout=30)
    for contact in contacts:
        names = step_names(executions, sids[contact])
        assert names in (
            ["incomingRequest", "incomingMessage", "sent"],
            ["incomingRequest", "timeout", "sent"],
        ), names
        answer = "Thanks for hi" if names[1] == "incomingMessage" else "Too late"
        assert sorted(outbound(client, contact)) == sorted(["Reply please", answer])


def test_a_reply_racing_an_end_through_the_api(pair):
    first, second = pair
    client, other = first.client(), second.client()
    flow_ = client.studio.v2.flows.create(
        friendly_name="t", status="published", definition=ask_flow()
    )
    executions = client.studio.v2.flows(flow_.sid).executions
    url = webhook_url(first.base_url, first.account_sid, flow_.sid)
    for i in range(20):
        contact = f"+1555300{i:04d}"
        sid = executions.create(to=contact, from_=NUMBER).sid
        wait_for(lambda sid=sid: executions(sid).steps.list(limit=1))
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            reply = pool.submit(
                post_signed,
                url,
                first.auth_token,
                inbound_sms(contact, NUMBER, "x", first.account_sid),
            )
            ended = pool.submit(
                lambda sid=sid: (
                    other.studio.v2.flows(flow_.sid).executions(sid).update(status="ended")
                )
            )
            assert reply.result().status_code == 200
            assert ended.result().status == "ended"
        names = step_names(executions, sid)
        assert names in (["incomingRequest"], ["incomingRequest", "incomingMessage", "sent"]), names
        sent = outbound(client, contact)
        assert sent.count("Thanks for x") == len(names) // 3 and sent.count("Reply please") == 1


class _Slow(BaseHTTPRequestHandler):
    delay = 5.0

    def do_GET(self) -> None:
        time.sleep(self.delay)
        body = b'{"slot": "Monday"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def slow_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slot"
    finally:
        server.shutdown()


def slow_flow(url: str) -> dict:
    return flow(
        state(
            "fetch",
            "make-http-request",
            [go("success"), go("failed")],
            method="GET",
            url=url,
            content_type="application/x-www-form-urlencoded",
        ),
        rest="fetch",
    )


def test_create_answers_before_the_flow_runs(server, client, slow_api):
    flow_ = client.studio.v2.flows.create(
        friendly_name="slow", status="published", definition=slow_flow(slow_api)
    )
    executions = client.studio.v2.flows(flow_.sid).executions
    began = time.monotonic()
    execution = executions.create(to="+15550004444", from_=NUMBER)
    took = time.monotonic() - began
    assert execution.status == "active"
    assert execution.execution_context().fetch().context == {}
    assert took < 2.5, f"create waited {took:.1f} s for a flow that takes 5 s"
    wait_for(lambda: executions(execution.sid).fetch().status == "ended", timeout=20)
    context = executions(execution.sid).execution_context().fetch().context
    assert context["widgets"]["fetch"]["parsed"] == {"slot": "Monday"}
    assert step_names(executions, execution.sid) == ["incomingRequest", "success"]


def test_a_replayed_inbound_message_changes_nothing(server, client):
    flow_ = client.studio.v2.flows.create(
        friendly_name="t", status="published", definition=flow(rest=None, message=None)
    )
    url = webhook_url(server.base_url, client.username, flow_.sid)
    params = inbound_sms("+15550005555", NUMBER, "hello", client.username)
    first = post_signed(url, client.password, params)
    again = post_signed(url, client.password, params)
    assert (again.status_code, again.text) == (first.status_code, first.text) == (200, first.text)
    executions = client.studio.v2.flows(flow_.sid).executions
    wait_for(lambda: executions.list())
    time.sleep(0.5)  # a second execution, if any, would be stored by now
    assert len(executions.list()) == 1
    assert len([m for m in client.messages.list(from_="+15550005555")]) == 1


def test_a_replayed_call_webhook_gets_the_first_answer(server, client):
    gather = state(
        "menu",
        "gather-input-on-call",
        [go("keypress"), go("speech"), go("timeout")],
        say="Press a key",
    )
    definition = flow(gather)
    definition["states"][0]["transitions"][1]["next"] = "menu"
    flow_ = client.studio.v2.flows.create(
        friendly_name="t", status="published", definition=definition
    )
    url = webhook_url(server.base_url, client.username, flow_.sid)
    params = {
        "CallSid": "CA" + "1" * 32,
        "AccountSid": client.username,
        "From": "+15550006666",
        "To": NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    signed = RequestValidatorPost(client.password)
    first = signed(url, params, token="replay-1")
    again = signed(url, params, token="replay-1")
    assert first.status_code == again.status_code == 200
    assert again.text == first.text and "<Gather" in first.text
    executions = client.studio.v2.flows(flow_.sid).executions
    assert len(executions.list()) == 1


class RequestValidatorPost:
    """POST signed as Twilio does, with its idempotency header."""

    def __init__(self, token: str) -> None:
        self.validator = RequestValidator(token)

    def __call__(self, url: str, params: dict[str, str], *, token: str) -> httpx.Response:
        headers = {
            "X-Twilio-Signature": self.validator.compute_signature(url, params),
            "I-Twilio-Idempotency-Token": token,
        }
        return httpx.post(url, data=params, headers=headers, timeout=30)


def test_another_accounts_status_callback_changes_nothing(server, client):
    victim = client
    flow_a = victim.studio.v2.flows.create(
        friendly_name="a", status="published", definition=ask_flow()
    )
    executions = victim.studio.v2.flows(flow_a.sid).executions
    execution = executions.create(to="+15550007777", from_=NUMBER)
    wait_for(lambda: executions(execution.sid).steps.list(limit=1))
    attacker = server.new_client()
    flow_b = attacker.studio.v2.flows.create(
        friendly_name="b", status="published", definition=ask_flow()
    )
    url = (
        webhook_url(server.base_url, attacker.username, flow_b.sid)
        + f"?executionSid={execution.sid}"
    )
    answer = post_signed(
        url,
        attacker.password,
        {
            "MessageSid": "SM" + "2" * 32,
            "MessageStatus": "failed",
            "ErrorCode": "30003",
            "AccountSid": attacker.username,
            "To": "+15550007777",
            "From": NUMBER,
        },
    )
    assert answer.status_code == 200
    time.sleep(0.5)
    assert executions(execution.sid).fetch().status == "active"
    assert step_names(executions, execution.sid) == ["incomingRequest"]
    context = executions(execution.sid).execution_context().fetch().context
    assert "30003" not in str(context)


def test_sigterm_finishes_the_sprints_in_flight(tmp_path, slow_api):
    _Slow.delay = 1.5
    database_url = f"sqlite:///{tmp_path / 'term.db'}"
    server, proc = start_server(database_url, "sqlite")
    try:
        client = server.client()
        flow_ = client.studio.v2.flows.create(
            friendly_name="slow", status="published", definition=slow_flow(slow_api)
        )
        executions = client.studio.v2.flows(flow_.sid).executions
        sids = [executions.create(to=f"+1555400{i:04d}", from_=NUMBER).sid for i in range(5)]
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal: -15 is a clean exit.
        assert proc.wait(20) in (0, -signal.SIGTERM)
        env = {"FLOWYARD_ACCOUNT_SID": server.account_sid, "FLOWYARD_AUTH_TOKEN": server.auth_token}
        server, proc = start_server(database_url, "sqlite", env)
        executions = server.client().studio.v2.flows(flow_.sid).executions
        for sid in sids:
            assert executions(sid).fetch().status == "ended"
            assert step_names(executions, sid) == ["incomingRequest", "success"]
    finally:
        _Slow.delay = 5.0
        stop(proc)


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL is not under test")
def test_kill_9_loses_nothing(tmp_path):
    database_url, name = _database_url("postgresql", tmp_path)
    env = {"FLOWYARD_LEASE_SECONDS": "2"}
    first, proc1 = start_server(database_url, "postgresql", env)
    env |= {"FLOWYARD_ACCOUNT_SID": first.account_sid, "FLOWYARD_AUTH_TOKEN": first.auth_token}
    second, proc2 = start_server(database_url, "postgresql", env)
    try:
        client = first.client()
        flow_ = client.studio.v2.flows.create(
            friendly_name="t", status="published", definition=ask_flow(timeout="3")
        )
        nodes = [first, second]
        count = 1000
        created: dict[str, str] = {}
        replied: set[str] = set()
        lock = threading.Lock()

        def work(i: int) -> None:
            contact = f"+1555500{i:04d}"
            node = nodes[i % 2]
            for target in (node, first):  # the killed process's clients move to the other
                try:
                    sid = (
                        target.client()
                        .studio.v2.flows(flow_.sid)
                        .executions.create(to=contact, from_=NUMBER)
                        .sid
                    )
                    break
                except Exception:
                    continue
            else:
                return
            with lock:
                created[contact] = sid
            if i % 2:  # every other contact replies; the others wait for their timer
                return
            params = inbound_sms(contact, NUMBER, "hi", first.account_sid)
            for target in (node, first):
                try:
                    url = webhook_url(target.base_url, first.account_sid, flow_.sid)
                    if post_signed(url, first.auth_token, params).status_code == 200:
                        with lock:
                            replied.add(contact)
                        return
                except httpx.TransportError:
                    continue

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(work, i) for i in range(count)]
            while sum(f.done() for f in futures) < count // 3:
                time.sleep(0.05)
            os.kill(proc2.pid, signal.SIGKILL)
            for future in futures:
                future.result()
        executions = client.studio.v2.flows(flow_.sid).executions
        wait_for(lambda: not executions.list(status="active", limit=1), timeout=90)
        names, messages = _steps_and_messages(database_url)
        assert len(created) > count // 2
        for contact, sid in created.items():
            taken = names[sid]
            assert len(taken) == 3 and taken[::2] == ["incomingRequest", "sent"], taken
            if contact in replied and taken[1] == "incomingMessage":
                expected = ["Reply please", "Thanks for hi"]
            else:  # no reply, or one that came after the timer (a new execution's first message)
                assert taken[1] == "timeout", (contact, taken)
                expected = ["Reply please", "Too late"]
            assert sorted(messages.get(contact, [])) == expected, (contact, messages.get(contact))
    finally:
        stop(proc1)
        stop(proc2)
        _drop_database(name)


def _steps_and_messages(database_url: str) -> tuple[dict, dict]:
    """Every execution's step names and every contact's outbound messages, read at once (a
    thousand executions through the API would take minutes on a loaded machine)."""
    db = create_db_engine(database_url)
    names: dict[str, list[str]] = {}
    messages: dict[str, list[str]] = {}
    with db.connect() as conn:
        for sid, name in conn.execute(
            sa.select(tables.steps.c.execution_sid, tables.steps.c.name).order_by(tables.steps.c.id)
        ):
            names.setdefault(sid, []).append(name)
        outbound = sa.select(tables.messages.c.to, tables.messages.c.body).where(
            tables.messages.c.direction != "inbound"
        )
        for to, body in conn.execute(outbound):
            messages.setdefault(to, []).append(body)
    db.dispose()
    return names, messages


def test_a_sprint_the_database_refuses_ends_its_execution(server, client):
    # A 300-character address fits no column on PostgreSQL: the commit would fail every time
    # it was retried, so the execution ends instead of coming back forever.
    definition = flow(
        state(
            "send",
            "send-message",
            [go("sent"), go("failed")],
            body="hi",
            to="{{flow.data.to}}",
            **{"from": NUMBER},
        ),
        rest="send",
    )
    flow_ = client.studio.v2.flows.create(
        friendly_name="t", status="published", definition=definition
    )
    executions = client.studio.v2.flows(flow_.sid).executions
    execution = executions.create(
        to="+15550008888", from_=NUMBER, parameters={"to": "+1" + "5" * 300}
    )
    wait_for(lambda: executions(execution.sid).fetch().status == "ended")
    after = executions.create(to="+15550008889", from_=NUMBER, parameters={"to": "+15550008889"})
    wait_for(lambda: executions(after.sid).fetch().status == "ended")
    assert step_names(executions, after.sid) == ["incomingRequest", "sent"]
    if server.backend == "postgresql":  # SQLite stores the long address: nothing broke there
        (alert,) = client.monitor.v1.alerts.list()
        assert alert.error_code == "84002" and alert.log_level == "error"
        assert f"executionSid={execution.sid}" in alert.alert_text
