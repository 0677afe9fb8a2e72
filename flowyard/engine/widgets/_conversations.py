"""What Start Conversation and Resume Conversation share: the ``conversation`` service call's
answer turned into the widget's outputs and the execution's new channel.

The host answers with ``{"conversation": {..., "participants": [...]}, "webhook_sid": WH…}``
(the Conversation resource and its participants in the Conversations API's snake_case, null
fields left out, as Studio records them). Studio merges the same data into ``flow.channel``:
``sid``, ``type: conversation``, ``status`` and ``details``.
"""

from __future__ import annotations

from typing import Any

from .. import conversation
from ..io import CallResult
from .base import Call, Next, Outcome, Widget, WidgetRun

KIND = "conversation"
FAILED = "failed"


class ConversationWidget(Widget):
    """Start or Resume: refuse a second conversation, ask the host with ``request``, and
    take ``success_event`` (or ``failed``) with what it answered."""

    failure_event = FAILED
    success_event = ""

    def request(self, run: WidgetRun) -> dict[str, Any] | Next:
        """The rendered ``conversation`` call, or ``failed`` for properties that cannot work."""
        raise NotImplementedError

    def enter(self, run: WidgetRun) -> Outcome:
        refused = already_attached(run)
        if refused is not None:
            return refused
        request = self.request(run)
        return request if isinstance(request, Next) else Call(KIND, request)

    def on_result(self, run: WidgetRun, result: CallResult) -> Outcome:
        return attached(run, result, self.success_event)


def already_attached(run: WidgetRun) -> Next | None:
    """``failed`` when the execution talks in a conversation already: Studio allows one
    Conversation per execution (an inbound conversation's included)."""
    current = conversation.conversation_of(run.context)
    if current is None:
        return None
    message = f"the execution already has a Conversation ({current})"
    return Next(FAILED, {}, error=run.error("conversation_exists", message))


def attached(run: WidgetRun, result: CallResult, event: str) -> Outcome:
    """``event`` with the conversation as outputs and as ``flow.channel``, or ``failed``
    (no outputs, as Studio) when the platform refused."""
    data = dict(result.data or {})
    found = data.get("conversation")
    if not result.ok or not isinstance(found, dict):
        message = result.error or "the Conversations API refused the request"
        return Next(FAILED, {}, error=run.error("conversation_failed", message))
    webhook_sid = data.get("webhook_sid")
    outputs = {
        "conversation": found,
        "webhook_sid": webhook_sid,
        # Studio's "Close Conversation on Execution End" is not carried out (docs/fidelity.md).
        "close_channel_on_execution_end": False,
    }
    channel = {
        "sid": found.get("sid"),
        "type": conversation.CHANNEL_TYPE,
        "status": "active",
        "details": {
            "chat_service_sid": found.get("chat_service_sid"),
            "friendly_name": found.get("friendly_name"),
            "participants": found.get("participants") or [],
            "webhook_sid": webhook_sid,
        },
    }
    return Next(event, outputs, channel=channel)
