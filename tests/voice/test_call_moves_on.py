"""A live call whose execution moves on without it: held while the flow waits for an SMS reply,
stale callbacks told apart, a recording stopped in the request that started it, and the
second-generation virtual agent."""

from __future__ import annotations

import json
import uuid

import pytest

from flowyard.testing.voice import Outcomes
from tests.e2e.helpers import wait_for
from tests.flows import go, state
from tests.voice.helpers import CALLER, NUMBER, call_flow, harness, query_of, twiml


def sms(h, flow_sid: str, body: str) -> None:
    sid = "SM" + uuid.uuid4().hex
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": h.voice.account_sid,
        "From": CALLER,
        "To": NUMBER,
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    assert h.voice.post(h.voice.webhook(flow_sid), params).status_code == 200


TEXT_WHILE_CALLING = call_flow(
    state("hello", "say-play", [go("audioComplete", "ask")], say="We sent you a text"),
    state(
        "ask",
        "send-and-wait-for-reply",
        [go("incomingMessage", "said"), go("timeout"), go("deliveryFailure")],
        body="Reply with your order number",
        timeout="3600",
        **{"from": "{{flow.channel.address}}"},
    ),
    state("said", "say-play", [go("audioComplete")], say="Order {{widgets.ask.inbound.Body}}"),
)


def test_a_call_waiting_for_an_sms_reply_is_held_then_goes_on(server):
    with harness(server) as h:
        flow_sid = h.create(TEXT_WHILE_CALLING)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        assert call.held and not call.ended
        assert call.heard == ["We sent you a text"]
        hold = twiml(call.exchanges[-1].twiml)
        assert [n.tag for n in hold] == ["Pause", "Redirect"]
        assert query_of(hold[1].text)["FlowEvent"] == "hold"
        assert h.execution(flow_sid, call.execution_sid).status == "active"

        # Twilio comes back after the pause: still waiting, still on hold.
        call = h.voice.resume(call)
        assert call.held and call.heard == ["We sent you a text"]

        sms(h, flow_sid, "4242")
        call = h.voice.resume(call)
        assert call.ended and call.heard == ["We sent you a text", "Order 4242"]
        assert h.execution(flow_sid, call.execution_sid).status == "ended"
        assert [s[1] for s in h.steps(flow_sid, call.execution_sid)] == [
            "incomingCall",
            "audioComplete",
            "incomingMessage",
            "audioComplete",
        ]


def test_hanging_up_on_hold_ends_the_execution(server):
    with harness(server) as h:
        flow_sid = h.create(TEXT_WHILE_CALLING)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        assert call.held
        ended = {**call.exchanges[0].params, "CallStatus": "completed", "CallDuration": "9"}
        h.voice.post(h.voice.webhook(flow_sid), ended)
        assert h.execution(flow_sid, call.execution_sid).status == "ended"
        # A late reply finds no execution waiting and starts nothing on the call.
        sms(h, flow_sid, "too late")
        executions = h.client.studio.v2.flows(flow_sid).executions.list()
        assert [e.sid for e in executions if e.status == "active"] != [call.execution_sid]


def test_a_callback_for_an_earlier_visit_of_a_widget_is_stale(server):
    definition = call_flow(
        state(
            "menu",
            "gather-input-on-call",
            [go("keypress", "route"), go("speech"), go("timeout")],
            say="Press 1",
        ),
        state(
            "route",
            "split-based-on",
            [
                go("noMatch", "menu"),
                go("match", "yes", conditions=[_equals("{{widgets.menu.Digits}}", "1")]),
            ],
            input="{{widgets.menu.Digits}}",
        ),
        state("yes", "say-play", [go("audioComplete")], say="Thanks"),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        # The caller presses 9 (no match: the menu again), then Twilio replays the first
        # gather's action with 1: it belongs to the first visit and must not count.
        params = {
            "AccountSid": h.voice.account_sid,
            "CallSid": "CA" + uuid.uuid4().hex,
            "From": CALLER,
            "To": NUMBER,
            "Direction": "inbound",
            "CallStatus": "ringing",
            "ApiVersion": "2010-04-01",
        }
        first = twiml(h.voice.post(h.voice.webhook(flow_sid), params).text)[0].get("action")
        live = {**params, "CallStatus": "in-progress"}
        second = twiml(h.voice.post(first, {**live, "Digits": "9"}).text)[0].get("action")
        assert query_of(first)["step"] != query_of(second)["step"]
        replay = h.voice.post(first, {**live, "Digits": "1"})
        assert twiml(replay.text)[0].get("action") == second
        execution_sid = query_of(first)["executionSid"]
        assert len(h.steps(flow_sid, execution_sid)) == 3

        answer = h.voice.post(second, {**live, "Digits": "1"})
        assert twiml(answer.text)[0].text == "Thanks"
        assert h.steps(flow_sid, execution_sid)[-2:] == [
            ("menu", "keypress", "route"),
            ("route", "match", "yes"),
        ]


def _equals(subject: str, value: str) -> dict:
    return {
        "friendly_name": value,
        "arguments": [subject],
        "type": "equal_to",
        "value": value,
    }


def test_a_recording_stopped_in_the_request_that_started_it(server):
    definition = call_flow(
        state("start", "record-call", [go("success", "stop"), go("failed")], record_call=True),
        state("stop", "record-call", [go("success", "done"), go("failed")], record_call=False),
        state("done", "say-play", [go("audioComplete")], say="{{widgets.stop.Status}}"),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        assert call.heard == ["stopped"]
        context = h.context(flow_sid, call.execution_sid)
        assert context["widgets"]["stop"]["Sid"] == context["widgets"]["start"]["Sid"]
        (recording,) = h.client.calls(call.call_sid).recordings.list()
        assert recording.status == "stopped"


AGENT = call_flow(
    state(
        "agent",
        "connect-virtual-agent-v2",
        [
            go("completed", "after"),
            go("live-agent-handoff", "human"),
            go("hangup"),
            go("failed", "sorry"),
            go("paused"),
            go("timeout"),
        ],
        channel="voice",
        connector_name="cx-{{trigger.call.To}}",
        configurations=[{"key": "welcomeIntent", "value": "hello"}],
        parameters=[{"key": "caller", "value": "{{trigger.call.From}}"}],
        session_behavior="new",
    ),
    state("after", "say-play", [go("audioComplete")], say="Bye"),
    state(
        "human",
        "say-play",
        [go("audioComplete")],
        say="Connecting {{widgets.agent.VirtualAgentProviderData.team}}",
    ),
    state("sorry", "say-play", [go("audioComplete")], say="Sorry"),
)


def test_connect_virtual_agent_v2_twiml_and_events(server):
    with harness(server) as h:
        flow_sid = h.create(AGENT)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        connect = twiml(call.exchanges[0].twiml)[0]
        assert connect.tag == "Connect" and query_of(connect.get("action"))["FlowEvent"] == (
            "completed"
        )
        agent = connect[0]
        assert agent.tag == "VirtualAgent" and agent.get("connectorName") == f"cx-{NUMBER}"
        assert [(c.tag, c.get("name"), c.get("value")) for c in agent] == [
            ("Config", "welcomeIntent", "hello"),
            ("Parameter", "caller", CALLER),
        ]
        assert call.heard == ["[connect]", "Bye"]
        assert h.steps(flow_sid, call.execution_sid)[1] == ("agent", "completed", "after")

        # A hand-off to a person, with the provider's data as an object.
        handoff = {
            "VirtualAgentProvider": "DialogflowCX",
            "VirtualAgentStatus": "live-agent-handoff",
            "VirtualAgentProviderData": json.dumps({"team": "billing"}),
        }
        call = h.voice.call(
            flow_sid, "+15550002222", NUMBER, outcomes=Outcomes(virtual_agent=handoff)
        )
        assert call.heard == ["[connect]", "Connecting billing"]
        entry = h.context(flow_sid, call.execution_sid)["widgets"]["agent"]
        assert entry["VirtualAgentProviderData"] == {"team": "billing"}
        assert entry["FlowEvent"] == "live-agent-handoff"

        # An error code fails the widget whatever the status says.
        failure = {"VirtualAgentStatus": "completed", "VirtualAgentErrorCode": "1"}
        call = h.voice.call(
            flow_sid, "+15550003333", NUMBER, outcomes=Outcomes(virtual_agent=failure)
        )
        assert call.heard == ["[connect]", "Sorry"]

        call = h.voice.call(
            flow_sid, "+15550004444", NUMBER, outcomes=Outcomes(hang_up_in=("Connect",))
        )
        assert h.steps(flow_sid, call.execution_sid)[-1] == ("agent", "hangup", "Ended")


@pytest.mark.parametrize(
    "props", [{"channel": "conversations", "connector_name": "cx"}, {"channel": "voice"}]
)
def test_connect_virtual_agent_v2_needs_a_voice_channel_and_a_connector(server, props):
    definition = call_flow(
        state(
            "agent",
            "connect-virtual-agent-v2",
            [go("completed"), go("failed", "sorry")],
            **props,
        ),
        state("sorry", "say-play", [go("audioComplete")], say="Sorry"),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        assert call.heard == ["Sorry"]
        assert h.steps(flow_sid, call.execution_sid)[1] == ("agent", "failed", "sorry")


def test_connect_virtual_agent_v2_timeout(server):
    definition = call_flow(
        state(
            "agent",
            "connect-virtual-agent-v2",
            [go("completed"), go("timeout", "late")],
            connector_name="cx",
            timeout=1,
        ),
        state("late", "set-variables", [go("next")], variables=[{"key": "r", "value": "t"}]),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        stays = Outcomes(virtual_agent=None)
        call = h.voice.call(flow_sid, CALLER, NUMBER, outcomes=stays, hang_up=False)
        # The caller stays with the agent: the timer fires.
        wait_for(lambda: h.execution(flow_sid, call.execution_sid).status == "ended")
        assert h.steps(flow_sid, call.execution_sid)[1:] == [
            ("agent", "timeout", "late"),
            ("late", "next", "Ended"),
        ]


APP = "https://ivr.example.com/app"
AWAY = Outcomes(apps={APP: lambda params: '<Response><Pause length="60"/></Response>'})
REDIRECTED = call_flow(
    state(
        "away",
        "add-twiml-redirect",
        [go("return", "back"), go("timeout", "late"), go("fail")],
        url=APP,
        method="POST",
        timeout="1",
    ),
    state("back", "say-play", [go("audioComplete")], say="Welcome back"),
    state("late", "say-play", [go("audioComplete")], say="We lost you"),
)


def call_url(h, call_sid: str) -> str | None:
    path = f"/2010-04-01/Accounts/{h.voice.account_sid}/Calls/{call_sid}.json"
    response = h.voice.http.get(
        h.voice.base_url + path, auth=(h.voice.account_sid, h.voice.auth_token)
    )
    return response.json()["url"]


def test_a_redirect_that_times_out_pulls_the_call_back(server):
    with harness(server) as h:
        flow_sid = h.create(REDIRECTED)
        call = h.voice.call(flow_sid, CALLER, NUMBER, hang_up=False, outcomes=AWAY)
        assert call.heard == [] and call_url(h, call.call_sid) is None
        (execution,) = h.client.studio.v2.flows(flow_sid).executions.list()
        moved = wait_for(lambda: call_url(h, call.call_sid))
        assert query_of(moved) == {"executionSid": execution.sid}

        call = h.voice.follow(call)
        assert call.heard == ["We lost you"]
        assert h.steps(flow_sid, execution.sid) == [
            ("Trigger", "incomingCall", "away"),
            ("away", "timeout", "late"),
            ("late", "audioComplete", "Ended"),
        ]


def test_ending_an_execution_through_the_api_hangs_up_its_call(server):
    with harness(server) as h:
        flow_sid = h.create(TEXT_WHILE_CALLING)
        call = h.voice.call(flow_sid, CALLER, NUMBER, hang_up=False)
        assert call.held
        h.client.studio.v2.flows(flow_sid).executions(call.execution_sid).update(status="ended")
        # The call is pulled back once the end is committed (not under the execution's lease).
        wait_for(lambda: call_url(h, call.call_sid))
        call = h.voice.follow(call)
        assert [n.tag for n in twiml(call.exchanges[-1].twiml)] == ["Hangup"]
        assert call.heard == ["We sent you a text"]
