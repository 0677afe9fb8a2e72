"""Resume Conversation (``resume-conversation``): attach the execution to an existing
Conversation (REST-triggered flows only).

Studio (widget docs; AI-SKILL widgets.md) fetches the Conversation by ``conversation_sid`` in
``conversation_service_sid``, lists its participants, registers a webhook for
``webhook_filters`` (``onMessageAdded`` by default) so messages resume the execution, and
stores the Conversation with every participant in ``widgets.<name>`` and ``flow.channel``.
``attributes`` given replace the Conversation's. An unknown Conversation, a refusal, or an
execution that has a conversation already takes ``failed`` (no outputs). Example
(tests/engine/test_conversation_widgets.py runs it)::

    {
      "description": "Resume a conversation and say so",
      "states": [
        {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
         "transitions": [{"event": "incomingRequest", "next": "resume"}]},
        {"name": "resume", "type": "resume-conversation",
         "properties": {"conversation_service_sid": "IS00000000000000000000000000000001",
                        "conversation_sid": "{{flow.data.conversation}}",
                        "offset": {"x": 0, "y": 200}},
         "transitions": [{"event": "resumed", "next": "note"}, {"event": "failed"}]},
        {"name": "note", "type": "send-message",
         "properties": {
           "body": "Back, {{flow.channel.details.participants[0].messaging_binding.address}}",
                        "from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}",
                        "offset": {"x": 0, "y": 400}},
         "transitions": [{"event": "sent"}, {"event": "failed"}]}
      ],
      "initial_state": "Trigger",
      "flags": {"allow_concurrent_calls": true}
    }
"""

from __future__ import annotations

from typing import Any

from ..specs.base import ARRAY, OFFSET, STRING, PropertySpec, WidgetSpec, text
from ._conversations import FAILED, ConversationWidget
from .base import Next, WidgetRun, register

RESUMED = "resumed"
DEFAULT_FILTERS = ("onMessageAdded",)

SPEC = WidgetSpec(
    "resume-conversation",
    "Resume Conversation",
    "conversations",
    "Attaches the execution to an existing Conversation (REST-triggered flows only).",
    events=(RESUMED, FAILED),
    properties=(
        text("conversation_service_sid", "Conversation service", "IS... SID.", required=True),
        text("conversation_sid", "Conversation", "CH... SID."),
        PropertySpec(
            "webhook_filters",
            "Webhook filters",
            "Events that reach the flow (onMessageAdded by default).",
            kinds=(ARRAY, STRING),
        ),
        text("attributes", "Attributes", "JSON string."),
        OFFSET,
    ),
    rest_only=True,
)


def _filters(run: WidgetRun) -> list[str]:
    value = run.props.get("webhook_filters")
    items = value if isinstance(value, list) else str(value or "").split(",")
    filters = [run.render(str(item)).strip() for item in items]
    return [item for item in filters if item] or list(DEFAULT_FILTERS)


@register
class ResumeConversation(ConversationWidget):
    type = SPEC.type
    success_event = RESUMED

    def request(self, run: WidgetRun) -> dict[str, Any] | Next:
        service = run.prop("conversation_service_sid").strip()
        sid = run.prop("conversation_sid").strip()
        if not service or not sid:
            missing = "conversation_sid" if service else "conversation_service_sid"
            return Next(FAILED, {}, error=run.error("invalid_conversation", f"no {missing}"))
        return {
            "action": "resume",
            "service_sid": service,
            "conversation_sid": sid,
            "filters": _filters(run),
            "attributes": run.prop("attributes").strip(),
        }
