"""The in-process runs answer as the server's local platform does (one fake of Twilio):
refusals, Messaging Service sends, delivery failures and placed calls' outcomes."""

from __future__ import annotations

import pytest

from flowyard.engine import Flow
from flowyard.testing import FlowRun, ScriptError
from tests.flows import flow, go, state

CONTACT = "{{contact.channel.address}}"


def run_of(*states, **trigger) -> FlowRun:
    definition = flow(*states, **trigger)
    return FlowRun(Flow.from_definition(definition, flow_sid="FW" + "e" * 32, revision=1))


def send(name, body, next_=None, **props):
    props.setdefault("from", "{{flow.channel.address}}")
    return state(name, "send-message", [go("sent", next_), go("failed", next_)],
                 body=body, to=CONTACT, **props)  # fmt: skip


def test_an_empty_message_is_refused_as_twilio_does():
    run = run_of(send("Empty", "{{nothing}}"), message="Empty").message("hi")
    assert run.path == ["Trigger", "Empty"]
    assert run.steps[-1].name == "failed"
    assert run.sent == []


def test_a_messaging_service_send_has_no_segments_yet():
    run = run_of(send("Hi", "hi", **{"from": "MG" + "1" * 32}), message="Hi").message("hi")
    outbound = run.widget("Hi")["outbound"]
    assert (outbound["Status"], outbound["NumSegments"], outbound["From"]) == (
        "accepted",
        "0",
        None,
    )


def test_fail_delivery_carries_the_full_status_callback():
    ask = state("Ask", "send-and-wait-for-reply",
                [go("incomingMessage"), go("timeout"), go("deliveryFailure")],
                body="?", timeout="3600", **{"from": "{{flow.channel.address}}"})  # fmt: skip
    run = run_of(ask, message="Ask").message("hi").fail_delivery("failed")
    widget = run.widget("Ask")
    sid = widget["outbound"]["Sid"]
    assert {k: widget[k] for k in ("MessageSid", "SmsSid", "SmsStatus", "MessageStatus")} == {
        "MessageSid": sid, "SmsSid": sid, "SmsStatus": "failed", "MessageStatus": "failed"
    }  # fmt: skip
    assert widget["To"] == "+15550001111" and widget["From"] == "+15559990000"
    assert widget["ErrorCode"] == "30003" and widget["ApiVersion"] == "2010-04-01"
    assert widget["executionSid"] == run.state.execution_sid
    assert run.steps[-1].name == "deliveryFailure"


def call_flow() -> Flow:
    placed = state(
        "Call", "make-outgoing-call-v2",
        [go("answered", "Hi"), go("busy"), go("noAnswer"), go("failed")],
        to=CONTACT, **{"from": "{{flow.channel.address}}"}, timeout=60,
    )  # fmt: skip
    say = state("Hi", "say-play", [go("audioComplete")], say="Hello")
    return Flow.from_definition(
        flow(placed, say, rest="Call"), flow_sid="FW" + "e" * 32, revision=1
    )


@pytest.mark.parametrize(
    ("outcome", "event", "answered_by"),
    [("answered", "answered", "human"), ("machine", "answered", "machine_start"),
     ("busy", "busy", None), ("no-answer", "noAnswer", None), ("failed", "failed", None)],
)  # fmt: skip
def test_a_placed_call_ends_as_scripted(outcome, event, answered_by):
    run = FlowRun(call_flow(), placed_calls=[outcome]).rest()
    assert run.steps[1].name == event
    assert run.widget("Call").get("AnsweredBy") == answered_by
    if event != "answered":
        assert run.status == "ended" and run.heard == []


def test_an_unknown_call_outcome_is_refused():
    with pytest.raises(ValueError, match="unknown call outcome"):
        FlowRun(call_flow(), placed_calls=["maybe"]).rest()


def test_fail_delivery_without_a_message_is_a_script_error():
    wait = state("Ask", "send-and-wait-for-reply", [go("incomingMessage")], body="{{x}}",
                 timeout="60", **{"from": "{{flow.channel.address}}"})  # fmt: skip
    run = run_of(wait, message="Ask").message("hi")
    if run.active:
        with pytest.raises(ScriptError):
            run.fail_delivery()
