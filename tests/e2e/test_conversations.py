"""The Conversations channel through ``flowyard serve`` (issue 12, row 1): a signed
``onMessageAdded`` webhook starts ``incomingConversationMessage``, the flow's messages are
posted into the conversation (read back with the SDK's Conversations client and checked
against the Conversations spec), the next message in the conversation resumes Send & Wait,
replays and the flow's own messages change nothing."""

from __future__ import annotations

import time

import httpx

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
from tests.flows import flow, go, match, state

CUSTOMER = "+15550003333"

BOT = flow(
    state(
        "ask",
        "send-and-wait-for-reply",
        [go("incomingMessage", "route"), go("timeout"), go("deliveryFailure")],
        body="Hi {{trigger.conversation.From}}, sales or support?",
        **{"from": "{{flow.channel.address}}"},
        timeout="3600",
    ),
    state(
        "route",
        "split-based-on",
        [go("noMatch", "ask"), match("done", "contains", "sales", "{{widgets.ask.inbound.Body}}")],
        input="{{widgets.ask.inbound.Body}}",
    ),
    state(
        "done",
        "send-message",
        [go("sent"), go("failed")],
        body="Sales it is ({{trigger.conversation.ConversationSid}})",
        to="{{contact.channel.address}}",
        **{"from": "{{flow.channel.address}}"},
    ),
    conversation="ask",
)


def _posts(client, conversation_sid, count):
    messages = client.conversations.v1.conversations(conversation_sid).messages
    return wait_for(lambda: (found := messages.list()) and len(found) >= count and found)


def test_a_conversation_starts_replies_in_it_and_resumes_on_the_next_message(server, client):
    flow_ = client.studio.v2.flows.create(friendly_name="conv", status="published", definition=BOT)
    url = webhook_url(server.base_url, client.username, flow_.sid)
    conversation = new_conversation_sid()
    first = conversation_message(conversation, CUSTOMER, "hello", client.username, 0)
    assert post_signed(url, client.password, first).status_code == 200

    (execution,) = wait_for(lambda: client.studio.v2.flows(flow_.sid).executions.list())
    assert execution.contact_channel_address == CUSTOMER
    wait_steps(client, flow_.sid, execution.sid, 1)
    said = _posts(client, conversation, 2)
    assert [(m.index, m.author, m.body) for m in said] == [
        (0, CUSTOMER, "hello"),
        (1, "system", f"Hi {CUSTOMER}, sales or support?"),
    ]
    assert said[1].participant_sid is None and said[1].sid.startswith("IM")
    fetched = client.conversations.v1.conversations(conversation).messages(said[1].sid).fetch()
    assert fetched.body == said[1].body
    http = httpx.Client(base_url=server.base_url, auth=(client.username, client.password))
    spec.check(
        http.get(f"/v1/Conversations/{conversation}/Messages"),
        "/v1/Conversations/{ConversationSid}/Messages",
    )
    spec.check(
        http.get(f"/v1/Conversations/{conversation}/Messages/{said[1].sid}"),
        "/v1/Conversations/{ConversationSid}/Messages/{Sid}",
    )

    # Twilio tells the flow about its own post too: that is not the contact answering.
    echo = conversation_message(conversation, "system", said[1].body, client.username, 1)
    echo["MessageSid"] = said[1].sid
    assert post_signed(url, client.password, echo).status_code == 200
    # A replay of the first message neither starts another execution nor resumes this one.
    assert post_signed(url, client.password, first).status_code == 200
    time.sleep(1.0)
    context = client.studio.v2.flows(flow_.sid).executions(execution.sid).execution_context()
    assert context.fetch().context["widgets"]["ask"].get("inbound") is None
    assert len(client.studio.v2.flows(flow_.sid).executions.list()) == 1

    reply = conversation_message(conversation, CUSTOMER, "sales please", client.username, 2)
    assert post_signed(url, client.password, reply).status_code == 200
    done = wait_ended(client, flow_.sid, execution.sid)
    ctx = done.context
    assert ctx["trigger"]["conversation"]["Body"] == "hello"
    assert ctx["trigger"]["conversation"]["From"] == CUSTOMER
    assert ctx["flow"]["channel"]["address"] == conversation
    assert ctx["widgets"]["ask"]["inbound"]["Body"] == "sales please"
    assert ctx["widgets"]["ask"]["outbound"]["ConversationSid"] == conversation
    assert ctx["widgets"]["done"]["outbound"]["Body"] == f"Sales it is ({conversation})"
    steps = client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()
    assert [(s.transitioned_from, s.name) for s in reversed(steps)] == [
        ("Trigger", "incomingConversationMessage"),
        ("ask", "incomingMessage"),
        ("route", "match"),
        ("done", "sent"),
    ]
    said = _posts(client, conversation, 4)
    assert [(m.author, m.body) for m in said[2:]] == [
        (CUSTOMER, "sales please"),
        ("system", f"Sales it is ({conversation})"),
    ]
    # Replayed again after the end: still one execution, the conversation unchanged.
    assert post_signed(url, client.password, reply).status_code == 200
    assert post_signed(url, client.password, first).status_code == 200
    time.sleep(0.5)
    assert len(client.studio.v2.flows(flow_.sid).executions.list()) == 1
    assert len(client.conversations.v1.conversations(conversation).messages.list()) == 4


def test_each_conversation_has_its_own_execution(server, client):
    flow_ = client.studio.v2.flows.create(friendly_name="conv", status="published", definition=BOT)
    url = webhook_url(server.base_url, client.username, flow_.sid)
    one, two = new_conversation_sid(), new_conversation_sid()
    for conversation in (one, two):
        params = conversation_message(conversation, CUSTOMER, "hi", client.username)
        assert post_signed(url, client.password, params).status_code == 200
    executions = wait_for(
        lambda: (found := client.studio.v2.flows(flow_.sid).executions.list()) and len(found) == 2
        and found
    )  # fmt: skip
    channels = set()
    for execution in executions:
        wait_steps(client, flow_.sid, execution.sid, 1)
        context = client.studio.v2.flows(flow_.sid).executions(execution.sid).execution_context()
        channels.add(context.fetch().context["flow"]["channel"]["address"])
    assert channels == {one, two}
    # Another account's client sees none of these conversations.
    other = server.new_client()
    assert other.conversations.v1.conversations(one).messages.list() == []


def test_other_conversation_events_start_nothing(server, client):
    flow_ = client.studio.v2.flows.create(friendly_name="conv", status="published", definition=BOT)
    url = webhook_url(server.base_url, client.username, flow_.sid)
    params = conversation_message(new_conversation_sid(), CUSTOMER, "", client.username)
    params["EventType"] = "onParticipantAdded"
    assert post_signed(url, client.password, params).status_code == 200
    time.sleep(0.5)
    assert client.studio.v2.flows(flow_.sid).executions.list() == []
