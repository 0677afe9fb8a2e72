"""Start Conversation and Resume Conversation through ``flowyard serve`` on the local platform
(both backends): a REST execution (official SDK) creates or attaches a conversation, posts
into it, is resumed by the participant's signed ``onMessageAdded`` webhook, and the
conversation, its participants and messages read back through the SDK's Conversations client
and at the service-scoped paths, checked against the Conversations spec; another account sees
none of it; after the end the conversation's messages start nothing."""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import httpx

from flowyard.engine.widgets import resume_conversation, start_conversation
from tests import spec
from tests.e2e.helpers import (
    conversation_message,
    new_conversation_sid,
    post_signed,
    wait_ended,
    wait_for,
    wait_steps,
    webhook_url,
)
from tests.engine.test_conversation_widgets import example

CUSTOMER = "+15550007777"
SERVICE = "IS" + "0" * 31 + "1"  # the examples' Conversation Service
HEARD_IN = "IS" + "0" * 32  # tests.e2e.helpers.conversation_message's ChatServiceSid


def _paths(http: httpx.Client, prefix: str, conversation: str, message: str, member: str):
    """Every Conversations read of ``conversation``, spec-checked; the bodies."""
    scoped = "/v1/Services/{ChatServiceSid}" if prefix.startswith("/v1/Services") else "/v1"
    base = f"{prefix}/Conversations/{conversation}"
    return [
        spec.check(http.get(path), template)
        for path, template in (
            (base, f"{scoped}/Conversations/{{Sid}}"),
            (f"{base}/Messages", f"{scoped}/Conversations/{{ConversationSid}}/Messages"),
            (f"{base}/Messages/{message}",
             f"{scoped}/Conversations/{{ConversationSid}}/Messages/{{Sid}}"),
            (f"{base}/Participants", f"{scoped}/Conversations/{{ConversationSid}}/Participants"),
            (f"{base}/Participants/{member}",
             f"{scoped}/Conversations/{{ConversationSid}}/Participants/{{Sid}}"),
        )
    ]  # fmt: skip


def test_start_conversation_posts_into_it_and_its_reply_resumes(server, client):
    flow = client.studio.v2.flows.create(
        friendly_name="start", status="published", definition=example(start_conversation)
    )
    execution = client.studio.v2.flows(flow.sid).executions.create(
        to=CUSTOMER, from_="+15550000001", parameters={"order": "42"}
    )
    wait_steps(client, flow.sid, execution.sid, 2)
    context = client.studio.v2.flows(flow.sid).executions(execution.sid).execution_context()
    ctx = context.fetch().context
    found = ctx["widgets"]["start"]["conversation"]
    sid = found["sid"]
    member = found["participants"][0]
    assert member["messaging_binding"]["address"] == CUSTOMER
    assert ctx["flow"]["channel"]["sid"] == sid
    assert ctx["flow"]["channel"]["type"] == "conversation"
    assert ctx["widgets"]["ask"]["outbound"]["ConversationSid"] == sid

    conversations = client.conversations.v1.conversations(sid)
    fetched = conversations.fetch()
    assert fetched.chat_service_sid == SERVICE and fetched.friendly_name == "Order 42"
    (participant,) = conversations.participants.list()
    assert participant.messaging_binding["address"] == CUSTOMER
    (posted,) = conversations.messages.list()
    assert (posted.author, posted.body, posted.index) == ("system", "Is order 42 right?", 0)

    http = httpx.Client(base_url=server.base_url, auth=(client.username, client.password))
    unscoped = _paths(http, "/v1", sid, posted.sid, member["sid"])
    scoped = _paths(http, f"/v1/Services/{SERVICE}", sid, posted.sid, member["sid"])
    assert scoped[0]["url"].endswith(f"/v1/Services/{SERVICE}/Conversations/{sid}")
    assert scoped[1]["messages"][0]["chat_service_sid"] == SERVICE
    assert scoped[3]["participants"][0]["chat_service_sid"] == SERVICE
    assert [m["sid"] for m in scoped[1]["messages"]] == [m["sid"] for m in unscoped[1]["messages"]]
    # Another service, another account: nothing.
    other = f"/v1/Services/IS{'9' * 32}/Conversations/{sid}"
    assert http.get(other).status_code == 404
    assert http.get(f"{other}/Messages").status_code == 404
    stranger = server.new_client()
    peek = httpx.Client(base_url=server.base_url, auth=(stranger.username, stranger.password))
    for path in (f"/v1/Conversations/{sid}", f"/v1/Conversations/{sid}/Messages/{posted.sid}",
                 f"/v1/Services/{SERVICE}/Conversations/{sid}",
                 f"/v1/Services/{SERVICE}/Conversations/{sid}/Messages",
                 f"/v1/Services/{SERVICE}/Conversations/{sid}/Participants"):  # fmt: skip
        assert peek.get(path).status_code == 404, path
    # Unscoped lists answer empty, as the existing Messages list does for an unknown one.
    assert peek.get(f"/v1/Conversations/{sid}/Messages").json()["messages"] == []
    assert peek.get(f"/v1/Conversations/{sid}/Participants").json()["participants"] == []

    # The participant answers in the conversation: Twilio posts it to the flow webhook.
    url = webhook_url(server.base_url, client.username, flow.sid)
    reply = conversation_message(sid, CUSTOMER, "yes", client.username, 1)
    assert post_signed(url, client.password, reply).status_code == 200
    done = wait_ended(client, flow.sid, execution.sid)
    assert done.context["widgets"]["ask"]["inbound"]["Body"] == "yes"
    # Over: the conversation's messages start nothing (Studio removes its webhook).
    late = conversation_message(sid, CUSTOMER, "hello again", client.username, 2)
    assert post_signed(url, client.password, late).status_code == 200
    time.sleep(1.0)
    assert len(client.studio.v2.flows(flow.sid).executions.list()) == 1


def test_start_conversation_refused_takes_failed(server, client):
    definition = example(start_conversation)
    definition["states"][1]["properties"]["participants"] = [
        {"type": "sms", "messaging_binding_address": "{{contact.channel.address}}"}
    ]
    flow = client.studio.v2.flows.create(friendly_name="bad", status="published",
                                         definition=definition)  # fmt: skip
    execution = client.studio.v2.flows(flow.sid).executions.create(
        to=CUSTOMER, from_="+15550000001", parameters={"order": "1"}
    )
    done = wait_ended(client, flow.sid, execution.sid)
    assert done.context["widgets"]["start"] == {}
    steps = client.studio.v2.flows(flow.sid).executions(execution.sid).steps.list()
    assert [(s.transitioned_from, s.name) for s in reversed(steps)] == [
        ("Trigger", "incomingRequest"),
        ("start", "failed"),
    ]
    alerts = wait_for(lambda: client.monitor.v1.alerts.list())
    (alert,) = [a for a in alerts if a.resource_sid == flow.sid]
    assert alert.error_code == "50412"
    assert "Participant proxy address is empty" in parse_qs(alert.alert_text)["Msg"][0]


def test_resume_conversation_attaches_a_conversation_heard_before(server, client):
    # A conversation the flow webhook heard of (a contact's message on another flow).
    listener = client.studio.v2.flows.create(
        friendly_name="listener", status="published",
        definition=example(start_conversation) | {"states": [
            {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
             "transitions": [{"event": "incomingConversationMessage"}]}]},
    )  # fmt: skip
    conversation = new_conversation_sid()
    heard = conversation_message(conversation, CUSTOMER, "anyone?", client.username, 0)
    listen_url = webhook_url(server.base_url, client.username, listener.sid)
    assert post_signed(listen_url, client.password, heard).status_code == 200
    wait_for(lambda: client.studio.v2.flows(listener.sid).executions.list())

    definition = example(resume_conversation)
    definition["states"][1]["properties"]["conversation_service_sid"] = HEARD_IN
    definition["states"][2] = {
        "name": "note", "type": "send-and-wait-for-reply",
        "properties": {"body": "Back, {{widgets.resume.conversation.participants[0]"
                                ".messaging_binding.address}}",
                       "from": "{{flow.channel.address}}", "timeout": "3600",
                       "offset": {"x": 0, "y": 400}},
        "transitions": [{"event": "incomingMessage"}, {"event": "timeout"},
                        {"event": "deliveryFailure"}],
    }  # fmt: skip
    flow = client.studio.v2.flows.create(friendly_name="resume", status="published",
                                         definition=definition)  # fmt: skip
    execution = client.studio.v2.flows(flow.sid).executions.create(
        to="+15550008888", from_="+15550000001", parameters={"conversation": conversation}
    )
    wait_steps(client, flow.sid, execution.sid, 2)
    said = wait_for(
        lambda: (
            len(m := client.conversations.v1.conversations(conversation).messages.list()) == 2 and m
        )
    )
    assert [(m.index, m.author, m.body) for m in said] == [
        (0, CUSTOMER, "anyone?"),
        (1, "system", f"Back, {CUSTOMER}"),
    ]
    # The conversation's next message resumes the execution that attached it.
    url = webhook_url(server.base_url, client.username, flow.sid)
    reply = conversation_message(conversation, CUSTOMER, "here", client.username, 2)
    assert post_signed(url, client.password, reply).status_code == 200
    done = wait_ended(client, flow.sid, execution.sid)
    assert done.context["widgets"]["note"]["inbound"]["Body"] == "here"
    assert done.context["widgets"]["resume"]["conversation"]["chat_service_sid"] == HEARD_IN
    http = httpx.Client(base_url=server.base_url, auth=(client.username, client.password))
    body = spec.check(
        http.get(f"/v1/Services/{HEARD_IN}/Conversations/{conversation}"),
        "/v1/Services/{ChatServiceSid}/Conversations/{Sid}",
    )
    assert body["sid"] == conversation

    # An unknown conversation: failed, no outputs.
    missing = client.studio.v2.flows(flow.sid).executions.create(
        to="+15550009999", from_="+15550000001", parameters={"conversation": new_conversation_sid()}
    )
    ended = wait_ended(client, flow.sid, missing.sid)
    assert ended.context["widgets"]["resume"] == {}
