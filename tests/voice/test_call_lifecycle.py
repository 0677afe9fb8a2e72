"""Call lifecycle: signatures, hang-ups, concurrent calls, flows that end, the Calls resource."""

from __future__ import annotations

import uuid

from flowyard.testing.voice import HANGUP
from tests.e2e.helpers import post_signed, wait_ended
from tests.flows import go, state
from tests.voice.helpers import CALLER, NUMBER, call_flow, harness, twiml
from tests.voice.test_call_moves_on import TEXT_WHILE_CALLING

IVR = call_flow(
    state("hello", "say-play", [go("audioComplete", "menu")], say="Hello"),
    state("menu", "gather-input-on-call", [go("keypress"), go("timeout")], say="Press"),
)


def _incoming(account_sid: str, call_sid: str, frm: str = CALLER) -> dict[str, str]:
    return {
        "CallSid": call_sid,
        "AccountSid": account_sid,
        "From": frm,
        "To": NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }


def test_signature_is_checked(server):
    with harness(server) as h:
        flow_sid = h.create(IVR)
        url = h.voice.webhook(flow_sid)
        params = _incoming(h.voice.account_sid, "CA" + uuid.uuid4().hex)
        assert post_signed(url, "not-the-token", params).status_code == 403
        response = post_signed(url, h.voice.auth_token, params)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/xml")
        assert twiml(response.text)[0].tag == "Say"


def test_caller_hanging_up_ends_the_execution(server):
    with harness(server) as h:
        flow_sid = h.create(IVR)
        call = h.voice.call(flow_sid, CALLER, NUMBER, answers=[HANGUP])
        execution = h.execution(flow_sid, call.execution_sid)
        assert execution.status == "ended"
        assert h.steps(flow_sid, call.execution_sid) == [
            ("Trigger", "incomingCall", "hello"),
            ("hello", "audioComplete", "menu"),
        ]
        (listed,) = h.client.calls.list()
        assert listed.sid == call.call_sid and listed.status == "completed"
        assert listed.direction == "inbound" and listed.duration == "30"


def test_concurrent_calls_need_the_flag(server):
    with harness(server) as h:
        single = h.create({**IVR, "flags": {"allow_concurrent_calls": False}})
        url = h.voice.webhook(single)
        first = post_signed(
            url, h.voice.auth_token, _incoming(h.voice.account_sid, "CA" + uuid.uuid4().hex)
        )
        assert twiml(first.text)[0].tag == "Say"
        second = post_signed(
            url, h.voice.auth_token, _incoming(h.voice.account_sid, "CA" + uuid.uuid4().hex)
        )
        assert [n.tag for n in twiml(second.text)] == ["Say", "Hangup"]
        assert len(h.client.studio.v2.flows(single).executions.list()) == 1

        # Allowed with the flag, and by default: a definition without flags (Studio's default
        # for flows since 2018).
        without_flags = {key: value for key, value in IVR.items() if key != "flags"}
        for definition in (IVR, without_flags):
            concurrent = h.create(definition)
            url = h.voice.webhook(concurrent)
            for _ in range(2):
                call_sid = "CA" + uuid.uuid4().hex
                answer = post_signed(
                    url, h.voice.auth_token, _incoming(h.voice.account_sid, call_sid)
                )
                assert twiml(answer.text)[0].text == "Hello"
            executions = h.client.studio.v2.flows(concurrent).executions.list()
            assert [e.status for e in executions] == ["active", "active"]
            assert {e.contact_channel_address for e in executions} == {CALLER}


def test_a_flow_without_voice_widgets_hangs_up(server):
    definition = call_flow(
        state("v", "set-variables", [go("next")], variables=[{"key": "k", "value": "v"}]),
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        call = h.voice.call(flow_sid, CALLER, NUMBER)
        assert [n.tag for n in twiml(call.exchanges[0].twiml)] == ["Hangup"]
        (execution,) = h.client.studio.v2.flows(flow_sid).executions.list()
        assert execution.status == "ended"
        assert h.steps(flow_sid, execution.sid) == [
            ("Trigger", "incomingCall", "v"),
            ("v", "next", "Ended"),
        ]


def test_a_voice_widget_without_a_call_ends_the_execution(server):
    definition = call_flow(
        state("hello", "say-play", [go("audioComplete")], say="Hi"), rest="hello"
    )
    with harness(server) as h:
        flow_sid = h.create(definition)
        execution = h.client.studio.v2.flows(flow_sid).executions.create(to=CALLER, from_=NUMBER)
        assert execution.status == "active" and execution.context == {}
        wait_ended(h.client, flow_sid, execution.sid)
        assert h.steps(flow_sid, execution.sid) == [("Trigger", "incomingRequest", "hello")]


def test_stale_callbacks_hear_the_current_widget_again(server):
    with harness(server) as h:
        flow_sid = h.create(IVR)
        call = h.voice.call(flow_sid, CALLER, NUMBER, hang_up=False)
        # The gather timed out (no answers): Twilio fetched its timeout redirect; now it
        # re-fetches the say's old redirect, which must not move the execution.
        old = call.exchanges[0]
        redirect = twiml(old.twiml)[1].text
        again = h.voice.post(redirect, {**call.exchanges[1].params})
        assert twiml(again.text)[0].tag in ("Gather", "Hangup")
        assert len(h.steps(flow_sid, call.execution_sid)) == 3


def test_voice_widgets_inside_a_subflow(server):
    child = {
        "description": "child",
        "initial_state": "Trigger",
        "states": [
            state("Trigger", "trigger", [go("incomingParent", "ask")]),
            state(
                "ask",
                "gather-input-on-call",
                [go("keypress", "keep"), go("timeout")],
                say="{{trigger.parent.parameters.question}}",
            ),
            state(
                "keep",
                "set-variables",
                [go("next")],
                variables=[{"key": "choice", "value": "{{widgets.ask.Digits}}"}],
            ),
        ],
        "flags": {"allow_concurrent_calls": True},
    }
    with harness(server) as h:
        child_sid = h.create(child)
        parent = call_flow(
            state(
                "sub",
                "run-subflow",
                [go("completed", "done"), go("failed")],
                flow_sid=child_sid,
                flow_revision="LatestPublished",
                parameters=[{"key": "question", "value": "Pick one"}],
            ),
            state(
                "done", "say-play", [go("audioComplete")], say="You chose {{widgets.sub.choice}}"
            ),
        )
        flow_sid = h.create(parent)
        call = h.voice.call(flow_sid, CALLER, NUMBER, answers=["7"])
        assert call.heard == ["Pick one", "You chose 7"]
        assert h.steps(flow_sid, call.execution_sid) == [
            ("Trigger", "incomingCall", "sub"),
            ("Trigger", "incomingParent", "ask"),
            ("ask", "keypress", "keep"),
            ("keep", "next", "Ended"),
            ("sub", "completed", "done"),
            ("done", "audioComplete", "Ended"),
        ]


def test_another_accounts_call_sid_changes_nothing(server):
    with harness(server) as owner, harness(server) as other:
        flow_sid = owner.create(TEXT_WHILE_CALLING)
        call = owner.voice.call(flow_sid, CALLER, NUMBER, hang_up=False)
        assert call.held
        before = owner.client.calls(call.call_sid).fetch()
        assert before.status == "in-progress"
        # The other account signs a "call ended" for the owner's CallSid to its own flow.
        other_flow = other.create(IVR)
        ended = {**call.exchanges[0].params, "AccountSid": other.voice.account_sid}
        response = other.voice.post(
            other.voice.webhook(other_flow), {**ended, "CallStatus": "completed"}
        )
        assert response.status_code == 200
        assert owner.client.calls(call.call_sid).fetch().status == "in-progress"
        assert owner.execution(flow_sid, call.execution_sid).status == "active"
        assert other.client.studio.v2.flows(other_flow).executions.list() == []
