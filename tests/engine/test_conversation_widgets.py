"""Start Conversation and Resume Conversation in process (flowyard.testing): the examples in
their modules' doc comments run, the conversation becomes the execution's channel, messages
post into it and its replies resume; every refusal takes ``failed`` with no outputs."""

from __future__ import annotations

import copy
import json
import re
from types import ModuleType
from typing import Any

from flowyard.engine import Flow
from flowyard.engine.testing import conversation_message
from flowyard.engine.validate import validate_definition
from flowyard.engine.widgets import resume_conversation, start_conversation
from flowyard.testing.run import CONTACT, FlowRun
from flowyard.testing.suite import run_paths

SERVICE = "IS" + "0" * 31 + "1"
HEARD = "CH" + "e" * 32


def example(module: ModuleType) -> dict[str, Any]:
    """The flow definition in a widget module's doc comment (the block after ``::``)."""
    doc = module.__doc__ or ""
    block = doc.split("::", 1)[1]
    return json.loads(re.sub(r"^ {4}", "", block, flags=re.MULTILINE))


def run_of(definition: dict[str, Any]) -> FlowRun:
    return FlowRun(Flow.from_definition(definition, flow_sid="FW" + "a" * 32, revision=1))


def test_examples_are_valid_flows() -> None:
    for module in (start_conversation, resume_conversation):
        report = validate_definition(example(module))
        assert report.errors == [], module.__name__


def test_start_conversation_example_runs() -> None:
    run = run_of(example(start_conversation)).rest({"order": "42"})
    assert run.path == ["Trigger", "start", "ask"]
    assert run.waiting_for == "reply"
    started = run.widget("start")
    found = started["conversation"]
    sid = found["sid"]
    assert sid.startswith("CH") and len(sid) == 34
    assert found["chat_service_sid"] == SERVICE
    assert found["friendly_name"] == "Order 42"
    assert found["state"] == "active"
    assert len(found["participants"]) == 1
    member = found["participants"][0]
    assert member["messaging_binding"] == {
        "type": "sms",
        "address": CONTACT,
        "proxy_address": "+15550000001",
    }
    assert "identity" not in member  # null fields are left out, as Studio records them
    assert started["webhook_sid"].startswith("WH")
    assert started["close_channel_on_execution_end"] is False
    channel = run.context["flow"]["channel"]
    assert channel["sid"] == sid and channel["type"] == "conversation"
    assert channel["status"] == "active"
    assert channel["details"]["participants"] == [member]
    assert channel["details"]["webhook_sid"] == started["webhook_sid"]
    # Send & Wait posted into the conversation, not an SMS.
    outbound = run.widget("ask")["outbound"]
    assert outbound["ConversationSid"] == sid and outbound["Author"] == "system"
    assert outbound["Body"] == "Is order 42 right?"
    run.reply("yes")
    assert not run.active
    assert run.widget("ask")["inbound"]["Body"] == "yes"
    assert run.widget("ask")["inbound"]["ConversationSid"] == sid


def _start(**properties: Any) -> FlowRun:
    definition = copy.deepcopy(example(start_conversation))
    definition["states"][1]["properties"].update(properties)
    return run_of(definition)


def test_start_conversation_refusals_take_failed() -> None:
    cases = {
        "Participant proxy address is empty": dict(
            participants=[{"type": "sms", "messaging_binding_address": "+15550001111"}]
        ),
        "Participant address equals proxy address": dict(
            participants=[
                {
                    "type": "sms",
                    "messaging_binding_address": "+15550000001",
                    "messaging_binding_proxy_address": "+15550000001",
                }
            ]
        ),
        "was not found": dict(conversation_service_sid="IS-not-a-service"),
        "Attributes must be a valid JSON string": dict(attributes="{not json"),
        "not an ISO 8601 duration": dict(timers={"inactive": "ten minutes"}),
        "chat participant needs an identity": dict(participants=[{"type": "chat"}]),
    }
    for expected, properties in cases.items():
        run = _start(**properties).rest({"order": "1"})
        assert run.path == ["Trigger", "start"], expected
        assert run.widget("start") == {}
        assert not run.active
        assert any(expected in error.message for error in run.errors), (expected, run.errors)


def test_start_conversation_chat_participant_and_timers() -> None:
    run = _start(
        participants=[{"type": "chat", "identity": "agent-{{flow.data.order}}"}],
        timers={"inactive": "PT10M", "closed": "P1D"},
        attributes='{"order": 7}',
    ).rest({"order": "7"})
    found = run.widget("start")["conversation"]
    assert found["participants"][0]["identity"] == "agent-7"
    assert "messaging_binding" not in found["participants"][0]
    assert found["timers"] == {"date_inactive": "PT10M", "date_closed": "P1D"}
    assert found["attributes"] == '{"order": 7}'


def test_one_conversation_per_execution() -> None:
    definition = copy.deepcopy(example(start_conversation))
    # A second Start Conversation after the first one: the execution has one already.
    definition["states"][1]["transitions"][0]["next"] = "again"
    again = copy.deepcopy(definition["states"][1])
    again["name"] = "again"
    again["transitions"] = [{"event": "created"}, {"event": "failed"}]
    definition["states"].append(again)
    run = run_of(definition).rest({"order": "1"})
    assert run.path == ["Trigger", "start", "again"]
    assert run.widget("again") == {}
    assert "already has a Conversation" in run.errors[-1].message


def _heard(run: FlowRun, author: str = "+15550004444") -> None:
    # The stubs hear of a conversation as the server's flow webhook does: from a message in it.
    run.stubs.heard(conversation_message("hello", author, HEARD, ChatServiceSid=SERVICE))


def test_resume_conversation_example_runs() -> None:
    run = run_of(example(resume_conversation))
    _heard(run)
    run.rest({"conversation": HEARD})
    assert run.path == ["Trigger", "resume", "note"]
    resumed = run.widget("resume")
    assert resumed["conversation"]["sid"] == HEARD
    assert [p["messaging_binding"]["address"] for p in resumed["conversation"]["participants"]] == [
        "+15550004444"
    ]
    channel = run.context["flow"]["channel"]
    assert channel["sid"] == HEARD and channel["type"] == "conversation"
    note = run.widget("note")["outbound"]
    assert note["ConversationSid"] == HEARD
    assert note["Body"] == "Back, +15550004444"
    assert note["Index"] == 1  # after the contact's message


def test_resume_conversation_refusals_take_failed() -> None:
    unknown = run_of(example(resume_conversation)).rest({"conversation": "CH" + "f" * 32})
    assert unknown.path == ["Trigger", "resume"] and unknown.widget("resume") == {}
    assert "was not found" in unknown.errors[-1].message
    definition = copy.deepcopy(example(resume_conversation))
    definition["states"][1]["properties"]["conversation_service_sid"] = "IS" + "9" * 32
    other_service = run_of(definition)
    _heard(other_service)
    other_service.rest({"conversation": HEARD})
    assert other_service.path == ["Trigger", "resume"] and other_service.widget("resume") == {}
    empty = run_of(example(resume_conversation)).rest({})
    assert empty.path == ["Trigger", "resume"]
    assert "no conversation_sid" in empty.errors[-1].message


def test_resume_replaces_attributes_and_filters() -> None:
    definition = copy.deepcopy(example(resume_conversation))
    definition["states"][1]["properties"].update(
        attributes='{"resumed": true}', webhook_filters=["onMessageAdded", "onMessageUpdated"]
    )
    run = run_of(definition)
    _heard(run)
    run.rest({"conversation": HEARD})
    assert run.widget("resume")["conversation"]["attributes"] == '{"resumed": true}'
    assert run.stubs.calls[0].request["filters"] == ["onMessageAdded", "onMessageUpdated"]


def test_start_conversation_in_a_flowyard_test_file(tmp_path) -> None:
    """The example as a ``flowyard test`` file: REST start, the contact answers in the
    conversation, expectations on the path and the conversation's outputs."""
    (tmp_path / "start.json").write_text(json.dumps(example(start_conversation)))
    case = {
        "flow": "start.json",
        "trigger": {"rest": {"parameters": {"order": "3"}}},
        "steps": [
            {"expect": {"waiting_at": "ask", "sent": ["Is order 3 right?"]}},
            {"reply": "yes"},
            {
                "expect": {
                    "path": ["start", "ask"],
                    "status": "ended",
                    "widgets": {
                        "start": {"conversation.friendly_name": "Order 3"},
                        "ask": {"inbound.Body": "yes", "outbound.Author": "system"},
                    },
                }
            },
        ],
    }
    (tmp_path / "start.test.json").write_text(json.dumps(case))
    (result,) = run_paths([tmp_path])
    assert result.passed, result.failure
