"""Parity: the same scripted Conversations inputs in process (``engine.testing.Session``) and
through ``flowyard serve`` give the same steps and the same contexts, SIDs and dates aside."""

from __future__ import annotations

import re
from typing import Any

from flowyard.engine import Flow, Reply
from flowyard.engine.context import apply_patch
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
