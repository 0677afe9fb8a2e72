"""Start Conversation (``start-conversation``): create a Conversation with one participant
and make it the execution's channel (REST-triggered flows only).

Studio (widget docs; AI-SKILL widgets.md) creates the Conversation in
``conversation_service_sid``, adds the participant, registers an ``onMessageAdded`` webhook
so the participant's messages resume the execution, and stores the Conversation in
``widgets.<name>`` and ``flow.channel``; Send Message and Send & Wait then post into it. An
execution that has a conversation already (one it started from, or an earlier Start/Resume)
takes ``failed``, as does any refusal of the Conversations API; ``failed`` has no outputs.

A participant is ``{"type": "sms"|"whatsapp", "messaging_binding_address",
"messaging_binding_proxy_address"}`` or ``{"type": "chat", "identity"}``; Studio creates one
participant, so the first entry is used. Example (tests/engine/test_conversation_widgets.py
runs it)::

    {
      "description": "Start a conversation and ask",
      "states": [
        {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
         "transitions": [{"event": "incomingRequest", "next": "start"}]},
        {"name": "start", "type": "start-conversation",
         "properties": {"conversation_service_sid": "IS00000000000000000000000000000001",
                        "friendly_name": "Order {{flow.data.order}}",
                        "participants": [{
                          "type": "sms",
                          "messaging_binding_address": "{{contact.channel.address}}",
                          "messaging_binding_proxy_address": "+15550000001"}],
                        "offset": {"x": 0, "y": 200}},
         "transitions": [{"event": "created", "next": "ask"}, {"event": "failed"}]},
        {"name": "ask", "type": "send-and-wait-for-reply",
         "properties": {"body": "Is order {{flow.data.order}} right?", "timeout": "3600",
                        "from": "{{flow.channel.address}}", "offset": {"x": 0, "y": 400}},
         "transitions": [{"event": "incomingMessage"}, {"event": "timeout"},
                         {"event": "deliveryFailure"}]}
      ],
      "initial_state": "Trigger",
      "flags": {"allow_concurrent_calls": true}
    }
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..specs.base import ARRAY, OBJECT, OFFSET, PropertySpec, WidgetSpec, text
from ._conversations import FAILED, ConversationWidget
from .base import Next, WidgetRun, register

CREATED = "created"

_PARTICIPANT = PropertySpec(
    "participant",
    "Participant",
    kinds=(OBJECT,),
    fields=(
        text("type", "Type", "sms, whatsapp or chat.", required=True),
        text("identity", "Identity", "A chat participant's identity."),
        text("messaging_binding_address", "Address", "The contact's phone or WhatsApp address."),
        text("messaging_binding_proxy_address", "Proxy address", "Your Twilio number."),
    ),
)

SPEC = WidgetSpec(
    "start-conversation",
    "Start Conversation",
    "conversations",
    "Creates a Conversation with a participant and makes it the execution's channel "
    "(REST-triggered flows only).",
    events=(CREATED, FAILED),
    properties=(
        text("conversation_service_sid", "Conversation service", "IS... SID.", required=True),
        PropertySpec(
            "participants",
            "Participants",
            "The participant to add (Studio adds one).",
            kinds=(ARRAY,),
            required=True,
            items=_PARTICIPANT,
        ),
        text("friendly_name", "Friendly name"),
        text("attributes", "Attributes", "JSON string."),
        text("messaging_service_sid", "Messaging service", "MG... SID."),
        PropertySpec(
            "timers",
            "Timers",
            "ISO 8601 durations after which the Conversation turns inactive / closed.",
            kinds=(OBJECT, ARRAY),
        ),
        OFFSET,
    ),
    rest_only=True,
)


def _participant(run: WidgetRun) -> dict[str, str] | str:
    """The rendered first participant, or why there is none to add."""
    entries = run.props.get("participants")
    first = entries[0] if isinstance(entries, list) and entries else None
    if not isinstance(first, Mapping):
        return "no participant to add"
    kind = run.render(str(first.get("type") or "")).strip().lower()
    if kind == "chat":
        identity = run.render(str(first.get("identity") or "")).strip()
        return {"identity": identity} if identity else "a chat participant needs an identity"
    address = run.render(str(first.get("messaging_binding_address") or "")).strip()
    proxy = run.render(str(first.get("messaging_binding_proxy_address") or "")).strip()
    if not address:
        return f"a {kind or 'messaging'} participant needs an address"
    return {"address": address, "proxy_address": proxy}


def _timers(run: WidgetRun) -> dict[str, str]:
    value = run.props.get("timers")
    items = value if isinstance(value, Mapping) else {}
    timers = {key: run.render(str(items.get(key) or "")).strip() for key in ("inactive", "closed")}
    return {key: duration for key, duration in timers.items() if duration}


@register
class StartConversation(ConversationWidget):
    type = SPEC.type
    success_event = CREATED

    def request(self, run: WidgetRun) -> dict[str, Any] | Next:
        service = run.prop("conversation_service_sid").strip()
        participant = _participant(run)
        if not service or isinstance(participant, str):
            message = participant if isinstance(participant, str) else "no Conversation service"
            return Next(FAILED, {}, error=run.error("invalid_participant", message))
        return {
            "action": "start",
            "service_sid": service,
            "friendly_name": run.prop("friendly_name").strip(),
            "attributes": run.prop("attributes").strip(),
            "messaging_service_sid": run.prop("messaging_service_sid").strip(),
            "timers": _timers(run),
            "participant": participant,
        }
