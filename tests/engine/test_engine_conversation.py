"""Send & Wait For Reply conversations on the virtual clock: reply, timeout, delivery failure."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from flowyard.engine import (
    CallResult,
    DeliveryFailure,
    ExecutionState,
    Flow,
    Reply,
    Timeout,
    Trigger,
    resume,
    start,
)
from flowyard.engine.testing import VirtualEnvironment, inbound_sms
from flowyard.testing.session import Session
from tests.flows import flow, go, match, state

FLOW_SID = "FW" + "c" * 32
CONTACT, NUMBER = "+15550001111", "+15559990000"

CONVERSATION = flow(
    state(
        "ask",
        "send-and-wait-for-reply",
        [
            go("incomingMessage", "check"),
            go("timeout", "late"),
            go("deliveryFailure", "failed"),
        ],
        body="Hi {{flow.data.name}}, yes or no?",
        **{"from": "{{flow.channel.address}}"},
        timeout="3600",
    ),
    state(
        "check",
        "split-based-on",
        [
            go("noMatch", "ask"),
            match("thanks", "equal_to", "yes", "{{widgets.ask.inbound.Body}}"),
        ],
        input="{{widgets.ask.inbound.Body}}",
    ),
    state(
        "thanks",
        "send-message",
        [go("sent"), go("failed")],
        body="Thanks {{flow.data.name}}, you said {{widgets.ask.inbound.Body}}",
    ),
    state(
        "late", "set-variables", [go("next")], variables=[{"key": "outcome", "value": "timed out"}]
    ),
    state(
        "failed",
        "set-variables",
        [go("next")],
        variables=[{"key": "outcome", "value": "{{widgets.ask.ErrorCode}}"}],
    ),
    rest="ask",
    message="ask",
)


def conversation() -> Session:
    return Session(Flow.from_definition(CONVERSATION, flow_sid=FLOW_SID, revision=1))


def test_send_and_wait_parks_with_a_reply_wait():
    s = conversation()
    sprint = s.rest(CONTACT, NUMBER, name="Zeke")
    assert sprint.state.status == "active" and sprint.pending is None
    assert sprint.wait.kind == "reply" and sprint.wait.widget == "ask"
    assert sprint.wait.until == s.env.clock.now().timestamp() + 3600
    assert sprint.state.parked_on == "ask"
    assert s.stubs.messages == [
        {"to": CONTACT, "from": NUMBER, "body": "Hi Zeke, yes or no?", "media_urls": []}
    ]
    # The context shows what was sent while the widget waits.
    assert s.context["widgets"]["ask"]["outbound"]["Body"] == "Hi Zeke, yes or no?"
    assert s.path() == [("Trigger", "incomingRequest", "ask")]


def test_reply_resumes_with_the_inbound_params():
    s = conversation()
    s.rest(CONTACT, NUMBER, name="Zeke")
    s.env.clock.advance(60)
    sprint = s.reply(" YES ", FromCity="CONCORD")
    assert s.path() == [
        ("Trigger", "incomingRequest", "ask"),
        ("ask", "incomingMessage", "check"),
        ("check", "match", "thanks"),
        ("thanks", "sent", "Ended"),
    ]
    entry = s.context["widgets"]["ask"]
    assert entry["inbound"]["Body"] == " YES " and entry["inbound"]["FromCity"] == "CONCORD"
    assert entry["outbound"]["Sid"].startswith("SM")
    assert "message" not in s.context["trigger"]  # the reply does not replace the trigger
    assert s.stubs.messages[-1]["body"] == "Thanks Zeke, you said  YES "
    assert sprint.state.status == "ended" and sprint.wait is None
    assert s.steps[1].date == s.env.clock.now()


def test_wrong_answer_loops_back_and_reply_replaces_the_entry():
    s = conversation()
    s.rest(name="Zeke")
    s.reply("maybe")
    assert s.path()[-1] == ("check", "noMatch", "ask")
    # Re-entering the widget replaced its entry: the old inbound is gone while it waits.
    assert set(s.context["widgets"]["ask"]) == {"outbound"}
    assert len(s.stubs.messages) == 2
    s.reply("yes")
    assert s.state.status == "ended"


def test_timeout_takes_the_timeout_transition():
    s = conversation()
    s.rest()
    s.timeout()
    assert s.path()[1:] == [("ask", "timeout", "late"), ("late", "next", "Ended")]
    assert s.context["flow"]["variables"] == {"outcome": "timed out"}
    assert s.context["widgets"]["ask"].keys() == {"outbound"}


def test_integer_and_bad_timeouts():
    for raw, expected in ((120, 120), ("45", 45), ("", 3600), ("soon", 3600), (None, 3600)):
        definition = flow(
            state("ask", "send-and-wait-for-reply", [go("incomingMessage")], body="?", timeout=raw),
            rest="ask",
        )
        env = VirtualEnvironment()
        s = Session(Flow.from_definition(definition, flow_sid=FLOW_SID, revision=1), env)
        sprint = s.rest()
        assert sprint.wait.until == env.clock.now().timestamp() + expected, raw


def test_delivery_failure_merges_the_callback_params():
    s = conversation()
    s.rest()
    sid = s.context["widgets"]["ask"]["outbound"]["Sid"]
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": "undelivered",
        "SmsStatus": "undelivered",
        "ErrorCode": "30003",
        "To": CONTACT,
        "From": NUMBER,
        "AccountSid": "AC1",
        "ApiVersion": "2010-04-01",
        "executionSid": s.state.execution_sid,
    }
    s.fail_delivery(**params)
    assert s.path()[1:] == [("ask", "deliveryFailure", "failed"), ("failed", "next", "Ended")]
    entry = s.context["widgets"]["ask"]
    assert entry["MessageStatus"] == "undelivered" and entry["outbound"]["Sid"] == sid
    assert entry["executionSid"] == s.state.execution_sid
    assert s.context["flow"]["variables"] == {"outcome": "30003"}


def test_delivery_failure_for_another_message_is_ignored():
    s = conversation()
    s.rest()
    sprint = s.fail_delivery(MessageSid="SM" + "9" * 32, MessageStatus="failed")
    assert sprint.state.status == "active" and sprint.wait is not None
    assert sprint.errors[0].kind == "ignored_input"
    assert len(s.steps) == 1


def test_send_failure_takes_delivery_failure():
    s = conversation()
    s.stubs.fail_messages = "21610 unsubscribed"
    s.rest()
    assert s.path()[1] == ("ask", "deliveryFailure", "failed")
    assert s.context["widgets"]["ask"] == {"outbound": {}}


def test_inputs_the_execution_is_not_waiting_for_change_nothing():
    env = VirtualEnvironment()
    definition = Flow.from_definition(CONVERSATION, flow_sid=FLOW_SID, revision=1)
    first = start(definition, Trigger("incomingRequest", {"to": CONTACT, "from": NUMBER}), env)
    assert first.pending is not None and first.pending.kind == "message"
    early = resume(definition, first.state, Reply(inbound_sms("yes", CONTACT, NUMBER)), env)
    assert early.errors[0].kind == "unexpected_input" and early.pending == first.pending
    assert early.state == first.state
    parked = resume(definition, first.state, CallResult(True, {"Sid": "SM1"}), env)
    again = resume(definition, parked.state, CallResult(True, {}), env)
    assert again.errors[0].kind == "unexpected_input" and again.wait == parked.wait
    done = resume(definition, parked.state, Reply(inbound_sms("yes", CONTACT, NUMBER)), env)
    assert done.state.status == "active" and done.pending.kind == "message"  # thanks
    ended = resume(
        definition, resume(definition, done.state, CallResult(True, {}), env).state, Timeout(), env
    )
    assert ended.errors[0].kind == "not_active"


def test_resume_never_modifies_the_callers_state():
    env = VirtualEnvironment()
    definition = Flow.from_definition(CONVERSATION, flow_sid=FLOW_SID, revision=1)
    first = start(definition, Trigger("incomingRequest", {"to": CONTACT, "from": NUMBER}), env)
    parked = resume(definition, first.state, CallResult(True, {"Sid": "SM1"}), env)
    snapshot = parked.state.to_json()
    frozen = copy.deepcopy(snapshot)
    resume(definition, parked.state, Reply(inbound_sms("yes", CONTACT, NUMBER)), env)
    assert parked.state.to_json() == frozen
    # The state survives a JSON round trip between resumes, as a host stores it.
    restored = ExecutionState.from_json(frozen)
    later = resume(definition, restored, Reply(inbound_sms("no", CONTACT, NUMBER)), env)
    assert [s.transitioned_to for s in later.steps] == ["check", "ask"]


def test_inbound_message_conversation_keeps_the_trigger_message():
    s = conversation()
    s.text("start", CONTACT, NUMBER)
    s.reply("yes")
    assert s.context["trigger"]["message"]["Body"] == "start"
    assert s.context["widgets"]["ask"]["inbound"]["Body"] == "yes"
    assert s.stubs.messages[0]["to"] == CONTACT and s.stubs.messages[0]["from"] == NUMBER


def test_timestamps_follow_the_virtual_clock():
    s = conversation()
    s.env.clock.set(datetime(2024, 6, 1, 8, 0, tzinfo=UTC))
    s.rest()
    s.env.clock.advance(hours=2)
    s.reply("yes")
    assert s.steps[0].date == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    assert s.steps[1].date == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    assert DeliveryFailure({}).params == {}
