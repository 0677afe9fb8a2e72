"""Parity: the same scripted Conversations inputs in process (``engine.testing.Session``) and
through ``flowyard serve`` give the same steps and the same contexts, SIDs and dates aside."""

from __future__ import annotations

import re
from typing import Any

from flowyard.engine import Flow, Reply
from flowyard.engine.context import apply_patch
from flowyard.engine.widgets import start_conversation
from flowyard.testing import FLOW_NUMBER, FlowRun
from flowyard.testing.session import Session
from tests.e2e.helpers import (
    conversation_message,
    new_conversation_sid,
    post_signed,
    wait_ended,
    wait_for,
    wait_steps,
    webhook_url,
)
from tests.e2e.test_conversations import BOT
from tests.engine.test_conversation_widgets import example

CUSTOMER = "+15550004444"
_SID = re.compile(r"\b([A-Z]{2})[0-9a-f]{32}\b")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


def _plain(value: Any) -> Any:
    """``value`` with every SID reduced to its prefix and every date to ``<date>``."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return _DATE.sub("<date>", _SID.sub(r"\1…", value))
    return value


def test_in_process_and_server_agree(server, client):
    conversation = new_conversation_sid()
    script = [
        conversation_message(conversation, CUSTOMER, "hello", client.username, 0),
        conversation_message(conversation, CUSTOMER, "no idea", client.username, 2),
        conversation_message(conversation, CUSTOMER, "sales", client.username, 4),
    ]

    session = Session(Flow.from_definition(BOT, flow_sid="FW" + "e" * 32, revision=1))
    session.start("incomingConversationMessage", script[0])
    for params in script[1:]:
        session.resume(Reply(params))
    assert session.state.status == "ended"
    local_contexts, context = [], session.base_context or {}
    for step in session.steps:
        context = apply_patch(context, step.patch)
        local_contexts.append(context)

    flow_ = client.studio.v2.flows.create(friendly_name="p", status="published", definition=BOT)
    url = webhook_url(server.base_url, client.username, flow_.sid)
    assert post_signed(url, client.password, script[0]).status_code == 200
    (execution,) = wait_for(lambda: client.studio.v2.flows(flow_.sid).executions.list())
    for count, params in ((1, script[1]), (3, script[2])):
        wait_steps(client, flow_.sid, execution.sid, count)
        assert post_signed(url, client.password, params).status_code == 200
    wait_ended(client, flow_.sid, execution.sid)
    steps = list(reversed(client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()))

    assert [(s.transitioned_from, s.name, s.transitioned_to) for s in steps] == session.path()
    remote_contexts = [step.step_context().fetch().context for step in steps]
    assert _plain(remote_contexts) == _plain(local_contexts)
    # The conversation the server recorded is what the stubs answered, message for message.
    said = client.conversations.v1.conversations(conversation).messages.list()
    posts = [(m.index, m.body) for m in said if m.author == "system"]
    assert posts == [(1, "Hi +15550004444, sales or support?"),
                     (3, "Hi +15550004444, sales or support?"),
                     (5, f"Sales it is ({conversation})")]  # fmt: skip
    assert [m["body"] for m in session.stubs.messages] == [body for _, body in posts]


def test_start_conversation_in_process_and_server_agree(server, client):
    """Start Conversation's example: the conversation it creates, the question posted into
    it and the answer that resumes it give the same steps and context both ways."""
    definition = example(start_conversation)
    local = FlowRun(Flow.from_definition(definition, flow_sid="FW" + "e" * 32, revision=1))
    local.rest({"order": "5"}, to=CUSTOMER)
    local.reply("yes")
    assert local.status == "ended"

    flow_ = client.studio.v2.flows.create(friendly_name="s", status="published",
                                          definition=definition)  # fmt: skip
    execution = client.studio.v2.flows(flow_.sid).executions.create(
        to=CUSTOMER, from_=FLOW_NUMBER, parameters={"order": "5"}
    )
    wait_steps(client, flow_.sid, execution.sid, 2)
    context = client.studio.v2.flows(flow_.sid).executions(execution.sid).execution_context()
    conversation = context.fetch().context["flow"]["channel"]["sid"]
    url = webhook_url(server.base_url, client.username, flow_.sid)
    # The participant's answer, at the index the stubs gave it (after the flow's question).
    answer = conversation_message(conversation, CUSTOMER, "yes", client.username, 1)
    del answer["ChatServiceSid"]  # the in-process reply carries none (nor does the flow read it)
    assert post_signed(url, client.password, answer).status_code == 200
    done = wait_ended(client, flow_.sid, execution.sid)
    steps = list(reversed(client.studio.v2.flows(flow_.sid).executions(execution.sid).steps.list()))
    assert [(s.transitioned_from, s.name, s.transitioned_to) for s in steps] == [
        (s.transitioned_from, s.name, s.transitioned_to) for s in local.steps
    ]
    assert _plain(done.context) == _plain(local.context)
