"""Executions end to end: the official SDK, signed webhooks, a real server per backend."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from tests.e2e.helpers import (
    inbound_sms,
    post_signed,
    wait_ended,
    wait_messages,
    wait_steps,
    webhook_url,
)
from tests.flows import flow, go, match, state

CONTACT, NUMBER = "+15550001111", "+15559990000"


def create(client, definition, status="published"):
    return client.studio.v2.flows.create(friendly_name="t", status=status, definition=definition)


def steps_of(client, flow_sid, execution_sid):
    steps = client.studio.v2.flows(flow_sid).executions(execution_sid).steps.list()
    return [(s.transitioned_from, s.name, s.transitioned_to) for s in reversed(steps)]


def context_of(client, flow_sid, execution_sid):
    return (
        client.studio.v2.flows(flow_sid)
        .executions(execution_sid)
        .execution_context()
        .fetch()
        .context
    )


CONVERSATION = flow(
    state(
        "ask",
        "send-and-wait-for-reply",
        [
            go("incomingMessage", "check"),
            go("timeout", "late"),
            go("deliveryFailure", "failed"),
        ],
        body="Hi {{flow.data.name}}, yes or no?",
        **{"from": "{{flow.channel.address}}"},
        timeout="3600",
    ),
    state(
        "check",
        "split-based-on",
        [
            go("noMatch", "what"),
            match("thanks", "equal_to", "yes", "{{widgets.ask.inbound.Body}}"),
        ],
        input="{{widgets.ask.inbound.Body}}",
    ),
    state(
        "what",
        "send-message",
        [go("sent"), go("failed")],
        body="Sorry?",
        **{"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"},
    ),
    state(
        "thanks",
        "send-message",
        [go("sent"), go("failed")],
        body="Thanks {{flow.data.name}}, you said {{widgets.ask.inbound.Body}}",
        **{"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"},
    ),
    state(
        "late", "set-variables", [go("next")], variables=[{"key": "outcome", "value": "timed out"}]
    ),
    state(
        "failed",
        "set-variables",
        [go("next")],
        variables=[{"key": "outcome", "value": "{{widgets.ask.ErrorCode}}"}],
    ),
    rest="ask",
)


def test_rest_execution_runs_a_conversation_through_the_webhook(server, client):
    flow_ = create(client, CONVERSATION)
    execution = client.studio.v2.flows(flow_.sid).executions.create(
        to=CONTACT, from_=NUMBER, parameters={"name": "Zeke"}
    )
    # Answered as Studio does: stored and active, the flow not run yet.
    assert execution.status == "active" and execution.context == {}
    assert execution.contact_channel_address == CONTACT
    assert execution.flow_version == 1
    wait_steps(client, flow_.sid, execution.sid, 1)
    ctx = context_of(client, flow_.sid, execution.sid)
    assert ctx["flow"]["data"] == {"name": "Zeke"}
    assert ctx["trigger"]["request"] == {
        "to": CONTACT,
        "from": NUMBER,
        "parameters": {"name": "Zeke"},
    }
    assert ctx["flow"]["sid"] == execution.sid and ctx["flow"]["flow_sid"] == flow_.sid
    assert ctx["contact"]["channel"]["address"] == CONTACT
    assert ctx["widgets"]["ask"]["outbound"]["Body"] == "Hi Zeke, yes or no?"

    account = client.username
    token = client.password
    url = webhook_url(server.base_url, account, flow_.sid)
    response = post_signed(url, token, inbound_sms(CONTACT, NUMBER, " YES ", account))
    assert response.status_code == 200
    assert "<Response" in response.text

    wait_ended(client, flow_.sid, execution.sid)
    assert steps_of(client, flow_.sid, execution.sid) == [
        ("Trigger", "incomingRequest", "ask"),
        ("ask", "incomingMessage", "check"),
        ("check", "match", "thanks"),
        ("thanks", "sent", "Ended"),
    ]
    ctx = context_of(client, flow_.sid, execution.sid)
    assert ctx["widgets"]["ask"]["inbound"]["Body"] == " YES "
    assert ctx["widgets"]["check"] == {}
    bodies = [m.body for m in wait_messages(client, CONTACT, 2)]
    assert bodies[0] == "Thanks Zeke, you said  YES "
    assert "Hi Zeke, yes or no?" in bodies


def test_step_context_is_the_context_after_that_step(client):
    flow_ = create(client, CONVERSATION)
    execution = client.studio.v2.flows(flow_.sid).executions.create(
        to=CONTACT, from_=NUMBER, parameters={"name": "Ann"}
    )
    steps = wait_steps(client, flow_.sid, execution.sid, 1)
    assert len(steps) == 1
    step = steps[0]
    assert step.name == "incomingRequest" and step.type == "trigger"
    fetched = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps(step.sid)
    step_ctx = fetched.step_context().fetch()
    assert step_ctx.step_sid == step.sid
    assert step_ctx.context["flow"]["data"] == {"name": "Ann"}


def test_wrong_signature_is_refused_and_changes_nothing(server, client):
    flow_ = create(client, CONVERSATION)
    execution = client.studio.v2.flows(flow_.sid).executions.create(to=CONTACT, from_=NUMBER)
    wait_steps(client, flow_.sid, execution.sid, 1)  # waiting for the reply
    url = webhook_url(server.base_url, client.username, flow_.sid)
    response = post_signed(
        url, "not-the-token", inbound_sms(CONTACT, NUMBER, "yes", client.username)
    )
    assert response.status_code == 403
    assert response.json()["code"] == 20003
    unsigned = httpx.post(url, data=inbound_sms(CONTACT, NUMBER, "yes", client.username))
    assert unsigned.status_code == 403
    assert client.studio.v2.flows(flow_.sid).executions(execution.sid).fetch().status == "active"
    assert len(client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()) == 1


def test_reply_timeout_fires(client):
    definition = json.loads(json.dumps(CONVERSATION))
    definition["states"][1]["properties"]["timeout"] = "1"
    flow_ = create(client, definition)
    execution = client.studio.v2.flows(flow_.sid).executions.create(to=CONTACT, from_=NUMBER)
    wait_ended(client, flow_.sid, execution.sid)
    assert steps_of(client, flow_.sid, execution.sid)[1:] == [
        ("ask", "timeout", "late"),
        ("late", "next", "Ended"),
    ]
    assert context_of(client, flow_.sid, execution.sid)["flow"]["variables"] == {
        "outcome": "timed out"
    }


def test_delivery_failure_takes_its_transition(server, client):
    flow_ = create(client, CONVERSATION)
    execution = client.studio.v2.flows(flow_.sid).executions.create(to=CONTACT, from_=NUMBER)
    wait_steps(client, flow_.sid, execution.sid, 1)
    outbound = context_of(client, flow_.sid, execution.sid)["widgets"]["ask"]["outbound"]
    url = webhook_url(server.base_url, client.username, flow_.sid)
    response = post_signed(
        url,
        client.password,
        {
            "MessageSid": outbound["Sid"],
            "SmsSid": outbound["Sid"],
            "MessageStatus": "undelivered",
            "SmsStatus": "undelivered",
            "ErrorCode": "30003",
            "To": CONTACT,
            "From": NUMBER,
            "AccountSid": client.username,
            "ApiVersion": "2010-04-01",
        },
    )
    assert response.status_code == 200
    wait_ended(client, flow_.sid, execution.sid)
    ctx = context_of(client, flow_.sid, execution.sid)
    assert ctx["widgets"]["ask"]["MessageStatus"] == "undelivered"
    assert ctx["flow"]["variables"] == {"outcome": "30003"}
    assert client.messages(outbound["Sid"]).fetch().status == "undelivered"


def test_one_active_execution_per_contact(client):
    flow_ = create(client, CONVERSATION)
    first = client.studio.v2.flows(flow_.sid).executions.create(to=CONTACT, from_=NUMBER)
    with pytest.raises(TwilioRestException) as info:
        client.studio.v2.flows(flow_.sid).executions.create(to=CONTACT, from_=NUMBER)
    assert info.value.status == 409 and info.value.code == 20409
    assert info.value.details == {"conflicting_execution_sid": first.sid}
    # v1 answers with the execution that is already active.
    again = client.studio.v1.flows(flow_.sid).executions.create(to=CONTACT, from_=NUMBER)
    assert again.sid == first.sid
    # Another contact is free.
    other = client.studio.v2.flows(flow_.sid).executions.create(to="+15550002222", from_=NUMBER)
    assert other.sid != first.sid


def test_end_then_delete_an_execution(client):
    flow_ = create(client, CONVERSATION)
    executions = client.studio.v2.flows(flow_.sid).executions
    execution = executions.create(to=CONTACT, from_=NUMBER)
    ended = executions(execution.sid).update(status="ended")
    assert ended.status == "ended"
    # The contact may start again once the first one ended.
    second = executions.create(to=CONTACT, from_=NUMBER)
    assert [e.sid for e in executions.list(status="active")] == [second.sid]
    assert [e.sid for e in executions.list(status="ended")] == [execution.sid]
    assert executions(execution.sid).delete() is True
    with pytest.raises(TwilioRestException) as info:
        executions(execution.sid).fetch()
    assert info.value.status == 404 and info.value.code == 20404
    # A failing list raises the SDK's base TwilioException (it reads pages differently).
    with pytest.raises(TwilioException, match="Unable to fetch page"):
        executions(execution.sid).steps.list()


def test_inbound_message_starts_an_execution(server, client):
    definition = flow(
        state(
            "echo",
            "send-message",
            [go("sent"), go("failed")],
            body="You said {{trigger.message.Body}}",
            **{"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"},
        ),
        message="echo",
    )
    flow_ = create(client, definition)
    url = webhook_url(server.base_url, client.username, flow_.sid)
    response = post_signed(
        url, client.password, inbound_sms(CONTACT, NUMBER, "hello", client.username)
    )
    assert response.status_code == 200
    # The message is stored with the execution it started, which runs after.
    (execution,) = client.studio.v2.flows(flow_.sid).executions.list()
    wait_ended(client, flow_.sid, execution.sid)
    ctx = context_of(client, flow_.sid, execution.sid)
    assert ctx["trigger"]["message"]["Body"] == "hello"
    assert ctx["contact"]["channel"]["address"] == CONTACT
    assert ctx["flow"]["channel"]["address"] == NUMBER
    assert wait_messages(client, CONTACT, 1)[0].body == "You said hello"


def test_draft_runs_only_for_test_users(client):
    flow_ = create(client, CONVERSATION, status="draft")
    executions = client.studio.v2.flows(flow_.sid).executions
    with pytest.raises(TwilioRestException) as info:
        executions.create(to=CONTACT, from_=NUMBER)
    assert info.value.status == 400
    client.studio.v2.flows(flow_.sid).test_users().update(test_users=[CONTACT])
    execution = executions.create(to=CONTACT, from_=NUMBER)
    assert execution.flow_version == 1


class _Api(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"greeting": "hi", "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length).decode()
        self.send_response(500)
        body = json.dumps({"error": "boom", "received": received}).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_http_request_success_and_failure(client, api_url):
    definition = flow(
        state(
            "get",
            "make-http-request",
            [go("success", "post"), go("failed")],
            method="GET",
            url=api_url + "/hello?who={{flow.data.who}}",
            content_type="application/x-www-form-urlencoded;charset=utf-8",
        ),
        state(
            "post",
            "make-http-request",
            [go("success"), go("failed", "note")],
            method="POST",
            url=api_url + "/fail",
            content_type="application/json;charset=utf-8",
            body='{"greeting": "{{widgets.get.parsed.greeting}}"}',
        ),
        state(
            "note",
            "set-variables",
            [go("next")],
            variables=[{"key": "status", "value": "{{widgets.post.status_code}}"}],
        ),
        rest="get",
    )
    flow_ = create(client, definition)
    execution = client.studio.v2.flows(flow_.sid).executions.create(
        to=CONTACT, from_=NUMBER, parameters={"who": "ann"}
    )
    assert execution.status == "active" and execution.context == {}
    wait_ended(client, flow_.sid, execution.sid)
    ctx = context_of(client, flow_.sid, execution.sid)
    assert ctx["widgets"]["get"]["status_code"] == 200
    assert ctx["widgets"]["get"]["parsed"] == {"greeting": "hi", "path": "/hello?who=ann"}
    assert ctx["widgets"]["post"]["status_code"] == 500
    assert json.loads(ctx["widgets"]["post"]["parsed"]["received"]) == {"greeting": "hi"}
    assert ctx["flow"]["variables"]["status"] in ("500", 500)


def test_subflow_runs_inside_the_parent_execution(client):
    child = create(
        client,
        flow(
            state(
                "remember",
                "set-variables",
                [go("next")],
                variables=[{"key": "answer", "value": "{{trigger.parent.parameters.q}}!"}],
            ),
            parent="remember",
        ),
    )
    parent = create(
        client,
        flow(
            state(
                "sub",
                "run-subflow",
                [go("completed", "after"), go("failed")],
                flow_sid=child.sid,
                flow_revision="LatestPublished",
                parameters=[{"key": "q", "value": "{{flow.data.q}}"}],
            ),
            state(
                "after",
                "set-variables",
                [go("next")],
                variables=[{"key": "got", "value": "{{widgets.sub.answer}}"}],
            ),
            rest="sub",
        ),
    )
    execution = client.studio.v2.flows(parent.sid).executions.create(
        to=CONTACT, from_=NUMBER, parameters={"q": "42"}
    )
    assert execution.status == "active"
    wait_ended(client, parent.sid, execution.sid)
    ctx = context_of(client, parent.sid, execution.sid)
    assert ctx["widgets"]["sub"]["answer"] == "42!"
    assert ctx["flow"]["variables"] == {"got": "42!"}
    steps = client.studio.v2.flows(parent.sid).executions(execution.sid).steps.list()
    inner = [s for s in steps if s.parent_step_sid]
    assert inner and all(s.transitioned_from in ("Trigger", "remember") for s in inner)


def test_unknown_flow_and_bad_parameters(client):
    with pytest.raises(TwilioRestException) as info:
        client.studio.v2.flows("FW" + "0" * 32).executions.create(to=CONTACT, from_=NUMBER)
    assert info.value.status == 404 and info.value.code == 20404
    flow_ = create(client, CONVERSATION)
    with pytest.raises(TwilioRestException) as info:
        client.studio.v2.flows(flow_.sid).executions.create(
            to=CONTACT, from_=NUMBER, parameters="{not json"
        )
    assert info.value.status == 400 and info.value.code == 20001
    assert client.studio.v2.flows(flow_.sid).executions.list() == []


def test_a_new_publication_is_run_by_the_next_execution(client, api_url):
    # The server may keep a flow's row between creates (PostgreSQL): a publication, a draft
    # and a test user change in between must each be seen by the next execution, whether it
    # commits in-process or claims its slot first (before an HTTP call leaves the process).
    def definition(value: str, with_http: bool) -> dict:
        first = "get" if with_http else "note"
        return flow(
            state(
                "get",
                "make-http-request",
                [go("success", "note"), go("failed", "note")],
                method="GET",
                url=api_url + "/ping",
                content_type="application/x-www-form-urlencoded;charset=utf-8",
            ),
            state("note", "set-variables", [go("next")], variables=[{"key": "v", "value": value}]),
            rest=first,
        )

    for with_http in (False, True):
        flow_ = create(client, definition("one", with_http))
        executions = client.studio.v2.flows(flow_.sid).executions
        first = executions.create(to="+15550000001", from_=NUMBER)
        wait_ended(client, flow_.sid, first.sid)
        assert context_of(client, flow_.sid, first.sid)["flow"]["variables"]["v"] == "one"

        client.studio.v2.flows(flow_.sid).update(
            status="published", definition=definition("two", with_http)
        )
        second = executions.create(to="+15550000002", from_=NUMBER)
        assert second.flow_version == 2
        wait_ended(client, flow_.sid, second.sid)
        assert context_of(client, flow_.sid, second.sid)["flow"]["variables"]["v"] == "two"

        client.studio.v2.flows(flow_.sid).update(
            status="draft", definition=definition("three", with_http)
        )
        client.studio.v2.flows(flow_.sid).test_users().update(test_users=["+15550000003"])
        tester = executions.create(to="+15550000003", from_=NUMBER)
        other = executions.create(to="+15550000004", from_=NUMBER)
        assert (tester.flow_version, other.flow_version) == (3, 2)
        wait_ended(client, flow_.sid, tester.sid)
        wait_ended(client, flow_.sid, other.sid)
        assert context_of(client, flow_.sid, other.sid)["flow"]["variables"]["v"] == "two"
        assert context_of(client, flow_.sid, tester.sid)["flow"]["variables"]["v"] == "three"
