"""What Send Message and Send & Wait For Reply share: building the Messages API request.

In an execution started by a Conversations message the request carries ``conversation_sid``
and ``author``: the host posts it into the conversation (Conversations API) instead of
sending an SMS, as Studio does. A ``to`` naming someone other than the contact still goes
out as a message to that address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import conversation
from .base import WidgetRun, key_values

# Programmable Chat properties, passed through as rendered (Chat itself was retired in 2022;
# see docs/fidelity.md).
_CHAT = ("service", "channel", "attributes")
CONTENT_TEMPLATE = "content_template"


def contact_address(run: WidgetRun) -> str:
    return str(((run.context.get("contact") or {}).get("channel") or {}).get("address") or "")


def channel_address(run: WidgetRun) -> str:
    return str(((run.context.get("flow") or {}).get("channel") or {}).get("address") or "")


def _variable_key(key: str) -> str:
    # The Console writes placeholders as they appear in the template ("{{1}}"); the Messages
    # API's ContentVariables wants the bare name ("1").
    key = key.strip()
    if key.startswith("{{") and key.endswith("}}"):
        key = key[2:-2].strip()
    return key


def uses_template(props: Mapping[str, Any]) -> bool:
    """Whether the widget sends a Content Template: ``message_type: content_template``, or
    a ``content_sid`` with no ``message_type`` at all (older exports)."""
    kind = str(props.get("message_type") or "").strip()
    return kind == CONTENT_TEMPLATE or (not kind and bool(props.get("content_sid")))


def message_request(run: WidgetRun, *, to: str) -> dict[str, Any]:
    """The rendered request for a ``message`` service call.

    ``from`` defaults to the flow's channel address (the Console default
    ``{{flow.channel.address}}``), also when it renders empty. A content template adds
    ``content_sid`` and ``content_variables`` (``{name: value}``); the body is then optional.
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
    for key in _CHAT:
        if props.get(key) not in (None, ""):
            request[key] = run.prop(key)
    if uses_template(props):
        request["message_type"] = CONTENT_TEMPLATE
        request["content_sid"] = run.prop("content_sid").strip()
        variables = key_values(run, props.get("content_variables"))
        request["content_variables"] = {_variable_key(k): v for k, v in variables.items()}
    conversation_sid = conversation.conversation_of(run.context)
    if conversation_sid and to in ("", contact_address(run), conversation_sid):
        request["conversation_sid"] = conversation_sid
        request["author"] = conversation.FLOW_AUTHOR
        service = conversation.service_of(run.context, conversation_sid)
        if service:  # a conversation outside the default service is posted to by its service
            request["conversation_service_sid"] = service
    return request


def content_preview(content_sid: str, variables: Mapping[str, Any] | None) -> str:
    """A readable stand-in for a template's text where the template itself is not known
    (the local outbox, in-process tests): ``[HX…] 1=Ann, 2=Tuesday``."""
    shown = ", ".join(f"{k}={v}" for k, v in (variables or {}).items())
    return f"[{content_sid}] {shown}".rstrip()
