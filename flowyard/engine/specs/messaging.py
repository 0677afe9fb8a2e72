"""Messaging, contact-centre and conversation widgets.

See studio-runtime.md 2.4, 2.5, 2.17, 2.21 and 2.22.
"""

from __future__ import annotations

from ..widgets import resume_conversation, start_conversation
from .base import (
    GET_POST,
    INTEGER,
    OFFSET,
    STRING,
    PropertySpec,
    WidgetSpec,
    choice,
    integer,
    key_values,
    text,
)

# Fields shared by Send Message and Send & Wait For Reply.
_MESSAGE_COMMON = (
    text("body", "Message body", "Liquid template of the text to send."),
    text("media_url", "Media URL", "URL of an image or file to attach (MMS)."),
    text(
        "service",
        "Chat service",
        "Programmable Chat service SID (Console default {{trigger.message.InstanceSid}}).",
    ),
    text(
        "channel",
        "Chat channel",
        "Programmable Chat channel SID (Console default {{trigger.message.ChannelSid}}).",
    ),
    text("attributes", "Message attributes", "JSON string for chat messages."),
    choice("message_type", "Message type", ("custom", "content_template")),
    text("content_sid", "Content template", "HX... SID of a Content template."),
    key_values("content_variables", "Template variables", "Values for {{1}}, {{2}}, ..."),
)

SEND_MESSAGE = WidgetSpec(
    "send-message",
    "Send Message",
    "messaging",
    "Sends a message and moves on without waiting for a reply.",
    events=("sent", "failed"),
    properties=(
        text(
            "from",
            "Send message from",
            "Number, Messaging Service SID or channel id.",
            required=True,
            default="{{flow.channel.address}}",
        ),
        text("to", "Send message to", required=True, default="{{contact.channel.address}}"),
        *_MESSAGE_COMMON,
        OFFSET,
    ),
    require_one_of=(("body", "content_sid"),),
)

SEND_AND_WAIT_FOR_REPLY = WidgetSpec(
    "send-and-wait-for-reply",
    "Send & Wait For Reply",
    "messaging",
    "Sends a message and parks the execution until the contact replies or time runs out.",
    events=("incomingMessage", "timeout", "deliveryFailure"),
    properties=(
        text("from", "Send message from", required=True, default="{{flow.channel.address}}"),
        # Console writes "3600"; one Twilio-published flow stores an integer (reference 1.3).
        PropertySpec(
            "timeout",
            "Stop gathering after",
            "Seconds to wait for the reply.",
            kinds=(STRING, INTEGER),
            required=True,
            default="3600",
        ),
        *_MESSAGE_COMMON,
        OFFSET,
    ),
    require_one_of=(("body", "content_sid"),),
)

SEND_TO_FLEX = WidgetSpec(
    "send-to-flex",
    "Send to Flex",
    "contact-center",
    "Creates a TaskRouter task (chat) or enqueues the call (voice) for Flex agents.",
    events=("callComplete", "failedToEnqueue", "callFailure", "composerStarted"),
    properties=(
        text("workflow", "Workflow", "WW... TaskRouter workflow SID.", required=True),
        text("channel", "Task channel", "TC... TaskRouter task channel SID.", required=True),
        text("attributes", "Attributes", "JSON string template of the task attributes."),
        text("priority", "Priority", "Task priority, as a string.", numeric=True),
        text(
            "timeout",
            "Timeout",
            "Task timeout in seconds, as a string.",
            default="3600",
            numeric=True,
        ),
        text("waitUrl", "Hold music TwiML URL"),
        choice("waitUrlMethod", "Hold music method", GET_POST),
        OFFSET,
    ),
)

SEND_TO_AUTO_PILOT = WidgetSpec(
    "send-to-auto-pilot",
    "Send to Autopilot",
    "messaging",
    "Hands the conversation to an Autopilot assistant (retired product; import only).",
    events=("sessionEnded", "failure", "timeout"),
    properties=(
        text("autopilot_assistant_sid", "Autopilot assistant", "UA... SID.", required=True),
        text("from", "From", required=True),
        text("body", "Body", required=True),
        integer("timeout", "Timeout", "Seconds.", required=True),
        text("chat_service", "Chat service"),
        text("chat_channel", "Chat channel"),
        text("chat_attributes", "Chat attributes"),
        text("target_task", "Target task"),
        key_values("memory_parameters", "Memory parameters", "Seed values for the memory."),
        OFFSET,
    ),
)

# Start/Resume Conversation keep their spec beside their behaviour, in their widget modules.
START_CONVERSATION = start_conversation.SPEC
RESUME_CONVERSATION = resume_conversation.SPEC

MESSAGING_WIDGETS: tuple[WidgetSpec, ...] = (
    SEND_MESSAGE,
    SEND_AND_WAIT_FOR_REPLY,
    SEND_TO_FLEX,
    SEND_TO_AUTO_PILOT,
    START_CONVERSATION,
    RESUME_CONVERSATION,
)
