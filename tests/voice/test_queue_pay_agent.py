"""Enqueue Call, Send to Flex on a call, Capture Payments, Connect Virtual Agent, Fork Stream."""

from __future__ import annotations

import json

import pytest

from flowyard.testing.voice import Outcomes
from tests.flows import go, state
from tests.voice.helpers import CALLER, NUMBER, call_flow, harness, twiml

QUEUE_EVENTS = [
    ("bridged", "callComplete"),
    ("hangup", "callComplete"),
    ("error", "failedToEnqueue"),
    ("system-error", "failedToEnqueue"),
    ("queue-full", "callFailure"),
    ("leave", "callFailure"),
]


def _ends(event: str) -> list[dict]:
    return [go(e) for e in ("callComplete", "failedToEnqueue", "callFailure") if e != event]


@pytest.mark.parametrize(("result", "event"), QUEUE_EVENTS)
def test_enqueue_call_to_a_named_queue(server, result, event):
    definition = call_flow(
        state(
            "queue",
            "enqueue-call",
            [go(event, "after"), *_ends(event)],
            queue_name="support",
            wait_url="https://example.com/hold",
            wait_url_method="GET",
        ),
        state("after", "say-play", [go("audioComplete")], say="after queue"),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER, outcomes=Outcomes(queue_result=result))
        enqueue = twiml(call.exchanges[0].twiml)[0]
        assert enqueue.tag == "Enqueue" and enqueue.text == "support"
        assert enqueue.get("waitUrl") == "https://example.com/hold"
        assert enqueue.get("waitUrlMethod") == "GET"
        assert h.steps(flow_sid, call.execution_sid)[1] == ("queue", event, "after")
        entry = h.context(flow_sid, call.execution_sid)["widgets"]["queue"]
        assert entry["QueueResult"] == result and entry["FlowEvent"] == event


def test_enqueue_call_to_a_taskrouter_workflow(server):
    definition = call_flow(
        state(
            "queue",
            "enqueue-call",
            [go("callComplete"), go("failedToEnqueue"), go("callFailure")],
            workflow_sid="WW" + "1" * 32,
            task_attributes='{"caller": "{{contact.channel.address}}"}',
            priority=5,
            timeout=60,
        ),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        enqueue = twiml(call.exchanges[0].twiml)[0]
        assert enqueue.get("workflowSid") == "WW" + "1" * 32 and not (enqueue.text or "").strip()
        task = enqueue[0]
        assert task.tag == "Task" and json.loads(task.text) == {"caller": CALLER}
        assert task.get("priority") == "5" and task.get("timeout") == "60"


@pytest.mark.parametrize(
    ("result", "event"),
    [("bridged", "callComplete"), ("system-error", "failedToEnqueue"), ("leave", "callFailure")],
)
def test_send_to_flex_on_a_call_enqueues_with_a_task(server, result, event):
    definition = call_flow(
        state(
            "flex",
            "send-to-flex",
            [go("callComplete"), go("failedToEnqueue"), go("callFailure")],
            workflow="WW" + "2" * 32,
            channel="TC" + "3" * 32,
            attributes='{"type": "inbound", "name": "{{trigger.call.From}}"}',
            priority="10",
            timeout="120",
            waitUrl="https://example.com/wait",
            waitUrlMethod="POST",
        ),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER, outcomes=Outcomes(queue_result=result))
        enqueue = twiml(call.exchanges[0].twiml)[0]
        assert enqueue.tag == "Enqueue" and enqueue.get("workflowSid") == "WW" + "2" * 32
        assert enqueue.get("waitUrl") == "https://example.com/wait"
        assert json.loads(enqueue[0].text) == {"type": "inbound", "name": CALLER}
        assert enqueue[0].get("priority") == "10" and enqueue[0].get("timeout") == "120"
        assert h.steps(flow_sid, call.execution_sid)[-1] == ("flex", event, "Ended")
        entry = h.context(flow_sid, call.execution_sid)["widgets"]["flex"]
        assert entry["QueueResult"] == result and entry["FlowEvent"] == event


PAY_EVENTS = [
    ("success", "success"),
    ("too-many-failed-attempts", "maxFailedAttempts"),
    ("payment-connector-error", "providerError"),
    ("caller-interrupted-with-star", "payInterrupted"),
    ("caller-hung-up", "hangup"),
    ("validation-error", "validationError"),
]


@pytest.mark.parametrize(("result", "event"), PAY_EVENTS)
def test_capture_payments(server, result, event):
    events = [
        "success",
        "maxFailedAttempts",
        "providerError",
        "payInterrupted",
        "hangup",
        "validationError",
    ]
    definition = call_flow(
        state(
            "pay",
            "capture-payments",
            [go(e, "after" if e == event else None) for e in events],
            payment_connector="Stripe",
            payment_amount="{{flow.variables.amount | default: '9.99'}}",
            currency="usd",
            description="Order",
            payment_method="CREDIT_CARD",
            payment_token_type="one-time",
            valid_card_types=["visa", "amex"],
            security_code=True,
            postal_code="false",
            timeout=5,
            max_attempts=2,
            language="en-US",
            parameters=[{"key": "order", "value": "42"}],
        ),
        state("after", "say-play", [go("audioComplete")], say="paid"),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER, outcomes=Outcomes(pay_result=result))
        pay = twiml(call.exchanges[0].twiml)[0]
        assert pay.tag == "Pay" and pay.get("paymentConnector") == "Stripe"
        assert pay.get("chargeAmount") == "9.99" and pay.get("currency") == "usd"
        assert pay.get("validCardTypes") == "visa amex" and pay.get("securityCode") == "true"
        assert pay.get("tokenType") == "one-time" and pay.get("maxAttempts") == "2"
        assert [(p.get("name"), p.get("value")) for p in pay] == [("order", "42")]
        assert h.steps(flow_sid, call.execution_sid)[1] == ("pay", event, "after")
        assert h.context(flow_sid, call.execution_sid)["widgets"]["pay"]["Result"] == result


def test_connect_virtual_agent_return_and_hangup(server):
    definition = call_flow(
        state(
            "agent",
            "connect-virtual-agent",
            [go("return", "after"), go("hangup")],
            connector="dialogflow-1",
            language="en-US",
            sentiment_analysis="true",
            status_callback="https://example.com/va",
        ),
        state("after", "say-play", [go("audioComplete")], say="back"),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        connect = twiml(call.exchanges[0].twiml)[0]
        agent = connect[0]
        assert connect.tag == "Connect" and agent.tag == "VirtualAgent"
        assert agent.get("connectorName") == "dialogflow-1" and agent.get("language") == "en-US"
        assert agent.get("sentimentAnalysis") == "true"
        assert agent.get("statusCallback") == "https://example.com/va"
        assert call.heard[-1] == "back"
        call = h.voice.call(
            flow_sid, "+15550002222", NUMBER, outcomes=Outcomes(hang_up_in=("Connect",))
        )
        assert h.steps(flow_sid, call.execution_sid)[-1] == ("agent", "hangup", "Ended")


def test_fork_stream_start_and_stop(server):
    definition = call_flow(
        state(
            "fork",
            "fork-stream",
            [go("next", "talk")],
            stream_action="start",
            stream_name="s1",
            stream_transport_type="websocket",
            stream_url="wss://example.com/media",
            stream_track="both_tracks",
            stream_parameters=[{"key": "caller", "value": "{{trigger.call.From}}"}],
        ),
        state("talk", "say-play", [go("audioComplete", "stop")], say="streaming"),
        state("stop", "fork-stream", [go("next")], stream_action="stop", stream_name="s1"),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        start, redirect = list(twiml(call.exchanges[0].twiml))
        stream = start[0]
        assert start.tag == "Start" and stream.tag == "Stream"
        assert stream.get("url") == "wss://example.com/media" and stream.get("name") == "s1"
        assert stream.get("track") == "both_tracks"
        assert [(p.get("name"), p.get("value")) for p in stream] == [("caller", CALLER)]
        assert redirect.tag == "Redirect"
        stop = twiml(call.exchanges[2].twiml)[0]
        assert stop.tag == "Stop" and stop[0].tag == "Stream" and stop[0].get("name") == "s1"
        assert [s[1] for s in h.steps(flow_sid, call.execution_sid)] == [
            "incomingCall",
            "next",
            "audioComplete",
            "next",
        ]
        assert h.context(flow_sid, call.execution_sid)["widgets"]["fork"] == {}
