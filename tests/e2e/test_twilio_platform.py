"""The ``twilio`` platform adapter against a local fake of Twilio's Messages API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import start_server, twilio_platform
from tests.e2e.helpers import (
    conversation_message,
    new_conversation_sid,
    wait_ended,
    wait_for,
    wait_steps,
    webhook_url,
)
from tests.e2e.stub import JsonHandler, serving_http
from tests.flows import flow, go, state

CONTACT, SERVICE = "+15550001111", "MG" + "1" * 32


class FakeTwilio(JsonHandler):
    """Answers ``POST /2010-04-01/Accounts/{AC}/Messages.json`` like Twilio, and records it."""

    received: list[dict[str, list[str]]] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        params = parse_qs(self.rfile.read(length).decode())
        self.received.append({"path": [self.path], **params})
        if self.path.startswith("/v1/Conversations/"):
            self._conversation_message(params)
            return
        if params.get("To") == ["+15550000000"]:
            self.answer(
                400,
                {
                    "code": 21211,
                    "message": "The 'To' number is not valid.",
                    "more_info": "https://www.twilio.com/docs/errors/21211",
                    "status": 400,
                },
            )
            return
        account = self.path.split("/")[3]
        sid = "SM" + uuid.uuid4().hex
        self.answer(
            201,
            {
                "sid": sid,
                "account_sid": account,
                "to": params["To"][0],
                "from": None,
                "messaging_service_sid": params.get("MessagingServiceSid", [None])[0],
                "body": params["Body"][0],
                "status": "accepted",
                "num_segments": "0",
                "num_media": "0",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "date_created": "Thu, 26 Nov 2026 10:00:00 +0000",
                "error_code": None,
                "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            },
        )

    def _conversation_message(self, params: dict[str, list[str]]) -> None:
        """``POST /v1/Conversations/{CH}/Messages`` as the Conversations API answers it."""
        conversation = self.path.split("/")[3]
        sid = "IM" + uuid.uuid4().hex
        self.answer(
            201,
            {
                "sid": sid,
                "account_sid": "AC" + "2" * 32,
                "conversation_sid": conversation,
                "index": 7,
                "author": params.get("Author", ["system"])[0],
                "body": params["Body"][0],
                "media": None,
                "attributes": "{}",
                "participant_sid": None,
                "date_created": "2026-11-26T10:00:00Z",
                "date_updated": "2026-11-26T10:00:00Z",
                "url": f"https://conversations.twilio.com/v1/Conversations/{conversation}/Messages/{sid}",
                "delivery": None,
                "links": {},
                "content_sid": None,
            },
        )


@pytest.fixture
def fake_twilio() -> Iterator[str]:
    FakeTwilio.received = []
    with serving_http(FakeTwilio) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def twilio_server(fake_twilio, tmp_path):
    public = "http://flows.example.test"
    srv, proc = start_server(
        f"sqlite:///{tmp_path / 'tw.db'}",
        "sqlite",
        twilio_platform(fake_twilio, FLOWYARD_PUBLIC_URL=public),
    )
    yield srv, public
    proc.terminate()
    proc.wait(10)


def test_messages_go_through_the_messages_api_with_status_callbacks(twilio_server):
    server, public = twilio_server
    client = server.client()
    definition = flow(
        state(
            "ask",
            "send-and-wait-for-reply",
            [go("incomingMessage"), go("timeout"), go("deliveryFailure", "note")],
            body="Hello {{flow.data.name}}",
            timeout="3600",
            **{"from": SERVICE},
        ),
        state(
            "note",
            "set-variables",
            [go("next")],
            variables=[{"key": "why", "value": "{{widgets.ask.ErrorCode}}"}],
        ),
        rest="ask",
    )
    flow_ = client.studio.v2.flows.create(
        friendly_name="tw", status="published", definition=definition
    )
    execution = client.studio.v2.flows(flow_.sid).executions.create(
        to=CONTACT, from_=SERVICE, parameters={"name": "Zeke"}
    )
    wait_steps(client, flow_.sid, execution.sid, 1)  # the message is out, the flow waits
    (sent,) = FakeTwilio.received
    assert sent["path"] == [f"/2010-04-01/Accounts/{'AC' + '2' * 32}/Messages.json"]
    assert sent["To"] == [CONTACT] and sent["Body"] == ["Hello Zeke"]
    assert sent["MessagingServiceSid"] == [SERVICE]
    callback = sent["StatusCallback"][0]
    assert callback == (
        f"{public}/v1/Accounts/{server.account_sid}/Flows/{flow_.sid}?executionSid={execution.sid}"
    )
    ctx = client.studio.v2.flows(flow_.sid).executions(execution.sid).execution_context().fetch()
    outbound = ctx.context["widgets"]["ask"]["outbound"]
    assert outbound["Status"] == "accepted" and outbound["Sid"].startswith("SM")

    # Twilio calls back on the public URL it was given; the server sits behind it.
    local = webhook_url(server.base_url, server.account_sid, flow_.sid)
    params = {
        "MessageSid": outbound["Sid"],
        "MessageStatus": "failed",
        "ErrorCode": "21610",
        "To": CONTACT,
        "AccountSid": server.account_sid,
    }
    signature = RequestValidator(server.auth_token).compute_signature(callback, params)
    response = httpx.post(
        f"{local}?executionSid={execution.sid}",
        data=params,
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 200
    done = wait_ended(client, flow_.sid, execution.sid)
    assert done.context["flow"]["variables"] == {"why": "21610"}


def test_an_api_error_fails_the_widget(twilio_server):
    server, _ = twilio_server
    client = server.client()
    definition = flow(
        state(
            "send",
            "send-message",
            [go("sent"), go("failed", "note")],
            body="hi",
            to="+15550000000",
            **{"from": "+15559990000"},
        ),
        state(
            "note", "set-variables", [go("next", "dial")], variables=[{"key": "f", "value": "y"}]
        ),
        state(
            "dial",
            "make-outgoing-call-v2",
            [go("answered"), go("failed")],
            to="+15550000000",
            **{"from": "+15559990000"},
        ),
        rest="send",
    )
    flow_ = client.studio.v2.flows.create(
        friendly_name="tw", status="published", definition=definition
    )
    execution = client.studio.v2.flows(flow_.sid).executions.create(
        to="+15550000000", from_="+15559990000"
    )
    wait_ended(client, flow_.sid, execution.sid)
    steps = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()
    assert ("send", "failed", "note") in [
        (s.transitioned_from, s.name, s.transitioned_to) for s in steps
    ]
    assert ("dial", "failed") in [(s.transitioned_from, s.name) for s in steps]
    # Twilio's refusal is the alert, with Twilio's code, for the message and for the call.
    client.monitor.base_url = server.base_url
    alerts = {
        parse_qs(a.alert_text)["widgetName"][0]: a.error_code
        for a in client.monitor.v1.alerts.list()
        if f"executionSid={execution.sid}" in a.alert_text
    }
    assert alerts == {"send": "21211", "dial": "21211"}


def test_a_conversation_reply_goes_through_the_conversations_api(twilio_server):
    server, public = twilio_server
    client = server.client()
    definition = flow(
        state(
            "greet",
            "send-message",
            [go("sent"), go("failed")],
            body="Ahoy {{trigger.conversation.From}}",
            to="{{contact.channel.address}}",
            **{"from": "{{flow.channel.address}}"},
        ),
        conversation="greet",
    )
    flow_ = client.studio.v2.flows.create(
        friendly_name="tw", status="published", definition=definition
    )
    conversation = new_conversation_sid()
    params = conversation_message(conversation, CONTACT, "hi", server.account_sid)
    # Twilio signs the public URL it was given; the server sits behind it.
    signed = webhook_url(public, server.account_sid, flow_.sid)
    signature = RequestValidator(server.auth_token).compute_signature(signed, params)
    response = httpx.post(
        webhook_url(server.base_url, server.account_sid, flow_.sid),
        data=params,
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 200
    (execution,) = wait_for(lambda: client.studio.v2.flows(flow_.sid).executions.list())
    done = wait_ended(client, flow_.sid, execution.sid)
    (posted,) = FakeTwilio.received
    assert posted["path"] == [f"/v1/Conversations/{conversation}/Messages"]
    assert posted["Author"] == ["system"] and posted["Body"] == [f"Ahoy {CONTACT}"]
    outbound = done.context["widgets"]["greet"]["outbound"]
    assert outbound["Sid"].startswith("IM") and outbound["Index"] == 7
    assert outbound["ConversationSid"] == conversation
    # Recorded locally too: the conversation as Flowyard saw it.
    said = client.conversations.v1.conversations(conversation).messages.list()
    assert [(m.author, m.body) for m in said] == [(CONTACT, "hi"), ("system", f"Ahoy {CONTACT}")]
