"""The Conversations channel in the engine: ``trigger.conversation``, replies posted into the
conversation, Send & Wait resumed by the next message (issue 12, row 1)."""

from __future__ import annotations

from flowyard.engine import Flow
from flowyard.testing.session import Session
from tests.flows import flow, go, match, state

FLOW_SID = "FW" + "d" * 32
CUSTOMER, CONVERSATION = "+15550002222", "CH" + "1" * 32

BOT = flow(
    state(
        "ask",
        "send-and-wait-for-reply",
        [go("incomingMessage", "route"), go("timeout"), go("deliveryFailure")],
        body="Hi {{trigger.conversation.From}}: sales or support?",
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
        body="Sales it is, {{widgets.ask.inbound.Author}}",
        to="{{contact.channel.address}}",
    ),
    conversation="ask",
)


def session() -> Session:
    return Session(Flow.from_definition(BOT, flow_sid=FLOW_SID, revision=1))


def test_the_trigger_context_is_the_webhook_with_studios_from_and_channel():
    s = session()
    s.conversation("hello", author=CUSTOMER, conversation_sid=CONVERSATION)
    trigger = s.base_context["trigger"]["conversation"]
    assert trigger["EventType"] == "onMessageAdded"
    assert trigger["ConversationSid"] == CONVERSATION and trigger["Body"] == "hello"
    assert trigger["Author"] == CUSTOMER and trigger["From"] == CUSTOMER
    assert trigger["ChannelSid"] == CONVERSATION
    assert trigger["MessageSid"].startswith("IM") and trigger["ParticipantSid"].startswith("MB")
    assert s.base_context["contact"] == {"channel": {"address": CUSTOMER}}
    assert s.base_context["flow"]["channel"] == {"address": CONVERSATION}
    assert s.path()[0] == ("Trigger", "incomingConversationMessage", "ask")


def test_send_and_wait_posts_into_the_conversation_and_the_next_message_resumes_it():
    s = session()
    sprint = s.conversation("hello", author=CUSTOMER, conversation_sid=CONVERSATION)
    assert sprint.wait is not None and sprint.wait.kind == "reply"
    (asked,) = s.stubs.messages
    assert asked["conversation_sid"] == CONVERSATION and asked["author"] == "system"
    assert asked["body"] == f"Hi {CUSTOMER}: sales or support?"
    outbound = s.context["widgets"]["ask"]["outbound"]
    assert outbound["Sid"].startswith("IM") and outbound["ConversationSid"] == CONVERSATION
    assert outbound["Author"] == "system" and outbound["Index"] == 1  # after the trigger's 0

    s.reply_in_conversation("sales please")
    assert s.state.status == "ended"
    inbound = s.context["widgets"]["ask"]["inbound"]
    assert inbound["Body"] == "sales please" and inbound["From"] == CUSTOMER
    assert inbound["ConversationSid"] == CONVERSATION
    # The trigger keeps the message that started the execution.
    assert s.context["trigger"]["conversation"]["Body"] == "hello"
    done = s.stubs.messages[-1]
    assert done["conversation_sid"] == CONVERSATION
    assert done["body"] == f"Sales it is, {CUSTOMER}"
    assert [step[:2] for step in s.path()] == [
        ("Trigger", "incomingConversationMessage"),
        ("ask", "incomingMessage"),
        ("route", "match"),
        ("done", "sent"),
    ]


def test_a_to_naming_someone_else_sends_a_message_not_a_conversation_post():
    definition = flow(
        state(
            "notify",
            "send-message",
            [go("sent"), go("failed")],
            body="new chat",
            to="+15559998888",
            **{"from": "+15559990000"},
        ),
        conversation="notify",
    )
    s = Session(Flow.from_definition(definition, flow_sid=FLOW_SID, revision=1))
    s.conversation("hi", author=CUSTOMER, conversation_sid=CONVERSATION)
    (sent,) = s.stubs.messages
    assert "conversation_sid" not in sent and sent["to"] == "+15559998888"


def test_an_sms_execution_is_unchanged():
    s = Session(
        Flow.from_definition(flow(*BOT["states"][1:], message="ask"), flow_sid=FLOW_SID, revision=1)
    )
    s.text("hi", from_=CUSTOMER)
    (asked,) = s.stubs.messages
    assert "conversation_sid" not in asked and asked["to"] == CUSTOMER
