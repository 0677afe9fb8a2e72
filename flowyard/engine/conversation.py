"""The Conversations channel as Studio exposes it to a flow.

A Conversations webhook (``EventType=onMessageAdded``) carries ``ConversationSid``,
``MessageSid`` (IM...), ``Author``, ``Body``, ``ParticipantSid``, ``Source``... but no
``From``/``To``. Studio's Trigger documents ``trigger.conversation.From`` and ``ChannelSid``
too: they are derived here (the author, and the conversation, whose SID is also its chat
channel's), so flows written for Studio (``{{trigger.conversation.From}}``) read them.

An execution started by a conversation talks in that conversation: its ``flow.channel.address``
is the conversation SID, and Send Message / Send & Wait post into it (``message_request``).
"""

from __future__ import annotations

from typing import Any

# The author Studio's own messages carry (the Conversations API's default author): a webhook
# for a message by this author is the flow hearing itself, never a contact's message.
FLOW_AUTHOR = "system"


def is_message(params: dict[str, Any]) -> bool:
    """Whether webhook ``params`` are a Conversations message rather than an SMS."""
    return bool(params.get("ConversationSid")) and not params.get("From")


def studio_params(params: dict[str, Any]) -> dict[str, Any]:
    """The webhook params as Studio shows them (``trigger.conversation``, ``inbound``)."""
    shown = dict(params)
    shown.setdefault("From", str(params.get("Author") or ""))
    shown.setdefault("ChannelSid", str(params.get("ConversationSid") or ""))
    return shown


def conversation_of(context: dict[str, Any]) -> str | None:
    """The conversation an execution talks in, if it started from one (a subflow keeps its
    parent's channel, so the channel address is the sign there)."""
    trigger = context.get("trigger") or {}
    sid = (trigger.get("conversation") or {}).get("ConversationSid")
    if sid:
        return str(sid)
    address = str(((context.get("flow") or {}).get("channel") or {}).get("address") or "")
    return address if address.startswith("CH") and len(address) == 34 else None
