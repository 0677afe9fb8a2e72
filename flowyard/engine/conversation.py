"""The Conversations channel as Studio exposes it to a flow.

A Conversations webhook (``EventType=onMessageAdded``) carries ``ConversationSid``,
``MessageSid`` (IM...), ``Author``, ``Body``, ``ParticipantSid``, ``Source``... but no
``From``/``To``. Studio's Trigger documents ``trigger.conversation.From`` and ``ChannelSid``
too: they are derived here (the author, and the conversation, whose SID is also its chat
channel's), so flows written for Studio (``{{trigger.conversation.From}}``) read them.

An execution started by a conversation talks in that conversation: its ``flow.channel.address``
is the conversation SID, and Send Message / Send & Wait post into it (``message_request``).
A REST-triggered execution attached to one by Start or Resume Conversation has it as
``flow.channel.sid`` (``type: conversation``), which Studio's messaging widgets read too.
"""

from __future__ import annotations

from typing import Any

# The author Studio's own messages carry (the Conversations API's default author): a webhook
# for a message by this author is the flow hearing itself, never a contact's message.
FLOW_AUTHOR = "system"
# ``flow.channel.type`` of an execution attached to a conversation by a widget.
CHANNEL_TYPE = "conversation"


def is_message(params: dict[str, Any]) -> bool:
    """Whether webhook ``params`` are a Conversations message rather than an SMS."""
    return bool(params.get("ConversationSid")) and not params.get("From")


def studio_params(params: dict[str, Any]) -> dict[str, Any]:
    """The webhook params as Studio shows them (``trigger.conversation``, ``inbound``)."""
    shown = dict(params)
    shown.setdefault("From", str(params.get("Author") or ""))
    shown.setdefault("ChannelSid", str(params.get("ConversationSid") or ""))
    return shown


def _is_conversation_sid(value: str) -> bool:
    return value.startswith("CH") and len(value) == 34


def conversation_of(context: dict[str, Any]) -> str | None:
    """The conversation an execution talks in: the one it started from, or the one Start or
    Resume Conversation attached it to (a subflow keeps its parent's channel, so the channel
    is the sign there)."""
    trigger = context.get("trigger") or {}
    sid = (trigger.get("conversation") or {}).get("ConversationSid")
    if sid:
        return str(sid)
    channel = (context.get("flow") or {}).get("channel") or {}
    attached = str(channel.get("sid") or "")
    if channel.get("type") == CHANNEL_TYPE and _is_conversation_sid(attached):
        return attached
    address = str(channel.get("address") or "")
    return address if _is_conversation_sid(address) else None


def service_of(context: dict[str, Any], conversation_sid: str) -> str | None:
    """The Conversation Service of the conversation a widget attached (``flow.channel``)."""
    channel = (context.get("flow") or {}).get("channel") or {}
    if channel.get("sid") != conversation_sid:
        return None
    return (channel.get("details") or {}).get("chat_service_sid") or None
