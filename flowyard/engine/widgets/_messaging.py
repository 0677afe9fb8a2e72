"""What Send Message and Send & Wait For Reply share: building the Messages API request.

In an execution started by a Conversations message the request carries ``conversation_sid``
and ``author``: the host posts it into the conversation (Conversations API) instead of
sending an SMS, as Studio does. A ``to`` naming someone other than the contact still goes
out as a message to that address.
"""

from __future__ import annotations

from typing import Any

from .. import conversation
from .base import WidgetRun, key_values

# Chat and content-template properties passed through to the message service as rendered.
_PASSTHROUGH = ("service", "channel", "attributes", "message_type", "content_sid")


def contact_address(run: WidgetRun) -> str:
    return str(((run.context.get("contact") or {}).get("channel") or {}).get("address") or "")


def channel_address(run: WidgetRun) -> str:
    return str(((run.context.get("flow") or {}).get("channel") or {}).get("address") or "")


def message_request(run: WidgetRun, *, to: str) -> dict[str, Any]:
    """The rendered request for a ``message`` service call.

    ``from`` defaults to the flow's channel address (the Console default
    ``{{flow.channel.address}}``), also when it renders empty.
    """
    props = run.props
    sender = run.prop("from").strip() or channel_address(run)
    media = run.prop("media_url").strip()
    request: dict[str, Any] = {
        "to": to,
        "from": sender,
        "body": run.prop("body"),
        "media_urls": [media] if media else [],
    }
    for key in _PASSTHROUGH:
        if props.get(key) not in (None, ""):
            request[key] = run.prop(key)
    if props.get("content_variables"):
        request["content_variables"] = key_values(run, props.get("content_variables"))
    conversation_sid = conversation.conversation_of(run.context)
    if conversation_sid and to in ("", contact_address(run), conversation_sid):
        request["conversation_sid"] = conversation_sid
        request["author"] = conversation.FLOW_AUTHOR
    return request
