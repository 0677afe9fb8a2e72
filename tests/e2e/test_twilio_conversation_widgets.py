"""Start and Resume Conversation on the ``twilio`` platform: the Conversations API in the
widget's service (a stand-in Twilio recording each request), a webhook to Flowyard's flow
webhook for the conversation's messages, the flow's posts made service-scoped; the
participant's signed webhook resumes the execution."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
from twilio.request_validator import RequestValidator

from flowyard.engine.widgets import resume_conversation, start_conversation
from tests.conftest import serving_on_twilio
from tests.e2e.helpers import (
    conversation_message,
    wait_ended,
    wait_for,
    wait_steps,
    webhook_url,
)
from tests.e2e.stub import JsonHandler
from tests.engine.test_conversation_widgets import example

SERVICE = "IS" + "0" * 31 + "1"
EXISTING = "CH" + "7" * 32
ACCOUNT = "AC" + "2" * 32
CUSTOMER = "+15550006666"


def _conversation(sid: str, **fields: object) -> dict:
    return {
        "sid": sid, "account_sid": ACCOUNT, "chat_service_sid": SERVICE,
        "messaging_service_sid": "MG" + "3" * 32, "friendly_name": fields.get("friendly_name"),
        "unique_name": None, "attributes": fields.get("attributes", "{}"), "state": "active",
        "date_created": "2026-11-30T10:00:00Z", "date_updated": "2026-11-30T10:00:00Z",
        "timers": {}, "url": "https://conversations.twilio.com/v1/x", "links": {},
        "bindings": None,
    }  # fmt: skip


def _participant(conversation: str, address: str) -> dict:
    return {
        "sid": "MB" + uuid.uuid5(uuid.NAMESPACE_URL, address).hex, "account_sid": ACCOUNT,
        "chat_service_sid": SERVICE, "conversation_sid": conversation, "identity": None,
        "attributes": "{}", "role_sid": None, "last_read_message_index": None,
        "last_read_timestamp": None, "date_created": "2026-11-30T10:00:00Z",
        "date_updated": "2026-11-30T10:00:00Z", "url": "https://conversations.twilio.com/v1/y",
        "messaging_binding": {"type": "sms", "address": address, "proxy_address": "+15550000001"},
    }  # fmt: skip


class FakeConversations(JsonHandler):
    requests: list[tuple[str, str, dict[str, list[str]]]] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        params = parse_qs(self.rfile.read(length).decode())
        self.requests.append(("POST", self.path, params))
        base = f"/v1/Services/{SERVICE}/Conversations"
        parts = self.path[len(base) :].strip("/").split("/") if self.path.startswith(base) else []
        if parts == [""]:
            sid = "CH" + uuid.uuid4().hex
            self.answer(201, _conversation(sid, friendly_name=params["FriendlyName"][0]))
        elif len(parts) == 1:
            self.answer(200, _conversation(parts[0], attributes=params["Attributes"][0]))
        elif parts[1] == "Participants":
            address = params["MessagingBinding.Address"][0]
            self.answer(201, _participant(parts[0], address))
        elif parts[1] == "Webhooks":
            self.answer(201, {"sid": "WH" + uuid.uuid4().hex, "conversation_sid": parts[0],
                               "target": params["Target"][0]})  # fmt: skip
        elif parts[1] == "Messages":
            posted = {"sid": "IM" + uuid.uuid4().hex, "index": 1, "author": "system",
                      "body": params["Body"][0], "conversation_sid": parts[0]}  # fmt: skip
            self.answer(201, posted)
        else:
            self.answer(404, {"code": 20404, "message": "not found", "status": 404})

    def do_DELETE(self):
        self.requests.append(("DELETE", self.path, {}))
        self.send_response(204)
        self.end_headers()

    def do_GET(self):
        self.requests.append(("GET", self.path, {}))
        base = f"/v1/Services/{SERVICE}/Conversations/{EXISTING}"
        if self.path == base:
            self.answer(200, _conversation(EXISTING))
        elif self.path.startswith(f"{base}/Participants"):
            members = [_participant(EXISTING, CUSTOMER), _participant(EXISTING, "+15550005555")]
            meta = {"page": 0, "page_size": 50, "first_page_url": "https://x/p",
                    "previous_page_url": None, "url": "https://x/p", "next_page_url": None,
                    "key": "participants"}  # fmt: skip
            self.answer(200, {"participants": members, "meta": meta})
        else:
            self.answer(404, {"code": 20404, "message": "not found", "status": 404})


@pytest.fixture
def twilio_server(tmp_path) -> Iterator:
    FakeConversations.requests = []
    with serving_on_twilio(
        FakeConversations,
        tmp_path / "tw.db",
        ACCOUNT,
        FLOWYARD_PUBLIC_URL="https://flows.example.test",
    ) as srv:
        yield srv


def test_start_conversation_through_the_conversations_api(twilio_server):
    client = twilio_server.client()
    flow = client.studio.v2.flows.create(
        friendly_name="tw", status="published", definition=example(start_conversation)
    )
    execution = client.studio.v2.flows(flow.sid).executions.create(
        to=CUSTOMER, from_="+15550000001", parameters={"order": "9"}
    )
    wait_steps(client, flow.sid, execution.sid, 2)
    made = [(m, p) for m, p, _ in FakeConversations.requests]
    created = FakeConversations.requests[0][2]
    assert created["FriendlyName"] == ["Order 9"]
    sid = FakeConversations.requests[1][1].split("/")[5]
    base = f"/v1/Services/{SERVICE}/Conversations"
    assert made == [
        ("POST", base),
        ("POST", f"{base}/{sid}/Participants"),
        ("POST", f"{base}/{sid}/Webhooks"),
        ("POST", f"{base}/{sid}/Messages"),  # Send & Wait posts in the conversation's service
    ]
    member = FakeConversations.requests[1][2]
    assert member["MessagingBinding.Address"] == [CUSTOMER]
    assert member["MessagingBinding.ProxyAddress"] == ["+15550000001"]
    hook = FakeConversations.requests[2][2]
    assert hook["Target"] == ["webhook"] and hook["Configuration.Method"] == ["POST"]
    assert hook["Configuration.Filters"] == ["onMessageAdded"]
    assert hook["Configuration.Url"] == [
        f"https://flows.example.test/v1/Accounts/{client.username}/Flows/{flow.sid}"
    ]
    context = client.studio.v2.flows(flow.sid).executions(execution.sid).execution_context()
    ctx = context.fetch().context
    assert ctx["widgets"]["start"]["conversation"]["sid"] == sid
    assert ctx["flow"]["channel"]["details"]["chat_service_sid"] == SERVICE

    # The participant's message, as Twilio posts it to the webhook the widget registered
    # (signed for the public URL the webhook names).
    url = webhook_url("https://flows.example.test", client.username, flow.sid)
    reply = conversation_message(sid, CUSTOMER, "yes", client.username, 1)
    local = webhook_url(twilio_server.base_url, client.username, flow.sid)
    signature = RequestValidator(client.password).compute_signature(url, reply)
    answer = httpx.post(local, data=reply, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200
    done = wait_ended(client, flow.sid, execution.sid)
    assert done.context["widgets"]["ask"]["inbound"]["Body"] == "yes"
    # Ended: the webhook the widget registered is removed, as Studio removes its own.
    webhook = done.context["widgets"]["start"]["webhook_sid"]
    removed = ("DELETE", f"{base}/{sid}/Webhooks/{webhook}")
    wait_for(lambda: removed in [(m, p) for m, p, _ in FakeConversations.requests])


def test_resume_conversation_through_the_conversations_api(twilio_server):
    client = twilio_server.client()
    definition = example(resume_conversation)
    definition["states"][1]["properties"]["attributes"] = '{"resumed": true}'
    flow = client.studio.v2.flows.create(friendly_name="tw", status="published",
                                         definition=definition)  # fmt: skip
    execution = client.studio.v2.flows(flow.sid).executions.create(
        to=CUSTOMER, from_="+15550000001", parameters={"conversation": EXISTING}
    )
    done = wait_ended(client, flow.sid, execution.sid)
    base = f"/v1/Services/{SERVICE}/Conversations/{EXISTING}"
    webhook = done.context["widgets"]["resume"]["webhook_sid"]
    wait_for(lambda: len(FakeConversations.requests) == 5)
    assert [(m, p.split("?")[0]) for m, p, _ in FakeConversations.requests] == [
        ("POST", base),  # the attributes replaced (the update answers the Conversation)
        ("GET", f"{base}/Participants"),
        ("POST", f"{base}/Webhooks"),
        ("POST", f"{base}/Messages"),
        ("DELETE", f"{base}/Webhooks/{webhook}"),  # the execution ended
    ]
    assert FakeConversations.requests[0][2]["Attributes"] == ['{"resumed": true}']
    resumed = done.context["widgets"]["resume"]["conversation"]
    assert [p["messaging_binding"]["address"] for p in resumed["participants"]] == [
        CUSTOMER,
        "+15550005555",
    ]
    assert done.context["widgets"]["note"]["outbound"]["Body"] == f"Back, {CUSTOMER}"

    missing = client.studio.v2.flows(flow.sid).executions.create(
        to=CUSTOMER, from_="+15550000001", parameters={"conversation": "CH" + "8" * 32}
    )
    ended = wait_ended(client, flow.sid, missing.sid)
    assert ended.context["widgets"]["resume"] == {}
